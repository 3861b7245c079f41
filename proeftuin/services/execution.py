"""Carrying out funded plans (uitvoering): staff of the plan's area record its status, when it
should be done (a month or a quarter), the money spent so far, and dated public updates.

Only plans the published result funded have an execution. A plan that is stopped (vervallen) or
late (vertraagd) gets a public reason; spending more than the plan's cost needs an explanation.
Residents who proposed a plan they carry out themselves (Right to Challenge) may be named as
co-executors. Every change goes into the audit log.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, InvalidForm, NotFound, _
from proeftuin.models import (
    ExecutionStatus,
    ExecutionUpdate,
    Plan,
    PlanExecution,
    PlanStatus,
    Round,
)
from proeftuin.services import audit, outcomes, rounds
from proeftuin.services.permissions import Actor

NEEDS_REASON = (ExecutionStatus.VERVALLEN, ExecutionStatus.VERTRAAGD)
REASON_LIMIT = 2_000
UPDATE_LIMITS = (10, 4_000)
CO_EXECUTORS_LIMIT = 300
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(\d{4})-[QqKk]([1-4])$")
TOO_LONG = _("Gebruik ten hoogste {limit} tekens.")
NOT_FUNDED = _("Dit plan is niet gekozen. Alleen gekozen plannen worden uitgevoerd.")


@dataclass(frozen=True)
class ExecutionInput:
    status: str
    reason: str
    expected: str  # "2027-05" or "2027-Q2" (K2 too, the Dutch way); "" when not known
    spent: str  # as typed; whole euros
    spent_explanation: str
    co_executors: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> ExecutionInput:
        return cls(*(form.get(name, "") for name in cls.__dataclass_fields__))


@dataclass(frozen=True)
class ExecutionState:
    """A funded plan's execution as the public sees it (the defaults before any change)."""

    public_id: str
    title: str
    cost: int
    self_executed: bool
    status: str
    reason: str
    expected: str
    spent: int
    spent_explanation: str
    co_executors: str
    updated_at: dt.datetime | None


@dataclass(frozen=True)
class Update:
    id: int
    public_id: str
    title: str
    posted_on: dt.date
    body: str
    created_at: dt.datetime


def funded_plan(session: Session, plan: Plan) -> Plan:
    """The plan, when the published result funded it; else ``NotFound``."""
    funded = outcomes.funded_public_ids(session, plan.round_id)
    if funded is None or plan.status != PlanStatus.OP_STEMBILJET or plan.public_id not in funded:
        raise NotFound(NOT_FUNDED)
    return plan


def funded_plans(session: Session, round_id: int) -> list[Plan]:
    funded = outcomes.funded_public_ids(session, round_id)
    if not funded:
        return []
    return list(
        session.scalars(
            select(Plan)
            .where(Plan.round_id == round_id, Plan.public_id.in_(sorted(funded)))
            .order_by(Plan.id)
        )
    )


def states(session: Session, round_id: int) -> list[ExecutionState]:
    """Every funded plan of the round with its execution, in plan order."""
    plans = funded_plans(session, round_id)
    rows = _executions(session, [p.id for p in plans])
    return [_state(plan, rows.get(plan.id)) for plan in plans]


def state(session: Session, plan: Plan) -> ExecutionState:
    return _state(plan, _executions(session, [plan.id]).get(plan.id))


def _executions(session: Session, plan_ids: Sequence[int]) -> dict[int, PlanExecution]:
    if not plan_ids:
        return {}
    rows = session.scalars(select(PlanExecution).where(PlanExecution.plan_id.in_(plan_ids)))
    return {row.plan_id: row for row in rows}


def _state(plan: Plan, row: PlanExecution | None) -> ExecutionState:
    return ExecutionState(
        public_id=plan.public_id,
        title=plan.title,
        cost=plan.cost,
        self_executed=plan.self_executed,
        status=row.status if row else ExecutionStatus.VOORBEREIDING.value,
        reason=row.reason if row else "",
        expected=row.expected if row else "",
        spent=row.spent if row else 0,
        spent_explanation=row.spent_explanation if row else "",
        co_executors=row.co_executors if row else "",
        updated_at=row.updated_at if row else None,
    )


def record(
    session: Session, actor: Actor, plan: Plan, data: ExecutionInput, now: dt.datetime
) -> PlanExecution:
    """Store the plan's execution state; ``InvalidForm`` lists every bad field, and nothing
    changes then."""
    funded_plan(session, plan)
    status, reason, expected, spent, explanation, co_executors = _validated(plan, data)
    row = session.scalar(select(PlanExecution).where(PlanExecution.plan_id == plan.id))
    if row is None:
        row = PlanExecution(plan_id=plan.id)
        session.add(row)
    row.status, row.reason, row.expected = status, reason, expected
    row.spent, row.spent_explanation, row.co_executors = spent, explanation, co_executors
    row.updated_at = now
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "execution.record",
        "plan",
        plan.id,
        plan.round.area_id,
        status=status,
        expected=expected,
        spent=spent,
        cost=plan.cost,
    )
    return row


def _validated(plan: Plan, data: ExecutionInput) -> tuple[str, str, str, int, str, str]:
    errors: list[Invalid] = []
    status = data.status.strip()
    if status not in {s.value for s in ExecutionStatus}:
        errors.append(Invalid("status", _("Kies een stand van de uitvoering.")))
    reason = data.reason.strip()
    if status in {s.value for s in NEEDS_REASON} and not reason:
        errors.append(
            Invalid(
                "reason", _("Leg uit waarom het plan vervalt of later klaar is. Dit is openbaar.")
            )
        )
    if len(reason) > REASON_LIMIT:
        errors.append(
            Invalid("reason", _("Gebruik ten hoogste {limit} tekens."), limit=REASON_LIMIT)
        )
    expected = normalised_expected(data.expected)
    if expected is None:
        errors.append(
            Invalid(
                "expected",
                _("Vul een maand in zoals 2027-05, of een kwartaal zoals 2027-K2."),
            )
        )
    spent = rounds.whole_euros(data.spent) if data.spent.strip() else 0
    explanation = data.spent_explanation.strip()
    if spent is None:
        errors.append(
            Invalid("spent", _("Vul een heel bedrag in euro's in, 0 of meer, zoals 12500."))
        )
    elif spent > plan.cost and not explanation:
        errors.append(
            Invalid(
                "spent_explanation",
                _("Er is meer uitgegeven dan het plan kost ({cost} euro). Leg uit waarom."),
                cost=rounds.euros(plan.cost),
            )
        )
    if len(explanation) > REASON_LIMIT:
        errors.append(
            Invalid(
                "spent_explanation", _("Gebruik ten hoogste {limit} tekens."), limit=REASON_LIMIT
            )
        )
    co_executors = " ".join(data.co_executors.split())
    if co_executors and not plan.self_executed:
        errors.append(
            Invalid(
                "co_executors",
                _("Alleen bij plannen die bewoners zelf uitvoeren, kunnen bewoners meedoen."),
            )
        )
    if len(co_executors) > CO_EXECUTORS_LIMIT:
        errors.append(Invalid("co_executors", TOO_LONG, limit=CO_EXECUTORS_LIMIT))
    if errors:
        raise InvalidForm(errors)
    assert expected is not None and spent is not None
    return status, reason, expected, spent, explanation, co_executors


def normalised_expected(typed: str) -> str | None:
    """ "2027-05" stays; "2027-k2" becomes "2027-Q2"; "" stays empty; anything else: None."""
    text = typed.strip()
    if not text or MONTH.match(text):
        return text
    quarter = QUARTER.match(text)
    if quarter:
        return f"{quarter.group(1)}-Q{quarter.group(2)}"
    return None


def post_update(
    session: Session, actor: Actor, plan: Plan, body: str, today: dt.date, now: dt.datetime
) -> ExecutionUpdate:
    """A dated public update in plain text."""
    funded_plan(session, plan)
    text = body.strip()
    low, high = UPDATE_LIMITS
    if not low <= len(text) <= high:
        raise Invalid(
            "body", _("Schrijf een bericht van {low} tot {high} tekens."), low=low, high=high
        )
    update = ExecutionUpdate(plan_id=plan.id, posted_on=today, body=text, created_at=now)
    session.add(update)
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "execution.post",
        "plan",
        plan.id,
        plan.round.area_id,
        update_id=update.id,
        length=len(text),
    )
    return update


def updates(
    session: Session,
    *,
    plan_id: int | None = None,
    round_id: int | None = None,
    area_id: int | None = None,
    limit: int = 50,
) -> list[Update]:
    """Updates, newest first, of one plan, one round or one area."""
    query = (
        select(ExecutionUpdate, Plan.public_id, Plan.title)
        .join(Plan, Plan.id == ExecutionUpdate.plan_id)
        .join(Round, Round.id == Plan.round_id)
        .order_by(ExecutionUpdate.posted_on.desc(), ExecutionUpdate.id.desc())
        .limit(limit)
    )
    if plan_id is not None:
        query = query.where(ExecutionUpdate.plan_id == plan_id)
    if round_id is not None:
        query = query.where(Plan.round_id == round_id)
    if area_id is not None:
        query = query.where(Round.area_id == area_id)
    return [
        Update(u.id, public_id, title, u.posted_on, u.body, u.created_at)
        for u, public_id, title in session.execute(query)
    ]
