"""Front-end benchmark: what a phone on a slow mobile connection downloads and when it paints.

    python benchmarks/frontend.py            # a table
    python benchmarks/frontend.py --json     # the same as JSON

Starts ``proeftuin serve`` on loopback on a fresh SQLite database with the demo gemeente, then
drives Debian's Chromium (``/usr/bin/chromium``) through Playwright at 390x844, with the network
emulated through the DevTools protocol as Lighthouse's slow mobile connection: 150 ms round
trip, 1.6 Mbit/s down, 750 kbit/s up. Only the measured navigation is throttled; the steps that
lead to a page (typing the code, ticking plans) run at full speed. Each page is visited once
beforehand, unmeasured, so that neither the browser nor the server starts cold.

Pages: the home page, the round page in the voting phase, /stem, a ballot page (after typing a
letter code), the review page (after ticking two plans) and the published results page.

For each page, ``--runs`` times (default 5), in a fresh browser context:

- first visit: with an empty cache, the bytes transferred (HTML, CSS, JS, fonts, images; as the
  browser's resource timing counts them, headers included), first contentful paint and largest
  contentful paint;
- repeat visit: the same page again in the same context (a new navigation, not a reload), the
  bytes transferred.

Printed: the median of each. Targets: first visit <= 60 KB, repeat visit <= 10 KB, largest
contentful paint <= 1.2 s. The exit status is 1 only when a page could not be measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proeftuin import demo
from proeftuin.db import transact
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE
from tests.trust.server import PEPPER, Server, TrustDatabase

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

# Lighthouse's mobile profile; DevTools takes bytes per second.
SLOW_MOBILE = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 750_000 / 8,
}
FULL_SPEED = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
TARGET_FIRST_BYTES = 60 * 1024
TARGET_REPEAT_BYTES = 10 * 1024
TARGET_LCP_MS = 1200
TIMEOUT_MS = 60_000

# Bytes of every request of this document, and its paint timings. LCP entries arrive through an
# observer (buffered); a short wait lets the last one in.
MEASURE = """() => new Promise(resolve => {
  let lcp = 0;
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) lcp = Math.max(lcp, e.startTime);
  }).observe({type: "largest-contentful-paint", buffered: true});
  setTimeout(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const resources = performance.getEntriesByType("resource");
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    resolve({
      bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
      requests: 1 + resources.length,
      fcp: fcp ? fcp.startTime : null,
      lcp: lcp || null,
    });
  }, 250);
})"""


@dataclass
class Visit:
    bytes: int
    requests: int
    fcp: float | None
    lcp: float | None


@dataclass
class Result:
    page: str
    first_bytes: int
    first_requests: int
    repeat_bytes: int
    fcp_ms: float | None
    lcp_ms: float | None
    repeat_lcp_ms: float | None


# A page: how to get just before it (at full speed), then the navigation that is measured.
Prepare = Callable[["Page", str], Callable[[], None]]


def direct(path: str) -> Prepare:
    def prepare(page: Page, base: str) -> Callable[[], None]:
        return lambda: _goto(page, base + path)

    return prepare


def ballot(code: str) -> Prepare:
    def prepare(page: Page, base: str) -> Callable[[], None]:
        _goto(page, f"{base}/stem")
        page.get_by_label("Uw stemcode").fill(code)
        return lambda: _submit(page, "Verder")

    return prepare


def review(code: str) -> Prepare:
    def prepare(page: Page, base: str) -> Callable[[], None]:
        ballot(code)(page, base)()
        for checkbox in page.get_by_role("checkbox").all()[-2:]:
            checkbox.check()
        return lambda: _submit(page, "Verder")

    return prepare


def _goto(page: Page, url: str) -> None:
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        raise RuntimeError(f"{url}: {response.status if response else 'no response'}")


def _submit(page: Page, button: str) -> None:
    with page.expect_navigation(wait_until="load") as navigation:
        page.get_by_role("button", name=button, exact=True).click()
    response = navigation.value
    if response is None or response.status != 200:
        raise RuntimeError(f"{page.url}: {response.status if response else 'no response'}")


def visit(page: Page, cdp: CDPSession, base: str, prepare: Prepare, *, cold: bool) -> Visit:
    navigate = prepare(page, base)
    if cold:
        cdp.send("Network.clearBrowserCache")
    cdp.send("Network.emulateNetworkConditions", SLOW_MOBILE)
    try:
        navigate()
        measured: dict[str, Any] = page.evaluate(MEASURE)
    finally:
        cdp.send("Network.emulateNetworkConditions", FULL_SPEED)
    return Visit(**measured)


def measure(context: BrowserContext, base: str, prepare: Prepare) -> tuple[Visit, Visit]:
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    first = visit(page, cdp, base, prepare, cold=True)
    page.goto("about:blank")
    repeat = visit(page, cdp, base, prepare, cold=False)
    page.close()
    return first, repeat


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def warm_up(browser: Browser, base: str, pages: dict[str, Prepare]) -> None:
    """Each page once, unmeasured: a phone's browser is already running and a server has served
    its pages before, so neither pays for its first request in the figures."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        for prepare in pages.values():
            prepare(page, base)()
    finally:
        context.close()


def run(base: str, pages: dict[str, Prepare], runs: int) -> list[Result]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            warm_up(browser, base, pages)
            for name, prepare in pages.items():
                firsts, repeats = [], []
                for _ in range(runs):
                    context = browser.new_context(**PHONE)
                    try:
                        first, repeat = measure(context, base, prepare)
                    finally:
                        context.close()
                    firsts.append(first)
                    repeats.append(repeat)
                results.append(
                    Result(
                        page=name,
                        first_bytes=int(statistics.median(v.bytes for v in firsts)),
                        first_requests=int(statistics.median(v.requests for v in firsts)),
                        repeat_bytes=int(statistics.median(v.bytes for v in repeats)),
                        fcp_ms=median([v.fcp for v in firsts]),
                        lcp_ms=median([v.lcp for v in firsts]),
                        repeat_lcp_ms=median([v.lcp for v in repeats]),
                    )
                )
        finally:
            browser.close()
    return results


def _ms(value: float | None) -> str:
    return f"{value:6.0f}" if value is not None else "     -"


def report(results: list[Result], runs: int) -> None:
    print(
        "Chromium 390x844, 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up; "
        f"median of {runs} runs"
    )
    print(
        f"{'page':<10} {'first KB':>9} {'requests':>8} {'repeat KB':>9} "
        f"{'FCP ms':>7} {'LCP ms':>7} {'repeat LCP':>10}"
    )
    for r in results:
        print(
            f"{r.page:<10} {r.first_bytes / 1024:9.1f} {r.first_requests:8d} "
            f"{r.repeat_bytes / 1024:9.1f} {_ms(r.fcp_ms):>7} {_ms(r.lcp_ms):>7} "
            f"{_ms(r.repeat_lcp_ms):>10}"
        )
    missed = [
        f"{r.page}: {what}"
        for r in results
        for what, bad in (
            (
                f"first visit {r.first_bytes / 1024:.1f} KB > 60 KB",
                r.first_bytes > TARGET_FIRST_BYTES,
            ),
            (
                f"repeat visit {r.repeat_bytes / 1024:.1f} KB > 10 KB",
                r.repeat_bytes > TARGET_REPEAT_BYTES,
            ),
            (
                f"LCP {r.lcp_ms or 0:.0f} ms > {TARGET_LCP_MS} ms",
                r.lcp_ms is None or r.lcp_ms > TARGET_LCP_MS,
            ),
        )
        if bad
    ]
    print("targets: first visit <= 60 KB, repeat visit <= 10 KB, LCP <= 1200 ms")
    print("all targets met" if not missed else "missed:\n  " + "\n  ".join(missed))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="visits per page (the median counts)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="proeftuin-frontend-"))
    database = TrustDatabase.create("sqlite", folder)
    summary = transact(database.database, demo.seed_demo, PEPPER)
    code = summary.codes[0]
    pages: dict[str, Prepare] = {
        "home": direct("/"),
        "round": direct(f"/rondes/{summary.voting_round_slug}"),
        "stem": direct("/stem"),
        "ballot": ballot(code),
        "review": review(code),
        "results": direct(f"/rondes/{demo.PUBLISHED_ROUND_SLUG}/uitslag"),
    }
    server = Server(database, folder, workers=1)
    server.start()
    try:
        results = run(server.url, pages, args.runs)
    except Exception as error:  # a page that did not load: say which, with the server's log
        print(f"could not measure: {error}\n{server.log_tail()}", file=sys.stderr)
        return 1
    finally:
        server.stop()
        database.drop()
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        report(results, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
