"""The staff side of the demo's proposal round: an internal note on a plan, entered through the
same service the staff plan page uses. Idempotent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.models import Plan, PlanNote, Round
from proeftuin.services import plan_notes
from proeftuin.services.permissions import Actor

NOTE = (
    "Dorpshuis gebeld: de AED mag aan de buitenmuur. Stroom is er al. Offerte van de leverancier "
    "opgevraagd; die komt volgende week."
)


def seed_staff_work(session: Session, actor: Actor, proposal_round: Round) -> None:
    plan = session.scalar(
        select(Plan).where(Plan.round_id == proposal_round.id).order_by(Plan.id).limit(1)
    )
    if plan is None or session.scalar(select(PlanNote.id).where(PlanNote.plan_id == plan.id)):
        return
    plan_notes.add_note(session, actor, plan, NOTE)
    # No cost check: the demo's admin is switched off, and only active staff can be given one.
