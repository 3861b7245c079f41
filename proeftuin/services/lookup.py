"""Finding what a URL or a command names, each lookup in one place.

Staff name a round by its slug and a plan by its public id; the public does too. Every page
and action that starts from such a name comes through here, so that "does it exist, and may this
actor work on it" is decided once: a round of one's own area can never open another area's plan.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from proeftuin.errors import Invalid, NotFound, PhaseClosed, _
from proeftuin.models import Phase, Plan, PlanStatus, Role, Round, StaffUser
from proeftuin.services import accounts, permissions
from proeftuin.services.permissions import Actor

NOT_VOTING = _("Stemmen kan nu niet in deze ronde.")


def staff_round(session: Session, actor: Actor, slug: str) -> Round:
    """The round (with its area loaded), if it exists and the actor may work on its area."""
    round_ = session.scalar(select(Round).where(Round.slug == slug).options(joinedload(Round.area)))
    if round_ is None:
        raise NotFound()
    permissions.require_area(actor, round_.area_id)
    return round_


def staff_round_by_id(session: Session, actor: Actor, round_id: int) -> Round:
    """``staff_round`` for a round named by its id (the services below the pages)."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound()
    permissions.require_area(actor, round_.area_id)
    return round_


def public_round(session: Session, slug: str) -> Round:
    """A round the public may see (with its area loaded): every phase but concept."""
    round_ = session.scalar(select(Round).where(Round.slug == slug).options(joinedload(Round.area)))
    if round_ is None or round_.phase == Phase.CONCEPT:
        raise NotFound()
    return round_


def voting_round(session: Session, slug: str) -> Round:
    """A round that is in its voting phase; PhaseClosed when it exists but is not."""
    round_ = session.scalar(select(Round).where(Round.slug == slug))
    if round_ is None:
        raise NotFound()
    if round_.phase != Phase.STEMMEN:
        raise PhaseClosed(NOT_VOTING)
    return round_


def plan_in_round(session: Session, round_: Round, public_id: str) -> Plan:
    """The plan, when it belongs to this round; NotFound otherwise."""
    plan = session.scalar(
        select(Plan).where(Plan.public_id == public_id, Plan.round_id == round_.id)
    )
    if plan is None:
        raise NotFound()
    return plan


def staff_plan(session: Session, actor: Actor, public_id: str) -> Plan:
    """A plan by its public id, if the actor may work on its round's area."""
    plan = session.scalar(
        select(Plan).where(Plan.public_id == public_id).options(joinedload(Plan.round))
    )
    if plan is None:
        raise NotFound()
    permissions.require_area(actor, plan.round.area_id)
    return plan


def public_plan(session: Session, public_id: str) -> Plan:
    """A plan the public may see: not hidden, not withdrawn, and of a round past concept."""
    plan = any_plan(session, public_id)
    if not is_public(plan):
        raise NotFound()
    return plan


def is_public(plan: Plan) -> bool:
    """Whether the public may see the plan (and what hangs on it, such as its photos)."""
    return not (
        plan.hidden or plan.status == PlanStatus.INGETROKKEN or plan.round.phase == Phase.CONCEPT
    )


def any_plan(session: Session, public_id: str) -> Plan:
    """Any plan by its public id, whatever its status (its author's pages decide the rest)."""
    plan = session.scalar(
        select(Plan).where(Plan.public_id == public_id).options(joinedload(Plan.round))
    )
    if plan is None:
        raise NotFound()
    return plan


def acting_admin(session: Session, email: str | None) -> Actor:
    """The admin a command acts for (and the audit log names): the one with ``email``, or,
    without an address, the only active admin there is."""
    query = select(StaffUser.id).where(StaffUser.role == Role.ADMIN, StaffUser.active)
    if email:
        query = query.where(StaffUser.email == accounts.normalise_email(email))
    found = list(session.scalars(query.order_by(StaffUser.id).limit(2)))
    if email and not found:
        raise Invalid("as_admin", _("Er is geen actieve beheerder met dit e-mailadres."))
    if not found:
        raise Invalid(
            "as_admin", _("Er is geen beheerder. Maak er een met 'proeftuin create-admin'.")
        )
    if len(found) > 1:
        raise Invalid("as_admin", _("Er zijn meer beheerders. Kies er een met --as-admin."))
    return Actor(staff_id=found[0], role=Role.ADMIN.value, area_ids=frozenset())
