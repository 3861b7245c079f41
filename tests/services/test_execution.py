"""Carrying out funded plans: who may record what, the checks on each field, the audit log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import InvalidForm, NotFound
from proeftuin.models import AuditEvent, Plan, PlanExecution
from proeftuin.services import execution
from proeftuin.services.execution import ExecutionInput
from proeftuin.services.permissions import Actor
from tests.factories import NOW, STOPPING, STOPPING_COSTS, published_round

GOOD = ExecutionInput(
    status="uitvoering",
    reason="",
    expected="2027-05",
    spent="1.250",
    spent_explanation="",
    co_executors="",
)


def funded_world(session: Session) -> tuple[Actor, Plan, Plan]:
    """Greedy funds plan0 (5,000) and plan2, and not plan1."""
    round_, actor = published_round(session, STOPPING, costs=STOPPING_COSTS, rule="greedy")
    plans = {p.public_id: p for p in round_.plans}
    return actor, plans["plan0"], plans["plan1"]


def with_input(**changes: str) -> ExecutionInput:
    return ExecutionInput(**{**GOOD.__dict__, **changes})


def test_a_funded_plan_gets_its_state_recorded_and_audited(db: Database) -> None:
    def work(session: Session) -> tuple[execution.ExecutionState, list[str]]:
        actor, funded, _ = funded_world(session)
        execution.record(session, actor, funded, GOOD, NOW)
        state = execution.state(session, funded)
        details = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "execution.record")
        ).all()
        return state, list(details)

    state, details = transact(db, work)
    assert (state.status, state.expected, state.spent, state.updated_at) == (
        "uitvoering",
        "2027-05",
        1_250,
        NOW,
    )
    assert json.loads(details[0])["spent"] == 1_250


def test_a_plan_that_was_not_funded_has_no_execution(db: Database) -> None:
    def work(session: Session) -> None:
        actor, _, not_funded = funded_world(session)
        execution.record(session, actor, not_funded, GOOD, NOW)

    with pytest.raises(NotFound):
        transact(db, work)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "bijna"}, "status"),
        ({"status": "vervallen"}, "reason"),
        ({"status": "vertraagd", "reason": "  "}, "reason"),
        ({"expected": "mei"}, "expected"),
        ({"expected": "2027-13"}, "expected"),
        ({"spent": "-5"}, "spent"),
        ({"spent": "12,50"}, "spent"),
        ({"spent": "veel"}, "spent"),
        ({"spent": "5001"}, "spent_explanation"),
        ({"co_executors": "Fatima en Joost"}, "co_executors"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    db: Database, changes: dict[str, str], field: str
) -> None:
    def work(session: Session) -> None:
        actor, funded, _ = funded_world(session)
        try:
            execution.record(session, actor, funded, with_input(**changes), NOW)
        except InvalidForm as error:
            assert field in error.errors
            assert session.scalar(select(PlanExecution.id)) is None
            raise

    with pytest.raises(InvalidForm):
        transact(db, work)


def test_spending_above_the_cost_is_kept_with_its_explanation(db: Database) -> None:
    def work(session: Session) -> int:
        actor, funded, _ = funded_world(session)
        data = with_input(spent="5200", spent_explanation="De grond bleek vervuild.")
        return execution.record(session, actor, funded, data, NOW).spent

    assert transact(db, work) == 5_200


def test_a_quarter_is_understood_the_dutch_way_too() -> None:
    assert execution.normalised_expected("2027-k2") == "2027-Q2"
    assert execution.normalised_expected(" 2027-Q4 ") == "2027-Q4"
    assert execution.normalised_expected("") == ""
    assert execution.normalised_expected("2027-Q5") is None


def test_residents_may_carry_out_a_plan_they_execute_themselves(db: Database) -> None:
    def work(session: Session) -> str:
        actor, funded, _ = funded_world(session)
        funded.self_executed = True
        data = with_input(co_executors="  Fatima   en Joost ")
        return execution.record(session, actor, funded, data, NOW).co_executors

    assert transact(db, work) == "Fatima en Joost"


def test_updates_are_dated_plain_text_newest_first_and_audited(db: Database) -> None:
    def work(session: Session) -> tuple[list[execution.Update], int]:
        actor, funded, _ = funded_world(session)
        for days, text in ((10, "Eerste bericht over het werk."), (2, "Tweede bericht, later.")):
            moment = NOW - dt.timedelta(days=days)
            execution.post_update(session, actor, funded, text, moment.date(), moment)
        posted = session.scalars(
            select(AuditEvent.id).where(AuditEvent.action == "execution.post")
        ).all()
        return execution.updates(session, round_id=funded.round_id), len(posted)

    updates, audited = transact(db, work)
    assert [u.body for u in updates] == ["Tweede bericht, later.", "Eerste bericht over het werk."]
    assert audited == 2


def test_an_empty_update_is_refused(db: Database) -> None:
    def work(session: Session) -> None:
        actor, funded, _ = funded_world(session)
        execution.post_update(session, actor, funded, "  kort ", NOW.date(), NOW)

    with pytest.raises(Exception, match="tekens"):
        transact(db, work)
    assert read(db, lambda s: s.scalar(select(PlanExecution.id))) is None
