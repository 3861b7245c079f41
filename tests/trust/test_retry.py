"""Double clicks, retries and crashes around the commit of a ballot.

- the same submission sent twice at once, and again later: one ballot, one receipt;
- the answer lost after the commit (the connection closed before reading it), then the browser's
  retry: the original receipt;
- the server killed with ``kill -9`` while its casting transaction is open: no ballot, the code
  still unused, and after a restart the same page casts normally. On PostgreSQL also after the
  ballot row was written (the transaction then waits for a row lock the test holds).
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from proeftuin.services import codes
from tests.trust.client import FORM_HEADERS, Voter, cast_form, new_token, receipt_of
from tests.trust.server import PEPPER, Server, TrustDatabase

WAIT_SECONDS = 30
OURS = "trust-test"  # application_name of the test's own PostgreSQL connection


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.005)


def test_a_double_click_makes_one_ballot_with_one_receipt(
    trust_db: TrustDatabase, trust_server: Server
) -> None:
    round_ = trust_db.seed_round(code_count=1)
    code = round_.codes[0]
    choices = {round_.plan_ids[0]: 1}
    with Voter(trust_server.url) as voter:
        voter.open()
        pas, token = voter.ballot(code), new_token()
        with ThreadPoolExecutor(2) as pool:
            clicks = list(pool.map(lambda _: voter.cast(pas, choices, token), range(2)))
        later = voter.cast(pas, choices, token)
    receipts = {receipt_of(r.status_code, r.headers.get("location")) for r in [*clicks, later]}
    [stored] = trust_db.ballots(round_.id)
    assert receipts == {stored.receipt}
    assert stored.voter_key == trust_db.voter_key(code)


def test_a_retry_after_the_answer_was_lost_gets_the_original_receipt(
    trust_db: TrustDatabase, trust_server: Server
) -> None:
    round_ = trust_db.seed_round(code_count=1)
    choices = {round_.plan_ids[1]: 1}
    with Voter(trust_server.url) as voter:
        voter.open()
        pas, token = voter.ballot(round_.codes[0]), new_token()
        send_and_hang_up(trust_server.url, voter.cookie, cast_form(voter.csrf, pas, choices, token))
        wait_until(lambda: trust_db.ballot_count(round_.id) == 1, "the lost cast is committed")
        [original] = trust_db.ballots(round_.id)
        retry = voter.cast(pas, choices, token)
    assert receipt_of(retry.status_code, retry.headers.get("location")) == original.receipt
    assert trust_db.ballots(round_.id) == [original]


def send_and_hang_up(url: str, cookie: str, form: list[tuple[str, str]]) -> None:
    """The whole request, then the connection closed at once: the answer is never read."""
    body = str(httpx.QueryParams(form)).encode()
    parts = urlsplit(url)
    head = (
        f"POST /stem/uitbrengen HTTP/1.1\r\nHost: {parts.netloc}\r\nCookie: {cookie}\r\n"
        f"Content-Type: {FORM_HEADERS['content-type']}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(head.encode() + body)


def test_a_crash_inside_the_cast_transaction_leaves_no_ballot_and_the_code_usable(
    trust_db: TrustDatabase, server_factory: Callable[..., Server]
) -> None:
    server = server_factory(TRUST_CAST_DELAY_MS="2000")
    round_ = trust_db.seed_round(code_count=2)
    choices = {round_.plan_ids[0]: 1, round_.plan_ids[3]: 1}
    paused, written = round_.codes
    with Voter(server.url) as voter:
        voter.open()
        casts = []
        with contextlib.ExitStack() as locks:
            if trust_db.backend == "postgresql":
                # A cast past its writes: we hold the code's row, so the transaction waits at its
                # last statement (marking the code used) until the server dies.
                locks.enter_context(row_locked(trust_db, written))
                casts.append(Cast(voter, voter.ballot(written), choices, new_token()))
                wait_until(lambda: cast_waits(trust_db), "the cast waits for the code's row")
            # A cast in the pause after its checks, before it has written anything.
            pas, token = voter.ballot(paused), new_token()
            casts.append(Cast(voter, pas, choices, token))
            wait_until(lambda: cast_is_open(trust_db), "the casting transaction is open")
            server.kill()
            for cast in casts:
                cast.join(timeout=WAIT_SECONDS)
                assert isinstance(cast.answer, httpx.HTTPError), cast.answer  # no answer came
        assert trust_db.ballot_count(round_.id) == 0
        assert {trust_db.code_status(code) for code in round_.codes} == {"unused"}

        server.start(TRUST_CAST_DELAY_MS="0")
        # The same page sent again after the restart (the pass and the cookie are signed), and
        # the other code typed anew: both count now.
        again = voter.cast(pas, choices, token)
        voter.vote(written, choices)
    stored = {b.voter_key: b.receipt for b in trust_db.ballots(round_.id)}
    assert len(stored) == 2
    assert (
        receipt_of(again.status_code, again.headers.get("location"))
        == stored[trust_db.voter_key(paused)]
    )
    assert {trust_db.code_status(code) for code in round_.codes} == {"used"}


class Cast(threading.Thread):
    """``voter.cast`` in a thread of its own; ``answer``: its response, or the error it got."""

    def __init__(self, voter: Voter, pas: str, choices: dict[str, int], token: str) -> None:
        super().__init__()
        self.voter, self.request = voter, (pas, choices, token)
        self.answer: object = None
        self.start()

    def run(self) -> None:
        try:
            self.answer = self.voter.cast(*self.request)
        except httpx.HTTPError as error:
            self.answer = error


def cast_is_open(db: TrustDatabase) -> bool:
    """True while some connection holds a write transaction open (the server's cast)."""
    if db.backend == "sqlite":
        probe = sqlite3.connect(make_url(db.url).database or "", timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # database is locked: the writer is in its transaction
            return True
        finally:
            probe.close()
    return _activity(db, "state = 'idle in transaction'") > 0


def cast_waits(db: TrustDatabase) -> bool:
    return _activity(db, "wait_event_type = 'Lock'") > 0


def _activity(db: TrustDatabase, condition: str) -> int:
    """Connections of the server (not ours: they are named) in this state."""
    with db.database.engine.connect() as conn:
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            f"AND pid <> pg_backend_pid() AND application_name <> '{OURS}' AND {condition}"
        )
        return int(conn.execute(sa.text(query)).scalar_one())


@contextlib.contextmanager
def row_locked(db: TrustDatabase, code: str) -> Iterator[None]:
    """Holds ``SELECT ... FOR UPDATE`` on a letter code's row until the block ends."""
    normal = codes.normalise(code)
    assert normal is not None
    with db.database.engine.connect() as conn:
        conn.execute(sa.text(f"SET application_name = '{OURS}'"))
        conn.execute(
            sa.text("SELECT id FROM voting_code WHERE code_hash = :h FOR UPDATE"),
            {"h": codes.code_hash(PEPPER, normal)},
        )
        yield
        conn.rollback()
