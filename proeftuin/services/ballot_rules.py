"""A round's ballot rules, applied by the allocation engine's checks and worded in Dutch.

One piece of code decides validity (``proeftuin.allocation.ballots``); this module maps a round
and its plans onto it and turns each refusal into a message a resident understands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol, TypeVar

from proeftuin.allocation.ballots import (
    BallotKind,
    BallotRules,
    InvalidBallot,
    validate_approval,
    validate_points,
)
from proeftuin.allocation.election import Project
from proeftuin.errors import Invalid, _

MAX_SELECTIONS = 500  # far above any real ballot; refuses absurd forms before any work is done

MESSAGES = {
    "unknown_project": _("Een gekozen plan staat niet op dit stembiljet. Laad de pagina opnieuw."),
    "duplicate_choice": _("U heeft een plan twee keer gekozen."),
    "too_few_choices": _("U koos {count} plannen. Het minimum is {limit}."),
    "too_many_choices": _("U koos {count} plannen. Het maximum is {limit}."),
    "over_budget": _(
        "Uw keuze kost € {total_cost}. Dat is meer dan het budget van € {budget}. "
        "Haal een plan weg."
    ),
    "under_minimum_spend": _(
        "Uw keuze kost € {total_cost}. Kies plannen voor minstens € {minimum} "
        "({percent}% van het budget)."
    ),
    "negative_points": _("Punten kunnen niet negatief zijn."),
    "too_many_points": _("U gaf {total} punten. U kunt hoogstens {limit} punten verdelen."),
}


RULE_COLUMNS = (
    "ballot_kind",
    "budget",
    "min_choices",
    "max_choices",
    "min_spend_percent",
    "points_total",
)


class RoundRules(Protocol):
    """What the rules need of a round: a ``models.Round``, or a row of just these columns."""

    @property
    def ballot_kind(self) -> str: ...
    @property
    def budget(self) -> int: ...
    @property
    def min_choices(self) -> int: ...
    @property
    def max_choices(self) -> int | None: ...
    @property
    def min_spend_percent(self) -> int: ...
    @property
    def points_total(self) -> int: ...


class Costed(Protocol):
    """What the rules need of a plan: a ``models.Plan``, or a row with these columns."""

    @property
    def official_cost(self) -> int | None: ...
    @property
    def estimated_cost(self) -> int: ...


P = TypeVar("P", bound=Costed)


@dataclass(frozen=True)
class BallotState:
    """What the ballot page shows while a resident chooses."""

    spent: int  # euros of the chosen plans
    remaining_budget: int
    points_used: int
    points_left: int
    count: int
    problem: Invalid | None  # why the current choice cannot be cast, if it cannot


def rules_for(round_: RoundRules) -> BallotRules:
    kind = BallotKind(round_.ballot_kind)
    return BallotRules(
        kind=kind,
        min_choices=round_.min_choices,
        max_choices=round_.max_choices,
        min_spend_percent=round_.min_spend_percent if kind is BallotKind.KNAPSACK else 0,
        points_total=round_.points_total if kind is BallotKind.POINTS else None,
    )


def validate(
    round_: RoundRules, plans: Mapping[str, P], choices: Mapping[str, int]
) -> list[tuple[P, int]]:
    """The chosen plans with their points, or ``Invalid('choices', ...)`` saying what is wrong."""
    if len(choices) > MAX_SELECTIONS:
        raise Invalid("choices", "Dit stembiljet heeft te veel keuzes.")
    rules = rules_for(round_)
    projects = [Project(id=pid, cost=Fraction(_cost(plan))) for pid, plan in plans.items()]
    try:
        if rules.kind is BallotKind.POINTS:
            ballot = validate_points(rules, projects, list(choices.items()))
        else:
            chosen = [pid for pid, points in choices.items() if points > 0]
            ballot = validate_approval(rules, projects, Fraction(round_.budget), chosen)
    except InvalidBallot as refusal:
        raise Invalid("choices", MESSAGES[refusal.code], **_euros(refusal.facts)) from None
    return [(plans[pid], points) for pid, points in ballot.items()]


def state(
    round_: RoundRules, plans: Mapping[str, Costed], choices: Mapping[str, int]
) -> BallotState:
    known = {pid: p for pid, p in choices.items() if pid in plans and p > 0}
    spent = sum(_cost(plans[pid]) for pid in known)
    points_used = sum(known.values())
    problem = None
    try:
        validate(round_, plans, choices)
    except Invalid as error:
        problem = error
    return BallotState(
        spent=spent,
        remaining_budget=round_.budget - spent,
        points_used=points_used,
        points_left=max(0, round_.points_total - points_used),
        count=len(known),
        problem=problem,
    )


def _cost(plan: Costed) -> int:
    return plan.official_cost if plan.official_cost is not None else plan.estimated_cost


def _euros(facts: Mapping[str, int | Fraction | str]) -> dict[str, object]:
    # Money and counts are whole numbers here; show euros with the Dutch thousands separator.
    out: dict[str, object] = {}
    for name, value in facts.items():
        if isinstance(value, Fraction):
            value = int(value) if value.denominator == 1 else round(float(value))
        out[name] = f"{value:,}".replace(",", ".") if isinstance(value, int) else value
    return out
