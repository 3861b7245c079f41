"""The staff pages of a round (web/moderation.py): the round list and form, the round page with
its phases, the reset, the review queue and the decisions on a plan.

A round is named by its slug and a plan by its public id. Each function looks them up once
(``lookup``: the round of the actor's area, and a plan of that round, so that a round of one's own
cannot open another area's plan), then makes the domain call in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from proeftuin.db import utcnow
from proeftuin.errors import Invalid, NotFound, _
from proeftuin.models import (
    PHASE_ORDER,
    Area,
    Phase,
    Plan,
    PlanMerge,
    PlanStatus,
    Round,
    Support,
)
from proeftuin.services import (
    ballot_kinds,
    codes,
    lookup,
    merges,
    moderation,
    notifications,
    permissions,
    photos,
    places,
    plan_notes,
    results,
    rounds,
    voting,
)
from proeftuin.services.codes import CodeCounts
from proeftuin.services.moderation import ReviewQueue
from proeftuin.services.pages import declare
from proeftuin.services.permissions import Actor

# When each phase starts, for the timeline; concept has no date and publishing is by hand.
PHASE_DATES = rounds.PHASE_STARTS


# Re-exported for the round form and the round page (web/moderation.py). A ballot kind is named
# by its spec (services/ballot_kinds), in the form's order.
RoundInput = rounds.RoundInput
FROZEN_FIELDS = rounds.FROZEN_FIELDS
BALLOT_KINDS = {spec.kind: (spec.name, spec.description) for spec in ballot_kinds.SPECS}
KIND_SPECS = {spec.kind: spec for spec in ballot_kinds.SPECS}


# -- Rounds ----------------------------------------------------------------------------------


@declare.read
def round_list(session: Session, actor: Actor) -> list[Round]:
    """The rounds the actor may work on (with their areas), newest first."""
    query = select(Round).options(selectinload(Round.area)).order_by(Round.id.desc())
    if not actor.is_admin:
        query = query.where(Round.area_id.in_(list(actor.area_ids)))
    return list(session.scalars(query))


def _area_choices(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """The areas the actor may make a round for, as (id, name), by name."""
    query = select(Area.id, Area.name).order_by(Area.name, Area.id)
    if not actor.is_admin:
        query = query.where(Area.id.in_(list(actor.area_ids)))
    return [(area_id, name) for area_id, name in session.execute(query)]


@dataclass(frozen=True)
class RoundForm:
    round: Round | None  # None for a new round
    areas: list[tuple[int, str]]

    @property
    def frozen(self) -> bool:
        return self.round is not None and rounds.is_frozen(self.round)


@declare.read
def round_form(session: Session, actor: Actor, slug: str | None) -> RoundForm:
    round_ = lookup.staff_round(session, actor, slug) if slug is not None else None
    return RoundForm(round_, _area_choices(session, actor))


@declare.write
def create_round(session: Session, actor: Actor, data: rounds.RoundInput) -> Round:
    return rounds.create_round(session, actor, data, now=utcnow())


@declare.write
def update_round(session: Session, actor: Actor, slug: str, data: rounds.RoundInput) -> Round:
    round_ = lookup.staff_round(session, actor, slug)
    return rounds.update_round(session, actor, round_.id, data, now=utcnow())


@dataclass(frozen=True)
class Step:
    phase: Phase
    starts_at: dt.datetime | None
    state: str  # "done" | "current" | "upcoming"


@dataclass(frozen=True)
class RoundPage:
    round: Round
    steps: tuple[Step, ...]
    next_phase: Phase | None
    problem: Invalid | None  # why the next phase cannot start now, or None
    frozen: bool
    ballot: tuple[Plan, ...]  # the plans on the ballot
    plan_counts: dict[PlanStatus, int]
    code_counts: CodeCounts


@declare.read
def round_page(session: Session, actor: Actor, slug: str) -> RoundPage:
    round_ = lookup.staff_round(session, actor, slug)
    current = PHASE_ORDER.index(Phase(round_.phase))
    steps = tuple(
        Step(
            phase,
            getattr(round_, PHASE_DATES[phase]) if phase in PHASE_DATES else None,
            "done" if i < current else "current" if i == current else "upcoming",
        )
        for i, phase in enumerate(PHASE_ORDER)
    )
    target = rounds.next_phase(round_.phase)
    counts: dict[PlanStatus, int] = dict.fromkeys(PlanStatus, 0)
    for status, count in session.execute(
        select(Plan.status, func.count(Plan.id))
        .where(Plan.round_id == round_.id)
        .group_by(Plan.status)
    ):
        counts[PlanStatus(status)] = count
    return RoundPage(
        round=round_,
        steps=steps,
        next_phase=target,
        problem=rounds.step_problem(session, round_, target) if target else None,
        frozen=rounds.is_frozen(round_),
        ballot=tuple(voting.ballot_plans(session, round_)),
        plan_counts=counts,
        code_counts=codes.counts_for(session, round_.id),
    )


@declare.write
def advance(session: Session, actor: Actor, slug: str, to_phase: str) -> Round:
    round_ = lookup.staff_round(session, actor, slug)
    if to_phase == Phase.GEPUBLICEERD:
        # Publishing is more than a phase: the signed-off result is published with it.
        return results.publish(session, actor, slug, utcnow())
    return rounds.advance_phase(session, actor, round_.id, to_phase)


@declare.write_locking
def reset(session: Session, actor: Actor, slug: str, reason: str) -> int:
    permissions.require_admin(actor)
    round_ = lookup.staff_round(session, actor, slug)
    return rounds.reset_round(session, actor, round_.id, reason)


# -- The review queue ------------------------------------------------------------------------


@declare.read
def queue(session: Session, actor: Actor, slug: str) -> ReviewQueue:
    round_ = lookup.staff_round(session, actor, slug)
    return moderation.review_queue(session, round_)


@dataclass(frozen=True)
class PlanReview:
    round: Round
    plan: Plan
    supports: int
    merge_targets: tuple[Plan, ...]  # plans of the round this one could be merged into
    merged_into: Plan | None
    merge: PlanMerge | None = None  # the merge that stands, which staff can undo
    notes: tuple[plan_notes.Note, ...] = ()  # internal: staff of the area only
    cost_checker: plan_notes.StaffChoice | None = None
    checkers: tuple[plan_notes.StaffChoice, ...] = ()  # who may be given the cost check
    photos: tuple[photos.Photo, ...] = ()
    place_warnings: tuple[str, ...] = ()  # about its point on the map (services/places.py)

    @property
    def reviewable(self) -> bool:
        return self.round.phase in moderation.REVIEW_PHASES

    @property
    def frozen(self) -> bool:
        return rounds.is_frozen(self.round)

    @property
    def can(self) -> dict[str, bool]:
        """Which decisions the plan page offers."""
        status = PlanStatus(self.plan.status)
        return {
            "accept": status in moderation.CAN_ACCEPT and not self.plan.hidden,
            "ask_changes": status in moderation.CAN_ASK_CHANGES,
            "reject": status in moderation.CAN_REJECT,
            "merge": status in moderation.CAN_BE_MERGED and bool(self.merge_targets),
        }


@declare.read
def plan_review(session: Session, actor: Actor, slug: str, public_id: str) -> PlanReview:
    round_ = lookup.staff_round(session, actor, slug)
    plan = lookup.plan_in_round(session, round_, public_id)
    targets = session.scalars(
        select(Plan)
        .where(
            Plan.round_id == plan.round_id,
            Plan.id != plan.id,
            Plan.status.in_([s.value for s in moderation.CAN_MERGE_INTO]),
        )
        .order_by(Plan.title, Plan.id)
    )
    return PlanReview(
        round=round_,
        plan=plan,
        supports=_supports(session, plan),
        merge_targets=tuple(targets),
        merged_into=session.get(Plan, plan.merged_into_id) if plan.merged_into_id else None,
        merge=merges.open_merge(session, plan),
        notes=tuple(plan_notes.notes(session, plan)),
        cost_checker=plan_notes.cost_checker(session, plan),
        checkers=tuple(plan_notes.staff_of_area(session, round_.area_id)),
        photos=photos.of_plan(session, plan.id),
        place_warnings=tuple(places.warnings(places.point_of(plan), round_.area.boundary)),
    )


def _plan(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    return lookup.plan_in_round(session, lookup.staff_round(session, actor, slug), public_id)


@declare.write
def accept(
    session: Session, actor: Actor, slug: str, public_id: str, cost: str, explanation: str
) -> Plan:
    plan = _plan(session, actor, slug, public_id)
    moderation.accept(session, actor, plan, cost, explanation)
    notifications.plan_accepted(session, plan, utcnow())
    return plan


@declare.write
def ask_changes(
    session: Session, actor: Actor, slug: str, public_id: str, reason: str, plan_url: str
) -> Plan:
    plan = _plan(session, actor, slug, public_id)
    return moderation.ask_changes(session, actor, plan, reason, plan_url)


@declare.write
def reject(
    session: Session, actor: Actor, slug: str, public_id: str, reason: str, plan_url: str
) -> Plan:
    plan = _plan(session, actor, slug, public_id)
    return moderation.reject(session, actor, plan, reason, plan_url)


MERGE_UNDO_MINUTES = merges.UNDO_MINUTES


@dataclass(frozen=True)
class MergePreview:
    """Both plans in full, before staff confirm a merge."""

    round: Round
    duplicate: Plan
    into: Plan
    duplicate_supports: int
    into_supports: int
    reason: str


def _merge_pair(
    session: Session, actor: Actor, slug: str, public_id: str, into_id: str
) -> tuple[Round, Plan, Plan]:
    round_ = lookup.staff_round(session, actor, slug)
    duplicate = lookup.plan_in_round(session, round_, public_id)
    if not into_id:
        raise Invalid("into_id", _("Kies het plan waarmee u dit plan samenvoegt."))
    try:
        into = lookup.plan_in_round(session, round_, into_id)
    except NotFound:
        raise Invalid("into_id", _("Alleen plannen uit dezelfde ronde kunnen samen.")) from None
    return round_, duplicate, into


@declare.read
def merge_preview(
    session: Session, actor: Actor, slug: str, public_id: str, into_id: str, reason: str
) -> MergePreview:
    """What a merge would join, checked as the merge itself checks it; changes nothing."""
    round_, duplicate, into = _merge_pair(session, actor, slug, public_id, into_id)
    cleaned = moderation.check_merge(duplicate, into, reason)
    return MergePreview(
        round=round_,
        duplicate=duplicate,
        into=into,
        duplicate_supports=_supports(session, duplicate),
        into_supports=_supports(session, into),
        reason=cleaned,
    )


def _supports(session: Session, plan: Plan) -> int:
    return int(
        session.scalar(select(func.count(Support.id)).where(Support.plan_id == plan.id)) or 0
    )


@declare.write
def merge(
    session: Session,
    actor: Actor,
    slug: str,
    public_id: str,
    into_id: str,
    reason: str,
    plan_url: str,
) -> Plan:
    _, duplicate, into = _merge_pair(session, actor, slug, public_id, into_id)
    return moderation.merge(session, actor, duplicate, into, reason, plan_url)


@declare.write
def add_note(session: Session, actor: Actor, slug: str, public_id: str, text: str) -> Plan:
    plan = _plan(session, actor, slug, public_id)
    plan_notes.add_note(session, actor, plan, text)
    return plan


@declare.write
def assign_cost_check(
    session: Session, actor: Actor, slug: str, public_id: str, staff_id: str
) -> Plan:
    return plan_notes.assign_cost_check(
        session, actor, _plan(session, actor, slug, public_id), staff_id
    )


@declare.write
def undo_merge(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    return moderation.undo_merge(session, actor, _plan(session, actor, slug, public_id))


@declare.write
def send_merge_mail(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    return merges.send_now(session, actor, _plan(session, actor, slug, public_id))


@declare.write
def hide(session: Session, actor: Actor, slug: str, public_id: str, reason: str) -> Plan:
    return moderation.hide(session, actor, _plan(session, actor, slug, public_id), reason)


@declare.write
def unhide(session: Session, actor: Actor, slug: str, public_id: str) -> Plan:
    return moderation.unhide(session, actor, _plan(session, actor, slug, public_id))
