"""Browser tests: the real app, served by uvicorn on 127.0.0.1, driven by Playwright with Debian's
chromium (``/usr/bin/chromium``; Playwright never downloads a browser here).

Fixtures for a journey:

- ``live_server``: the app on each backend (through ``database_url``: ``[sqlite]`` and
  ``[postgresql]``), on a fresh migrated database, with ``env="test"`` and ``base_url`` its own
  address. ``.url``, ``.settings``, ``.database`` (seed or inspect with services and
  ``proeftuin.db.transact``/``read``), ``.seed_demo()``.
- ``live_server_factory(**settings)``: the same with settings changed (an SMTP port, say).
- ``demo``: the demo gemeente seeded into ``live_server``; its ``DemoSummary`` (``.codes``,
  ``.voting_round_slug``).
- ``page`` (390x844 phone, JavaScript on), ``page_without_js``, and ``new_page(**context_options)``
  for more: each page gets a fresh browser context, closed after the test.
- ``sqlite_only``: a mark for checks that do not depend on the database (the journey itself runs
  on both backends; its side roads need not).
- ``shoot(page, name)``: a full-page PNG in ``test-artifacts/screenshots/<test>/NN-name.png``.
- ``tests.browser.axe``: ``assert_accessible``, ``assert_touch_targets`` and
  ``assert_no_horizontal_scroll``.

Every page is watched: a dialog (alert, confirm, prompt), an uncaught script error, a console error
(a CSP refusal is one), a failed request, or a 4xx/5xx answer to a stylesheet, script, image or
font (a missing ``static/vendor`` file), and any 5xx, fail the test when its body ends. A 4xx page
or htmx fragment is not a failure: the journey asserts those itself. ``BrowserLog.of(page)``
gives the record; ``.allow(regex)`` accepts a problem a test provokes on purpose.

The browser is started once for this package (not the session): while Playwright's sync API runs,
the main thread has a running event loop, which would break ``asyncio.run`` in later test folders.
For the same reason a browser test must not call ``asyncio.run``; run servers in threads (as
``aiosmtpd.controller.Controller`` does).

Without playwright or chromium the tests skip, unless ``PROEFTUIN_REQUIRE_BROWSER=1`` (CI): then
they fail and say what is missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import io
import itertools
import os
import re
import shutil
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn
from PIL import Image

from proeftuin import demo as demo_service
from proeftuin.config import Settings
from proeftuin.db import Database, transact
from proeftuin.demo import DemoSummary
from proeftuin.web.app import create_app

REQUIRED = os.environ.get("PROEFTUIN_REQUIRE_BROWSER") == "1"
NO_PLAYWRIGHT = "playwright is not installed (pip install -e '.[test]')"

try:
    import playwright.sync_api  # noqa: F401  (the test modules import it at the top)
except ImportError as missing:
    if REQUIRED:
        raise ImportError(f"PROEFTUIN_REQUIRE_BROWSER=1 but {NO_PLAYWRIGHT}") from missing
    # The test modules cannot even be imported; a module-level skip here would only work when
    # pytest reaches this folder by collecting, not when it is named on the command line.
    collect_ignore_glob = ["test_*.py"]
    PLAYWRIGHT_MISSING = True
else:
    PLAYWRIGHT_MISSING = False

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Dialog,
        Page,
        Request,
        Response,
        WebError,
    )

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 1,
    "is_mobile": True,
    "has_touch": True,
    "locale": "nl-NL",
    "timezone_id": "Europe/Amsterdam",
}
SERVER_START_SECONDS = 15

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SUBRESOURCES = frozenset({"stylesheet", "script", "image", "font", "media", "manifest"})


# --- the app --------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    settings: Settings
    database: Database

    def seed_demo(self) -> DemoSummary:
        return transact(self.database, demo_service.seed_demo, self.settings.code_pepper)


class _ServerThread:
    """uvicorn in a background thread, on a socket bound before the app exists, so that the app's
    ``base_url`` (checked by the CSRF middleware against Origin) can name the real port."""

    def __init__(self, sock: socket.socket, settings: Settings) -> None:
        config = uvicorn.Config(
            create_app(settings),
            lifespan="on",
            ws="none",  # no websockets; also keeps their deprecation warnings (= errors) away
            log_level="warning",
            access_log=False,
            server_header=False,
            proxy_headers=False,
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.sock = sock
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the live server stopped while starting; see the log above")
            if time.monotonic() > deadline:
                raise RuntimeError("the live server did not start in time")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
        if self.thread.is_alive():
            raise RuntimeError("the live server did not stop")


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class TileStub:
    """Map tiles on loopback: one plain 256 x 256 PNG for every tile, and the paths asked for.
    The live server's maps take their tiles here, so no test asks the real tile server."""

    def __init__(self) -> None:
        image = io.BytesIO()
        Image.new("RGB", (256, 256), (225, 235, 220)).save(image, "PNG")
        png = image.getvalue()
        asked: list[str] = []
        self.asked = asked

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                asked.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.template = (
            f"http://127.0.0.1:{self.server.server_address[1]}/kaart/{{z}}/{{x}}/{{y}}.png"
        )
        threading.Thread(target=self.server.serve_forever, name="tile-stub", daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="package")
def tile_stub() -> Iterator[TileStub]:
    stub = TileStub()
    yield stub
    stub.stop()


@pytest.fixture
def live_server_factory(
    settings: Settings, db: Database, tile_stub: TileStub
) -> Iterator[Callable[..., LiveServer]]:
    """``start(**settings_changes)`` serves the app on this test's database (its maps with tiles
    from ``tile_stub``); stopped afterwards."""
    running: list[_ServerThread] = []

    def start(**changes: Any) -> LiveServer:
        sock = _listen()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        changes = {"map_tiles": tile_stub.template, **changes}
        server_settings = dataclasses.replace(settings, base_url=url, **changes)
        server = _ServerThread(sock, server_settings)
        server.start()
        running.append(server)
        return LiveServer(url=url, settings=server_settings, database=db)

    yield start
    for server in reversed(running):
        server.stop()


@pytest.fixture
def live_server(live_server_factory: Callable[..., LiveServer]) -> LiveServer:
    return live_server_factory()


@pytest.fixture
def demo(live_server: LiveServer) -> DemoSummary:
    return live_server.seed_demo()


# --- the browser ----------------------------------------------------------------------------


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"PROEFTUIN_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import Error, sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Error as error:
        playwright.stop()
        _unavailable(f"{CHROMIUM} did not start: {error}")
    yield chromium
    chromium.close()
    playwright.stop()


@dataclass
class BrowserLog:
    """What went wrong in one browser context, as readable lines."""

    javascript: bool = True
    dialogs: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)  # (text, url)
    failed_requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    expected_4xx: set[str] = field(default_factory=set)  # pages and fragments the test asserts
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    @classmethod
    def of(cls, page: Page) -> BrowserLog:
        return _LOGS[page.context]

    def watch(self, context: BrowserContext) -> None:
        _LOGS[context] = self
        context.on("dialog", self._on_dialog)
        context.on("weberror", self._on_web_error)
        context.on("console", self._on_console)
        context.on("requestfailed", self._on_request_failed)
        context.on("response", self._on_response)

    def allow(self, pattern: str) -> None:
        """Accept problems matching ``pattern`` (re.search) for the rest of this test."""
        self.allowed.append(re.compile(pattern))

    def problems(self) -> list[str]:
        lines = [
            *(f"dialog: {d}" for d in self.dialogs),
            *(f"script error: {e}" for e in self.script_errors),
            *(f"console error: {text} ({url})" for text, url in self._console_problems()),
            *(f"request failed: {r}" for r in self.failed_requests),
            *(f"bad response: {r}" for r in self.bad_responses),
        ]
        return [line for line in lines if not any(p.search(line) for p in self.allowed)]

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "The browser reported problems:\n  " + "\n  ".join(problems)

    def clear(self) -> None:
        for found in (
            self.dialogs,
            self.script_errors,
            self.console_errors,
            self.failed_requests,
            self.bad_responses,
            self.expected_4xx,
        ):
            found.clear()

    def _console_problems(self) -> list[tuple[str, str]]:
        # Chromium logs "Failed to load resource" for every 4xx, also for the pages and htmx
        # fragments a journey provokes on purpose (a 422 form, a 404 page): those are not problems.
        # Decided here, not on arrival, because the console and network events come in any order.
        # (Not every failed subresource gets a response event, so the console line is the witness.)
        return [
            (text, url)
            for text, url in self.console_errors
            if not (
                text.startswith("Failed to load resource: the server responded with a status of 4")
                and url in self.expected_4xx
            )
        ]

    def _on_dialog(self, dialog: Dialog) -> None:
        # An XSS payload that runs shows up here; dismiss it so that the page does not hang.
        self.dialogs.append(
            f"{dialog.type} {dialog.message!r} on {dialog.page and dialog.page.url}"
        )
        dialog.dismiss()

    def _on_web_error(self, error: WebError) -> None:
        self.script_errors.append(str(error.error))

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = message.text
        if re.match(r"Response Status Error Code 4\d\d from ", text):
            return  # htmx swapping a 4xx fragment (a form with errors): expected
        self.console_errors.append((text, message.location.get("url", "")))

    def _on_request_failed(self, request: Request) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" in failure:
            return  # navigating away while something loads
        self.failed_requests.append(f"{request.method} {request.url}: {failure}")

    def _on_response(self, response: Response) -> None:
        kind = response.request.resource_type
        if response.status >= 500 or (response.status >= 400 and kind in SUBRESOURCES):
            self.bad_responses.append(f"{response.status} for {kind} {response.url}")
        elif response.status >= 400:
            self.expected_4xx.add(response.url)


_LOGS: weakref.WeakKeyDictionary[BrowserContext, BrowserLog] = weakref.WeakKeyDictionary()
_TEST_LOGS = pytest.StashKey["list[tuple[BrowserContext, BrowserLog]]"]()


@pytest.fixture
def new_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """``new_page(javascript=True, **context_options)``: a page in a fresh context; phone-sized
    unless ``viewport`` etc. say otherwise."""
    contexts: list[BrowserContext] = []
    watched = request.node.stash.setdefault(_TEST_LOGS, [])

    def make(*, javascript: bool = True, **options: Any) -> Page:
        context = browser.new_context(**{**PHONE, **options, "java_script_enabled": javascript})
        context.set_default_timeout(10_000)
        log = BrowserLog(javascript=javascript)
        log.watch(context)
        contexts.append(context)
        watched.append((context, log))
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


@pytest.fixture
def page_without_js(new_page: Callable[..., Page]) -> Page:
    return new_page(javascript=False)


@pytest.fixture
def browser_log(page: Page) -> BrowserLog:
    return BrowserLog.of(page)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    result = yield
    problems = []
    for context, log in item.stash.get(_TEST_LOGS, []):
        for open_page in context.pages:
            _flush_events(open_page)
        problems.extend(log.problems())
    if problems:
        raise AssertionError("The browser reported problems:\n  " + "\n  ".join(problems))
    return result


def _flush_events(page: Page) -> None:
    # A round trip to the page lets Playwright dispatch the events the browser sent before it.
    # (Not page.evaluate: with JavaScript off it hangs on anything that waits for a timer.)
    with contextlib.suppress(Exception):  # a closed or crashed page has nothing more to say
        page.title()


# --- screenshots ----------------------------------------------------------------------------

_SHOT_COUNT = pytest.StashKey[int]()


def _test_folder(node: pytest.Item) -> str:
    module = Path(str(node.path)).stem
    name = re.sub(r"\[(.*)\]$", r"-\1", node.name)
    return re.sub(r"[^\w.-]+", "_", f"{module}.{name}")


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Callable[..., Path]:
    """``shoot(page, name, full_page=True)`` saves the page as ``NN-name.png`` for this test."""
    folder = SCREENSHOTS / _test_folder(request.node)
    shutil.rmtree(folder, ignore_errors=True)
    numbers = itertools.count(1)

    def take(page: Page, name: str, *, full_page: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{next(numbers):02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
        page.screenshot(path=path, full_page=full_page)
        config = request.config
        config.stash[_SHOT_COUNT] = config.stash.get(_SHOT_COUNT, 0) + 1
        return path

    return take


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    # Called here because this conftest is loaded whenever browser tests are collected; under
    # pytest-xdist the controller does not load it (the workers take the screenshots).
    if PLAYWRIGHT_MISSING:
        terminalreporter.write_sep("-", "browser tests")
        terminalreporter.write_line(f"tests/browser not run: {NO_PLAYWRIGHT}")
    count = config.stash.get(_SHOT_COUNT, 0)
    if count:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{count} screenshot(s) in {SCREENSHOTS}")
