from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest

from proeftuin.allocation import (
    Election,
    Explanation,
    Outcome,
    Project,
    TieBreak,
    allocate,
    format_report,
    greedy,
    optimal,
    report_json,
)
from tests.allocation.conftest import EXPECTED, load_pb

KRAKOW = "Poland_Krakow_2025_Biezanow-Prokocim.pb"
# expected.json key -> the CLI's rule for greedy and optimal (equal-shares is tested with its rule).
RULE_OF_KEY = {
    "greedy_cost": "greedy",
    "greedy_card": "greedy-per-euro",
    "maxwelfare_card": "optimal",
    "greedy_points_x_cost": "greedy",
    "greedy_points": "greedy-per-euro",
    "maxwelfare_points": "optimal",
}
SMALL_CASES = [
    (name, key)
    for name in ("Netherlands_Assen_2024.pb", "Poland_Czestochowa_2020_Grabowka.pb")
    for key in EXPECTED[name]
    if key in RULE_OF_KEY and not (key in ("greedy_cost", "greedy_card") and "Czesto" in name)
]


@pytest.mark.parametrize(("name", "key"), SMALL_CASES)
def test_rule_names_reproduce_expected_keys(name: str, key: str) -> None:
    election = load_pb(name)
    outcome = allocate(election, RULE_OF_KEY[key], tie_break=TieBreak.PABUTOOLS)
    assert sorted(outcome.selected) == EXPECTED[name][key]["selected"]


def test_greedy_and_optimal_are_dispatched_with_tie_break_and_seed() -> None:
    election = load_pb("Netherlands_Assen_2024.pb")
    assert allocate(election, "greedy", seed="s") == greedy(election, seed="s")
    assert allocate(election, "greedy-per-euro") == greedy(election, per_euro=True)
    assert allocate(election, "optimal", tie_break=TieBreak.PABUTOOLS) == optimal(
        election, tie_break=TieBreak.PABUTOOLS
    )


def test_equal_shares_gets_every_option() -> None:
    election = load_pb("Netherlands_Assen_2024.pb")
    expected = EXPECTED["Netherlands_Assen_2024.pb"]
    for utility, completion, key in (
        ("count", "none", "mes_card"),
        ("cost", "add1", "mes_cost_add1"),
        ("cost", "greedy", "mes_cost_greedy"),
    ):
        outcome = allocate(
            election,
            "equal-shares",
            utility=utility,
            completion=completion,
            tie_break=TieBreak.PABUTOOLS,
            seed="7",
        )
        assert outcome.rule == "equal_shares"
        assert sorted(outcome.selected) == expected[key]["selected"], key


@pytest.mark.parametrize(
    ("option", "value"),
    [("rule", "random"), ("utility", "joy"), ("completion", "add2")],
)
def test_unknown_options_are_refused(option: str, value: str) -> None:
    arguments: dict[str, Any] = {"rule": "greedy", "utility": "cost", "completion": "none"}
    arguments[option] = value
    rule = arguments.pop("rule")
    with pytest.raises(ValueError, match=f"unknown {option}"):
        allocate(load_pb("Netherlands_Assen_2024.pb"), rule, **arguments)


def test_json_report() -> None:
    election = load_pb(KRAKOW)
    outcome = allocate(election, "greedy", tie_break=TieBreak.PABUTOOLS)
    report = report_json(election, outcome)
    assert json.loads(json.dumps(report)) == report  # plain JSON
    assert report["rule"] == "greedy"
    assert report["budget"] == "2532645.83"  # exact decimal as a string
    assert report["selected"] == list(outcome.selected)
    assert sorted(report["selected"]) == EXPECTED[KRAKOW]["greedy_cost"]["selected"]
    assert Fraction(str(report["total_cost"])) == outcome.total_cost(election)
    projects = {p["id"]: p for p in report["projects"]}
    assert set(projects) == {p.id for p in election.projects}
    first = projects[outcome.selected[0]]
    assert first["funded"] is True
    assert first["explanation"]["reason"] == "funded"
    assert isinstance(first["cost"], int)
    assert report["welfare"] == sum(p["support"] for p in report["projects"] if p["funded"])
    assert set(report["metrics"]) == {
        "budget_used",
        "budget_used_share",
        "voters_with_funded_choice",
        "voters_with_funded_choice_share",
        "mean_cost_satisfaction",
        "mean_count_satisfaction",
        "ejr_up_to_one",
    }
    assert isinstance(report["metrics"]["budget_used_share"], float)


def test_json_renders_explanation_fractions_exactly() -> None:
    projects = (Project("a", Fraction("10.5")), Project("b", Fraction(1, 3)))
    election = Election(Fraction(11), projects, [{"a": 1, "b": 1}])
    outcome = Outcome(
        rule="custom",
        selected=("a",),
        explanations={"a": Explanation(True, "funded", {"share": Fraction(1, 3), "n": 2})},
    )
    report = report_json(election, outcome)
    assert report["budget"] == 11
    assert report["total_cost"] == "10.5"
    assert report["projects"][1]["cost"] == "1/3"
    assert report["projects"][0]["explanation"] == {
        "reason": "funded",
        "facts": {"share": "1/3", "n": 2},
    }
    assert report["projects"][1]["explanation"] is None


def test_table_report_explains_every_plan() -> None:
    projects = (Project("a", Fraction(60)), Project("b", Fraction(50)), Project("c", Fraction(30)))
    election = Election(Fraction(100), projects, [{"a": 1, "b": 1}, {"a": 1}, {"c": 1}])
    text = format_report(election, greedy(election))
    lines = text.splitlines()
    assert lines[0] == "Rule: greedy   Budget: 100   Voters: 3   Plans: 3"
    assert lines[2].split() == ["Plan", "Cost", "Support", "Funded", "Why"]
    assert lines[3].startswith("a ")
    assert "funded; 100 left at its turn" in lines[3]
    assert lines[4].startswith("c ")
    row_b = next(line for line in lines if line.startswith("b "))
    assert "did not fit; 10 left at its turn; needed support 2 to come before a" in row_b
    assert "Funded: 2 plans, total cost 90 (90.0% of the budget)" in text
    assert "Voters with at least one funded choice: 3 (100.0%)" in text
    assert text == format_report(election, greedy(election))


def test_table_report_for_optimal_and_unknown_reasons() -> None:
    projects = (Project("a", Fraction(60)), Project("b", Fraction(50)), Project("c", Fraction(50)))
    ballots = [{"a": 1, "b": 1}, {"a": 1, "c": 1}, {"a": 1}, {"b": 1, "c": 1}]
    election = Election(Fraction(100), projects, ballots)
    text = format_report(election, optimal(election))
    assert "not in the best set; forcing it in loses 1 support" in text
    assert "funded; leaving it out loses 1 support" in text
    odd = Outcome(
        rule="x",
        selected=(),
        explanations={"a": Explanation(False, "dropped_out", {"rho": Fraction(1, 2)})},
    )
    assert "dropped out; rho=0.5" in format_report(election, odd)


def test_table_report_words_the_city_greedy_reasons() -> None:
    projects = tuple(
        Project(pid, Fraction(cost)) for pid, cost in [("a", 60), ("b", 50), ("c", 30), ("d", 5)]
    )
    ballots = [{"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 1}, {"a": 1}]
    ballots.append({"d": 1})
    election = Election(Fraction(100), projects, ballots)
    no_skip = allocate(election, "greedy-no-skip", threshold=2)
    assert no_skip.rule == "greedy-no-skip-threshold"
    text = format_report(election, no_skip, preamble=["Ballots: approval ballots"])
    lines = text.splitlines()
    assert lines[1] == "Ballots: approval ballots"
    row = {line.split()[0]: line for line in lines[4:8]}
    assert "did not fit; 40 left at its turn; needed support 4 to come before a" in row["b"]
    assert "not reached; 40 left at its turn; the run stopped at b" in row["c"]
    assert "below the minimum support; 40 left at its turn; minimum 2" in row["d"]
    assert "threshold=" not in text
    skipping = allocate(election, "greedy", threshold=2)
    assert skipping.selected == ("a", "c")
    with pytest.raises(ValueError, match="greedy and greedy-no-skip only"):
        allocate(election, "optimal", threshold=2)
    json_report = report_json(election, no_skip, support=[10, 9, 8, 1])
    assert [p["support"] for p in json_report["projects"]] == [10, 9, 8, 1]
    assert json_report["welfare"] == 10
