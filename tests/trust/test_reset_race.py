"""An admin resets a round (every ballot voided, back to beoordelen) while residents cast ballots
in it: afterwards no ballot is left and every code is unused again, whichever cast came first.

The casts go through the real server (at READ COMMITTED on PostgreSQL, db.transact_locking); the
reset runs in-process as the staff pages run it. A cast that commits before the reset is voided
by it; one that comes after is refused because the round is no longer open for voting.
"""

from __future__ import annotations

import threading

import pytest

from proeftuin.db import read, transact_locking
from proeftuin.models import Phase, Round
from proeftuin.services import rounds
from tests.trust.client import Burst, Voter, new_token
from tests.trust.server import Server, TrustDatabase

REPETITIONS = 5
CASTS = 12
REASON = "De stembiljetten bevatten een fout plan."


@pytest.mark.parametrize("repetition", range(REPETITIONS))
def test_a_reset_during_voting_leaves_no_ballot_and_no_used_code(
    trust_db: TrustDatabase, trust_server: Server, repetition: int
) -> None:
    round_ = trust_db.seed_round(code_count=CASTS)
    admin = trust_db.staff("admin")
    choices = {round_.plan_ids[0]: 1}
    voided: list[int] = []
    with (
        Voter(trust_server.url) as voter,
        Burst(trust_server.url, senders=CASTS, extra_parties=1) as burst,
    ):
        voter.open()
        casts = [voter.cast_request(voter.ballot(c), choices, new_token()) for c in round_.codes]

        def reset() -> None:
            burst.barrier.wait(timeout=60)
            voided.append(
                transact_locking(trust_db.database, rounds.reset_round, admin, round_.id, REASON)
            )

        admin_thread = threading.Thread(target=reset)
        admin_thread.start()
        outcomes = burst.fire(casts)
        admin_thread.join(timeout=60)

    assert voided, "the reset did not finish"
    assert all(0 < o.status < 500 for o in outcomes), [(o.status, o.error) for o in outcomes]
    phase = read(trust_db.database, lambda session: session.get(Round, round_.id).phase)  # type: ignore[union-attr]
    assert phase == Phase.BEOORDELEN
    assert trust_db.ballot_count(round_.id) == 0
    assert {trust_db.code_status(code) for code in round_.codes} == {"unused"}
