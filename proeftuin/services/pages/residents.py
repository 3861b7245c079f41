"""A resident's own pages: signing in with an e-mail link, the profile, "mijn plannen", and in
development the outbox where the sign-in mail can be read.

Who may change a plan is decided by ``services.plans`` (``can_edit``, ``can_withdraw``), which
also shows or hides the buttons here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from proeftuin.mail import deliver_pending as deliver_pending
from proeftuin.models import OutboxMail, Phase, PlanStatus, Resident, Round
from proeftuin.services import outbox, outcomes, plans, residents
from proeftuin.services.ratelimit import hash_key as hash_key

from . import declare


@dataclass(frozen=True)
class ResidentView:
    email: str
    display_name: str
    postcode: str


@dataclass(frozen=True)
class MyPlan:
    round: Round
    public_id: str
    title: str
    status: str
    public_reason: str
    visible: bool  # has a public page
    can_edit: bool
    can_withdraw: bool
    outcome: bool | None = None  # published: goes ahead (True) or not (False)


@dataclass(frozen=True)
class SignedIn:
    resident_id: int
    next_path: str  # where the resident was going when asked to sign in


# -- Signing in ------------------------------------------------------------------------------------


@declare.write
def request_sign_in_link(
    session: Session,
    secret_key: str,
    base_url: str,
    email: str,
    ip_key: str,
    now: dt.datetime,
    next_path: str,
    gemeente: str = "",
) -> None:
    """Queue the mail with the link; refused for a malformed address or too many sends."""
    residents.request_sign_in_link(
        session, secret_key, base_url, email, ip_key, now, next_path, gemeente
    )


@declare.write
def redeem_sign_in_link(
    session: Session, secret_key: str, token: str, now: dt.datetime
) -> SignedIn:
    """The link works once: the resident it was for (created on first sign-in)."""
    resident, next_path = residents.redeem_sign_in_link(session, secret_key, token, now)
    return SignedIn(resident_id=resident.id, next_path=next_path)


# -- Profile and my plans --------------------------------------------------------------------------


@declare.read
def resident_view(session: Session, resident_id: int) -> ResidentView | None:
    """The signed-in resident, or None when the account no longer exists."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        return None
    return ResidentView(
        email=resident.email, display_name=resident.display_name, postcode=resident.postcode
    )


@declare.write
def update_profile(session: Session, resident_id: int, display_name: str, postcode: str) -> None:
    residents.update_profile(session, resident_id, display_name, postcode)


@declare.read
def my_plans(session: Session, resident_id: int) -> list[MyPlan]:
    """The plans the resident wrote, newest first, with what they may still do with each."""
    return [
        MyPlan(
            round=plan.round,
            public_id=plan.public_id,
            title=plan.title,
            status=plan.status,
            public_reason=plan.public_reason,
            visible=not plan.hidden
            and plan.status != PlanStatus.INGETROKKEN
            and plan.round.phase != Phase.CONCEPT,
            can_edit=plans.can_edit(plan),
            can_withdraw=plans.can_withdraw(plan),
            outcome=outcomes.outcome(
                outcomes.funded_public_ids(session, plan.round_id),
                plan.public_id,
                plan.status == PlanStatus.OP_STEMBILJET,
            ),
        )
        for plan in plans.my_plans(session, resident_id)
    ]


# -- Development outbox ----------------------------------------------------------------------------


@declare.read
def recent_mail(session: Session) -> list[OutboxMail]:
    """The newest mails in the outbox, newest first."""
    return outbox.recent(session)
