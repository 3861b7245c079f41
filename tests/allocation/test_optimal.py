from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pabutools.election import Additive_Cardinal_Sat, Cardinality_Sat
from pabutools.rules import max_additive_utilitarian_welfare

from proeftuin.allocation import Election, Project, TieBreak, VoteType, optimal, tie_ranks
from proeftuin.allocation import knapsack as knapsack_module
from proeftuin.allocation.knapsack import Knapsack, solve
from tests.allocation.conftest import EXPECTED, elections, load_pb, names, to_pabutools

CASES = [
    (name, key)
    for name, keys in EXPECTED.items()
    for key in keys
    if key in ("maxwelfare_card", "maxwelfare_points")
]


@pytest.mark.parametrize(("name", "key"), CASES, ids=[n[:-3] for n, _ in CASES])
def test_agrees_with_pabutools_on_every_reference_file(name: str, key: str) -> None:
    outcome = optimal(load_pb(name), tie_break=TieBreak.PABUTOOLS)
    assert outcome.facts["welfare"] == EXPECTED[name][key]["welfare"]
    # Every reference optimum is unique (no plan can flip without a loss), so the sets agree too.
    assert all(e.facts["support_lost"] > 0 for e in outcome.explanations.values())
    assert sorted(outcome.selected) == EXPECTED[name][key]["selected"]


def _welfare(election: Election, selected: tuple[str, ...]) -> int:
    return sum(int(election.support[election.index[pid]]) for pid in selected)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections())
def test_agrees_with_pabutools_on_random_elections(election: Election) -> None:
    outcome = optimal(election, tie_break=TieBreak.PABUTOOLS)
    support = election.support
    if not any(s > 0 and p.cost > 0 for p, s in zip(election.projects, support, strict=True)):
        # pabutools 1.2.3 raises IndexError without a supported plan that costs something; the
        # optimum is then every supported free plan.
        free = sorted(p.id for p, s in zip(election.projects, support, strict=True) if s > 0)
        assert sorted(outcome.selected) == free
        return
    instance, profile = to_pabutools(election)
    sat = Additive_Cardinal_Sat if election.vote_type is VoteType.POINTS else Cardinality_Sat
    theirs = names(max_additive_utilitarian_welfare(instance, profile, sat_class=sat))
    theirs_welfare = _welfare(election, tuple(theirs))
    assert outcome.total_cost(election) <= election.budget
    assert outcome.facts["welfare"] == _welfare(election, outcome.selected) == theirs_welfare
    unique = all(e.facts.get("support_lost", 1) > 0 for e in outcome.explanations.values())
    if unique:
        assert sorted(outcome.selected) == theirs


def _brute_force(election: Election) -> dict[frozenset[int], int]:
    """Support of every affordable set of supported plans."""
    n = len(election.projects)
    support = [int(s) for s in election.support]
    costs = [p.cost for p in election.projects]
    result = {}
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            if sum((costs[i] for i in subset), Fraction(0)) <= election.budget:
                result[frozenset(subset)] = sum(support[i] for i in subset)
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_projects=9, max_voters=12), st.sampled_from(list(TieBreak)))
def test_optimum_explanations_and_tie_choice_match_brute_force(
    election: Election, tie_break: TieBreak
) -> None:
    sets = _brute_force(election)
    best = max(sets.values())
    outcome = optimal(election, tie_break=tie_break, seed="x")
    assert outcome.facts["welfare"] == best
    support = [int(s) for s in election.support]
    for i, project in enumerate(election.projects):
        explanation = outcome.explanations[project.id]
        if project.cost > election.budget:
            assert explanation.reason == "over_budget"
            continue
        in_optimum = project.id in outcome.selected
        other_side = [v for s, v in sets.items() if (i in s) != in_optimum]
        if in_optimum and project.cost == 0:
            assert explanation.facts["support_lost"] == support[i]
        else:
            assert explanation.facts["support_lost"] == best - max(other_side)
    # The chosen optimum: among supported plans, the lexicographically first by tie order.
    ranks = tie_ranks(election, tie_break, "x")
    supported = {i for i in range(len(support)) if support[i] > 0}
    optima = [s & supported for s, v in sets.items() if v == best]
    chosen = {election.index[pid] for pid in outcome.selected}

    def preference(subset: frozenset[int]) -> list[bool]:
        return [i not in subset for i in sorted(supported, key=lambda i: ranks[i])]

    assert chosen == set(min(optima, key=preference))


def test_most_support_within_budget_not_greedy() -> None:
    projects = (Project("a", Fraction(60)), Project("b", Fraction(50)), Project("c", Fraction(50)))
    ballots = [{"a": 1, "b": 1}, {"a": 1, "c": 1}, {"a": 1}, {"b": 1, "c": 1}]
    outcome = optimal(Election(Fraction(100), projects, ballots))
    assert outcome.selected == ("b", "c")  # 4 votes, where greedy's a alone gets 3
    assert outcome.facts["welfare"] == 4
    a = outcome.explanations["a"]
    assert (a.funded, a.reason, a.facts["support_lost"]) == (False, "not_in_optimum", 1)
    b = outcome.explanations["b"]
    assert (b.funded, b.reason, b.facts["support_lost"]) == (True, "funded", 1)


def test_edge_cases() -> None:
    free, big = Project("free", Fraction(0)), Project("big", Fraction(200))
    nobody = Project("nobody", Fraction(10))
    empty = optimal(Election(Fraction(100), (free, big, nobody), []))
    assert empty.selected == ()
    assert empty.facts["welfare"] == 0
    election = Election(Fraction(0), (free, big, nobody), [{"free": 1, "big": 1}])
    outcome = optimal(election)
    assert outcome.selected == ("free",)
    assert outcome.explanations["free"].facts["support_lost"] == 1
    assert outcome.explanations["big"].reason == "over_budget"
    assert outcome.explanations["nobody"].reason == "over_budget"
    roomy = optimal(Election(Fraction(50), (free, big, nobody), [{"big": 1}]))
    assert roomy.explanations["nobody"].reason == "no_support"
    assert roomy.explanations["nobody"].facts["support_lost"] == 0  # fits in what is left


def test_decimal_costs_are_scaled_exactly() -> None:
    projects = (
        Project("a", Fraction("0.1")),
        Project("b", Fraction("0.2")),
        Project("c", Fraction(1, 3)),
    )
    election = Election(Fraction("0.3"), projects, [{"a": 1, "b": 1, "c": 1}, {"c": 1}])
    assert optimal(election).selected == ("a", "b")  # 2 votes, c alone is over 0.3


def _brute_knapsack(
    profits: list[int], weights: list[int], capacity: int, forced_in: set[int], forced_out: set[int]
) -> int | None:
    best = None
    for mask in range(1 << len(profits)):
        chosen = {i for i in range(len(profits)) if mask >> i & 1}
        allowed = forced_in <= chosen and not (forced_out & chosen)
        if allowed and sum(weights[i] for i in chosen) <= capacity:
            value = sum(profits[i] for i in chosen)
            best = value if best is None else max(best, value)
    return best


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 50), st.integers(1, 60)), min_size=1, max_size=10),
    st.integers(0, 300),
    st.data(),
)
def test_knapsack_is_exact(
    items: list[tuple[int, int]], capacity: int, data: st.DataObject
) -> None:
    profits, weights = [p for p, _ in items], [w for _, w in items]
    indices = st.sets(st.integers(0, len(items) - 1), max_size=2)
    forced_in, forced_out = data.draw(indices), data.draw(indices)
    forced_out -= forced_in
    knapsack = Knapsack(tuple(profits), tuple(weights), capacity)
    solution = solve(knapsack, forced_in=forced_in, forced_out=forced_out)
    expected = _brute_knapsack(profits, weights, capacity, forced_in, forced_out)
    if expected is None:
        assert solution is None
        return
    assert solution is not None
    assert solution.value == expected
    assert solution.value == sum(profits[i] for i in solution.chosen)
    assert sum(weights[i] for i in solution.chosen) <= capacity
    assert forced_in <= solution.chosen and not (forced_out & solution.chosen)


def test_knapsack_branches_when_the_core_table_is_too_big(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(knapsack_module, "_MAX_TABLE", 1)
    profits = [31, 29, 23, 19, 17, 13, 11, 7]
    weights = [30, 28, 24, 20, 18, 12, 11, 8]
    for capacity in range(0, 160, 7):
        solution = solve(Knapsack(tuple(profits), tuple(weights), capacity))
        assert solution is not None
        assert solution.value == _brute_knapsack(profits, weights, capacity, set(), set())


def test_knapsack_is_exact_with_huge_weights() -> None:
    # Weights near 10**15 without a common factor: a table over weight is out of the question.
    weights = [10**15 + 7, 10**15 + 11, 2 * 10**15 + 3, 3 * 10**15 + 1, 10**15 + 2]
    profits = [5, 4, 8, 11, 3]
    for capacity in (4 * 10**15 + 30, 3 * 10**15 + 20, 5 * 10**15 + 20, 10**15 + 6):
        solution = solve(Knapsack(tuple(profits), tuple(weights), capacity))
        assert solution is not None
        assert solution.value == _brute_knapsack(profits, weights, capacity, set(), set())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 30), st.integers(1, 40)), min_size=1, max_size=9),
    st.integers(0, 150),
)
def test_both_dynamic_programs_find_an_optimum(items: list[tuple[int, int]], room: int) -> None:
    profits, weights = [p for p, _ in items], [w for _, w in items]
    best = _brute_knapsack(profits, weights, room, set(), set())
    tables = (
        knapsack_module._dp_by_weight(profits, weights, room),
        knapsack_module._dp_by_profit(profits, weights, room, sum(profits) + 1),
        knapsack_module._dp_by_profit(profits, weights, room, best + 1),  # the narrowest table
    )
    for picked in tables:
        assert len(set(picked)) == len(picked)
        assert sum(weights[k] for k in picked) <= room
        assert sum(profits[k] for k in picked) == best


def test_knapsack_rejects_non_positive_items() -> None:
    with pytest.raises(ValueError, match="positive"):
        Knapsack((0,), (1,), 5)
    with pytest.raises(ValueError, match="one weight per profit"):
        Knapsack((1, 2), (1,), 5)
