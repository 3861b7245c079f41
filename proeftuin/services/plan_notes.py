"""Staff's own work on a plan: internal notes and who checks its cost.

Notes are for staff of the plan's area only (the page tier finds the plan through
``lookup``, which checks the area): no public page, API or download reads this module's tables.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, _
from proeftuin.models import CostCheck, Membership, Plan, PlanNote, Role, StaffUser
from proeftuin.services import audit
from proeftuin.services.permissions import Actor

NOTE_LIMIT = 2_000


@dataclass(frozen=True)
class Note:
    author: str  # the staff member's name, or "" when the account is gone
    text: str
    created_at: dt.datetime


@dataclass(frozen=True)
class StaffChoice:
    id: int
    name: str


def notes(session: Session, plan: Plan) -> list[Note]:
    """The plan's notes, oldest first."""
    rows = session.execute(
        select(PlanNote.text, PlanNote.created_at, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == PlanNote.staff_id)
        .where(PlanNote.plan_id == plan.id)
        .order_by(PlanNote.id)
    )
    return [Note(name or "", text, created_at) for text, created_at, name in rows]


def add_note(session: Session, actor: Actor, plan: Plan, text: str) -> PlanNote:
    text = text.strip()
    if not text:
        raise Invalid("note", _("Schrijf eerst een notitie."))
    if len(text) > NOTE_LIMIT:
        raise Invalid("note", _("Gebruik hoogstens {limit} tekens."), limit=NOTE_LIMIT)
    note = PlanNote(plan_id=plan.id, staff_id=actor.staff_id, text=text)
    session.add(note)
    session.flush()
    audit.record(
        session, actor.staff_id, "plan.note", "plan", plan.id, plan.round.area_id, note_id=note.id
    )
    return note


def staff_of_area(session: Session, area_id: int) -> list[StaffChoice]:
    """Who may be given a plan's cost check: active staff of the area, and the admins."""
    members = select(Membership.staff_id).where(Membership.area_id == area_id)
    rows = session.execute(
        select(StaffUser.id, StaffUser.name)
        .where(
            StaffUser.active.is_(True),
            or_(StaffUser.id.in_(members), StaffUser.role == Role.ADMIN.value),
        )
        .order_by(StaffUser.name, StaffUser.id)
    )
    return [StaffChoice(staff_id, name) for staff_id, name in rows]


def cost_checker(session: Session, plan: Plan) -> StaffChoice | None:
    row = session.execute(
        select(StaffUser.id, StaffUser.name)
        .join(CostCheck, CostCheck.staff_id == StaffUser.id)
        .where(CostCheck.plan_id == plan.id)
    ).one_or_none()
    return StaffChoice(row[0], row[1]) if row else None


def assign_cost_check(session: Session, actor: Actor, plan: Plan, staff_id: str) -> Plan:
    """Give the plan's cost check to a member of staff of its area ("" takes it away)."""
    current = session.scalar(select(CostCheck).where(CostCheck.plan_id == plan.id))
    if not staff_id:
        if current is not None:
            session.delete(current)
    else:
        allowed = {str(s.id): s.id for s in staff_of_area(session, plan.round.area_id)}
        chosen = allowed.get(staff_id)
        if chosen is None:
            raise Invalid("checker", _("Kies een medewerker van dit gebied."))
        if current is None:
            session.add(CostCheck(plan_id=plan.id, staff_id=chosen))
        else:
            current.staff_id = chosen
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "plan.cost_check",
        "plan",
        plan.id,
        plan.round.area_id,
        checker_id=allowed[staff_id] if staff_id else 0,
    )
    return plan
