"""What a voter sees while voting: the ballot, the choices so far, and whether they fit.

``voting`` casts and guards the one-credential-one-ballot rule; this module only reads, so that
each step of the web flow (enter, choose, review) is one service call. Casting itself is always
``voting.cast``, which checks everything again inside its own transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from proeftuin.db import table_of
from proeftuin.errors import Invalid, NotAllowed, PhaseClosed, _
from proeftuin.models import (
    Area,
    Ballot,
    BallotChoice,
    BallotKind,
    CodeStatus,
    Eligibility,
    Phase,
    Plan,
    PlanStatus,
    Resident,
    Round,
    VotingCode,
)
from proeftuin.services import ballot_kinds, ballot_rules, voting
from proeftuin.services.ballot_kinds import RoundRules
from proeftuin.services.ballot_rules import BallotState
from proeftuin.services.plans import CARD_COLUMNS
from proeftuin.services.voting import Credential

EMAIL_ELIGIBILITIES = (Eligibility.EMAIL, Eligibility.CODES_OR_EMAIL)

ROUNDS, AREAS, PLANS, CODES, BALLOTS, CHOICES = map(
    table_of, (Round, Area, Plan, VotingCode, Ballot, BallotChoice)
)
ROUND_OF_PAGE = (
    select(
        *(ROUNDS.c[n] for n in ("id", "slug", "title", "phase", "eligibility", "voting_ends_at")),
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


@dataclass(frozen=True)
class BallotPage:
    round: BallotRound
    options: list[Option]  # in this voter's own stable, random order
    choices: dict[str, int]  # plan public id -> points (1 for approval-style ballots)
    voted: bool  # this credential already has a ballot, which casting would replace
    state: BallotState

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
    problem: NotAllowed | None  # why this resident cannot vote here by e-mail, if they cannot


def enter_with_code(
    session: Session, pepper: str, typed: str, ip_key: str, now: dt.datetime
) -> tuple[Credential, BallotPage]:
    """A typed letter code opens its round's ballot, with this code's current choices.

    Run it in a write transaction: a wrong code is counted against ``ip_key``
    (voting.code_credential).
    """
    credential = voting.code_credential(session, pepper, typed, ip_key, now)
    return credential, ballot_page(session, credential, None)


def enter_with_email(
    session: Session, pepper: str, round_slug: str, resident_id: int
) -> tuple[Credential, BallotPage]:
    """A signed-in resident with a verified address and a postcode in the area opens the ballot."""
    round_ = voting.round_for_voting(session, round_slug)
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise NotAllowed()
    problem = _email_problem(round_, resident)
    if problem is not None:
        raise problem
    credential = voting.email_credential(session, pepper, round_, resident.id)
    return credential, ballot_page(session, credential, None)


def email_rounds(session: Session, resident_id: int | None) -> list[EmailRound]:
    """Rounds open for voting where the eligibility allows e-mail, with this resident's status."""
    resident = session.get(Resident, resident_id) if resident_id is not None else None
    rounds = session.scalars(
        select(Round)
        .where(
            Round.phase == Phase.STEMMEN,
            Round.eligibility.in_([e.value for e in EMAIL_ELIGIBILITIES]),
        )
        .order_by(Round.id)
    ).all()
    return [
        EmailRound(
            slug=r.slug,
            title=r.title,
            area_name=r.area.name,
            problem=_email_problem(r, resident) if resident is not None else None,
        )
        for r in rounds
    ]


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
        raise PhaseClosed(_("Stemmen kan nu niet in deze ronde."))
    if credential.code_id is not None and round_.code_status in (None, CodeStatus.REVOKED):
        raise Invalid("code", voting.REVOKED)
    on_ballot = {"round_id": credential.round_id, "ballot_id": round_.ballot_id}
    plans = sql.execute(OPTIONS_OF_ROUND, on_ballot).all()
    if choices is None:
        choices = {plan.public_id: plan.points for plan in plans if plan.points is not None}
    rules = ballot_kinds.rules_of_row(round_)
    options = [_option(plan) for plan in _voter_order(plans, credential.voter_key)]
    costs = {option.public_id: option.cost for option in options}
    return BallotPage(
        round=_round_view(round_, rules),
        options=options,
        choices=dict(choices),
        voted=round_.ballot_id is not None,
        state=ballot_rules.state(rules, costs, choices),
    )


def postcode_in_area(area_postcodes: str, postcode: str) -> bool:
    """Is a postcode ("9401 AB") inside an area's PC4 ranges ("9401-9403,9410")? An area without
    ranges takes everyone in the gemeente; a resident without a postcode is in no area."""
    digits = postcode.strip()[:4]
    if not (digits.isascii() and digits.isdigit()) or len(digits) != 4:
        return False
    ranges = [part.strip() for part in area_postcodes.split(",") if part.strip()]
    if not ranges:
        return True
    number = int(digits)
    for part in ranges:
        low, _sep, high = part.partition("-")
        try:
            if int(low) <= number <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def _email_problem(round_: Round, resident: Resident) -> NotAllowed | None:
    if round_.eligibility not in EMAIL_ELIGIBILITIES:
        return NotAllowed(_("In deze ronde kunt u alleen stemmen met de code uit uw brief."))
    if resident.verified_at is None:
        return NotAllowed(
            _("Uw e-mailadres is nog niet bevestigd. Log opnieuw in met de link uit uw e-mail.")
        )
    if not resident.postcode:
        return NotAllowed(
            _("Vul eerst uw postcode in bij uw gegevens. Dan weten we of u hier mag stemmen.")
        )
    area: Area = round_.area
    if not postcode_in_area(area.postcodes, resident.postcode):
        return NotAllowed(
            _("Uw postcode hoort niet bij {area}. Daarom kunt u hier niet stemmen."),
            area=area.name,
        )
    return None


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
        email_allowed=round_.eligibility in EMAIL_ELIGIBILITIES,
    )


def _option(plan: Row[*tuple[Any, ...]]) -> Option:
    return Option(
        public_id=plan.public_id,
        title=plan.title,
        summary=plan.summary,
        cost=plan.official_cost if plan.official_cost is not None else plan.estimated_cost,
        theme=plan.theme,
        location=plan.location,
        self_executed=plan.self_executed,
    )


def _voter_order(
    plans: Sequence[Row[*tuple[Any, ...]]], voter_key: str
) -> list[Row[*tuple[Any, ...]]]:
    # Random so that a place at the top gives no plan an advantage, and the same for one voter on
    # every page, so choices do not jump around between steps.
    def key(plan: Row[*tuple[Any, ...]]) -> bytes:
        return hashlib.sha256(f"{voter_key}:{plan.public_id}".encode()).digest()

    return sorted(plans, key=key)
