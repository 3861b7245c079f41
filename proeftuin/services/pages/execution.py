"""After the vote (web/execution.py): what happened to a round's funded plans, its open data (CSV
and Atom feeds), and the staff pages that record a funded plan's execution and updates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import utcnow
from proeftuin.errors import NotFound
from proeftuin.i18n import TIMEZONE
from proeftuin.models import Area, Plan
from proeftuin.services import execution, feeds, lookup, notifications, outcomes, spreadsheets
from proeftuin.services.execution import ExecutionInput as ExecutionInput
from proeftuin.services.execution import ExecutionState, Update
from proeftuin.services.open_data import NOT_PUBLISHED
from proeftuin.services.open_data import Download as Download
from proeftuin.services.pages import declare
from proeftuin.services.pages._common import RoundBrief, round_brief
from proeftuin.services.permissions import Actor


@dataclass(frozen=True)
class RoundExecution:
    round: RoundBrief
    plans: tuple[ExecutionState, ...]
    updates: tuple[Update, ...]

    @property
    def spent(self) -> int:
        return sum(p.spent for p in self.plans)

    @property
    def funded_cost(self) -> int:
        return sum(p.cost for p in self.plans)


@dataclass(frozen=True)
class StaffPlanExecution:
    round: RoundBrief
    state: ExecutionState
    updates: tuple[Update, ...]


@declare.read
def round_execution(session: Session, slug: str) -> RoundExecution:
    """Wat is er met de plannen gebeurd? Every funded plan of a published round."""
    return _round_execution(session, slug)


def _round_execution(session: Session, slug: str) -> RoundExecution:
    round_ = lookup.public_round(session, slug)
    if outcomes.funded_public_ids(session, round_.id) is None:
        raise NotFound(NOT_PUBLISHED)
    return RoundExecution(
        round=round_brief(round_),
        plans=tuple(execution.states(session, round_.id)),
        updates=tuple(execution.updates(session, round_id=round_.id, limit=20)),
    )


@declare.read
def execution_csv(session: Session, slug: str) -> Download:
    """One row per funded plan: its execution state (open data)."""
    found = _round_execution(session, slug)
    rows = [
        (
            p.public_id,
            p.title,
            p.cost,
            p.status,
            p.expected,
            p.spent,
            p.updated_at.astimezone(dt.UTC).isoformat() if p.updated_at else "",
        )
        for p in found.plans
    ]
    header = ("id", "title", "cost", "status", "expected", "spent", "updated_at")
    # Open data: standard comma-separated UTF-8, English column names.
    sheet = spreadsheets.Sheet(slug, header, rows)
    return Download(
        spreadsheets.open_data_csv(sheet), f"{slug}-uitvoering.csv", spreadsheets.CSV_TYPE
    )


@declare.read
def round_feed(session: Session, slug: str, base_url: str) -> bytes:
    round_ = lookup.public_round(session, slug)
    base = base_url.rstrip("/")
    return feeds.atom(
        feed_url=f"{base}/rondes/{slug}/uitvoering.atom",
        page_url=f"{base}/rondes/{slug}/uitvoering",
        title=round_.title,
        author=round_.area.council_name or round_.area.name,
        updates=execution.updates(session, round_id=round_.id),
        plan_url=f"{base}/plannen/{{public_id}}",
        empty_since=round_.created_at,
    )


@declare.read
def area_feed(session: Session, slug: str, base_url: str) -> bytes:
    area = session.scalar(select(Area).where(Area.slug == slug))
    if area is None:
        raise NotFound()
    base = base_url.rstrip("/")
    return feeds.atom(
        feed_url=f"{base}/wijken/{slug}/uitvoering.atom",
        page_url=f"{base}/wijken/{slug}",
        title=area.name,
        author=area.council_name or area.name,
        updates=execution.updates(session, area_id=area.id),
        plan_url=f"{base}/plannen/{{public_id}}",
        empty_since=area.created_at,
    )


# -- staff ----------------------------------------------------------------------------------------


@declare.read
def staff_round(session: Session, actor: Actor, slug: str) -> RoundExecution:
    round_ = lookup.staff_round(session, actor, slug)
    return RoundExecution(
        round=round_brief(round_),
        plans=tuple(execution.states(session, round_.id)),
        updates=(),
    )


def _staff_plan(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    round_ = lookup.staff_round(session, actor, slug)
    return execution.funded_plan(session, lookup.plan_in_round(session, round_, public_id))


@declare.read
def staff_plan(session: Session, actor: Actor, slug: str, public_id: str) -> StaffPlanExecution:
    plan = _staff_plan(session, actor, slug, public_id)
    return StaffPlanExecution(
        round=round_brief(plan.round),
        state=execution.state(session, plan),
        updates=tuple(execution.updates(session, plan_id=plan.id)),
    )


@declare.write
def record(session: Session, actor: Actor, slug: str, public_id: str, data: ExecutionInput) -> None:
    plan = _staff_plan(session, actor, slug, public_id)
    before = execution.state(session, plan)
    now = utcnow()
    execution.record(session, actor, plan, data, now)
    after = execution.state(session, plan)
    if (before.status, before.expected) != (after.status, after.expected):
        notifications.execution_changed(session, plan, after, now)


@declare.write
def post_update(session: Session, actor: Actor, slug: str, public_id: str, body: str) -> None:
    plan = _staff_plan(session, actor, slug, public_id)
    now = utcnow()
    today = now.astimezone(TIMEZONE).date()
    update = execution.post_update(session, actor, plan, body, today, now)
    notifications.update_posted(session, plan, update.body, now)
