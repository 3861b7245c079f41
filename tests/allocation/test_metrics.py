from __future__ import annotations

import importlib
import itertools
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proeftuin.allocation import (
    Election,
    Outcome,
    Project,
    VoteType,
    greedy,
    metrics,
    satisfies_ejr_up_to_one,
)
from tests.allocation.conftest import elections, load_pb

# The package exports the function ``metrics``, which hides the module of the same name.
metrics_module = importlib.import_module("proeftuin.allocation.metrics")


def _outcome(*selected: str) -> Outcome:
    return Outcome(rule="test", selected=selected, explanations={})


def _election(costs: dict[str, int], ballots: list[list[str]], budget: int) -> Election:
    projects = tuple(Project(pid, Fraction(cost)) for pid, cost in costs.items())
    return Election(Fraction(budget), projects, [dict.fromkeys(b, 1) for b in ballots])


def test_budget_and_voter_satisfaction() -> None:
    election = _election({"a": 60, "b": 30, "c": 10}, [["a"], ["a", "b"], ["c"], []], budget=120)
    measured = metrics(election, _outcome("a", "b"))
    assert measured.budget_used == 90
    assert measured.budget_used_share == Fraction(3, 4)
    assert measured.voters_with_funded_choice == 2
    assert measured.voters_with_funded_choice_share == Fraction(1, 2)
    assert measured.mean_cost_satisfaction == Fraction(60 + 90, 4)
    assert measured.mean_count_satisfaction == Fraction(1 + 2, 4)


def test_points_ballots_count_support_not_points_and_skip_ejr() -> None:
    projects = (Project("a", Fraction(10)), Project("b", Fraction(10)))
    election = Election(Fraction(10), projects, [{"a": 3}, {"b": 7}], VoteType.POINTS)
    measured = metrics(election, _outcome("a"))
    assert measured.mean_count_satisfaction == Fraction(1, 2)
    assert measured.mean_cost_satisfaction == 5
    assert measured.ejr_up_to_one is None


def test_no_voters_and_no_budget() -> None:
    measured = metrics(_election({"a": 0}, [], budget=0), _outcome("a"))
    assert measured.budget_used_share is None
    assert measured.voters_with_funded_choice_share is None
    assert measured.mean_cost_satisfaction is None
    assert measured.ejr_up_to_one is True  # nobody to be treated unfairly


def test_ejr_up_to_one_on_a_small_example() -> None:
    # Two voters, budget 2: each deserves one plan of cost 1.
    election = _election({"x": 1, "y": 1, "z": 1}, [["x"], ["y"]], budget=2)
    assert satisfies_ejr_up_to_one(election, ["x", "y"]) is True
    assert satisfies_ejr_up_to_one(election, ["x", "z"]) is False  # voter 2 gets nothing
    assert satisfies_ejr_up_to_one(election, ["x", "z"], utility="count") is False
    # Voter 2 may claim 3 of the budget of 6, e.g. {y, w}. With y and v it has 2 < 3 (no EJR),
    # but adding w would give it 4 > 3: EJR up to one holds. With y alone, adding w gives 3,
    # not more than 3: it fails.
    costs = {"x": 1, "y": 1, "w": 2, "v": 1}
    up_to_one = _election(costs, [["x"], ["y", "w", "v"]], budget=6)
    assert satisfies_ejr_up_to_one(up_to_one, ["x", "y", "v"]) is True
    assert satisfies_ejr_up_to_one(up_to_one, ["x", "y"]) is False


def _brute_force_ejr1(election: Election, selected: set[str], utility: str) -> bool:
    """Straight from the definition: every group and every set of plans."""
    ballots = [set(b) for b in election.ballots]
    cost = {p.id: p.cost for p in election.projects}
    value = cost if utility == "cost" else dict.fromkeys(cost, Fraction(1))
    n = len(ballots)

    def u(i: int, plans: set[str]) -> Fraction:
        return sum((value[p] for p in plans & ballots[i]), Fraction(0))

    ids = list(cost)
    for size in range(1, len(ids) + 1):
        for t in map(set, itertools.combinations(ids, size)):
            t_cost = sum((cost[p] for p in t), Fraction(0))
            for group_size in range(1, n + 1):
                if group_size * election.budget < n * t_cost:
                    continue
                for group in itertools.combinations(range(n), group_size):
                    if not all(t <= ballots[i] for i in group):
                        continue
                    if not any(
                        u(i, selected) >= u(i, t)
                        or any(u(i, selected | {a}) > u(i, t) for a in t - selected)
                        for i in group
                    ):
                        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    elections(vote_types=(VoteType.APPROVAL,), max_projects=5, max_voters=6),
    st.sampled_from(["cost", "count"]),
    st.data(),
)
def test_ejr_check_matches_the_definition(
    election: Election, utility: str, data: st.DataObject
) -> None:
    ids = [p.id for p in election.projects]
    selected = data.draw(st.sets(st.sampled_from(ids)))
    ours = satisfies_ejr_up_to_one(election, selected, utility=utility)  # type: ignore[arg-type]
    assert ours is _brute_force_ejr1(election, selected, utility)


def test_ejr_is_not_checked_when_ballots_are_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    election = _election({"x": 1, "y": 1}, [["x", "y"]], budget=2)
    assert satisfies_ejr_up_to_one(election, ["x"]) is False
    monkeypatch.setattr(metrics_module, "EJR_MAX_BALLOT", 1)
    assert satisfies_ejr_up_to_one(election, ["x"]) is None
    monkeypatch.setattr(metrics_module, "EJR_MAX_BALLOT", 16)
    monkeypatch.setattr(metrics_module, "EJR_MAX_PAIRS", 3)  # one ballot of 2 has 4 subsets
    assert satisfies_ejr_up_to_one(election, ["x"]) is None


def test_reference_file_metrics() -> None:
    assen = load_pb("Netherlands_Assen_2024.pb")
    measured = metrics(assen, greedy(assen))
    assert measured.budget_used <= assen.budget
    assert 0 < measured.voters_with_funded_choice <= 84
    assert measured.ejr_up_to_one is not None
    # Wieliczka has ballots approving all 64 plans: too many subsets to check.
    wieliczka = load_pb("Poland_Wieliczka_2023_Green_Budget.pb")
    assert satisfies_ejr_up_to_one(wieliczka, greedy(wieliczka).selected) is None
