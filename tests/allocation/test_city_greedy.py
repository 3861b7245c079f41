from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proeftuin.allocation import Election, Project, TieBreak, VoteType, greedy
from proeftuin.allocation.city_greedy import CityGreedy, city_greedy
from proeftuin.allocation.ties import tie_key
from tests.allocation.conftest import elections


def _election(costs: dict[str, int], ballots: list[list[str]], budget: int) -> Election:
    projects = tuple(Project(pid, Fraction(cost)) for pid, cost in costs.items())
    return Election(Fraction(budget), projects, [dict.fromkeys(b, 1) for b in ballots])


def _reference(election: Election, rule: CityGreedy, tie_break: TieBreak) -> list[str]:
    """The rule written the plain way (as Pabulib's checker does), to compare with."""
    support = election.support.tolist()
    tie = tie_key(election, tie_break, "s")
    order = sorted(
        range(len(election.projects)),
        # Supported free plans first, among themselves in tie order.
        key=lambda i: (
            support[i] <= 0,
            election.projects[i].cost != 0 or support[i] <= 0,
            -support[i] if election.projects[i].cost else 0,
            tie(i, support[i]),
        ),
    )
    left, chosen = election.budget, []
    for i in order:
        project = election.projects[i]
        if support[i] <= 0 or support[i] < rule.threshold:
            continue
        if any(project.id in g and set(g) & set(chosen) for g in rule.exclusive):
            continue
        if project.cost <= left:
            chosen.append(project.id)
            left -= project.cost
            continue
        if rule.reserve_share is not None:
            if left >= rule.reserve_share * project.cost:
                chosen.append(project.id)
            break
        if not rule.skip:
            break
    return chosen


RULES = st.builds(
    CityGreedy,
    skip=st.booleans(),
    threshold=st.sampled_from([0, 1, 2, 5, 20]),
    reserve_share=st.sampled_from([None, None, Fraction(4, 5), Fraction(1)]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_voters=200), RULES, st.sampled_from(list(TieBreak)))
def test_agrees_with_the_plain_rule(
    election: Election, rule: CityGreedy, tie_break: TieBreak
) -> None:
    outcome = city_greedy(election, rule, tie_break=tie_break, seed="s")
    assert list(outcome.selected) == _reference(election, rule, tie_break)
    for project_id, explanation in outcome.explanations.items():
        assert explanation.funded == (project_id in outcome.selected)
    assert outcome.facts["spent"] == outcome.total_cost(election)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(max_voters=200), st.sampled_from(list(TieBreak)))
def test_without_variations_it_is_the_usual_greedy(election: Election, tie: TieBreak) -> None:
    ours = city_greedy(election, tie_break=tie, seed="s")
    usual = greedy(election, tie_break=tie, seed="s")
    assert ours.selected == usual.selected
    for project_id, explanation in usual.explanations.items():
        assert ours.explanations[project_id].facts.get("needed_support") == (
            explanation.facts.get("needed_support")
        )


def _with_extra_support(election: Election, plan: str, extra: int) -> Election:
    if extra <= 0:
        return election
    if election.vote_type is VoteType.POINTS:
        added = [{plan: extra}]
    else:
        added = [{plan: 1} for _ in range(extra)]
    return Election(
        election.budget, election.projects, [*election.ballots, *added], election.vote_type
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    elections(max_voters=150),
    st.booleans(),
    st.sampled_from([0, 2, 7]),
    st.sampled_from(list(TieBreak)),
    st.data(),
)
def test_needed_support_is_exactly_enough(
    election: Election, skip: bool, threshold: int, tie_break: TieBreak, data: st.DataObject
) -> None:
    rule = CityGreedy(skip=skip, threshold=threshold)
    outcome = city_greedy(election, rule, tie_break=tie_break, seed="s")
    missed = sorted(pid for pid, e in outcome.explanations.items() if "needed_support" in e.facts)
    if not missed:
        return
    plan = data.draw(st.sampled_from(missed))
    needed = outcome.explanations[plan].facts["needed_support"]
    assert isinstance(needed, int)
    have = int(election.support[election.index[plan]])
    assert needed > have

    def funded_with(support: int) -> bool:
        more = _with_extra_support(election, plan, support - have)
        return plan in city_greedy(more, rule, tie_break=tie_break, seed="s").selected

    assert funded_with(needed)
    assert not funded_with(needed - 1)


def test_without_skipping_the_run_stops_at_the_first_plan_that_does_not_fit() -> None:
    election = _election(
        {"a": 60, "b": 50, "c": 30}, [["a", "b", "c"], ["a", "b"], ["a"]], budget=100
    )
    assert greedy(election).selected == ("a", "c")
    outcome = city_greedy(election, CityGreedy(skip=False))
    assert outcome.rule == "greedy-no-skip"
    assert outcome.selected == ("a",)
    b, c = outcome.explanations["b"], outcome.explanations["c"]
    assert (b.reason, b.facts["budget_left"], b.facts["turn"]) == ("did_not_fit", 40, 2)
    assert b.facts["needed_support"] == 3 and b.facts["taken_by"] == "a"  # ties go to the cheaper
    assert (c.reason, c.facts["stopped_at"], c.facts["needed_support"]) == ("not_reached", "b", 2)
    assert outcome.facts["stopped_at"] == "b"


def test_a_plan_needs_the_minimum_score_and_one_exactly_at_it_takes_part() -> None:
    ballots = [["a", "b", "c"], ["a", "b"], ["a", "b"], ["a"]]
    election = _election({"a": 10, "b": 10, "c": 10}, ballots, budget=100)
    outcome = city_greedy(election, CityGreedy(threshold=3))
    assert outcome.rule == "greedy-threshold"
    assert outcome.selected == ("a", "b")  # b has exactly 3
    c = outcome.explanations["c"]
    assert (c.funded, c.reason, c.facts["threshold"], c.facts["needed_support"]) == (
        False,
        "below_threshold",
        3,
        3,
    )


def test_the_reserve_funds_the_plan_that_just_did_not_fit() -> None:
    ballots = [["a", "b", "c"], ["a", "b", "c"], ["a", "b"], ["a"]]
    election = _election({"a": 50, "b": 60, "c": 10}, ballots, budget=100)
    outcome = city_greedy(election, CityGreedy(reserve_share=Fraction(4, 5)))
    assert outcome.rule == "greedy-reserve"
    assert outcome.selected == ("a", "b")  # 50 left covers 80 % of b's 60
    b = outcome.explanations["b"]
    assert (b.funded, b.reason, b.facts["reserve"]) == (True, "funded_from_reserve", 10)
    c = outcome.explanations["c"]
    assert (c.funded, c.reason, c.facts["stopped_at"]) == (False, "not_reached", "b")
    assert outcome.facts["spent"] == 110 and outcome.facts["reserve"] == 10
    poorer = _election({"a": 50, "b": 70, "c": 10}, ballots, budget=100)
    short = city_greedy(poorer, CityGreedy(reserve_share=Fraction(4, 5)))
    assert short.selected == ("a",)  # 50 is less than 80 % of 70: the run stops there
    assert short.explanations["b"].reason == "did_not_fit"
    assert short.explanations["c"].reason == "not_reached"


def test_of_mutually_exclusive_plans_only_the_first_is_funded() -> None:
    ballots = [["a", "b", "c"], ["a", "b"], ["b"]]
    election = _election({"a": 10, "b": 10, "c": 10}, ballots, budget=100)
    rule = CityGreedy(exclusive=(frozenset({"a", "b"}),))
    outcome = city_greedy(election, rule)
    assert outcome.rule == "greedy-exclusive"
    assert outcome.selected == ("b", "c")
    a = outcome.explanations["a"]
    assert (a.funded, a.reason, a.facts["excluded_by"]) == (False, "excluded", "b")
    assert "needed_support" not in a.facts


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": -1}, "threshold"),
        ({"reserve_share": Fraction(0)}, "reserve_share"),
        ({"reserve_share": Fraction(3, 2)}, "reserve_share"),
    ],
)
def test_bad_rules_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CityGreedy(**kwargs)  # type: ignore[arg-type]


def test_bad_exclusive_groups_and_supports_are_refused() -> None:
    election = _election({"a": 10, "b": 10}, [["a"]], budget=100)
    with pytest.raises(ValueError, match="unknown plans"):
        city_greedy(election, CityGreedy(exclusive=(frozenset({"a", "x"}),)))
    twice = (frozenset({"a", "b"}), frozenset({"b"}))
    with pytest.raises(ValueError, match="one exclusive group"):
        city_greedy(election, CityGreedy(exclusive=twice))
    with pytest.raises(ValueError, match="one support per plan"):
        city_greedy(election, support=[1])


def test_a_file_s_own_totals_can_replace_the_ballots() -> None:
    election = _election({"a": 60, "b": 50}, [["a"], ["a"]], budget=100)
    outcome = city_greedy(election, support=[1, 5])
    assert outcome.selected == ("b",)
    assert outcome.explanations["a"].facts["support"] == 1
