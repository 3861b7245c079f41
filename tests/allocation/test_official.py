from __future__ import annotations

from pathlib import Path

import pytest

from proeftuin.allocation import Election, parse_pb, read_pb
from proeftuin.allocation.official import official_selection, run_official
from tests.allocation.conftest import PABULIB_DIR

OFFICIAL_DIR = PABULIB_DIR / "official"
OFFICIAL_FILES = sorted(OFFICIAL_DIR.glob("*.pb"))
# Files beside official/ that also carry the city's outcome: elections the rules were not built on.
OTHER_FILES = [path for path in sorted(PABULIB_DIR.glob("*.pb")) if "selected" in path.read_text()]


def _marks(election: Election) -> dict[str, str]:
    return {pid: data["selected"] for pid, data in election.project_data.items()}


@pytest.mark.parametrize("path", OFFICIAL_FILES + OTHER_FILES, ids=lambda path: path.stem)
def test_every_decision_the_rule_makes_is_the_city_s(path: Path) -> None:
    """Each plan marked 0 or 1 is decided as the city did; a plan marked 2 or 3 that the rule does
    not fund is one the file says (or does not say) was paid from other money, and is named."""
    election = read_pb(path)
    result = run_official(election)
    assert result.problem is None
    assert result.official is not None and result.outcome is not None
    assert result.extra == []
    marks = _marks(election)
    assert all(marks[pid] in ("2", "3") for pid in result.missing)
    if result.matches:
        assert result.reasons == ()
    else:
        assert any("marked selected=" in reason for reason in result.reasons)


def test_at_least_97_percent_of_the_official_outcomes_are_reproduced() -> None:
    matched = sum(bool(run_official(read_pb(path)).matches) for path in OFFICIAL_FILES)
    assert len(OFFICIAL_FILES) == 153
    assert matched / len(OFFICIAL_FILES) >= 0.97


@pytest.mark.parametrize(
    "path", [p for p in OFFICIAL_FILES if "Krakow" in p.name], ids=lambda path: path.stem
)
def test_krakow_rankings_count_as_points_by_rank_like_the_score_column(path: Path) -> None:
    election = read_pb(path)
    result = run_official(election)
    assert result.reading == (
        "ordinal ballots, counted as points by rank (first 3, then one less each), "
        "as the file's score column"
    )
    assert result.counted == {
        pid: int(data["score"]) for pid, data in election.project_data.items()
    }


SMALL = """META
key;value
budget;100
vote_type;{vote_type}
rule;{rule}
{meta}PROJECTS
project_id;cost;votes;score;selected
a;60;3;{score_a};{selected_a}
b;50;2;{score_b};0
c;30;1;1;{selected_c}
VOTES
voter_id;vote
1;a,b,c
2;a,b
3;a
"""


def _small_text(
    rule: str,
    meta: str = "",
    vote_type: str = "approval",
    selected: tuple[str, str] = ("1", "1"),
    scores: tuple[int, int] = (3, 2),
) -> str:
    return SMALL.format(
        rule=rule,
        meta=meta,
        vote_type=vote_type,
        selected_a=selected[0],
        selected_c=selected[1],
        score_a=scores[0],
        score_b=scores[1],
    )


def _small(
    rule: str,
    meta: str = "",
    vote_type: str = "approval",
    selected: tuple[str, str] = ("1", "1"),
    scores: tuple[int, int] = (3, 2),
) -> Election:
    return parse_pb(_small_text(rule, meta, vote_type, selected, scores))


@pytest.mark.parametrize(
    ("rule", "meta", "selected"),
    [
        ("greedy", "", ("a", "c")),
        ("greedy-no-skip", "", ("a",)),
        ("greedy-threshold", "min_project_score_threshold;2\n", ("a",)),
        ("greedy", "min_project_score_threshold;2\n", ("a",)),
        ("greedy-exclusive", "comment;#1: projects a and c are mutually exclusive\n", ("a",)),
        ("greedy-exclusive", "", ("a", "c")),
    ],
)
def test_the_rule_meta_names_is_the_rule_run(
    rule: str, meta: str, selected: tuple[str, ...]
) -> None:
    result = run_official(_small(rule, meta))
    assert result.outcome is not None
    assert result.outcome.selected == selected
    assert result.matches is (set(selected) == {"a", "c"})


def test_exclusive_plans_found_in_the_comment_or_said_to_be_missing() -> None:
    named = run_official(
        _small("greedy-exclusive", "comment;#1: projects a and c are mutually exclusive\n")
    )
    assert "mutually exclusive by the file's comment: a and c" in named.notes
    assert named.outcome is not None
    assert named.outcome.explanations["c"].reason == "excluded"
    unnamed = run_official(_small("greedy-exclusive"))
    assert any("does not say which plans exclude" in note for note in unnamed.notes)


def test_a_custom_rule_follows_the_comment_when_it_states_one() -> None:
    comment = (
        "comment;#1: we fund projects until the next project on the list does not fit within "
        "the budget. Finally, if the remaining budget is enough to fund at least 80% of that "
        "project, we fund it as well.\n"
    ).replace("80%", "85%")
    result = run_official(_small("greedy-custom", comment, selected=("1", "0")))
    assert result.outcome is not None
    assert result.outcome.selected == ("a",)  # 40 left is less than 85 % of b's 50
    assert result.matches is True
    richer = run_official(_small("greedy-custom", comment.replace("85%", "80%")))
    assert richer.outcome is not None
    assert richer.outcome.selected == ("a", "b")
    assert richer.outcome.explanations["b"].reason == "funded_from_reserve"


@pytest.mark.parametrize(
    ("rule", "meta", "problem"),
    [
        ("greedy-custom", "", "has no comment that states it"),
        ("greedy-custom", "comment;#1: the mayor decides\n", "states no rule we can follow"),
        ("greedy-threshold", "", "has no min_project_score_threshold"),
        ("greedy", "min_project_score_threshold;veel\n", "not a whole number"),
        ("unknown", "", "not one we know"),
        ("", "", "names no rule"),
        ("equalshares", "", None),
    ],
)
def test_a_rule_that_cannot_be_run_says_why(rule: str, meta: str, problem: str | None) -> None:
    result = run_official(_small(rule, meta))
    if problem is None:
        assert result.outcome is not None and result.problem is None
        return
    assert result.outcome is None and result.matches is None
    assert result.problem is not None and problem in result.problem


def test_equal_shares_on_points_ballots_is_not_pretended() -> None:
    election = parse_pb(
        _small_text("equalshares", vote_type="cumulative").replace(
            "voter_id;vote\n1;a,b,c\n2;a,b\n3;a", "voter_id;vote;points\n1;a;1\n2;b;1\n3;a;1"
        )
    )
    result = run_official(election)
    assert result.problem == "equalshares is defined here for approval ballots only"


def test_without_a_selected_column_there_is_nothing_to_match() -> None:
    election = _small("greedy")
    bare = parse_pb(_small_text("greedy", selected=("", "")))
    assert official_selection(election) == {"a", "c"}
    assert official_selection(bare) is None
    assert run_official(bare).matches is None


def test_totals_in_the_file_that_differ_from_the_ballots_are_named() -> None:
    election = parse_pb(_small_text("greedy", selected=("0", "1")).replace("a;60;3;", "a;60;30;"))
    result = run_official(election)
    assert result.matches is False
    assert result.missing == [] and result.extra == ["a"]
    differs = "the file's votes column differs from the ballots for 1 plans (a)"
    assert any(note.startswith(differs) for note in result.notes)
    assert any(reason.startswith(differs) for reason in result.reasons)


def test_rankings_counted_otherwise_than_by_rank_use_the_score_column() -> None:
    election = _small("greedy", "max_length;3\n", vote_type="ordinal", scores=(1, 9))
    result = run_official(election)
    assert result.reading == "ordinal ballots, counted by the file's score column"
    assert result.counted == {"a": 1, "b": 9, "c": 1}
    assert result.outcome is not None and result.outcome.selected == ("b", "c")
    assert any("differ from the file's score column for 2 plans" in n for n in result.notes)
    by_rank = run_official(_small("greedy", "max_length;3\n", vote_type="ordinal", scores=(9, 4)))
    assert by_rank.counted == {"a": 9, "b": 4, "c": 1}
    assert by_rank.reading.endswith("as the file's score column")


def test_an_outcome_that_a_tie_decides_says_so() -> None:
    # a (60) and b (50) both get 3 votes: lottery ties go to the cheaper b, id order to a.
    tied = _small_text("greedy").replace("3;a\n", "3;a\n4;b\n")
    result = run_official(parse_pb(tied))
    assert result.outcome is not None
    assert result.outcome.selected == ("b", "c")
    decided = "plans with equal support decide this outcome: with ties broken by pabutools"
    assert f"{decided} it would fund a, c" in result.notes
    untied = run_official(_small("greedy"))
    assert not any("equal support" in note for note in untied.notes)
