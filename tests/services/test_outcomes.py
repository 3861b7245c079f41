"""Which plans go ahead: read from the published result only."""

from __future__ import annotations

from sqlalchemy.orm import Session

from proeftuin.db import Database, transact
from proeftuin.models import Phase
from proeftuin.services import outcomes, results
from tests.factories import NOW, STOPPING, STOPPING_COSTS, closed_round, make_staff


def test_outcomes_exist_only_once_the_result_is_published(db: Database) -> None:
    def work(session: Session) -> list[frozenset[str] | None]:
        round_ = closed_round(session, STOPPING, costs=STOPPING_COSTS, rule="greedy")
        actor = make_staff(session, area_ids=[round_.area_id])
        seen = [outcomes.funded_public_ids(session, round_.id)]
        results.count(session, actor, round_.slug, NOW)
        results.sign_off(session, actor, round_.slug, confirmed=True, decision="", now=NOW)
        seen.append(outcomes.funded_public_ids(session, round_.id))
        results.publish(session, actor, round_.slug, NOW)
        assert round_.phase == Phase.GEPUBLICEERD
        seen.append(outcomes.funded_public_ids(session, round_.id))
        return seen

    assert transact(db, work) == [None, None, frozenset({"plan0", "plan2"})]


def test_a_plan_off_the_ballot_has_no_outcome() -> None:
    funded = frozenset({"a"})
    assert outcomes.outcome(funded, "a", on_ballot=True) is True
    assert outcomes.outcome(funded, "b", on_ballot=True) is False
    assert outcomes.outcome(funded, "b", on_ballot=False) is None
    assert outcomes.outcome(None, "a", on_ballot=True) is None
