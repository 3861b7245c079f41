"""A round's ballot rules applied to a resident's choice, and refusals worded in Dutch."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from proeftuin.allocation.ballots import BallotKind
from proeftuin.errors import Invalid
from proeftuin.services.ballot_rules import rules_for, state, validate


@dataclass(frozen=True)
class Rules:
    ballot_kind: str = "knapsack"
    budget: int = 10_000
    min_choices: int = 0
    max_choices: int | None = None
    min_spend_percent: int = 0
    points_total: int = 0


@dataclass(frozen=True)
class Costs:
    estimated_cost: int
    official_cost: int | None = None


# The official cost counts where there is one: "b" costs 3,000, not its estimate of 1,000.
PLANS = {"a": Costs(4_000), "b": Costs(1_000, 3_000), "c": Costs(6_000)}


def _refusal(rules: Rules, choices: dict[str, int]) -> str:
    with pytest.raises(Invalid) as refused:
        validate(rules, PLANS, choices)
    assert refused.value.field == "choices"
    return str(refused.value)


def test_rules_for_takes_only_the_settings_of_the_kind() -> None:
    knapsack = rules_for(Rules(min_spend_percent=50, points_total=10))
    assert (knapsack.kind, knapsack.min_spend_percent, knapsack.points_total) == (
        BallotKind.KNAPSACK,
        50,
        None,
    )
    points = rules_for(Rules(ballot_kind="points", min_spend_percent=50, points_total=10))
    assert (points.kind, points.min_spend_percent, points.points_total) == (
        BallotKind.POINTS,
        0,
        10,
    )


def test_a_valid_choice_returns_the_chosen_plans() -> None:
    chosen = validate(Rules(), PLANS, {"a": 1, "b": 1, "c": 0})
    assert set(chosen) == {(PLANS["a"], 1), (PLANS["b"], 1)}


def test_over_budget_is_refused_in_euros() -> None:
    message = _refusal(Rules(), {"a": 1, "c": 1, "b": 1})
    assert message == (
        "Uw keuze kost € 13.000. Dat is meer dan het budget van € 10.000. Haal een plan weg."
    )


def test_too_few_and_too_many_choices_are_refused() -> None:
    assert _refusal(Rules("approval", min_choices=2), {"a": 1}) == (
        "U koos 1 plannen. Het minimum is 2."
    )
    assert _refusal(Rules("approval", max_choices=1), {"a": 1, "b": 1}) == (
        "U koos 2 plannen. Het maximum is 1."
    )


def test_points_over_the_total_are_refused() -> None:
    rules = Rules("points", points_total=10)
    assert len(validate(rules, PLANS, {"a": 6, "c": 4})) == 2
    assert _refusal(rules, {"a": 6, "c": 5}) == (
        "U gaf 11 punten. U kunt hoogstens 10 punten verdelen."
    )


def test_a_plan_not_on_the_ballot_is_refused() -> None:
    assert "staat niet op dit stembiljet" in _refusal(Rules(), {"z": 1})


def test_state_shows_what_is_spent_and_why_it_cannot_be_cast() -> None:
    chosen = state(Rules(), PLANS, {"a": 1, "b": 1})
    assert (chosen.spent, chosen.remaining_budget, chosen.count, chosen.problem) == (
        7_000,
        3_000,
        2,
        None,
    )
    over = state(Rules(), PLANS, {"a": 1, "b": 1, "c": 1})
    assert (over.spent, over.remaining_budget) == (13_000, -3_000)
    assert over.problem is not None and "meer dan het budget" in str(over.problem)
    points = state(Rules("points", points_total=10), PLANS, {"a": 3, "b": 4})
    assert (points.points_used, points.points_left, points.problem) == (7, 3, None)
