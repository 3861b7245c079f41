"""A round's rules applied to a ballot, and each refusal in the words a resident reads."""

from __future__ import annotations

import pytest

from proeftuin.allocation.ballots import BallotKind
from proeftuin.errors import Invalid
from proeftuin.models import Plan
from proeftuin.services import ballot_kinds, ballot_rules

COSTS = {"bankjes": 3_000, "speeltuin": 4_500, "bomen": 3_500}  # 11.000 in all


def _rules(
    kind: BallotKind, *, points_total: int = 0, min_spend_percent: int = 0
) -> ballot_kinds.RoundRules:
    return ballot_kinds.round_rules(kind, 10_000, 0, None, min_spend_percent, points_total)


def _refusal(rules: ballot_kinds.RoundRules, choices: dict[str, int]) -> Invalid:
    with pytest.raises(Invalid) as refused:
        ballot_rules.validate(rules, COSTS, choices)
    assert refused.value.field == "choices"
    return refused.value


def test_a_valid_ballot_is_the_chosen_plans_in_the_order_given() -> None:
    knapsack = _rules(BallotKind.KNAPSACK)
    chosen = ballot_rules.validate(knapsack, COSTS, {"bomen": 1, "bankjes": 0, "speeltuin": 1})
    assert list(chosen.items()) == [("bomen", 1), ("speeltuin", 1)]
    points = _rules(BallotKind.POINTS, points_total=10)
    assert ballot_rules.validate(points, COSTS, {"speeltuin": 7, "bomen": 3}) == {
        "speeltuin": 7,
        "bomen": 3,
    }


def test_refusals_are_worded_with_euros_as_the_resident_reads_them() -> None:
    over = _refusal(_rules(BallotKind.KNAPSACK), dict.fromkeys(COSTS, 1))
    assert over.message == ballot_rules.MESSAGES["over_budget"]
    assert over.params == {"total_cost": "11.000", "budget": "10.000"}
    under = _refusal(_rules(BallotKind.KNAPSACK, min_spend_percent=50), {"bomen": 1})
    assert str(under) == (
        "Uw keuze kost € 3.500. Kies plannen voor minstens € 5.000 (50% van het budget)."
    )
    unknown = _refusal(_rules(BallotKind.APPROVAL), {"fontein": 1})
    assert unknown.message == ballot_rules.MESSAGES["unknown_project"]
    points = _refusal(_rules(BallotKind.POINTS, points_total=5), {"bomen": 4, "bankjes": 2})
    assert str(points) == "U gaf 6 punten. U kunt hoogstens 5 punten verdelen."


def test_an_absurd_number_of_choices_is_refused_before_any_check() -> None:
    choices = {f"plan{i}": 1 for i in range(ballot_rules.MAX_SELECTIONS + 1)}
    refusal = _refusal(_rules(BallotKind.APPROVAL), choices)
    assert "te veel keuzes" in refusal.message


def test_the_state_sums_what_is_chosen_and_says_why_it_cannot_be_cast() -> None:
    knapsack = _rules(BallotKind.KNAPSACK)
    ok = ballot_rules.state(knapsack, COSTS, {"bankjes": 1, "bomen": 1})
    assert (ok.spent, ok.remaining_budget, ok.count, ok.problem) == (6_500, 3_500, 2, None)
    # A plan not on the ballot counts for nothing, and the ballot cannot be cast.
    stale = ballot_rules.state(knapsack, COSTS, {"bankjes": 1, "bomen": 1, "fontein": 1})
    assert (stale.spent, stale.count) == (6_500, 2)
    assert stale.problem is not None
    assert stale.problem.message == ballot_rules.MESSAGES["unknown_project"]
    over = ballot_rules.state(knapsack, COSTS, dict.fromkeys(COSTS, 1))
    assert over.remaining_budget == -1_000
    assert over.problem is not None and over.problem.message == ballot_rules.MESSAGES["over_budget"]
    points = ballot_rules.state(_rules(BallotKind.POINTS, points_total=10), COSTS, {"bomen": 4})
    assert (points.points_used, points.points_left, points.count) == (4, 6, 1)
    assert points.points_over == 0


def test_points_given_beyond_the_total_are_counted_as_too_many() -> None:
    rules = _rules(BallotKind.POINTS, points_total=10)
    over = ballot_rules.state(rules, COSTS, {"bomen": 6, "bankjes": 5})
    assert (over.points_used, over.points_left, over.points_over) == (11, 0, 1)
    assert over.problem is not None


def test_costs_of_the_plans_on_the_ballot_are_their_official_costs() -> None:
    plans = [
        Plan(public_id="a", title="A", estimated_cost=100, official_cost=150),
        Plan(public_id="b", title="B", estimated_cost=200, official_cost=180),
    ]
    assert ballot_rules.costs_of(plans) == {"a": 150, "b": 180}
