"""One letter code, online and on paper, in every order and at once: one ballot.

Online goes through the real server; the paper ballot is entered in-process by a clerk
(services.paper, as the staff pages do) on the same database, while the server runs.
"""

from __future__ import annotations

import pytest

from proeftuin.db import transact, utcnow
from proeftuin.errors import Invalid
from proeftuin.services import paper
from proeftuin.services.permissions import Actor
from tests.trust.cast_pause import paused_casts
from tests.trust.client import Burst, Voter, new_token
from tests.trust.paper_race import paper_against_online
from tests.trust.server import PEPPER, SeededRound, Server, TrustDatabase

ONLINE_FIRST = "Deze code heeft al online gestemd."
PAPER_FIRST = "Met deze code is al op papier gestemd. Online stemmen kan niet meer."
PAPER_TWICE = "Voor deze code is al een papieren stembiljet ingevoerd."
CONCURRENT_REPETITIONS = 10
ONLINE_AT_ONCE = 4


def enter_paper(db: TrustDatabase, clerk: Actor, round_: SeededRound, code: str) -> str:
    receipt = transact(
        db.database,
        paper.enter_paper_ballot,
        clerk,
        round_.id,
        code,
        {round_.plan_ids[2]: 1},
        PEPPER,
        utcnow().date(),
    )
    return receipt.receipt


def paper_refused(db: TrustDatabase, clerk: Actor, round_: SeededRound, code: str) -> str:
    with pytest.raises(Invalid) as refused:
        enter_paper(db, clerk, round_, code)
    return refused.value.message


def only_ballot(db: TrustDatabase, round_: SeededRound, code: str) -> tuple[str, str]:
    key = db.voter_key(code)
    mine = [b for b in db.ballots(round_.id) if b.voter_key == key]
    assert len(mine) == 1, mine
    return mine[0].channel, mine[0].receipt


@pytest.fixture
def clerk(trust_db: TrustDatabase) -> Actor:
    return trust_db.staff()


def test_online_then_paper(trust_db: TrustDatabase, trust_server: Server, clerk: Actor) -> None:
    round_ = trust_db.seed_round(code_count=1)
    code = round_.codes[0]
    with Voter(trust_server.url) as voter:
        receipt = voter.vote(code, {round_.plan_ids[0]: 1})
    assert paper_refused(trust_db, clerk, round_, code) == ONLINE_FIRST
    assert only_ballot(trust_db, round_, code) == ("online", receipt)


def test_paper_then_online(trust_db: TrustDatabase, trust_server: Server, clerk: Actor) -> None:
    round_ = trust_db.seed_round(code_count=1)
    code = round_.codes[0]
    receipt = enter_paper(trust_db, clerk, round_, code)
    with Voter(trust_server.url) as voter:
        refused = voter.cast(voter.ballot(code), {round_.plan_ids[0]: 1})
    assert refused.status_code == 422 and PAPER_FIRST in refused.text
    assert paper_refused(trust_db, clerk, round_, code) == PAPER_TWICE
    assert only_ballot(trust_db, round_, code) == ("paper", receipt)


def test_online_opened_before_paper_and_cast_after_it(
    trust_db: TrustDatabase, trust_server: Server, clerk: Actor
) -> None:
    """The ballot page was open while the clerk entered the paper ballot: the cast is refused."""
    round_ = trust_db.seed_round(code_count=1)
    code = round_.codes[0]
    with Voter(trust_server.url) as voter:
        pas = voter.ballot(code)
        receipt = enter_paper(trust_db, clerk, round_, code)
        refused = voter.cast(pas, {round_.plan_ids[0]: 1})
    assert refused.status_code == 422 and PAPER_FIRST in refused.text
    assert only_ballot(trust_db, round_, code) == ("paper", receipt)


def test_paper_and_online_at_the_same_moment(
    trust_db: TrustDatabase,
    trust_server: Server,
    clerk: Actor,
) -> None:
    """Both channels inside their casting transaction at once, ten times: whoever commits first
    has the code's one ballot, and the other is told so in plain Dutch."""
    round_ = trust_db.seed_round(code_count=CONCURRENT_REPETITIONS)
    with (
        paused_casts(0.02),  # the paper side, in this process, pauses too
        Voter(trust_server.url) as voter,
        Burst(trust_server.url, senders=ONLINE_AT_ONCE, extra_parties=1) as burst,
    ):
        voter.open()
        for code in round_.codes:
            pas, token = voter.ballot(code), new_token()
            online = [voter.cast_request(pas, {round_.plan_ids[0]: 1}, token)] * ONLINE_AT_ONCE
            race = paper_against_online(
                trust_db, burst, clerk, round_, code, {round_.plan_ids[2]: 1}, online
            )
            channel, receipt = only_ballot(trust_db, round_, code)
            if channel == "paper":
                assert race.paper_receipt == receipt
                assert all(o.status == 422 and PAPER_FIRST in o.body for o in race.online)
            else:
                assert race.paper_refusal == ONLINE_FIRST
                assert {o.receipt for o in race.online} == {receipt}
