from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pabutools.election import Additive_Cardinal_Sat, Cardinality_Sat, Cost_Sat
from pabutools.rules import greedy_utilitarian_welfare

from proeftuin.allocation import Election, Project, TieBreak, VoteType, greedy
from tests.allocation.conftest import (
    EXPECTED,
    PointsXCostSat,
    elections,
    load_pb,
    names,
    to_pabutools,
)

GREEDY_KEYS = ("greedy_cost", "greedy_card", "greedy_points", "greedy_points_x_cost")
CASES = [(name, key) for name, keys in EXPECTED.items() for key in keys if key in GREEDY_KEYS]


def _run_key(election: Election, key: str) -> list[str]:
    """The call that reproduces an expected.json key (on points files ``_cost``/``_card`` read the
    ballots as approval, as pabutools' Cost_Sat and Cardinality_Sat do)."""
    if key in ("greedy_cost", "greedy_card") and election.vote_type is VoteType.POINTS:
        election = election.as_approval()
    per_euro = key in ("greedy_card", "greedy_points")
    return sorted(greedy(election, per_euro=per_euro, tie_break=TieBreak.PABUTOOLS).selected)


@pytest.mark.parametrize(("name", "key"), CASES, ids=[f"{n[:-3]}-{k}" for n, k in CASES])
def test_agrees_with_pabutools_on_every_reference_file(name: str, key: str) -> None:
    assert _run_key(load_pb(name), key) == EXPECTED[name][key]["selected"]


def test_every_reference_file_has_greedy_cases() -> None:
    assert {name for name, _ in CASES} == set(EXPECTED)
    assert len(CASES) == 2 * len(EXPECTED) + 2 * 3  # 3 points files add the points keys


def _pabutools_greedy(election: Election, per_euro: bool) -> list[str]:
    instance, profile = to_pabutools(election)
    if election.vote_type is VoteType.POINTS:
        sat = Additive_Cardinal_Sat if per_euro else PointsXCostSat
    else:
        sat = Cardinality_Sat if per_euro else Cost_Sat
    return names(greedy_utilitarian_welfare(instance, profile, sat_class=sat))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(), st.booleans())
def test_agrees_with_pabutools_on_random_elections(election: Election, per_euro: bool) -> None:
    theirs = _pabutools_greedy(election, per_euro)
    ours = greedy(election, per_euro=per_euro, tie_break=TieBreak.PABUTOOLS, fund_unsupported=True)
    assert sorted(ours.selected) == theirs
    # By default plans nobody supported stay out; the rest is pabutools' outcome.
    default = greedy(election, per_euro=per_euro, tie_break=TieBreak.PABUTOOLS)
    supported = {p.id for p, s in zip(election.projects, election.support, strict=True) if s > 0}
    assert sorted(default.selected) == [pid for pid in theirs if pid in supported]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    elections(max_projects=25, max_voters=60),
    st.booleans(),
    st.sampled_from(list(TieBreak)),
    st.data(),
)
def test_needed_support_is_exactly_enough(
    election: Election, per_euro: bool, tie_break: TieBreak, data: st.DataObject
) -> None:
    outcome = greedy(election, per_euro=per_euro, tie_break=tie_break, seed="s")
    missed = [
        pid
        for pid, e in outcome.explanations.items()
        if not e.funded and "needed_support" in e.facts
    ]
    if not missed:
        return
    plan = data.draw(st.sampled_from(sorted(missed)))
    facts = outcome.explanations[plan].facts
    needed = facts["needed_support"]
    assert isinstance(needed, int)
    assert needed > facts["support"]

    def funded_with(support: int) -> bool:
        extra = support - int(election.support[election.index[plan]])
        more = _with_extra_support(election, plan, extra)
        rerun = greedy(more, per_euro=per_euro, tie_break=tie_break, seed="s")
        return plan in rerun.selected

    assert funded_with(needed)
    assert not funded_with(needed - 1)


def _with_extra_support(election: Election, plan: int | str, extra: int) -> Election:
    """The election plus ballots that give ``plan`` exactly ``extra`` more support."""
    if extra <= 0:
        return election
    if election.vote_type is VoteType.POINTS:
        added = [{str(plan): extra}]
    else:
        added = [{str(plan): 1} for _ in range(extra)]
    return Election(
        election.budget, election.projects, [*election.ballots, *added], election.vote_type
    )


def _election(costs: dict[str, int], ballots: list[list[str]], budget: int) -> Election:
    projects = tuple(Project(pid, Fraction(cost)) for pid, cost in costs.items())
    return Election(Fraction(budget), projects, [dict.fromkeys(b, 1) for b in ballots])


def test_funds_by_support_and_skips_what_does_not_fit() -> None:
    election = _election(
        {"a": 60, "b": 50, "c": 30, "d": 10},
        [["a", "b"], ["a", "b"], ["a", "c"], ["b", "d"], ["a"]],
        budget=100,
    )
    outcome = greedy(election)
    # a (4 votes), b (3) no longer fits, then the 1-vote tie goes to the cheaper d, then c.
    assert outcome.selected == ("a", "d", "c")
    b = outcome.explanations["b"]
    assert (b.funded, b.reason) == (False, "did_not_fit")
    assert b.facts["budget_left"] == 40
    assert b.facts["taken_by"] == "a"
    assert b.facts["needed_support"] == 4  # a tie with a's 4 votes goes to the cheaper b
    a = outcome.explanations["a"]
    assert (a.reason, a.facts["budget_left"], a.facts["turn"], a.facts["support"]) == (
        "funded",
        100,
        1,
        4,
    )
    assert outcome.facts == {"budget": 100, "spent": 100, "left": 0}


def test_per_euro_prefers_cheap_popular_plans() -> None:
    election = _election(
        {"a": 60, "b": 50, "c": 30, "d": 10},
        [["a", "b"], ["a", "b"], ["a", "c"], ["b", "d"], ["a"]],
        budget=100,
    )
    # votes per euro: d 1/10 > a 4/60 > b 3/50 > c 1/30; b no longer fits after d and a
    outcome = greedy(election, per_euro=True)
    assert outcome.selected == ("d", "a", "c")
    assert outcome.rule == "greedy-per-euro"


def test_pabutools_ties_follow_id_string_order() -> None:
    election = _election({"9": 10, "10": 10, "2": 10}, [["9", "10", "2"]], budget=20)
    assert greedy(election, tie_break=TieBreak.PABUTOOLS).selected == ("10", "2")


def test_lottery_ties_prefer_lower_cost_then_the_seeded_draw() -> None:
    election = _election({"x": 20, "y": 10, "z": 20}, [["x", "y", "z"]], budget=30)
    assert greedy(election).selected[0] == "y"
    winners = {greedy(election, seed=str(seed)).selected for seed in range(30)}
    assert winners == {("y", "x"), ("y", "z")}  # the lot decides between x and z
    assert greedy(election, seed="7") == greedy(election, seed="7")


def test_supported_free_plans_come_first_and_unsupported_plans_stay_out() -> None:
    election = _election({"free": 0, "a": 10, "nobody": 5}, [["a"], ["free"]], budget=15)
    outcome = greedy(election)
    assert outcome.selected == ("free", "a")
    nobody = outcome.explanations["nobody"]
    assert (nobody.funded, nobody.reason, nobody.facts["needed_support"]) == (
        False,
        "no_support",
        1,
    )
    with_pabutools_habit = greedy(election, fund_unsupported=True)
    assert with_pabutools_habit.selected == ("free", "a", "nobody")


def test_no_ballots_funds_nothing() -> None:
    election = _election({"a": 10, "b": 20}, [], budget=100)
    outcome = greedy(election)
    assert outcome.selected == ()
    assert {e.reason for e in outcome.explanations.values()} == {"no_support"}


def test_budget_zero_funds_only_free_plans() -> None:
    election = _election({"a": 10, "free": 0}, [["a", "free"]], budget=0)
    outcome = greedy(election)
    assert outcome.selected == ("free",)
    assert outcome.explanations["a"].reason == "over_budget"
    assert "needed_support" not in outcome.explanations["a"].facts


def test_plan_costing_more_than_the_budget_is_explained() -> None:
    election = _election({"big": 101, "small": 50}, [["big"], ["big"], ["small"]], budget=100)
    outcome = greedy(election)
    assert outcome.selected == ("small",)
    assert outcome.explanations["big"].reason == "over_budget"


def test_one_voter_gets_what_fits() -> None:
    election = _election({"a": 70, "b": 40, "c": 30}, [["a", "b", "c"]], budget=100)
    assert greedy(election, tie_break=TieBreak.PABUTOOLS).selected == ("a", "c")
    assert greedy(election).selected == ("c", "b")  # lottery mode: cheaper first among ties


def test_points_ballots_count_points() -> None:
    projects = (Project("a", Fraction(50)), Project("b", Fraction(50)))
    ballots = [{"a": 1}, {"a": 1}, {"b": 5}]
    election = Election(Fraction(50), projects, ballots, VoteType.POINTS)
    assert greedy(election).selected == ("b",)
    assert greedy(election.as_approval()).selected == ("a",)


def test_decimal_costs_are_compared_exactly() -> None:
    projects = (Project("a", Fraction("0.1")), Project("b", Fraction("0.2")))
    election = Election(Fraction("0.3"), projects, [{"a": 1, "b": 1}, {"a": 1}])
    assert greedy(election).selected == ("a", "b")  # 0.1 + 0.2 == 0.3 exactly
