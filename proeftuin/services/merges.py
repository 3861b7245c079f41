"""Merges that can be undone: what a merge changed is kept (``PlanMerge``), so staff of the area
can put the plan back as it was, and the author's mail waits out the undo window.

``moderation.merge`` does the merge and calls ``record``; this module owns the ``plan_merge``
table: undoing, sending the author's mail now (staff confirm) or when the window has passed
(``send_due``, a scheduled job), and finding a plan's open merge for its staff page.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from proeftuin.db import utcnow
from proeftuin.errors import Invalid, _
from proeftuin.models import Plan, PlanMerge, PlanStatus, Support
from proeftuin.services import audit, outbox
from proeftuin.services.permissions import Actor

UNDO_MINUTES = 15  # the author's mail waits this long, unless staff send it sooner


@dataclass(frozen=True)
class AuthorMail:
    recipient: str
    subject: str
    body: str


def record(
    session: Session,
    actor: Actor,
    duplicate: Plan,
    into: Plan,
    *,
    previous_status: str,
    previous_reason: str,
    supporters: Sequence[int],
    moved: Sequence[int],
    followers: Sequence[int],
    mail: AuthorMail | None,
    now: dt.datetime | None = None,
) -> PlanMerge:
    """Keep what a merge changed; the author's mail (if any) is due after the undo window."""
    now = now or utcnow()
    merge = PlanMerge(
        plan_id=duplicate.id,
        into_id=into.id,
        staff_id=actor.staff_id,
        merged_at=now,
        previous_status=previous_status,
        previous_reason=previous_reason,
        supporters=json.dumps(sorted(supporters)),
        moved=json.dumps(sorted(moved)),
        followers=json.dumps(sorted(followers)),
        mail_to=mail.recipient if mail else "",
        mail_subject=mail.subject if mail else "",
        mail_body=mail.body if mail else "",
        mail_due_at=now + dt.timedelta(minutes=UNDO_MINUTES) if mail else None,
    )
    session.add(merge)
    session.flush()
    return merge


def open_merge(session: Session, plan: Plan) -> PlanMerge | None:
    """The merge that made ``plan`` merged, while it stands (None once undone, or never)."""
    if plan.status != PlanStatus.SAMENGEVOEGD:
        return None
    return session.scalar(
        select(PlanMerge)
        .where(PlanMerge.plan_id == plan.id, PlanMerge.undone_at.is_(None))
        .order_by(PlanMerge.id.desc())
        .limit(1)
    )


def undo(session: Session, actor: Actor, plan: Plan, now: dt.datetime | None = None) -> Plan:
    """Put a merged plan back as it was: its status and reason, its supporters (those moved to
    the other plan leave it again), and the plans that followed it along. A mail not yet sent is
    not sent. The caller checks the round still takes review decisions
    (``moderation.undo_merge``)."""
    merge = open_merge(session, plan)
    if merge is None:
        raise Invalid("", _("Dit plan is niet samengevoegd; er is niets ongedaan te maken."))
    now = now or utcnow()
    supporters, moved = json.loads(merge.supporters), json.loads(merge.moved)
    followers = json.loads(merge.followers)
    if moved:
        session.execute(
            delete(Support).where(Support.plan_id == merge.into_id, Support.resident_id.in_(moved))
        )
    present = set(session.scalars(select(Support.resident_id).where(Support.plan_id == plan.id)))
    session.add_all(
        Support(plan_id=plan.id, resident_id=rid) for rid in supporters if rid not in present
    )
    if followers:
        session.execute(
            update(Plan)
            .where(Plan.id.in_(followers), Plan.merged_into_id == merge.into_id)
            .values(merged_into_id=plan.id)
        )
    plan.status = merge.previous_status
    plan.public_reason = merge.previous_reason
    plan.merged_into_id = None
    was_mailed = merge.mailed_at is not None
    merge.undone_at = now
    session.flush()
    audit.record(
        session,
        actor.staff_id,
        "plan.merge_undo",
        "plan",
        plan.id,
        plan.round.area_id,
        into_plan_id=merge.into_id,
        restored_supports=len(supporters),
        author_was_mailed=was_mailed,
    )
    return plan


def send_now(session: Session, actor: Actor, plan: Plan, now: dt.datetime | None = None) -> Plan:
    """Staff confirm the merge: the author's mail goes out now instead of after the window."""
    merge = open_merge(session, plan)
    if merge is None or merge.mailed_at is not None or not merge.mail_to:
        raise Invalid("", _("Er wacht geen e-mail aan de indiener."))
    _send(session, merge, now or utcnow())
    audit.record(session, actor.staff_id, "plan.merge_mail", "plan", plan.id, plan.round.area_id)
    return plan


def send_due(session: Session, now: dt.datetime | None = None) -> int:
    """Queue the authors' mails whose undo window has passed; the number queued."""
    now = now or utcnow()
    due = session.scalars(
        select(PlanMerge).where(
            PlanMerge.mail_due_at <= now,
            PlanMerge.mailed_at.is_(None),
            PlanMerge.undone_at.is_(None),
        )
    ).all()
    for merge in due:
        _send(session, merge, now)
    return len(due)


def _send(session: Session, merge: PlanMerge, now: dt.datetime) -> None:
    outbox.queue(session, merge.mail_to, merge.mail_subject, merge.mail_body)
    merge.mailed_at = now
    session.flush()
