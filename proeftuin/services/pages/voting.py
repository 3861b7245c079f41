"""What a voter sees while voting: the ballot, the choices so far, and whether they fit.

``voting`` casts and guards the one-credential-one-ballot rule; this module only reads, so that
each step of the web flow (enter, choose, review) is one service call. Casting itself is always
``voting.cast``, which checks everything again inside its own transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from proeftuin.db import table_of
from proeftuin.errors import Invalid, NotAllowed, PhaseClosed
from proeftuin.models import (
    Area,
    Ballot,
    BallotChoice,
    BallotKind,
    Channel,
    CodeStatus,
    Phase,
    Plan,
    PlanStatus,
    Resident,
    Round,
    VotingCode,
    plan_cost,
)
from proeftuin.services import (
    ballot_kinds,
    ballot_rules,
    codes,
    comments,
    eligibility,
    events,
    lookup,
    photos,
    ratelimit,
    voting,
)
from proeftuin.services.ballot_kinds import RoundRules
from proeftuin.services.ballot_rules import BallotState
from proeftuin.services.pages import declare
from proeftuin.services.plans import CARD_COLUMNS
from proeftuin.services.voting import Credential as Credential

# Re-exported for the voting routes (web/voting.py).
normalise_code = codes.normalise
display_code = codes.display
MAX_SELECTIONS = ballot_rules.MAX_SELECTIONS

ROUNDS, AREAS, PLANS, CODES, BALLOTS, CHOICES = map(
    table_of, (Round, Area, Plan, VotingCode, Ballot, BallotChoice)
)
ROUND_OF_PAGE = (
    select(
        *(
            ROUNDS.c[n]
            for n in ("id", "slug", "title", "phase", "eligibility", "voting_ends_at", "event_id")
        ),
        *(ROUNDS.c[name] for name in ballot_kinds.RULE_COLUMNS),
        AREAS.c.name.label("area_name"),
        select(CODES.c.status)
        .where(CODES.c.id == bindparam("code_id"))
        .scalar_subquery()
        .label("code_status"),
        select(BALLOTS.c.id)
        .where(
            BALLOTS.c.round_id == bindparam("round_id"),
            BALLOTS.c.voter_key == bindparam("voter_key"),
        )
        .scalar_subquery()
        .label("ballot_id"),
    )
    .select_from(ROUNDS.join(AREAS, ROUNDS.c.area_id == AREAS.c.id))
    .where(ROUNDS.c.id == bindparam("round_id"))
)
# The plans on the ballot, each with the points this voter's ballot gives it (None: not chosen).
OPTIONS_OF_ROUND = (
    select(*(PLANS.c[name] for name in CARD_COLUMNS), CHOICES.c.points)
    .select_from(
        PLANS.outerjoin(
            CHOICES,
            (CHOICES.c.plan_id == PLANS.c.id) & (CHOICES.c.ballot_id == bindparam("ballot_id")),
        )
    )
    .where(
        PLANS.c.round_id == bindparam("round_id"),
        PLANS.c.status == PlanStatus.OP_STEMBILJET.value,
    )
    .order_by(PLANS.c.id)
)


@dataclass(frozen=True)
class BallotRound:
    id: int
    slug: str
    title: str
    area_name: str
    kind: BallotKind
    budget: int
    min_choices: int
    max_choices: int | None
    min_spend_percent: int
    min_spend: int  # euros, rounded up: the least a knapsack ballot must spend
    points_total: int
    voting_ends_at: dt.datetime | None
    email_allowed: bool
    event_id: int | None = None  # a round of a voting event (services/events.py)

    @property
    def template(self) -> str:
        """The kind's parts of the ballot and review pages."""
        return ballot_kinds.spec(self.kind).template


@dataclass(frozen=True)
class Option:
    public_id: str
    title: str
    summary: str
    cost: int
    theme: str
    location: str
    self_executed: bool
    photo: photos.Photo | None = None  # the plan's first photo, small, lazy-loaded


@dataclass(frozen=True)
class BallotPage:
    round: BallotRound
    options: list[Option]  # in this voter's own stable, random order
    choices: dict[str, int]  # plan public id -> points (1 for approval-style ballots)
    voted: bool  # this credential already has a ballot, which casting would replace
    state: BallotState
    # How many comments each plan's discussion has (plan public id; services.comments).
    comment_counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def chosen(self) -> list[tuple[Option, int]]:
        return [
            (o, self.choices[o.public_id]) for o in self.options if self.choices.get(o.public_id)
        ]


@dataclass(frozen=True)
class EmailRound:
    slug: str
    title: str
    area_name: str
    min_age: int | None
    problem: NotAllowed | None  # why this resident cannot vote here by e-mail, if they cannot


@declare.write_deferred
def enter_with_code(
    session: Session, pepper: str, secret_key: str, typed: str, client_ip: str, now: dt.datetime
) -> tuple[Credential, BallotPage]:
    """A typed letter code opens its round's ballot, with this code's current choices.

    Deferred: a good code only reads, so residents typing codes never queue for SQLite's write
    lock behind the ballots being cast; a wrong one is still counted exactly, against the
    visitor's address (voting.code_credential).
    """
    ip_key = ratelimit.hash_key(secret_key, client_ip)
    credential = voting.code_credential(session, pepper, typed, ip_key, now)
    return credential, ballot_page(session, credential, None)


@declare.write
def enter_with_email(
    session: Session,
    pepper: str,
    round_slug: str,
    resident_id: int,
    declared: bool = False,
    today: dt.date | None = None,
) -> tuple[Credential, BallotPage]:
    """A signed-in resident with a verified address and a postcode in the area, who declares
    that they live there (and are old enough), opens the ballot; the declaration is recorded."""
    round_ = lookup.voting_round(session, round_slug)
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise NotAllowed()
    any_area = events.area_choice(session, round_)
    problem = eligibility.email_problem(round_, resident, any_area=any_area)
    if problem is not None:
        raise problem
    eligibility.require_declaration(round_, declared)
    credential = voting.email_credential(session, pepper, round_, resident.id)
    eligibility.record_declaration(
        session, round_, credential.voter_key, today or dt.datetime.now(dt.UTC).date()
    )
    return credential, ballot_page(session, credential, None)


@dataclass(frozen=True)
class ReceiptRound:
    """What the receipt page says about what comes next."""

    slug: str
    title: str
    voting_ends_at: dt.datetime | None
    council: str  # who signs off the result; may be empty


@declare.read
def receipt_round(session: Session, round_id: int) -> ReceiptRound | None:
    """The public round a receipt belongs to (None for an unknown or draft round)."""
    round_ = session.get(Round, round_id)
    if round_ is None or round_.phase == Phase.CONCEPT:
        return None
    return ReceiptRound(
        slug=round_.slug,
        title=round_.title,
        voting_ends_at=round_.voting_ends_at,
        council=round_.area.council_name or "",
    )


@declare.read
def email_rounds(session: Session, resident_id: int | None) -> list[EmailRound]:
    """Rounds open for voting where the eligibility allows e-mail, with this resident's status."""
    resident = session.get(Resident, resident_id) if resident_id is not None else None
    rounds = session.scalars(
        select(Round)
        .where(
            Round.phase == Phase.STEMMEN,
            Round.eligibility.in_([e.value for e in eligibility.EMAIL_ELIGIBILITIES]),
        )
        .order_by(Round.id)
    ).all()
    return [
        EmailRound(
            slug=r.slug,
            title=r.title,
            area_name=r.area.name,
            min_age=r.min_age,
            problem=(
                eligibility.email_problem(r, resident, any_area=events.area_choice(session, r))
                if resident is not None
                else None
            ),
        )
        for r in rounds
    ]


@declare.read
def ballot_page(
    session: Session, credential: Credential, choices: Mapping[str, int] | None
) -> BallotPage:
    """The ballot for a credential with ``choices`` (None: the ballot it cast before, if any).

    Refuses a round that is no longer voting and a code revoked since it was typed.
    """
    # Statements built once and run without the ORM: every step of voting shows this page.
    sql = session.connection()
    ids = {"round_id": credential.round_id, "voter_key": credential.voter_key}
    round_ = sql.execute(ROUND_OF_PAGE, {**ids, "code_id": credential.code_id}).one_or_none()
    if round_ is None or round_.phase != Phase.STEMMEN:
        raise PhaseClosed(lookup.NOT_VOTING)
    if credential.code_id is not None and round_.code_status in (None, CodeStatus.REVOKED):
        raise Invalid("code", voting.REVOKED)
    on_ballot = {"round_id": credential.round_id, "ballot_id": round_.ballot_id}
    plans = sql.execute(OPTIONS_OF_ROUND, on_ballot).all()
    if choices is None:
        choices = {plan.public_id: plan.points for plan in plans if plan.points is not None}
    rules = ballot_kinds.rules_of_row(round_)
    covers = photos.covers(session, [plan.id for plan in plans])
    options = [
        _option(plan, covers.get(plan.id)) for plan in _voter_order(plans, credential.voter_key)
    ]
    costs = {option.public_id: option.cost for option in options}
    return BallotPage(
        round=_round_view(round_, rules),
        options=options,
        choices=dict(choices),
        voted=round_.ballot_id is not None,
        state=ballot_rules.state(rules, costs, choices),
        comment_counts=comments.counts_in_round(session, credential.round_id),
    )


def _round_view(round_: Row[*tuple[Any, ...]], rules: RoundRules) -> BallotRound:
    return BallotRound(
        id=round_.id,
        slug=round_.slug,
        title=round_.title,
        area_name=round_.area_name,
        kind=rules.kind,
        budget=rules.budget,
        min_choices=rules.min_choices,
        max_choices=rules.max_choices,
        min_spend_percent=rules.min_spend_percent,
        min_spend=rules.min_spend,
        points_total=rules.points_total,
        voting_ends_at=round_.voting_ends_at,
        email_allowed=round_.eligibility in eligibility.EMAIL_ELIGIBILITIES,
        event_id=round_.event_id,
    )


def _option(plan: Row[*tuple[Any, ...]], photo: photos.Photo | None = None) -> Option:
    return Option(
        public_id=plan.public_id,
        title=plan.title,
        summary=plan.summary,
        cost=plan_cost(plan.official_cost, plan.estimated_cost),
        theme=plan.theme,
        location=plan.location,
        self_executed=plan.self_executed,
        photo=photo,
    )


def _voter_order(
    plans: Sequence[Row[*tuple[Any, ...]]], voter_key: str
) -> list[Row[*tuple[Any, ...]]]:
    # Random so that a place at the top gives no plan an advantage, and the same for one voter on
    # every page, so choices do not jump around between steps.
    def key(plan: Row[*tuple[Any, ...]]) -> bytes:
        return hashlib.sha256(f"{voter_key}:{plan.public_id}".encode()).digest()

    return sorted(plans, key=key)


@declare.write_locking
def cast(
    session: Session,
    credential: Credential,
    choices: Mapping[str, int],
    submission_token: str | None,
    today: dt.date,
) -> voting.Receipt:
    """Cast an online ballot: ``voting.cast`` locks the round and the credential itself, and
    checks every rule again."""
    return voting.cast(
        session,
        credential,
        choices,
        channel=Channel.ONLINE,
        submission_token=submission_token,
        today=today,
    )
