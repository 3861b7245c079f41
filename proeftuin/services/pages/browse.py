"""What residents read: an area with its rounds, a round with its timeline and plans, one plan,
and the plans a resident wrote. Read-only views as plain dataclasses, so a page never touches the
database after the transaction is over.

Who may change a plan is decided by ``services.plans`` (``can_edit``, ``can_withdraw``); the
pages ask it only to show or hide the buttons.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from proeftuin.db import table_of
from proeftuin.errors import NotFound
from proeftuin.models import (
    PHASE_ORDER,
    Area,
    Phase,
    Plan,
    PlanStatus,
    Round,
    VotingEvent,
    plan_cost,
)
from proeftuin.services import execution, lookup, outcomes, photos, places, plans, rounds
from proeftuin.services.execution import ExecutionState, Update
from proeftuin.services.pages import declare
from proeftuin.services.pages._common import RoundBrief, round_brief
from proeftuin.services.plans import EDITABLE_STATUSES, THEMES

TIMELINE = (Phase.INDIENEN, Phase.BEOORDELEN, Phase.STEMMEN, Phase.GESLOTEN, Phase.GEPUBLICEERD)

ROUNDS, AREAS, EVENTS = table_of(Round), table_of(Area), table_of(VotingEvent)
# The round page is the most visited page: the round and its plans (plans.PUBLIC_PLANS) come
# from statements built once and run without the ORM, which took three times the CPU. Only a
# signed-in resident's own support is still looked up through it.
ROUND_PAGE_COLUMNS = (
    "id",
    "slug",
    "title",
    "description",
    "budget",
    "phase",
    "support_threshold",
    "submission_starts_at",
    "review_starts_at",
    "voting_starts_at",
    "voting_ends_at",
    "tie_break_seed",
    "eligibility",
    "min_age",
)
ROUND_PAGE = (
    select(
        *(ROUNDS.c[name] for name in ROUND_PAGE_COLUMNS),
        AREAS.c.slug.label("area_slug"),
        AREAS.c.name.label("area_name"),
        AREAS.c.council_name,
        AREAS.c.boundary,
        EVENTS.c.slug.label("event_slug"),
        EVENTS.c.title.label("event_title"),
    )
    .select_from(
        ROUNDS.join(AREAS, ROUNDS.c.area_id == AREAS.c.id).outerjoin(
            EVENTS, ROUNDS.c.event_id == EVENTS.c.id
        )
    )
    .where(ROUNDS.c.slug == bindparam("slug"))
)


@dataclass(frozen=True)
class Step:
    """One phase on a round's timeline; ``state`` is "done", "current" or "upcoming"."""

    phase: Phase
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    state: str


@dataclass(frozen=True)
class PublicRound:
    """A row of ``ROUND_PAGE``, named: the round page's round with its area."""

    id: int
    slug: str
    title: str
    description: str
    budget: int
    phase: Phase
    support_threshold: int
    submission_starts_at: dt.datetime | None
    review_starts_at: dt.datetime | None
    voting_starts_at: dt.datetime | None
    voting_ends_at: dt.datetime | None
    tie_break_seed: str
    eligibility: str
    min_age: int | None
    area_slug: str
    area_name: str
    council_name: str
    event_slug: str | None
    event_title: str | None
    boundary: str

    @property
    def brief(self) -> RoundBrief:
        return RoundBrief(
            self.slug, self.title, self.phase, self.budget, self.area_slug, self.area_name
        )


@dataclass(frozen=True)
class AreaView:
    slug: str
    name: str
    kind: str
    council_name: str
    rounds: tuple[RoundBrief, ...]


@dataclass(frozen=True)
class PlanCard:
    public_id: str
    title: str
    summary: str
    cost: int
    cost_is_official: bool
    theme: str
    status: str
    location: str
    self_executed: bool
    support_count: int
    supported: bool
    outcome: bool | None = None  # published: goes ahead (True) or not (False)
    photo: photos.Photo | None = None  # the plan's first photo, small, on its card
    point: places.Point | None = None  # its place on the round's map
    number: int = 0  # its pin's number on that map (0: no pin)


@dataclass(frozen=True)
class OtherPlan:
    """A plan that did not reach the ballot, still findable with its public reason."""

    public_id: str
    title: str
    status: str
    public_reason: str
    merged_into: tuple[str, str] | None  # (public_id, title) of the plan it became part of


@dataclass(frozen=True)
class RoundView:
    round: RoundBrief
    description: str
    council_name: str
    support_threshold: int
    submission_starts_at: dt.datetime | None
    review_starts_at: dt.datetime | None
    voting_starts_at: dt.datetime | None
    voting_ends_at: dt.datetime | None
    timeline: tuple[Step, ...]
    plans: tuple[PlanCard, ...]
    theme: str  # the chosen filter, or "" for all
    themes: tuple[str, ...]  # the themes that have plans in this round, in THEMES order
    shuffled: bool  # the order differs per visitor (voting)
    tie_break_sha256: str | None = None  # from voting on (rounds.tie_break_commitment)
    search: str = ""  # the words searched for, or ""
    order: str = ""  # the chosen order (plans.ORDERS), or "" for the round's own
    total: int = 0  # public plans in the round, before filtering
    not_on_ballot: tuple[OtherPlan, ...] = ()  # once published: rejected and merged plans
    published: bool = False
    # Who may vote (docs/decisions.md, Who may vote), and the voting event the round is part of.
    eligibility: str = "codes"
    min_age: int | None = None
    event_slug: str | None = None
    event_title: str | None = None
    boundary: str = ""  # the area's outline on the map (GeoJSON), or ""

    @property
    def pins(self) -> list[dict[str, object]]:
        """The plans with a place, as the map's numbered pins (templates/places/macros.html)."""
        return [
            {
                "n": card.number,
                "title": card.title,
                "lat": card.point.latitude,
                "lon": card.point.longitude,
                "target": f"plek-{card.public_id}",
            }
            for card in self.plans
            if card.point is not None
        ]

    @property
    def supporting_open(self) -> bool:
        return self.round.phase == Phase.INDIENEN


@dataclass(frozen=True)
class PlanView:
    round: RoundBrief
    support_threshold: int
    public_id: str
    title: str
    summary: str
    body: str
    estimated_cost: int
    official_cost: int | None
    cost_explanation: str
    location: str
    theme: str
    self_executed: bool
    status: str
    public_reason: str
    author_name: str
    merged_into: tuple[str, str] | None  # (public_id, title) of the plan it became part of
    support_count: int
    supported: bool
    is_author: bool
    can_edit: bool
    can_withdraw: bool
    outcome: bool | None = None  # published: goes ahead (True) or not (False)
    execution: ExecutionState | None = None  # funded plans
    updates: tuple[Update, ...] = ()
    photos: tuple[photos.Photo, ...] = ()
    point: places.Point | None = None

    @property
    def cost(self) -> int:
        return plan_cost(self.official_cost, self.estimated_cost)

    @property
    def can_support(self) -> bool:
        return self.round.phase == Phase.INDIENEN and self.status in EDITABLE_STATUSES


@declare.read
def area_view(session: Session, slug: str) -> AreaView:
    area = session.scalar(select(Area).where(Area.slug == slug).options(selectinload(Area.rounds)))
    if area is None:
        raise NotFound()
    rounds = sorted(area.rounds, key=lambda r: r.id, reverse=True)
    return AreaView(
        slug=area.slug,
        name=area.name,
        kind=area.kind,
        council_name=area.council_name,
        rounds=tuple(round_brief(r) for r in rounds if r.phase != Phase.CONCEPT),
    )


@declare.read
def round_view(
    session: Session,
    slug: str,
    *,
    theme: str = "",
    shuffle_seed: str | None = None,
    resident_id: int | None = None,
    search: str = "",
    order: str = "",
) -> RoundView:
    """A public round (concept rounds are 404) with the plans the public sees, optionally of one
    theme. During voting they come in the order of ``shuffle_seed``, one per visitor."""
    row = session.connection().execute(ROUND_PAGE, {"slug": slug}).one_or_none()
    if row is None or row.phase == Phase.CONCEPT:
        raise NotFound()
    round_ = PublicRound(**{**row._mapping, "phase": Phase(row.phase)})
    chosen = theme if theme in THEMES else ""
    order = order if order in plans.ORDERS else ""
    search = " ".join(plans.search_words(search)) if search.strip() else ""
    every = plans.public_plans(session, round_.id, round_.phase)
    shown = plans.in_view(
        list(every), round_.phase, chosen or None, shuffle_seed, search=search, order=order
    )
    mine = plans.supported_by(session, round_.id, resident_id) if resident_id is not None else set()
    present = {p.theme for p in every}
    published = round_.phase == Phase.GEPUBLICEERD
    funded = outcomes.funded_public_ids(session, round_.id) if published else None
    covers = photos.covers(session, [p.id for p in shown])
    return RoundView(
        round=round_.brief,
        description=round_.description,
        council_name=round_.council_name,
        support_threshold=round_.support_threshold,
        submission_starts_at=round_.submission_starts_at,
        review_starts_at=round_.review_starts_at,
        voting_starts_at=round_.voting_starts_at,
        voting_ends_at=round_.voting_ends_at,
        timeline=_timeline(round_),
        plans=_numbered(_card(p, p.id in mine, funded, covers.get(p.id)) for p in shown),
        theme=chosen,
        themes=tuple(t for t in THEMES if t in present),
        shuffled=shuffle_seed is not None and round_.phase == Phase.STEMMEN and not order,
        search=search,
        order=order,
        total=len(every),
        tie_break_sha256=(
            rounds.tie_break_commitment(round_.tie_break_seed)
            if round_.phase in rounds.FROZEN_PHASES
            else None
        ),
        not_on_ballot=tuple(_other(session, round_.id, chosen or None)) if published else (),
        published=published,
        eligibility=round_.eligibility,
        min_age=round_.min_age,
        event_slug=round_.event_slug,
        event_title=round_.event_title,
        boundary=round_.boundary,
    )


def _other(session: Session, round_id: int, theme: str | None) -> list[OtherPlan]:
    """The round's rejected and merged plans, with their reason and what they merged into."""
    query = (
        select(Plan)
        .where(
            Plan.round_id == round_id,
            Plan.status.in_([PlanStatus.AFGEWEZEN, PlanStatus.SAMENGEVOEGD]),
            Plan.hidden.is_(False),
        )
        .order_by(Plan.id)
    )
    if theme is not None:
        query = query.where(Plan.theme == theme)
    return [
        OtherPlan(p.public_id, p.title, p.status, p.public_reason, _merged_into(session, p))
        for p in session.scalars(query)
    ]


def _merged_into(session: Session, plan: Plan) -> tuple[str, str] | None:
    if plan.merged_into_id is None:
        return None
    target = session.get(Plan, plan.merged_into_id)
    if target is None or target.hidden or target.status == PlanStatus.INGETROKKEN:
        return None
    return (target.public_id, target.title)


def _timeline(round_: PublicRound) -> tuple[Step, ...]:
    current = PHASE_ORDER.index(Phase(round_.phase))
    bounds = {
        Phase.INDIENEN: (round_.submission_starts_at, round_.review_starts_at),
        Phase.BEOORDELEN: (round_.review_starts_at, round_.voting_starts_at),
        Phase.STEMMEN: (round_.voting_starts_at, round_.voting_ends_at),
        Phase.GESLOTEN: (round_.voting_ends_at, None),
        Phase.GEPUBLICEERD: (None, None),
    }
    steps = []
    for phase in TIMELINE:
        index = PHASE_ORDER.index(phase)
        state = "done" if index < current else "current" if index == current else "upcoming"
        starts_at, ends_at = bounds[phase]
        steps.append(Step(phase, starts_at, ends_at, state))
    return tuple(steps)


@declare.read
def plan_view(session: Session, public_id: str, resident_id: int | None = None) -> PlanView:
    plan = lookup.public_plan(session, public_id)
    round_ = plan.round
    count = plans.support_counts(session, round_).get(plan.id, 0)
    supported = resident_id is not None and plan.id in plans.supported_by(
        session, round_.id, resident_id
    )
    is_author = resident_id is not None and plan.author_id == resident_id
    funded = outcomes.funded_public_ids(session, round_.id)
    outcome = outcomes.outcome(funded, plan.public_id, plan.status == PlanStatus.OP_STEMBILJET)
    return PlanView(
        round=round_brief(round_),
        support_threshold=round_.support_threshold,
        public_id=plan.public_id,
        title=plan.title,
        summary=plan.summary,
        body=plan.body,
        estimated_cost=plan.estimated_cost,
        official_cost=plan.official_cost,
        cost_explanation=plan.cost_explanation,
        location=plan.location,
        theme=plan.theme,
        self_executed=plan.self_executed,
        status=plan.status,
        public_reason=plan.public_reason,
        author_name=plan.author_name,
        merged_into=_merged_into(session, plan),
        support_count=count,
        supported=supported,
        is_author=is_author,
        can_edit=is_author and plans.can_edit(plan),
        can_withdraw=is_author and plans.can_withdraw(plan),
        outcome=outcome,
        execution=execution.state(session, plan) if outcome else None,
        updates=tuple(execution.updates(session, plan_id=plan.id)) if outcome else (),
        photos=photos.of_plan(session, plan.id),
        point=places.point_of(plan),
    )


def _card(
    plan: plans.PlanRow,
    supported: bool,
    funded: frozenset[str] | None,
    photo: photos.Photo | None,
) -> PlanCard:
    """A row of ``plans.PUBLIC_PLANS``."""
    return PlanCard(
        public_id=plan.public_id,
        title=plan.title,
        summary=plan.summary,
        cost=plan_cost(plan.official_cost, plan.estimated_cost),
        cost_is_official=plan.official_cost is not None,
        theme=plan.theme,
        status=plan.status,
        location=plan.location,
        self_executed=plan.self_executed,
        support_count=plan.support_count,
        supported=supported,
        outcome=outcomes.outcome(funded, plan.public_id, plan.status == PlanStatus.OP_STEMBILJET),
        photo=photo,
        point=places.point(plan.latitude_e6, plan.longitude_e6),
    )


def _numbered(cards: Iterable[PlanCard]) -> tuple[PlanCard, ...]:
    """The cards, those with a place numbered 1, 2, … in the list's order (as their pins)."""
    numbered, number = [], 0
    for card in cards:
        if card.point is not None:
            number += 1
            card = dataclasses.replace(card, number=number)
        numbered.append(card)
    return tuple(numbered)
