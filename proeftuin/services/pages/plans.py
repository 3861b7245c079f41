"""A resident's own plans: propose, edit, withdraw, and support other plans.

Every rule is ``services.plans``'s: who may change a plan (``can_edit``, ``can_withdraw``) and
what a plan may hold. The forms ask the same rules before they are shown, so a resident is told
at once, not after filling them in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from proeftuin.errors import NotAllowed, PhaseClosed, _
from proeftuin.models import Phase, Resident
from proeftuin.services import lookup, plans
from proeftuin.services.pages import declare
from proeftuin.services.pages._common import RoundBrief as RoundBrief
from proeftuin.services.pages._common import round_brief
from proeftuin.services.pages.browse import PlanView, plan_view
from proeftuin.services.plans import PlanInput as PlanInput

# The same msgids as services.plans, so the words and their translation are shared.
CANNOT_PROPOSE = _("Plannen indienen kan nu niet in deze ronde.")
CANNOT_EDIT = _("Dit plan kan niet meer worden aangepast.")
CANNOT_WITHDRAW = _("Dit plan kan niet meer worden ingetrokken.")
ONLY_THE_AUTHOR = _("Alleen de indiener kan dit plan aanpassen.")


@dataclass(frozen=True)
class Proposer:
    """The signed-in resident, as far as proposing goes: a plan shows its author's name."""

    display_name: str


@dataclass(frozen=True)
class AuthorPlan:
    """A plan as its author edits it: the form's starting values and what may still be done."""

    round: RoundBrief
    public_id: str
    title: str
    status: str
    public_reason: str
    values: PlanInput
    can_edit: bool
    can_withdraw: bool


@declare.read
def proposer(session: Session, resident_id: int) -> Proposer | None:
    """None when the account no longer exists."""
    resident = session.get(Resident, resident_id)
    return Proposer(resident.display_name) if resident is not None else None


@declare.read
def proposal_round(session: Session, slug: str) -> RoundBrief:
    """The round a new plan goes into; refused when plans cannot be proposed now."""
    round_ = lookup.public_round(session, slug)
    if round_.phase != Phase.INDIENEN:
        raise PhaseClosed(CANNOT_PROPOSE)
    return round_brief(round_)


@declare.write
def propose(
    session: Session,
    slug: str,
    resident_id: int,
    values: PlanInput,
    base_url: str = "",
    gemeente: str = "",
) -> str:
    """The new plan's public id; its author gets a confirmation mail with its link."""
    return plans.propose(session, slug, resident_id, values, base_url, gemeente).public_id


def _author_plan(session: Session, public_id: str, resident_id: int) -> AuthorPlan:
    """The author's own plan, whatever its status (withdrawn and hidden plans too)."""
    plan = lookup.any_plan(session, public_id)
    if plan.author_id != resident_id:
        raise NotAllowed(ONLY_THE_AUTHOR)
    return AuthorPlan(
        round=round_brief(plan.round),
        public_id=plan.public_id,
        title=plan.title,
        status=plan.status,
        public_reason=plan.public_reason,
        values=PlanInput(
            title=plan.title,
            summary=plan.summary,
            body=plan.body,
            estimated_cost=str(plan.estimated_cost),
            location=plan.location,
            theme=plan.theme,
            self_executed=plan.self_executed,
        ),
        can_edit=plans.can_edit(plan),
        can_withdraw=plans.can_withdraw(plan),
    )


@declare.read
def editable_plan(session: Session, public_id: str, resident_id: int) -> AuthorPlan:
    plan = _author_plan(session, public_id, resident_id)
    if not plan.can_edit:
        raise PhaseClosed(CANNOT_EDIT)
    return plan


@declare.write
def edit(session: Session, public_id: str, resident_id: int, values: PlanInput) -> None:
    plans.edit(session, public_id, resident_id, values)


@declare.read
def withdrawable_plan(session: Session, public_id: str, resident_id: int) -> AuthorPlan:
    plan = _author_plan(session, public_id, resident_id)
    if not plan.can_withdraw:
        raise PhaseClosed(CANNOT_WITHDRAW)
    return plan


@declare.write
def withdraw(session: Session, public_id: str, resident_id: int) -> None:
    plans.withdraw(session, public_id, resident_id)


@declare.write
def set_support(session: Session, public_id: str, resident_id: int, support: bool) -> int:
    """The plan's new number of supporters."""
    return plans.set_support(session, public_id, resident_id, support)


@declare.read
def support_view(session: Session, public_id: str, resident_id: int | None) -> PlanView:
    """The plan after a change of support (the count and the button are shown again)."""
    return plan_view(session, public_id, resident_id)
