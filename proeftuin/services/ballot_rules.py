"""A round's ballot rules, applied by the allocation engine's checks and worded in Dutch.

One piece of code decides validity (``proeftuin.allocation.ballots``); this module hands a ballot to
its kind's check (``ballot_kinds``) and turns each refusal into a message a resident understands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from proeftuin.allocation.ballots import InvalidBallot
from proeftuin.allocation.election import Project
from proeftuin.errors import Invalid, _
from proeftuin.models import Plan
from proeftuin.services import ballot_kinds
from proeftuin.services.ballot_kinds import RoundRules

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


@dataclass(frozen=True)
class BallotState:
    """What the ballot page shows while a resident chooses."""

    spent: int  # euros of the chosen plans
    remaining_budget: int
    points_used: int
    points_left: int
    points_over: int  # points given beyond the total (then points_left is 0)
    count: int
    problem: Invalid | None  # why the current choice cannot be cast, if it cannot


def validate(
    rules: RoundRules, costs: Mapping[str, int], choices: Mapping[str, int]
) -> dict[str, int]:
    """The ballot (the chosen plans' ids with their points, in the order given), or
    ``Invalid('choices', ...)`` saying what is wrong.

    ``costs`` holds every plan on the ballot: its public id and cost in euros.
    """
    if len(choices) > MAX_SELECTIONS:
        raise Invalid("choices", "Dit stembiljet heeft te veel keuzes.")
    spec = ballot_kinds.spec(rules.kind)
    projects = [Project(id=pid, cost=Fraction(cost)) for pid, cost in costs.items()]
    try:
        ballot = spec.check(spec.engine_rules(rules), projects, Fraction(rules.budget), choices)
    except InvalidBallot as refusal:
        raise Invalid("choices", MESSAGES[refusal.code], **_euros(refusal.facts)) from None
    return dict(ballot)


def state(rules: RoundRules, costs: Mapping[str, int], choices: Mapping[str, int]) -> BallotState:
    known = {pid: p for pid, p in choices.items() if pid in costs and p > 0}
    spent = sum(costs[pid] for pid in known)
    points_used = sum(known.values())
    problem = None
    try:
        validate(rules, costs, choices)
    except Invalid as error:
        problem = error
    return BallotState(
        spent=spent,
        remaining_budget=rules.budget - spent,
        points_used=points_used,
        points_left=max(0, rules.points_total - points_used),
        points_over=max(0, points_used - rules.points_total),
        count=len(known),
        problem=problem,
    )


def costs_of(plans: Iterable[Plan]) -> dict[str, int]:
    """Plans on the ballot by public id, with their official cost (which a plan has by then)."""
    return {plan.public_id: plan.official_cost or 0 for plan in plans}


def _euros(facts: Mapping[str, int | Fraction | str]) -> dict[str, object]:
    # Money and counts are whole numbers here; show euros with the Dutch thousands separator.
    out: dict[str, object] = {}
    for name, value in facts.items():
        if isinstance(value, Fraction):
            value = int(value) if value.denominator == 1 else round(float(value))
        out[name] = f"{value:,}".replace(",", ".") if isinstance(value, int) else value
    return out
