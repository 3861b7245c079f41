from __future__ import annotations

from fractions import Fraction

import pytest

from proeftuin.allocation import (
    BallotKind,
    BallotRules,
    InvalidBallot,
    Project,
    validate_approval,
    validate_points,
)

PLANS = (
    Project("bankjes", Fraction(300)),
    Project("speeltuin", Fraction(500)),
    Project("bomen", Fraction(250)),
    Project("lantaarns", Fraction("199.99")),
)
BUDGET = Fraction(1000)
APPROVAL = BallotRules(BallotKind.APPROVAL)


def _invalid(rules: BallotRules, choices: list[str]) -> InvalidBallot:
    with pytest.raises(InvalidBallot) as raised:
        validate_approval(rules, PLANS, BUDGET, choices)
    return raised.value


def test_approval_accepts_any_number_and_keeps_the_order() -> None:
    assert validate_approval(APPROVAL, PLANS, BUDGET, []) == {}
    ballot = validate_approval(APPROVAL, PLANS, BUDGET, ["bomen", "bankjes", "speeltuin"])
    assert list(ballot.items()) == [("bomen", 1), ("bankjes", 1), ("speeltuin", 1)]


def test_unknown_and_duplicate_plans() -> None:
    unknown = _invalid(APPROVAL, ["bankjes", "fontein"])
    assert (unknown.code, unknown.facts) == ("unknown_project", {"project_id": "fontein"})
    twice = _invalid(APPROVAL, ["bomen", "bankjes", "bomen"])
    assert (twice.code, twice.facts) == ("duplicate_choice", {"project_id": "bomen"})


def test_min_and_max_choices() -> None:
    rules = BallotRules(BallotKind.APPROVAL, min_choices=2, max_choices=3)
    assert validate_approval(rules, PLANS, BUDGET, ["bomen", "bankjes"])
    few = _invalid(rules, ["bomen"])
    assert (few.code, few.facts) == ("too_few_choices", {"count": 1, "limit": 2})
    many = _invalid(rules, ["bomen", "bankjes", "speeltuin", "lantaarns"])
    assert (many.code, many.facts) == ("too_many_choices", {"count": 4, "limit": 3})
    assert "4 plans chosen, at most 3" in str(many)


def test_k_approval_needs_k() -> None:
    with pytest.raises(ValueError, match="max_choices"):
        BallotRules(BallotKind.K_APPROVAL)
    rules = BallotRules(BallotKind.K_APPROVAL, max_choices=1)
    assert _invalid(rules, ["bomen", "bankjes"]).code == "too_many_choices"


def test_knapsack_must_fit_the_budget() -> None:
    rules = BallotRules(BallotKind.KNAPSACK)
    assert validate_approval(rules, PLANS, BUDGET, ["bankjes", "speeltuin", "lantaarns"])
    over = _invalid(rules, ["bankjes", "speeltuin", "bomen"])
    assert over.code == "over_budget"
    assert over.facts == {"total_cost": Fraction(1050), "budget": BUDGET}


def test_knapsack_minimum_spend_is_exact() -> None:
    rules = BallotRules(BallotKind.KNAPSACK, min_spend_percent=75)
    # 500 + 250 = 750 is exactly 75 % of 1000.
    assert validate_approval(rules, PLANS, BUDGET, ["speeltuin", "bomen"])
    under = _invalid(rules, ["speeltuin", "lantaarns"])
    assert under.code == "under_minimum_spend"
    assert under.facts == {
        "total_cost": Fraction("699.99"),
        "minimum": Fraction(750),
        "percent": 75,
    }


def test_points_distribution() -> None:
    rules = BallotRules(BallotKind.POINTS, points_total=10)
    ballot = validate_points(rules, PLANS, [("bomen", 6), ("bankjes", 0), ("speeltuin", 4)])
    assert list(ballot.items()) == [("bomen", 6), ("speeltuin", 4)]  # 0 points: not on the ballot
    with pytest.raises(InvalidBallot) as too_many:
        validate_points(rules, PLANS, [("bomen", 6), ("speeltuin", 5)])
    assert (too_many.value.code, too_many.value.facts) == (
        "too_many_points",
        {"total": 11, "limit": 10},
    )
    with pytest.raises(InvalidBallot) as negative:
        validate_points(rules, PLANS, [("bomen", 12), ("speeltuin", -3)])
    assert (negative.value.code, negative.value.facts) == (
        "negative_points",
        {"project_id": "speeltuin", "points": -3},
    )
    with pytest.raises(InvalidBallot) as twice:
        validate_points(rules, PLANS, [("bomen", 1), ("bomen", 1)])
    assert twice.value.code == "duplicate_choice"
    with pytest.raises(InvalidBallot) as unknown:
        validate_points(rules, PLANS, [("fontein", 1)])
    assert unknown.value.code == "unknown_project"


def test_points_choice_limits_count_plans_with_points() -> None:
    rules = BallotRules(BallotKind.POINTS, points_total=10, min_choices=2)
    with pytest.raises(InvalidBallot) as few:
        validate_points(rules, PLANS, [("bomen", 9), ("bankjes", 0)])
    assert few.value.facts == {"count": 1, "limit": 2}


def test_each_kind_has_its_own_check() -> None:
    with pytest.raises(ValueError, match="validate_points"):
        validate_approval(BallotRules(BallotKind.POINTS, points_total=5), PLANS, BUDGET, [])
    with pytest.raises(ValueError, match="validate_approval"):
        validate_points(APPROVAL, PLANS, [])


@pytest.mark.parametrize(
    "arguments",
    [
        {"kind": BallotKind.APPROVAL, "min_choices": -1},
        {"kind": BallotKind.APPROVAL, "min_choices": 3, "max_choices": 2},
        {"kind": BallotKind.APPROVAL, "max_choices": 0},
        {"kind": BallotKind.KNAPSACK, "min_spend_percent": 101},
        {"kind": BallotKind.APPROVAL, "min_spend_percent": 50},
        {"kind": BallotKind.POINTS},
        {"kind": BallotKind.POINTS, "points_total": 0},
        {"kind": BallotKind.APPROVAL, "points_total": 10},
    ],
)
def test_nonsensical_rules_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BallotRules(**arguments)  # type: ignore[arg-type]
