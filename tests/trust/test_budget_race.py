"""Edits of one ballot at the same moment, each within the budget but not
together, never leave a stored ballot that breaks the round's rules.

A knapsack round with a budget of € 10.000: selection A (€ 6.000 + € 4.000) fits, selection B
(€ 5.000 + € 5.000) fits, a mix of them does not. Casting replaces the whole ballot in one
transaction, so after any race every ballot is exactly A or exactly B.
"""

from __future__ import annotations

import pytest

from tests.trust.cast_pause import paused_casts
from tests.trust.client import Burst, Voter, new_token
from tests.trust.paper_race import paper_against_online
from tests.trust.server import SeededRound, Server, TrustDatabase

EDITS = 8  # at once, from four processes
REPETITIONS = 10
PAPER_REPETITIONS = 5


@pytest.fixture
def knapsack(trust_db: TrustDatabase) -> SeededRound:
    return trust_db.seed_round(
        code_count=REPETITIONS + PAPER_REPETITIONS,
        costs=(6_000, 4_000, 5_000, 5_000),
        budget=10_000,
    )


def selections(round_: SeededRound) -> tuple[dict[str, int], dict[str, int]]:
    p = round_.plan_ids
    return {p[0]: 1, p[1]: 1}, {p[2]: 1, p[3]: 1}


def test_parallel_edits_that_fit_alone_never_store_a_ballot_over_the_budget(
    trust_db: TrustDatabase, trust_server: Server, knapsack: SeededRound
) -> None:
    a, b = selections(knapsack)
    with Voter(trust_server.url) as voter, Burst(trust_server.url, senders=EDITS) as burst:
        voter.open()
        for code in knapsack.codes[:REPETITIONS]:
            pas = voter.ballot(code)
            voter.cast(pas, a)  # the ballot that is then edited eight times at once
            requests = [voter.cast_request(pas, (a, b)[i % 2], new_token()) for i in range(EDITS)]
            answers = burst.fire(requests)
            assert all(o.receipt for o in answers), [(o.status, o.error) for o in answers]
    stored = trust_db.ballots(knapsack.id)
    assert len(stored) == REPETITIONS
    assert all(ballot.choices in (a, b) for ballot in stored), stored
    assert trust_db.broken_ballots(knapsack.id) == []


def test_paper_and_online_at_once_store_one_whole_valid_ballot(
    trust_db: TrustDatabase,
    trust_server: Server,
    knapsack: SeededRound,
) -> None:
    """A clerk types selection A from a paper ballot while the resident casts B online."""
    a, b = selections(knapsack)
    clerk = trust_db.staff()
    key = trust_db.voter_key
    with (
        paused_casts(0.02),  # the paper side, in this process, pauses too
        Voter(trust_server.url) as voter,
        Burst(trust_server.url, senders=EDITS, extra_parties=1) as burst,
    ):
        voter.open()
        for code in knapsack.codes[REPETITIONS:]:
            pas = voter.ballot(code)
            online = [voter.cast_request(pas, b, new_token()) for _ in range(EDITS)]
            race = paper_against_online(trust_db, burst, clerk, knapsack, code, a, online)
            [ballot] = [b for b in trust_db.ballots(knapsack.id) if b.voter_key == key(code)]
            if ballot.channel == "paper":
                assert ballot.choices == a and ballot.receipt == race.paper_receipt
                assert not any(o.receipt for o in race.online)
            else:
                assert ballot.choices == b and race.paper_refusal is not None
    assert trust_db.broken_ballots(knapsack.id) == []
