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
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import sqlalchemy as sa

from proeftuin.services import codes
from tests.trust.client import Voter, cast_form, new_token, receipt_of
from tests.trust.server import PEPPER, Server, TrustDatabase
from tests.trust.watch import (
    OURS,
    WAIT_SECONDS,
    cast_is_open,
    cast_waits,
    send_and_hang_up,
    wait_until,
)


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
