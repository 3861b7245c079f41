"""Fifty submissions of one code at the same moment make exactly one ballot.

Four processes send the fifty casts, released together by one barrier, to a real server with two
workers; the server pauses inside the casting transaction (``CAST_DELAY_MS``) so that the
submissions really overlap there. Repeated fifty times with a fresh code on the same server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from proeftuin.db import transact, utcnow
from proeftuin.models import Ballot, Channel
from tests.trust.client import Burst, Outcome, Voter, new_token
from tests.trust.server import SeededRound, Server, TrustDatabase

REPETITIONS = 50
SUBMISSIONS = 50
PROCESSES = 4
DIFFERENT_TOKEN_REPETITIONS = 2  # each is fifty real revotes, one after another
ALREADY_VOTED = ("al gestemd", "al online gestemd", "al op papier gestemd")


def refusal_is_clear(outcome: Outcome) -> bool:
    return outcome.status in (409, 422) and any(w in outcome.body for w in ALREADY_VOTED)


def check_answers(outcomes: list[Outcome]) -> set[str]:
    """Every answer is a receipt or a clear "already voted": no 5xx, no lost connection."""
    broken = [o for o in outcomes if o.receipt is None and not refusal_is_clear(o)]
    assert not broken, [(o.status, o.error or o.body[:300]) for o in broken[:5]]
    return {o.receipt for o in outcomes if o.receipt}


def one_ballot(db: TrustDatabase, round_: SeededRound, code: str) -> str:
    key = db.voter_key(code)
    mine = [b for b in db.ballots(round_.id) if b.voter_key == key]
    assert len(mine) == 1, f"{len(mine)} ballots for one code"
    return mine[0].receipt


@pytest.fixture(scope="module")
def burst(trust_server: Server) -> Iterator[Burst]:
    with Burst(trust_server.url, senders=SUBMISSIONS, processes=PROCESSES) as burst:
        yield burst


def test_the_same_submission_fifty_times_at_once_is_one_ballot_and_one_receipt(
    trust_db: TrustDatabase, trust_server: Server, burst: Burst
) -> None:
    """A double click times fifty: one ballot, and every answer names its receipt."""
    round_ = trust_db.seed_round(code_count=REPETITIONS)
    choices = {round_.plan_ids[0]: 1, round_.plan_ids[1]: 1}
    with Voter(trust_server.url) as voter:
        voter.open()
        for done, code in enumerate(round_.codes, start=1):
            request = voter.cast_request(voter.ballot(code), choices, new_token())
            receipts = check_answers(burst.fire([request] * SUBMISSIONS))
            stored = one_ballot(trust_db, round_, code)
            assert receipts == {stored}, f"repetition {done}: answered {receipts}, kept {stored}"
            assert trust_db.ballot_count(round_.id) == done


def test_fifty_different_submissions_of_one_code_at_once_still_leave_one_ballot(
    trust_db: TrustDatabase, trust_server: Server, burst: Burst
) -> None:
    """Fifty open tabs, each with its own review page: each cast replaces the one before (the
    last one counts: docs/decisions.md, Revoting), and never is a second ballot stored next to
    it."""
    round_ = trust_db.seed_round(code_count=DIFFERENT_TOKEN_REPETITIONS)
    plans = round_.plan_ids
    with Voter(trust_server.url) as voter:
        voter.open()
        for code in round_.codes:
            pas = voter.ballot(code)
            requests = [
                voter.cast_request(pas, {plans[i % len(plans)]: 1}, new_token())
                for i in range(SUBMISSIONS)
            ]
            receipts = check_answers(burst.fire(requests))
            assert one_ballot(trust_db, round_, code) in receipts
    assert trust_db.ballot_count(round_.id) == len(round_.codes)


def test_the_database_alone_refuses_a_second_ballot_for_a_voter_key(
    trust_db: TrustDatabase,
) -> None:
    """The last line of defence, without the service's checks: unique (round, voter_key)."""
    round_ = trust_db.seed_round(code_count=0)

    def insert(session: Session, receipt: str) -> None:
        session.add(
            Ballot(
                round_id=round_.id,
                voter_key="k" * 64,
                receipt=receipt,
                channel=Channel.ONLINE.value,
                cast_on=utcnow().date(),
            )
        )

    transact(trust_db.database, insert, "AAAA-0000-0001")
    with pytest.raises(IntegrityError):
        transact(trust_db.database, insert, "AAAA-0000-0002")
    assert trust_db.ballot_count(round_.id) == 1
