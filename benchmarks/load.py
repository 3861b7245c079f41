"""Load benchmark: residents voting against ``proeftuin serve`` on loopback.

    python benchmarks/load.py --db sqlite --requests 6000
    python benchmarks/load.py --db postgresql --requests 6000 --workers 2

A load generator of our own (asyncio; the voting flow of ``tests/trust/client.py``) against a
real server (``python -m proeftuin serve --workers 2``) on a fresh database: a SQLite file in a
temporary folder, or a new database on the PostgreSQL server at PROEFTUIN_TEST_POSTGRES_URL
(dropped afterwards). Each simulated visitor has one kept-alive connection and its own cookies.
It speaks HTTP/1.1 on asyncio streams: httpx (``--client httpx``) spends 1.5 to 4 ms of CPU per
request, more than the server, and on two cores measured mostly itself. Three phases, with the
same number of connections:

1. the ceiling: ``GET /healthz`` (the trivial endpoint: one ``SELECT 1``) as fast as it answers;
2. residents, each from its own loopback address: each opens /stem once (session and CSRF
   token), then for each of its codes types the code (the ballot page), casts a ballot, and
   opens the receipt page (where the browser is sent); after every ``--round-page-every``
   ballots it also looks at the round's page. Stops after ``--requests`` requests.
3. casting alone: ``--cast-requests`` casts with voting passes made beforehand, the cast request
   and nothing else. Not the target (a ballot is the whole of phase 2): it shows how much of the
   gap to the ceiling is the casting endpoint itself.
4. a voting event (``--event-requests``, 0: skip): residents with a district's letter code type
   it (the district's ballot), go on to the city-wide ballot, cast both in one transaction and
   open the receipt page with both trackers. Reported as event votes/s (each is two ballots),
   with its latencies, and checked like phase 2: both ballots stored for every answered cast,
   under the code's two voter keys, with the trackers the resident was given.

Reported: ballots/s (successful casts over the phase's wall time), p50/p95/p99 latency per kind
of request, errors (anything but the expected answer), the ratio of ballots/s to the ceiling's
requests/s, and afterwards from the database: ballots stored == successful casts, each under its
own code, with the receipt the resident was given. Also the CPU time per ballot and per /healthz
of the server and of the load generator, and the rates those allow on this machine's cores when
nothing else runs (on PostgreSQL counting the database server's CPU too): on a shared machine
the wall-clock rates say more about the neighbours.

Targets, each printed with its verdict: ballots/s when CPU-bound on two idle cores (from the CPU
time per ballot of the server, the load generator and, on PostgreSQL, the database server, all
on the same two cores) at least 300 on SQLite and 200 on PostgreSQL; p99 of all requests under
250 ms; zero errors; the database check ok. The ratio of ballots/s to the ceiling is printed but
no longer judged: a ballot is 3.5 requests, each paying the whole HTTP path, so it stays near
28 % even if casting cost nothing. The exit status is 1 when a correctness check fails (errors,
lost or double ballots), not when a speed target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.orm import Session

from proeftuin.db import read
from proeftuin.services import voting
from proeftuin.web.voting import issue_pass
from tests.trust.client import (
    EVENT_CAST_PATH,
    FORM_HEADERS,
    Form,
    cast_form,
    csrf_of,
    event_receipts_of,
    limits,
    new_token,
    pass_of,
    receipt_of,
)
from tests.trust.server import PEPPER, SeededEvent, SeededRound, Server, TrustDatabase

TARGET_BALLOTS_PER_SECOND = {"sqlite": 300, "postgresql": 200}  # CPU-bound on TARGET_CORES
TARGET_CORES = 2
TARGET_P99_MS = 250


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    receipts: dict[str, str] = field(default_factory=dict)  # code -> receipt
    requests: int = 0

    def record(self, kind: str, began: float) -> None:
        self.latencies[kind].append(time.perf_counter() - began)
        self.requests += 1


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a database backend that ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / os.sysconf("SC_CLK_TCK")


def database_cpu(database: TrustDatabase) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the benchmark's database (they
    serve the workers' kept connections for the whole run and share the cores with them)."""
    if database.backend != "postgresql":
        return {}
    statement = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    with database.database.engine.connect() as conn:
        pids = list(conn.scalars(statement))
    return {pid: cpu_seconds([pid]) for pid in pids}


def cpu_since(database: TrustDatabase, before: dict[int, float]) -> float:
    """The database's CPU since ``before`` (a backend started since counts from zero)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in database_cpu(database).items())


# -- The browsers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names; the last value of a repeated header
    text: str
    cookies: dict[str, str]


def loopback_addresses() -> Iterator[str]:
    """A source address per resident (any 127.x.y.z reaches the server): residents vote from
    their own phones, and the server takes turns per address when it counts wrong codes."""
    return (f"127.{a}.{b}.{c}" for a in range(100, 250) for b in range(256) for c in range(1, 255))


class Browser:
    """One visitor: one kept-alive connection, from its own address, and its own cookies."""

    def __init__(self, url: str, address: str | None = None) -> None:
        self.url, self.address = url, address

    async def request(self, method: str, path: str, form: Form | None = None) -> Reply:
        raise NotImplementedError

    async def close(self) -> None:
        pass

    def _cookie_header(self, cookies: dict[str, str]) -> dict[str, str]:
        return {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}


class StreamBrowser(Browser):
    """HTTP/1.1 on asyncio streams, just enough for our server (Content-Length or chunked
    bodies). A request costs it some 0.05 ms of CPU, where httpx takes 1.5 to 4 ms: on a machine
    of two cores httpx would spend more CPU than the server it measures."""

    def __init__(self, url: str, address: str | None = None) -> None:
        super().__init__(url, address)
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.cookies: dict[str, str] = {}

    async def request(self, method: str, path: str, form: Form | None = None) -> Reply:
        if self.streams is None:
            local = (self.address, 0) if self.address else None
            self.streams = await asyncio.open_connection(self.host, self.port, local_addr=local)
        reader, writer = self.streams
        body = str(httpx.QueryParams(form)).encode() if form is not None else b""
        headers = {"host": f"{self.host}:{self.port}", **self._cookie_header(self.cookies)}
        if form is not None:
            headers |= {**FORM_HEADERS, "content-length": str(len(body))}
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        try:
            writer.write(f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode() + body)
            await writer.drain()
            reply = await self._read(reader)
        except (OSError, asyncio.IncompleteReadError):
            await self.close()
            raise
        if reply.headers.get("connection", "").lower() == "close":
            await self.close()
        self.cookies.update(reply.cookies)
        return reply

    async def _read(self, reader: asyncio.StreamReader) -> Reply:
        lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        for line in filter(None, lines[1:]):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
            if name.strip().lower() == "set-cookie":
                key, _, rest = value.strip().partition("=")
                cookies[key] = rest.split(";", 1)[0]
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                chunks.append((await reader.readexactly(size + 2))[:-2])
            await reader.readuntil(b"\r\n")
            data = b"".join(chunks)
        else:
            data = await reader.readexactly(int(headers.get("content-length", "0")))
        return Reply(status, headers, data.decode(), cookies)

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


class HttpxBrowser(Browser):
    """The same with httpx (``--client httpx``), one client per visitor: a client shared by many
    visitors spends even more CPU in its connection pool."""

    def __init__(self, url: str, address: str | None = None) -> None:
        super().__init__(url, address)
        transport = httpx.AsyncHTTPTransport(local_address=address, limits=limits(1))
        self.http = httpx.AsyncClient(base_url=url, transport=transport, timeout=60)
        self.http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.cookies: dict[str, str] = {}

    async def request(self, method: str, path: str, form: Form | None = None) -> Reply:
        headers = self._cookie_header(self.cookies)
        if form is not None:
            headers |= FORM_HEADERS
        body = str(httpx.QueryParams(form)).encode() if form is not None else None
        response = await self.http.request(method, path, content=body, headers=headers)
        reply = Reply(
            response.status_code, dict(response.headers), response.text, dict(response.cookies)
        )
        self.cookies.update(reply.cookies)
        return reply

    async def close(self) -> None:
        await self.http.aclose()


BROWSERS: dict[str, type[Browser]] = {"streams": StreamBrowser, "httpx": HttpxBrowser}


# -- The phases --------------------------------------------------------------------------------


async def ceiling(
    url: str, requests: int, connections: int, browser: type[Browser]
) -> tuple[float, Stats]:
    stats = Stats()
    remaining = iter(range(requests))

    async def hammer() -> None:
        visitor = browser(url)
        for _ in remaining:
            began = time.perf_counter()
            try:
                reply = await visitor.request("GET", "/healthz")
            except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as error:
                stats.errors.append(f"healthz: {type(error).__name__}")
                continue
            finally:
                stats.record("healthz", began)
            if reply.status != 200:
                stats.errors.append(f"healthz: {reply.status}")
        await visitor.close()

    began = time.perf_counter()
    await asyncio.gather(*(hammer() for _ in range(connections)))
    return requests / (time.perf_counter() - began), stats


async def residents(
    url: str,
    round_: SeededRound,
    requests: int,
    connections: int,
    round_page_every: int,
    browser: type[Browser],
) -> tuple[float, Stats]:
    stats = Stats()
    codes: Iterator[str] = iter(round_.codes)
    choices = dict.fromkeys(round_.plan_ids[:2], 1)
    addresses = loopback_addresses()

    async def timed(
        visitor: Browser, kind: str, expected: int, path: str, form: Form | None = None
    ) -> Reply | None:
        began = time.perf_counter()
        try:
            reply = await visitor.request("POST" if form is not None else "GET", path, form)
        except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as error:
            stats.errors.append(f"{kind}: {type(error).__name__}")
            return None
        finally:
            stats.record(kind, began)
        if reply.status != expected:
            stats.errors.append(f"{kind}: {reply.status}")
            return None
        return reply

    async def resident() -> None:
        visitor = browser(url, next(addresses))
        start = await timed(visitor, "open /stem", 200, "/stem")
        if start is None:
            return
        csrf = csrf_of(start.text)
        ballots = 0
        while stats.requests < requests:
            code = next(codes)
            form = [("code", code), ("csrf_token", csrf)]
            page = await timed(visitor, "enter code", 200, "/stem", form)
            if page is None:
                continue
            form = cast_form(csrf, pass_of(page.text), choices, new_token())
            cast = await timed(visitor, "cast", 303, "/stem/uitbrengen", form)
            receipt = cast and receipt_of(cast.status, cast.headers.get("location"))
            if not receipt:
                continue
            stats.receipts[code] = receipt
            await timed(visitor, "receipt page", 200, f"/stem/bedankt?bon={receipt}")
            ballots += 1
            if round_page_every and ballots % round_page_every == 0:
                await timed(visitor, "round page", 200, f"/rondes/{round_.slug}")
        await visitor.close()

    began = time.perf_counter()
    await asyncio.gather(*(resident() for _ in range(connections)))
    return len(stats.receipts) / (time.perf_counter() - began), stats


async def casting_alone(
    url: str,
    passes: dict[str, str],
    choices: dict[str, int],
    connections: int,
    browser: type[Browser],
) -> tuple[float, Stats]:
    """Only the cast request, with voting passes made beforehand (one per code): what the
    casting endpoint itself sustains, next to a ballot's 3.5 requests in the voting phase."""
    stats = Stats()
    remaining = iter(passes.items())
    addresses = loopback_addresses()

    async def caster() -> None:
        visitor = browser(url, next(addresses))
        start = await visitor.request("GET", "/stem")
        csrf = csrf_of(start.text)
        for code, pas in remaining:
            began = time.perf_counter()
            try:
                form = cast_form(csrf, pas, choices, new_token())
                reply = await visitor.request("POST", "/stem/uitbrengen", form)
            except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as error:
                stats.errors.append(f"cast alone: {type(error).__name__}")
                continue
            finally:
                stats.record("cast alone", began)
            receipt = receipt_of(reply.status, reply.headers.get("location"))
            if receipt is None:
                stats.errors.append(f"cast alone: {reply.status}")
            else:
                stats.receipts[code] = receipt
        await visitor.close()

    began = time.perf_counter()
    await asyncio.gather(*(caster() for _ in range(connections)))
    return len(stats.receipts) / (time.perf_counter() - began), stats


async def event_residents(
    url: str, event: SeededEvent, requests: int, connections: int, browser: type[Browser]
) -> tuple[float, Stats, dict[str, tuple[str, ...]]]:
    """Phase 4: residents of a voting event, each vote two ballots cast together."""
    stats = Stats()
    trackers: dict[str, tuple[str, ...]] = {}
    codes: Iterator[str] = iter(event.codes)
    choices = {event.district.plan_ids[0]: 1, event.city.plan_ids[1]: 1}
    addresses = loopback_addresses()

    async def timed(
        visitor: Browser, kind: str, expected: int, path: str, form: Form | None = None
    ) -> Reply | None:
        began = time.perf_counter()
        try:
            reply = await visitor.request("POST" if form is not None else "GET", path, form)
        except (OSError, asyncio.IncompleteReadError, httpx.HTTPError) as error:
            stats.errors.append(f"{kind}: {type(error).__name__}")
            return None
        finally:
            stats.record(kind, began)
        if reply.status != expected:
            stats.errors.append(f"{kind}: {reply.status}")
            return None
        return reply

    async def resident() -> None:
        visitor = browser(url, next(addresses))
        start = await timed(visitor, "open /stem", 200, "/stem")
        if start is None:
            return
        csrf = csrf_of(start.text)
        while stats.requests < requests:
            code = next(codes)
            page = await timed(
                visitor, "event code", 200, "/stem", [("code", code), ("csrf_token", csrf)]
            )
            if page is None:
                continue
            step = [("csrf_token", csrf), ("pas", pass_of(page.text)), ("stap", "0")]
            step += [(f"keuze.{event.district.plan_ids[0]}", "1")]
            second = await timed(visitor, "event ballot 2", 200, "/stem/stemming/stembiljet", step)
            if second is None:
                continue
            form = cast_form(csrf, pass_of(second.text), choices, new_token())
            cast = await timed(visitor, "event cast", 303, EVENT_CAST_PATH, form)
            got = cast and event_receipts_of(cast.status, cast.headers.get("location"))
            if not got or len(got) != 2:
                continue
            trackers[code] = got
            location = urlsplit(cast.headers["location"])  # type: ignore[union-attr]
            await timed(visitor, "event receipt", 200, f"{location.path}?{location.query}")
        await visitor.close()

    began = time.perf_counter()
    await asyncio.gather(*(resident() for _ in range(connections)))
    return len(trackers) / (time.perf_counter() - began), stats, trackers


def verify_event(
    database: TrustDatabase, event: SeededEvent, trackers: dict[str, tuple[str, ...]]
) -> list[str]:
    """Both ballots of every answered event cast stored, under the code's two keys."""
    district = {b.voter_key: b.receipt for b in database.ballots(event.district.id)}
    city = {b.voter_key: b.receipt for b in database.ballots(event.city.id)}
    problems = []
    if len(district) != len(trackers) or len(city) != len(trackers):
        problems.append(
            f"{len(district)} district and {len(city)} city-wide ballots stored for "
            f"{len(trackers)} event casts"
        )
    keys = database.voter_keys(list(trackers))
    city_keys = database.city_voter_keys(event, list(trackers))
    for code, (own, whole) in trackers.items():
        if district.get(keys[code]) != own or city.get(city_keys[code]) != whole:
            problems.append(f"event cast answered with {own}, {whole}: not what is stored")
    return problems


def voting_passes(database: TrustDatabase, server: Server, codes: list[str]) -> dict[str, str]:
    """The voting pass the ballot page would carry, for each code."""
    settings = server.settings()

    def make(session: Session) -> dict[str, str]:
        return {
            code: issue_pass(settings, voting.code_credential(session, PEPPER, code))
            for code in codes
        }

    return read(database.database, make)


def verify(database: TrustDatabase, round_: SeededRound, stats: Stats) -> list[str]:
    """Ballots in the database == successful casts, each under its code, with its receipt."""
    stored = {ballot.voter_key: ballot.receipt for ballot in database.ballots(round_.id)}
    problems = []
    if len(stored) != len(stats.receipts):
        problems.append(f"{len(stored)} ballots stored for {len(stats.receipts)} successful casts")
    keys = database.voter_keys(list(stats.receipts))
    for code, receipt in stats.receipts.items():
        kept = stored.get(keys[code])
        if kept != receipt:
            problems.append(f"cast answered with {receipt}, stored: {kept}")
    return problems


def report(kind_stats: Stats) -> None:
    for kind, values in sorted(kind_stats.latencies.items()):
        print(
            f"  {kind:<14} n={len(values):>6}  p50 {percentile(values, 0.50) * 1000:6.1f} ms"
            f"  p95 {percentile(values, 0.95) * 1000:6.1f} ms"
            f"  p99 {percentile(values, 0.99) * 1000:6.1f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=6000, help="requests in the voting phase")
    parser.add_argument("--ceiling-requests", type=int, default=None, help="default: --requests")
    parser.add_argument(
        "--cast-requests", type=int, default=2000, help="casts in the phase of casting alone"
    )
    parser.add_argument(
        "--event-requests", type=int, default=2000, help="requests in the voting-event phase"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--round-page-every",
        type=int,
        default=2,
        help="a resident also opens the round's page after every N-th ballot (0: never)",
    )
    parser.add_argument(
        "--access-log", action="store_true", help="serve with the JSON access log on"
    )
    parser.add_argument(
        "--client", choices=tuple(BROWSERS), default="streams", help="the load generator's HTTP"
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="proeftuin-load-"))
    database = TrustDatabase.create(args.db, folder)
    # Each ballot takes at least three requests; codes to spare for the last residents' laps,
    # and codes for the phase of casting alone.
    voting_codes = args.requests // 3 + args.connections + 10
    round_ = database.seed_round(code_count=voting_codes + args.cast_requests)
    event = database.seed_event(code_count=args.event_requests // 4 + args.connections + 10)
    server = Server(
        database,
        folder,
        workers=args.workers,
        env={"PROEFTUIN_ACCESS_LOG": "1" if args.access_log else "0"},
    )
    load = os.getloadavg()[0]
    print(
        f"{args.db}, {args.workers} workers, {args.connections} connections, {args.client}, "
        f"{os.cpu_count()} CPUs, load average before: {load:.1f}"
    )
    server.start()
    try:
        pids = server.worker_pids()
        server_before, own_before = cpu_seconds(pids), own_cpu_seconds()
        database_before = database_cpu(database)
        browser = BROWSERS[args.client]
        ceiling_rps, ceiling_stats = asyncio.run(
            ceiling(server.url, args.ceiling_requests or args.requests, args.connections, browser)
        )
        ceiling_cpu = (cpu_seconds(pids) - server_before, own_cpu_seconds() - own_before)
        ceiling_database_cpu = cpu_since(database, database_before)
        server_before, own_before = cpu_seconds(pids), own_cpu_seconds()
        workers_before = [cpu_seconds([pid]) for pid in pids]
        database_before = database_cpu(database)
        ballots_per_second, stats = asyncio.run(
            residents(
                server.url,
                dataclasses.replace(round_, codes=round_.codes[:voting_codes]),
                args.requests,
                args.connections,
                args.round_page_every,
                browser,
            )
        )
        voting_cpu = (cpu_seconds(pids) - server_before, own_cpu_seconds() - own_before)
        per_worker = [
            cpu_seconds([pid]) - before for pid, before in zip(pids, workers_before, strict=True)
        ]
        voting_database_cpu = cpu_since(database, database_before)
        passes = voting_passes(database, server, round_.codes[voting_codes:])
        casts_per_second, cast_stats = asyncio.run(
            casting_alone(
                server.url, passes, dict.fromkeys(round_.plan_ids[:2], 1), args.connections, browser
            )
        )
        event_votes_per_second, event_stats, trackers = 0.0, Stats(), {}
        server_before, database_before = cpu_seconds(pids), database_cpu(database)
        if args.event_requests:
            event_votes_per_second, event_stats, trackers = asyncio.run(
                event_residents(server.url, event, args.event_requests, args.connections, browser)
            )
        event_cpu = cpu_seconds(pids) - server_before + cpu_since(database, database_before)
        every_cast = Stats(receipts=stats.receipts | cast_stats.receipts)
        problems = verify(database, round_, every_cast)
        problems += verify_event(database, event, trackers)
        problems += stats.errors + ceiling_stats.errors + cast_stats.errors + event_stats.errors
    finally:
        server.stop()
        database.drop()

    ballots = len(stats.receipts)
    everything = [v for values in stats.latencies.values() for v in values]
    print(f"ceiling: GET /healthz {ceiling_rps:.0f} requests/s")
    report(ceiling_stats)
    print(
        f"voting: {stats.requests} requests, {ballots} ballots, {ballots_per_second:.0f} ballots/s"
    )
    report(stats)
    print(
        f"  all requests   n={len(everything):>6}  p50 {percentile(everything, 0.5) * 1000:6.1f} ms"
        f"  p95 {percentile(everything, 0.95) * 1000:6.1f} ms"
        f"  p99 {percentile(everything, 0.99) * 1000:6.1f} ms"
    )
    ratio = ballots_per_second / ceiling_rps
    print(f"ratio ballots/s to ceiling requests/s: {ratio:.0%} (shown, not judged)")
    print(
        f"casting alone: {len(cast_stats.receipts)} casts, {casts_per_second:.0f} casts/s, "
        f"{casts_per_second / ceiling_rps:.0%} of the ceiling"
    )
    report(cast_stats)
    if args.event_requests:
        print(
            f"voting event: {event_stats.requests} requests, {len(trackers)} event votes "
            f"({2 * len(trackers)} ballots), {event_votes_per_second:.0f} event votes/s"
        )
        report(event_stats)
        print(
            f"  CPU per event vote (server and database server): "
            f"{event_cpu / max(1, len(trackers)) * 1000:.1f} ms"
        )
    # CPU time hardly depends on what else the machine runs: what the rates would be if these
    # processes had every core to themselves.
    cores = os.cpu_count() or 1
    per_ballot = [seconds / max(1, ballots) for seconds in voting_cpu]
    per_check = [
        seconds / max(1, len(ceiling_stats.latencies["healthz"])) for seconds in ceiling_cpu
    ]
    print(
        f"CPU per ballot (its {stats.requests / max(1, ballots):.1f} requests): server "
        f"{per_ballot[0] * 1000:.1f} ms, load generator {per_ballot[1] * 1000:.1f} ms; "
        f"per /healthz: server {per_check[0] * 1000:.2f} ms, load generator "
        f"{per_check[1] * 1000:.2f} ms"
    )
    if args.db == "postgresql":
        per_ballot.append(voting_database_cpu / max(1, ballots))
        per_check.append(ceiling_database_cpu / max(1, len(ceiling_stats.latencies["healthz"])))
        print(
            f"CPU of the PostgreSQL server per ballot: {per_ballot[-1] * 1000:.1f} ms, "
            f"per /healthz: {per_check[-1] * 1000:.2f} ms"
        )
    # The kernel hands each new connection to whichever worker accepts first: with few kept-alive
    # connections one worker may get most of them, and the run is as fast as that worker.
    busy = [seconds for seconds in per_worker if seconds > 0]  # not the supervisor's helpers
    split = " / ".join(f"{seconds / max(sum(busy), 1e-9):.0%}" for seconds in busy)
    print(f"voting: server CPU per worker {split}")
    print(
        f"CPU-bound on {cores} idle cores: {cores / sum(per_ballot):.0f} ballots/s, "
        f"{cores / sum(per_check):.0f} /healthz/s, ratio {sum(per_check) / sum(per_ballot):.0%}"
    )
    errors = len(stats.errors) + len(ceiling_stats.errors) + len(cast_stats.errors)
    errors += len(event_stats.errors)
    print(f"errors: {errors}")
    print(f"database check: {'ok' if not problems else 'FAILED'}")
    for problem in problems[:20]:
        print(f"  {problem}")
    p99 = percentile(everything, 0.99) * 1000
    capacity = TARGET_CORES / sum(per_ballot)
    wanted = TARGET_BALLOTS_PER_SECOND[args.db]
    checks = {
        f"{capacity:.0f} ballots/s CPU-bound on {TARGET_CORES} idle cores >= {wanted}": (
            capacity >= wanted
        ),
        f"p99 of all requests {p99:.0f} ms < {TARGET_P99_MS} ms": p99 < TARGET_P99_MS,
        f"{errors} errors": errors == 0,
        "database check ok": not problems,
    }
    for check, passed in checks.items():
        print(f"  {'met   ' if passed else 'MISSED'}  {check}")
    print(f"targets: {'met' if all(checks.values()) else 'missed'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
