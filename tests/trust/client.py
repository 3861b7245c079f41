"""Walking the voting flow over HTTP, as a browser without JavaScript does: shared by the trust
tests and ``benchmarks/load.py``.

The form contract (proeftuin/web/voting.py): ``GET /stem`` gives the session cookie and its CSRF
token; ``POST /stem`` with ``code`` opens the ballot, which carries the voting pass in the hidden
field ``pas``; ``POST /stem/uitbrengen`` with the pass, ``keuze.<plan>=<points>`` and a submission
token ``inzending`` answers 303 to ``/stem/bedankt?bon=<receipt>`` (or 422/409 with the reason).

``Burst`` sends many requests at once from several processes, released by one barrier.
"""

from __future__ import annotations

import multiprocessing
import re
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from multiprocessing.context import SpawnContext
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

SESSION_COOKIE = "proeftuin_session"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASS = re.compile(r'name="pas" value="([^"]+)"')
RECEIPT_PATH = "/stem/bedankt"

Form = list[tuple[str, str]]


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def pass_of(html: str) -> str:
    match = PASS.search(html)
    assert match, "no voting pass on the page"
    return match.group(1)


def receipt_of(status: int, location: str | None) -> str | None:
    """The receipt a cast was answered with, or None when it was not a 303 to the receipt page."""
    if status != 303 or not location:
        return None
    parts = urlsplit(location)
    if parts.path != RECEIPT_PATH:
        return None
    return parse_qs(parts.query).get("bon", [None])[0]


EVENT_CAST_PATH = "/stem/stemming/uitbrengen"
EVENT_RECEIPT_PATH = "/stem/stemming/bedankt"


def event_receipts_of(status: int, location: str | None) -> tuple[str, ...] | None:
    """The trackers (one per ballot, in ballot order) an event cast was answered with, or None
    when it was not a 303 to the event's receipt page (web/events.py)."""
    if status != 303 or not location:
        return None
    parts = urlsplit(location)
    if parts.path != EVENT_RECEIPT_PATH:
        return None
    return tuple(v.partition("~")[2] for v in parse_qs(parts.query).get("bon", []))


def new_token() -> str:
    """A submission token, as the review page makes one (16-64 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def cast_form(csrf: str, pas: str, choices: Mapping[str, int], token: str) -> Form:
    return [
        ("csrf_token", csrf),
        ("pas", pas),
        *((f"keuze.{plan}", str(points)) for plan, points in choices.items()),
        ("inzending", token),
    ]


def _form_body(form: Form) -> bytes:
    return str(httpx.QueryParams(form)).encode()


FORM_HEADERS = {"content-type": "application/x-www-form-urlencoded"}


def limits(connections: int = 100) -> httpx.Limits:
    """uvicorn closes a connection after 5 s idle; a request sent on it at that moment is lost,
    so never reuse one that has been idle nearly that long."""
    return httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2.0
    )


# -- One resident ------------------------------------------------------------------------------


class Voter:
    """One resident's browser: its own cookie jar, optionally its own source address
    (any 127.x.y.z on Linux), so a test can be many visitors or one."""

    def __init__(
        self,
        base_url: str,
        *,
        local_address: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60,
    ) -> None:
        transport = httpx.HTTPTransport(local_address=local_address, limits=limits())
        self.http = httpx.Client(
            base_url=base_url, transport=transport, headers=dict(headers or {}), timeout=timeout
        )
        self.csrf = ""

    def __enter__(self) -> Voter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    @property
    def cookie(self) -> str:
        """The session cookie as a Cookie header, for sending this visitor's requests elsewhere."""
        return f"{SESSION_COOKIE}={self.http.cookies[SESSION_COOKIE]}"

    def open(self) -> httpx.Response:
        response = self.http.get("/stem")
        response.raise_for_status()
        self.csrf = csrf_of(response.text)
        return response

    def enter(self, code: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        if not self.csrf:
            self.open()
        return self.http.post(
            "/stem", data={"code": code, "csrf_token": self.csrf}, headers=headers
        )

    def ballot(self, code: str) -> str:
        """The voting pass of a valid code."""
        response = self.enter(code)
        assert response.status_code == 200, (response.status_code, response.text[:2000])
        return pass_of(response.text)

    def cast(
        self, pas: str, choices: Mapping[str, int], token: str | None = None
    ) -> httpx.Response:
        form = cast_form(self.csrf, pas, choices, token or new_token())
        return self.http.post("/stem/uitbrengen", content=_form_body(form), headers=FORM_HEADERS)

    def vote(self, code: str, choices: Mapping[str, int], token: str | None = None) -> str:
        """The whole flow; returns the receipt."""
        response = self.cast(self.ballot(code), choices, token)
        receipt = receipt_of(response.status_code, response.headers.get("location"))
        assert receipt, (response.status_code, response.text[:2000])
        return receipt

    def event_cast(
        self, pas: str, choices: Mapping[str, int], token: str | None = None
    ) -> httpx.Response:
        """Cast every ballot of an event code (``pas`` from ``ballot``; choices of all ballots)."""
        form = cast_form(self.csrf, pas, choices, token or new_token())
        return self.http.post(EVENT_CAST_PATH, content=_form_body(form), headers=FORM_HEADERS)

    def event_cast_request(self, pas: str, choices: Mapping[str, int], token: str) -> Request:
        return Request(
            EVENT_CAST_PATH, cast_form(self.csrf, pas, choices, token), {"cookie": self.cookie}
        )

    def cast_request(self, pas: str, choices: Mapping[str, int], token: str) -> Request:
        """The cast as a request another process can send (``Burst``) with this session."""
        return Request(
            "/stem/uitbrengen",
            cast_form(self.csrf, pas, choices, token),
            {"cookie": self.cookie},
        )


def shared_client(base_url: str, connections: int) -> httpx.AsyncClient:
    """One connection pool for many ``AsyncVoter``s. Its own cookie jar takes nothing: each
    resident keeps its cookies itself."""
    client = httpx.AsyncClient(base_url=base_url, limits=limits(connections), timeout=60)
    client.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return client


class AsyncVoter:
    """``Voter`` for asyncio, one of many residents on one ``shared_client``."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.cookies = httpx.Cookies()
        self.csrf = ""

    async def open(self) -> httpx.Response:
        response = await self._send("GET", "/stem")
        response.raise_for_status()
        self.csrf = csrf_of(response.text)
        return response

    async def enter(self, code: str) -> httpx.Response:
        return await self._send("POST", "/stem", [("code", code), ("csrf_token", self.csrf)])

    async def cast(self, pas: str, choices: Mapping[str, int], token: str) -> httpx.Response:
        form = cast_form(self.csrf, pas, choices, token)
        return await self._send("POST", "/stem/uitbrengen", form)

    async def event_cast(self, pas: str, choices: Mapping[str, int], token: str) -> httpx.Response:
        form = cast_form(self.csrf, pas, choices, token)
        return await self._send("POST", EVENT_CAST_PATH, form)

    async def _send(self, method: str, path: str, form: Form | None = None) -> httpx.Response:
        # Cookies per resident, not per client: the pool is shared by every resident.
        headers = dict(FORM_HEADERS) if form is not None else {}
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if cookie:
            headers["cookie"] = cookie
        response = await self.http.request(
            method, path, content=_form_body(form) if form is not None else None, headers=headers
        )
        for name, value in response.cookies.items():
            self.cookies.set(name, value)
        return response


# -- Many requests at once ---------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    path: str
    form: Form
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    status: int  # 0: no HTTP answer (see ``error``)
    location: str | None
    body: str
    seconds: float
    error: str = ""

    @property
    def receipt(self) -> str | None:
        return receipt_of(self.status, self.location)

    @property
    def event_receipts(self) -> tuple[str, ...] | None:
        return event_receipts_of(self.status, self.location)


class Burst:
    """``senders`` requests released together by one ``multiprocessing.Barrier`` from
    ``processes`` processes (threads inside each, one kept-alive connection per thread).

    The processes start once and serve every ``fire``; ``close()`` ends them. With
    ``extra_parties``, that many threads of the caller also wait on ``barrier`` before each fire
    (to do something in-process at the same moment, such as entering a paper ballot).
    """

    def __init__(
        self, base_url: str, *, senders: int = 50, processes: int = 4, extra_parties: int = 0
    ) -> None:
        assert processes >= 1 and senders >= processes
        self.senders = senders
        context: SpawnContext = multiprocessing.get_context("spawn")
        self.barrier = context.Barrier(senders + extra_parties)
        self.shares = [senders // processes + (i < senders % processes) for i in range(processes)]
        self.jobs: list[Queue[list[tuple[int, Request]] | None]] = [
            context.Queue() for _ in range(processes)
        ]
        self.results: Queue[list[tuple[int, Outcome]]] = context.Queue()
        self.processes = [
            context.Process(
                target=_sender_process,
                args=(base_url, share, self.barrier, jobs, self.results),
                daemon=True,
            )
            for share, jobs in zip(self.shares, self.jobs, strict=True)
        ]
        for process in self.processes:
            process.start()

    def fire(self, requests: Sequence[Request], timeout: float = 120) -> list[Outcome]:
        """Send ``requests`` (exactly ``senders`` of them) at once; outcomes in the same order."""
        assert len(requests) == self.senders
        numbered = list(enumerate(requests))
        start = 0
        for share, jobs in zip(self.shares, self.jobs, strict=True):
            jobs.put(numbered[start : start + share])
            start += share
        outcomes: dict[int, Outcome] = {}
        for _ in self.processes:
            outcomes.update(self.results.get(timeout=timeout))
        return [outcomes[i] for i in range(len(requests))]

    def close(self) -> None:
        for jobs in self.jobs:
            jobs.put(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()

    def __enter__(self) -> Burst:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _sender_process(
    base_url: str,
    share: int,
    barrier: Barrier,
    jobs: Queue[list[tuple[int, Request]] | None],
    results: Queue[list[tuple[int, Outcome]]],
) -> None:
    clients = [httpx.Client(base_url=base_url, limits=limits(), timeout=60) for _ in range(share)]
    while (job := jobs.get()) is not None:
        outcomes: list[tuple[int, Outcome]] = []
        threads = [
            threading.Thread(target=_send, args=(client, barrier, number, request, outcomes))
            for client, (number, request) in zip(clients, job, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.put(outcomes)
    for client in clients:
        client.close()


def _send(
    client: httpx.Client,
    barrier: Barrier,
    number: int,
    request: Request,
    outcomes: list[tuple[int, Outcome]],
) -> None:
    headers: dict[str, Any] = {**FORM_HEADERS, **request.headers}
    body = _form_body(request.form)
    try:
        barrier.wait(timeout=60)
        began = time.perf_counter()
        response = client.post(request.path, content=body, headers=headers)
        outcome = Outcome(
            response.status_code,
            response.headers.get("location"),
            response.text,
            time.perf_counter() - began,
        )
    except Exception as error:  # reported, never lost: the test decides
        outcome = Outcome(0, None, "", 0.0, f"{type(error).__name__}: {error}")
    outcomes.append((number, outcome))  # list.append is atomic
