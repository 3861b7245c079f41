from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pabutools.election import Additive_Cardinal_Sat, Cardinality_Sat, Cost_Sat
from pabutools.rules import (
    completion_by_rule_combination,
    exhaustion_by_budget_increase,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)

from proeftuin.allocation import Election, Outcome, Project, TieBreak, VoteType, tie_ranks
from proeftuin.allocation._mes_core import (
    build_profile,
    run_mes,
    run_mes_batch,
    verify_same_outcome,
)
from proeftuin.allocation.equal_shares import COMPLETIONS, equal_shares
from tests.allocation.conftest import (
    EXPECTED,
    PointsXCostSat,
    elections,
    load_pb,
    names,
    to_pabutools,
)

# expected.json key -> (utility, completion, read points ballots as approval)
_SATS = (
    ("mes_points_x_cost", "cost", False),
    ("mes_points", "count", False),
    ("mes_cost", "cost", True),
    ("mes_card", "count", True),
)
_COMPLETIONS = {
    "": "none",
    "_add1": "add1",
    "_add1_multiprofile": "add1",
    "_add1_greedy": "add1-greedy",
    "_greedy": "greedy",
    "_exhaust1pct": "exhaust1pct",
}
REASONS = {
    "funded",
    "funded_free",
    "funded_by_completion",
    "supporters_ran_out",
    "no_support",
    "free_without_utility",
}


def _spec(key: str) -> tuple[Any, Any, bool]:
    for prefix, utility, as_approval in _SATS:
        suffix = key.removeprefix(prefix)
        if suffix != key and suffix in _COMPLETIONS:
            return utility, _COMPLETIONS[suffix], as_approval
    raise KeyError(key)


MES_CASES = [
    (name, key) for name, keys in EXPECTED.items() for key in keys if key.startswith("mes")
]
# The Warsaw files' Add1 and 1 % variants take seconds each (pabutools: 6 to 18 minutes).
SLOW = {
    (name, key)
    for name, key in MES_CASES
    if name.startswith("Poland_Warszawa") and ("add1" in key or "exhaust" in key)
}


@functools.cache
def _reference(name: str, as_approval: bool) -> Election:
    election = load_pb(name)
    if as_approval and election.vote_type is VoteType.POINTS:
        return election.as_approval()
    return election


@pytest.mark.parametrize(
    ("name", "key"),
    [
        pytest.param(name, key, marks=[pytest.mark.slow] if (name, key) in SLOW else [])
        for name, key in MES_CASES
    ],
    ids=[f"{n[:-3]}-{k}" for n, k in MES_CASES],
)
def test_agrees_with_pabutools_on_every_reference_file(name: str, key: str) -> None:
    utility, completion, as_approval = _spec(key)
    outcome = equal_shares(
        _reference(name, as_approval),
        utility=utility,
        completion=completion,
        tie_break=TieBreak.PABUTOOLS,
    )
    assert sorted(outcome.selected) == EXPECTED[name][key]["selected"]


def test_every_reference_file_and_mes_key_is_covered() -> None:
    assert {name for name, _ in MES_CASES} == set(EXPECTED)
    assert all(_spec(key) for _, key in MES_CASES)
    assert len(MES_CASES) > 80


# -- random elections, live against pabutools ---------------------------------------------------


def _pabutools(election: Election, utility: str, completion: str) -> list[str]:
    instance, profile = to_pabutools(election)
    points = election.vote_type is VoteType.POINTS
    if utility == "cost":
        sat: Any = PointsXCostSat if points else Cost_Sat
    else:
        sat = Additive_Cardinal_Sat if points else Cardinality_Sat
    mes: dict[str, Any] = {"sat_class": sat}
    if completion in ("add1", "add1-greedy"):
        mes["voter_budget_increment"] = 1
    if completion in ("none", "add1"):
        return names(method_of_equal_shares(instance, profile, **mes))
    if completion == "exhaust1pct":
        return names(exhaustion_by_budget_increase(instance, profile, method_of_equal_shares, mes))
    rules = [method_of_equal_shares, greedy_utilitarian_welfare]
    return names(
        completion_by_rule_combination(instance, profile, rules, [mes, {"sat_class": sat}])
    )


def _ours(election: Election, utility: Any, completion: Any) -> list[str]:
    outcome = equal_shares(
        election, utility=utility, completion=completion, tie_break=TieBreak.PABUTOOLS
    )
    return sorted(outcome.selected)


@st.composite
def cheap_elections(
    draw: st.DrawFn,
    *,
    max_projects: int = 30,
    max_voters: int = 100,
    max_cost: int = 30,
    budget_shares: tuple[float, ...] = (0, 0.1, 0.3, 0.5, 0.8, 1.0, 1.3),
    all_supported: bool = False,
) -> Election:
    """Elections on which pabutools' Add1 and 1 % loops end quickly: costs of at most
    ``max_cost`` euros, so the per-voter budget needs few raises of 1 before everything is
    affordable. Ties are common (few distinct costs and supports), ids sort differently as strings
    and as numbers, and some plans are free or unsupported."""
    vote_type = draw(st.sampled_from([VoteType.APPROVAL, VoteType.POINTS]))
    n_projects = draw(st.integers(1, max_projects))
    n_voters = draw(st.integers(1, max_voters))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ids = [str(i) for i in rng.choice(np.arange(1, 4 * n_projects + 12), n_projects, replace=False)]
    low = 1 if all_supported else 0
    costs = [Fraction(int(c)) for c in rng.choice(rng.integers(low, max_cost + 1, 4), n_projects)]
    density = draw(st.sampled_from([0.1, 0.3, 0.6]))
    ballots = []
    for _ in range(n_voters):
        chosen = [pid for pid in ids if rng.random() < density]
        if vote_type is VoteType.POINTS:
            ballots.append({pid: int(rng.integers(1, 4)) for pid in chosen})
        else:
            ballots.append(dict.fromkeys(chosen, 1))
    if all_supported:
        ballots.append(dict.fromkeys(ids, 1))
    share = draw(st.sampled_from(budget_shares))
    budget = Fraction(round(float(sum(costs)) * share * 2), 2)
    projects = tuple(Project(pid, cost) for pid, cost in zip(ids, costs, strict=True))
    return Election(budget, projects, ballots, vote_type)


def examples(count: int) -> Any:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@examples(60)
@given(elections(max_projects=40, max_voters=300), st.sampled_from(["cost", "count"]))
def test_plain_mes_agrees_with_pabutools(election: Election, utility: Any) -> None:
    assert _ours(election, utility, "none") == _pabutools(election, utility, "none")


@examples(40)
@given(elections(max_projects=40, max_voters=300), st.sampled_from(["cost", "count"]))
def test_greedy_completion_agrees_with_pabutools(election: Election, utility: Any) -> None:
    assert _ours(election, utility, "greedy") == _pabutools(election, utility, "greedy")


@examples(40)
@given(
    cheap_elections(), st.sampled_from(["cost", "count"]), st.sampled_from(["add1", "add1-greedy"])
)
def test_add1_agrees_with_pabutools(election: Election, utility: Any, completion: Any) -> None:
    assert _ours(election, utility, completion) == _pabutools(election, utility, completion)


@examples(12)
@given(
    cheap_elections(
        max_projects=8, max_voters=12, budget_shares=(0.5, 0.8, 1.0, 1.3), all_supported=True
    ),
    st.sampled_from(["cost", "count"]),
)
def test_exhaust1pct_agrees_with_pabutools(election: Election, utility: Any) -> None:
    # Every plan supported and a budget of at least half the total: pabutools' own loop then
    # ends within a few hundred runs (with an unsupported plan that fits it would run
    # 100·(voters + 1) times).
    assert _ours(election, utility, "exhaust1pct") == _pabutools(election, utility, "exhaust1pct")


# -- edge cases ----------------------------------------------------------------------------------


def _election(
    budget: int, costs: dict[str, int], ballots: list[dict[str, int]], points: bool = False
) -> Election:
    projects = tuple(Project(pid, Fraction(cost)) for pid, cost in costs.items())
    vote_type = VoteType.POINTS if points else VoteType.APPROVAL
    return Election(Fraction(budget), projects, ballots, vote_type)


@pytest.mark.parametrize("completion", COMPLETIONS)
def test_no_ballots_funds_nothing_but_what_the_completion_fits(completion: Any) -> None:
    election = _election(100, {"1": 60, "2": 50, "3": 0}, [])
    for utility in ("cost", "count"):
        assert _ours(election, utility, completion) == _pabutools(election, utility, completion)
    outcome = equal_shares(election, completion=completion, tie_break=TieBreak.PABUTOOLS)
    assert outcome.facts["voters"] == 0
    if completion in ("greedy", "add1-greedy"):
        assert outcome.selected == ("1", "3")  # id order; "2" no longer fits
        assert outcome.explanations["1"].reason == "funded_by_completion"
    else:
        assert outcome.selected == ()
        assert outcome.explanations["1"].reason == "no_support"


@pytest.mark.parametrize("completion", ["none", "add1", "greedy", "add1-greedy"])
def test_budget_zero(completion: Any) -> None:
    election = _election(0, {"a": 10, "b": 0, "c": 5}, [{"a": 1, "b": 1}, {"c": 1}, {}])
    for utility in ("cost", "count"):
        assert _ours(election, utility, completion) == _pabutools(election, utility, completion)
    # A free plan: funded up front with count utility; with cost utility it is worth nothing, so
    # only a greedy completion takes it.
    counted = equal_shares(
        election, utility="count", completion=completion, tie_break=TieBreak.PABUTOOLS
    )
    assert counted.explanations["b"].reason == "funded_free"
    costed = equal_shares(election, completion=completion, tie_break=TieBreak.PABUTOOLS)
    if completion in ("greedy", "add1-greedy"):
        assert costed.explanations["b"].reason == "funded_by_completion"
    else:
        assert costed.explanations["b"].reason == "free_without_utility"
        assert costed.selected == ()


def test_budget_zero_with_1pct_steps_stops_instead_of_looping() -> None:
    # pabutools would loop for ever here: steps of 1 % of nothing never change the outcome.
    election = _election(0, {"a": 10, "z": 0}, [{"a": 1}, {"a": 1}])
    outcome = equal_shares(election, completion="exhaust1pct", tie_break=TieBreak.PABUTOOLS)
    assert outcome.selected == ()
    assert outcome.facts["add1_steps"] == 0


def test_a_plan_costing_more_than_the_budget_is_never_funded() -> None:
    ballots = [{"huge": 1, "small": 1}] * 5 + [{"huge": 1}] * 5
    election = _election(1000, {"huge": 1001, "small": 100}, ballots)
    for completion in COMPLETIONS:
        outcome = equal_shares(election, completion=completion, tie_break=TieBreak.PABUTOOLS)
        assert "huge" not in outcome.selected
        explanation = outcome.explanations["huge"]
        assert not explanation.funded
        assert explanation.reason == "supporters_ran_out"
        assert explanation.facts["supporters_money"] < 1001


def test_one_voter_gets_what_fits_in_order_of_price() -> None:
    # One voter: ρ is the same for every plan (1 with cost utility), so ties decide the order.
    election = _election(10, {"3": 4, "20": 5, "100": 7}, [{"3": 1, "20": 1, "100": 1}])
    outcome = equal_shares(election, completion="none", tie_break=TieBreak.PABUTOOLS)
    assert outcome.selected == ("100",)  # "100" < "20" < "3" as strings; then 3 left, nothing fits
    assert _ours(election, "cost", "none") == _pabutools(election, "cost", "none")
    greedy = equal_shares(election, completion="add1-greedy", tie_break=TieBreak.PABUTOOLS)
    assert sorted(greedy.selected) == _pabutools(election, "cost", "add1-greedy")


def test_identical_plans_are_decided_by_the_tie_break() -> None:
    costs = {"9": 50, "10": 50, "11": 50}
    election = _election(60, costs, [{"9": 1, "10": 1, "11": 1}] * 6)
    pabutools = equal_shares(election, completion="none", tie_break=TieBreak.PABUTOOLS)
    assert pabutools.selected == ("10",)  # string order: "10" < "11" < "9"
    assert _ours(election, "cost", "none") == ["10"]
    for seed in ("a", "b", "c", "d"):
        lottery = equal_shares(election, completion="none", seed=seed)
        ranks = tie_ranks(election, TieBreak.LOTTERY, seed)
        winner = min(costs, key=lambda pid: int(ranks[election.index[pid]]))
        assert lottery.selected == (winner,)
        assert lottery.facts["tie_break"] == "lottery"


def test_lottery_puts_the_cheaper_plan_first_among_equal_prices() -> None:
    # The same 3 voters (30 each) support both plans: ρ = 1/3 for both. pabutools takes "x"
    # first (id order), the lottery the cheaper "y" (equal support, then lower cost); both fit.
    election = _election(90, {"x": 60, "y": 30}, [{"x": 1, "y": 1}] * 3)
    assert equal_shares(election, completion="none", tie_break=TieBreak.PABUTOOLS).selected == (
        "x",
        "y",
    )
    assert equal_shares(election, completion="none", seed="any").selected == ("y", "x")


# -- explanations and facts --------------------------------------------------------------------


def _check_explanations(election: Election, outcome: Outcome) -> None:
    selected = set(outcome.selected)
    assert set(outcome.explanations) == {p.id for p in election.projects}
    rounds = int(outcome.facts["rounds"])
    seen_rounds = []
    for project in election.projects:
        explanation = outcome.explanations[project.id]
        assert explanation.funded == (project.id in selected)
        assert explanation.reason in REASONS
        facts = explanation.facts
        if explanation.reason == "funded":
            seen_rounds.append(facts["round"])
            assert Fraction(facts["effective_votes"]) > 0
            assert 0 <= Fraction(facts["max_payment"]) <= project.cost + Fraction(1, 100)
        if explanation.reason == "supporters_ran_out":
            assert Fraction(facts["supporters_money"]) < project.cost
            assert 0 <= int(facts["dropped_out_round"]) <= rounds
            assert 0 <= Fraction(facts["max_cost_to_fund"]) <= project.cost
            assert facts["dropped_out_after"] in {"", *selected}
        if explanation.reason == "no_support":
            assert int(election.approvals[election.index[project.id]]) == 0
    assert sorted(seen_rounds) == list(range(1, rounds + 1))


@examples(40)
@given(cheap_elections(), st.sampled_from(COMPLETIONS), st.sampled_from(["cost", "count"]))
def test_explanations_are_consistent(election: Election, completion: Any, utility: Any) -> None:
    outcome = equal_shares(election, utility=utility, completion=completion, seed="s")
    _check_explanations(election, outcome)
    facts = outcome.facts
    assert facts["completion"] == completion and facts["utility"] == utility
    spent = sum((election.projects[election.index[p]].cost for p in outcome.selected), Fraction(0))
    assert spent <= election.budget
    assert facts["left_over"] == election.budget - spent
    voters = len(election.ballots)
    step = election.budget / 100 / voters if completion == "exhaust1pct" else Fraction(1)
    assert facts["per_voter_budget"] == election.budget / voters + int(facts["add1_steps"]) * step
    if completion not in ("greedy", "add1-greedy"):
        assert facts["spent_completion"] == 0
        assert all(e.reason != "funded_by_completion" for e in outcome.explanations.values())


def test_add1_reports_the_per_voter_budget_it_ended_at() -> None:
    election = _reference("Netherlands_Assen_2024.pb", False)
    outcome = equal_shares(election, completion="add1", tie_break=TieBreak.PABUTOOLS)
    start = election.budget / len(election.ballots)
    assert outcome.facts["per_voter_budget"] == start + outcome.facts["add1_steps"]
    assert int(outcome.facts["add1_steps"]) > 100
    _check_explanations(election, outcome)


def _without(election: Election, plan: str, cost: Fraction) -> Election:
    projects = tuple(Project(p.id, cost if p.id == plan else p.cost) for p in election.projects)
    return Election(election.budget, projects, election.ballots, election.vote_type)


def test_max_cost_to_fund_of_a_plan_that_costs_one_follows_its_utility() -> None:
    """A plan of 1 euro weighs 1 per point with either utility. With count utility a cheaper plan
    has a lower price and wins; with cost utility its price stays the same, it ties and loses
    the tie-break, so no cost would have funded it (found by the property test below)."""
    plans = (Project("9", Fraction(1)), Project("10", Fraction(1)), Project("11", Fraction(5)))
    election = Election(Fraction(2), plans, [{"9": 1, "10": 1}, {"11": 1}], VoteType.APPROVAL)
    for utility, threshold in (("count", Fraction(1)), ("cost", Fraction(0))):
        outcome = equal_shares(
            election, utility=utility, completion="none", tie_break=TieBreak.PABUTOOLS
        )
        assert outcome.selected == ("10",)  # "10" before "9" in string order wins the tie
        assert outcome.explanations["9"].facts["max_cost_to_fund"] == threshold
        cheaper = equal_shares(
            _without(election, "9", Fraction(1, 2)),
            utility=utility,
            completion="none",
            tie_break=TieBreak.PABUTOOLS,
        )
        assert ("9" in cheaper.selected) == (utility == "count")


@examples(20)
@given(
    cheap_elections(max_cost=30, budget_shares=(0.3, 0.5, 0.8)), st.sampled_from(["cost", "count"])
)
def test_max_cost_to_fund_is_the_threshold_of_the_same_run(
    election: Election, utility: Any
) -> None:
    outcome = equal_shares(
        election, utility=utility, completion="none", tie_break=TieBreak.PABUTOOLS
    )
    for pid, explanation in outcome.explanations.items():
        if explanation.reason != "supporters_ran_out":
            continue
        threshold = Fraction(explanation.facts["max_cost_to_fund"])
        below = threshold * Fraction(99, 100)
        if below > 0:
            cheaper = equal_shares(
                _without(election, pid, below),
                utility=utility,
                completion="none",
                tie_break=TieBreak.PABUTOOLS,
            )
            assert pid in cheaper.selected
        above = threshold * Fraction(101, 100) + Fraction(1, 100)
        if above < election.projects[election.index[pid]].cost:
            dearer = equal_shares(
                _without(election, pid, above),
                utility=utility,
                completion="none",
                tie_break=TieBreak.PABUTOOLS,
            )
            assert pid not in dearer.selected


def test_extra_supporters_needed_is_enough_and_one_fewer_is_not() -> None:
    ballots = [{"a": 1, "b": 1}] * 6 + [{"b": 1}] * 4 + [{"c": 1}] * 2
    election = _election(1200, {"a": 500, "b": 600, "c": 400}, ballots)
    outcome = equal_shares(election, completion="none", tie_break=TieBreak.PABUTOOLS)
    assert "c" not in outcome.selected
    needed = int(outcome.explanations["c"].facts["extra_supporters_needed"])
    per_voter = election.budget / len(ballots)

    def with_extra(k: int) -> Outcome:
        # k more voters for "c" only, with the budget raised so each voter still gets per_voter.
        more = Election(
            election.budget + k * per_voter, election.projects, ballots + [{"c": 1}] * k
        )
        return equal_shares(more, completion="none", tie_break=TieBreak.PABUTOOLS)

    assert "c" in with_extra(needed).selected
    assert "c" not in with_extra(needed - 1).selected


def test_funded_plans_explain_their_price_and_payments() -> None:
    # 4 supporters of "a" with 100 each; "a" costs 300: everyone pays 75 (ρ = 1/4).
    # 2 supporters of "b" with 100 each; "b" costs 150: price 75 each (ρ = 1/2).
    ballots = [{"a": 1}] * 4 + [{"b": 1}] * 2
    election = _election(600, {"a": 300, "b": 150}, ballots)
    outcome = equal_shares(election, completion="none", tie_break=TieBreak.PABUTOOLS)
    assert outcome.selected == ("a", "b")
    a = outcome.explanations["a"].facts
    assert (a["round"], a["effective_votes"], a["max_payment"]) == (1, 4, 75)
    assert a["supporters_paying_all"] == 0
    b = outcome.explanations["b"].facts
    assert (b["round"], b["effective_votes"], b["max_payment"]) == (2, 2, 75)
    assert outcome.facts["per_voter_budget"] == 100
    assert outcome.facts["spent_equal_shares"] == 450


def test_a_plan_out_of_money_names_who_took_it() -> None:
    # "a" (ρ 1/4) is funded first and takes 75 of each shared supporter's 100; "b" then needs 150
    # from two voters holding 25 each: it drops out after "a".
    ballots = [{"a": 1, "b": 1}] * 2 + [{"a": 1}] * 2
    election = _election(400, {"a": 300, "b": 150}, ballots)
    outcome = equal_shares(election, completion="none", tie_break=TieBreak.PABUTOOLS)
    b = outcome.explanations["b"]
    assert not b.funded and b.reason == "supporters_ran_out"
    assert (b.facts["dropped_out_round"], b.facts["dropped_out_after"]) == (1, "a")
    assert b.facts["supporters_money"] == 50
    # With cost utility a cheaper "b" still has ρ = 1/2 (two supporters) and cannot beat "a" (1/4)
    # in round 1; costing at most the 50 left after "a" it would be funded in round 2.
    assert b.facts["max_cost_to_fund"] == 50


def test_points_ballots_weigh_payments_by_points() -> None:
    # Cost utility on points ballots: utility = points × cost, so a 3-point supporter pays three
    # times what a 1-point supporter pays.
    ballots = [{"a": 3}, {"a": 1}]
    election = _election(400, {"a": 200}, ballots, points=True)
    outcome = equal_shares(election, completion="none", tie_break=TieBreak.PABUTOOLS)
    assert outcome.selected == ("a",)
    assert outcome.explanations["a"].facts["max_payment"] == 150
    assert _ours(election, "cost", "none") == _pabutools(election, "cost", "none")


def test_rejects_unknown_options() -> None:
    election = _election(10, {"a": 5}, [{"a": 1}])
    with pytest.raises(ValueError, match="utility"):
        equal_shares(election, utility="points")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="completion"):
        equal_shares(election, completion="add2")  # type: ignore[arg-type]


# -- the engine's shortcuts ----------------------------------------------------------------------


@examples(40)
@given(cheap_elections(max_voters=60), st.sampled_from(["cost", "count"]), st.integers(1, 12))
def test_side_by_side_runs_match_single_runs(election: Election, utility: Any, width: int) -> None:
    profile = build_profile(election, utility)
    ranks = tie_ranks(election, TieBreak.PABUTOOLS)
    start = election.budget / len(election.ballots)
    budgets = [start + k for k in range(width)]
    together = run_mes_batch(profile, budgets, ranks)
    for per_voter, selected in zip(budgets, together, strict=True):
        alone = run_mes(profile, per_voter, ranks).selected
        assert selected is None or selected == alone  # None: left to the exact engine


@examples(40)
@given(cheap_elections(max_voters=60), st.sampled_from(["cost", "count"]), st.integers(2, 12))
def test_a_verified_stretch_of_budgets_has_one_outcome(
    election: Election, utility: Any, steps: int
) -> None:
    profile = build_profile(election, utility)
    ranks = tie_ranks(election, TieBreak.PABUTOOLS)
    start = election.budget / len(election.ballots)
    base = run_mes(profile, start, ranks)
    if verify_same_outcome(profile, base, start + steps, ranks):
        for k in range(1, steps + 1):
            assert run_mes(profile, start + k, ranks).selected == base.selected
    # A budget that changes the outcome can never be verified.
    for k in range(1, steps + 1):
        if run_mes(profile, start + k, ranks).selected != base.selected:
            assert not verify_same_outcome(profile, base, start + k, ranks)
            break
