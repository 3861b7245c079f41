from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from pabutools.election import parse_pabulib

from proeftuin.allocation import Election, PabulibError, VoteType, format_pb, parse_pb, write_pb
from proeftuin.allocation.pabulib import format_decimal
from tests.allocation.conftest import EXPECTED, PABULIB_DIR, elections, load_pb, to_fraction

# Files pabutools parses in well under a second; the big ones are covered by the rule tests.
LIVE_FILES = (
    "Netherlands_Assen_2024.pb",
    "Poland_Czestochowa_2020_Grabowka.pb",
    "France_Toulouse_2022_1_-_Capitole_Arnaud_Bernard_Carmes.pb",
    "Poland_Krakow_2018_Stare_Miasto.pb",
    "Poland_Swiecie_2023.pb",
    "Poland_Wieliczka_2023_Green_Budget.pb",
    "Poland_Krakow_2025_Biezanow-Prokocim.pb",
)


@pytest.mark.parametrize("name", LIVE_FILES)
def test_reads_reference_files_exactly_as_pabutools(name: str) -> None:
    instance, profile = parse_pabulib(str(PABULIB_DIR / name))
    election = load_pb(name)
    assert election.budget == to_fraction(instance.budget_limit)
    assert {p.id: p.cost for p in election.projects} == {
        p.name: to_fraction(p.cost) for p in instance
    }
    assert len(election.ballots) == len(profile)
    for theirs, ours in zip(profile, election.ballots, strict=True):
        if election.vote_type is VoteType.POINTS:
            assert dict(ours) == {p.name: int(points) for p, points in theirs.items()}
        elif election.vote_type is VoteType.ORDINAL:
            assert list(ours) == [p.name for p in theirs]  # rank order kept
        else:
            assert set(ours) == {p.name for p in theirs}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_reference_file_counts_every_votes_row(name: str) -> None:
    election = load_pb(name)
    assert election.matrix.voter_count == int(election.meta["num_votes"])
    assert len(election.projects) == int(election.meta["num_projects"])


def test_vote_types_and_decimal_amounts() -> None:
    toulouse = load_pb("France_Toulouse_2022_1_-_Capitole_Arnaud_Bernard_Carmes.pb")
    assert toulouse.budget == 400000  # written 400000.0
    krakow = load_pb("Poland_Krakow_2025_Biezanow-Prokocim.pb")
    assert krakow.budget == Fraction("2532645.83")
    assert krakow.vote_type is VoteType.ORDINAL
    assert load_pb("Poland_Czestochowa_2020_Grabowka.pb").vote_type is VoteType.POINTS
    assert load_pb("Netherlands_Assen_2024.pb").vote_type is VoteType.APPROVAL


SMALL = """META
key;value
description;Wijk "Noord"; test
budget;100,5
vote_type;{vote_type}
PROJECTS
project_id;cost;name
1;50;Bankjes
2;40.25;"Speeltuin; groot"
10;10;Bomen
VOTES
voter_id;vote{points_header}
a;1,2{points_a}
b;10{points_b}
c;{points_c}
"""


def _small(vote_type: str = "approval", line_end: str = "\n") -> str:
    points = vote_type in ("cumulative", "scoring")
    text = SMALL.format(
        vote_type=vote_type,
        points_header=";points" if points else "",
        points_a=";3,2" if points else "",
        points_b=";5" if points else "",
        points_c=";" if points else "",
    )
    return text.replace("\n", line_end)


def test_reads_a_small_file() -> None:
    election = parse_pb(_small())
    assert election.budget == Fraction("100.5")
    assert [(p.id, p.cost, p.name) for p in election.projects] == [
        ("1", 50, "Bankjes"),
        ("2", Fraction("40.25"), "Speeltuin; groot"),
        ("10", 10, "Bomen"),
    ]
    assert list(election.ballots) == [{"1": 1, "2": 1}, {"10": 1}, {}]  # the empty row is a voter
    assert election.meta["description"] == 'Wijk "Noord"'
    assert election.vote_type is VoteType.APPROVAL


@pytest.mark.parametrize("vote_type", ["cumulative", "scoring"])
def test_reads_points_ballots(vote_type: str) -> None:
    election = parse_pb(_small(vote_type))
    assert election.vote_type is VoteType.POINTS
    assert list(election.ballots) == [{"1": 3, "2": 2}, {"10": 5}, {}]
    assert election.points.tolist() == [3, 2, 5]


def test_choose_one_is_approval_and_ordinal_keeps_the_ranking() -> None:
    assert parse_pb(_small("choose-1")).vote_type is VoteType.APPROVAL
    ordinal = parse_pb(_small("ordinal").replace("a;1,2", "a;2,10,1"))
    assert ordinal.vote_type is VoteType.ORDINAL
    assert list(ordinal.ballots[0]) == ["2", "10", "1"]


@pytest.mark.parametrize("line_end", ["\r\n", "\r", "\n"])
def test_line_ends_do_not_matter(line_end: str) -> None:
    assert parse_pb(_small(line_end=line_end)) == parse_pb(_small())
    mixed = "".join(
        line + ("\r\n" if n % 2 else "\n") for n, line in enumerate(_small().splitlines())
    )
    assert parse_pb(mixed) == parse_pb(_small())


def test_bytes_with_a_byte_order_mark_and_blank_lines() -> None:
    text = _small().replace("PROJECTS", "\n  \nPROJECTS")
    assert parse_pb(("\ufeff" + text).encode()) == parse_pb(_small())


def test_repeated_projects_on_a_ballot_count_once_like_pabutools() -> None:
    approval = parse_pb(_small().replace("a;1,2", "a;2,1,2"))
    assert list(approval.ballots[0]) == ["2", "1"]
    points = parse_pb(_small("cumulative").replace("a;1,2;3,2", "a;1,2,1;3,2,4"))
    assert list(points.ballots[0].items()) == [("1", 4), ("2", 2)]


def test_slow_path_with_quotes_in_votes_reads_the_same() -> None:
    quoted = _small().replace("b;10", '"b";"10"')
    assert parse_pb(quoted) == parse_pb(_small())


def test_none_cells_are_empty() -> None:
    election = parse_pb(_small().replace("c;", "c;None"))
    assert election.ballots[2] == {}


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (lambda t: t.replace("a;1,2", "a;1,7"), 13, "unknown project '7'"),
        (lambda t: t.replace("2;40.25", "2;veertig"), 9, "cost of project '2' is not a number"),
        (lambda t: t.replace("2;40.25", "2;-40"), 9, "negative"),
        (lambda t: t.replace("2;40.25", "2;None"), 9, "project '2' has no cost"),
        (lambda t: t.replace("10;10;Bomen", "1;10;Bomen"), 10, "listed twice"),
        (lambda t: t.replace("budget;100,5\n", ""), 1, "no budget"),
        (lambda t: t.replace("budget;100,5", "budget;veel"), 4, "budget is not a number"),
        (lambda t: t.replace("vote_type;approval\n", ""), 1, "no vote_type"),
        (lambda t: t.replace("vote_type;approval", "vote_type;ranked"), 5, "unknown vote_type"),
        (lambda t: t.replace("VOTES\nvoter_id;vote\na;1,2\nb;10\nc;\n", ""), 10, "missing VOTES"),
        (lambda t: t.replace("META\nkey;value\n", ""), 1, "expected META"),
        (lambda t: "x\n" + t, 1, "expected META"),
        (lambda t: t.replace("budget;100,5", "budget"), 4, "key;value"),
        (lambda t: t + "PROJECTS\nproject_id;cost\n", 16, "second PROJECTS"),
        (lambda t: t.replace("voter_id;vote", "voter_id;stem"), 12, "no vote column"),
        (lambda t: t.replace("project_id;cost;name", "project_id;prijs;name"), 7, "no cost"),
        (lambda t: t.rstrip("\n").rsplit("\n", 4)[0] + "\n", 11, "VOTES has no header"),
    ],
)
def test_malformed_files_name_the_line(change: object, line: int, message: str) -> None:
    with pytest.raises(PabulibError, match=message) as raised:
        parse_pb(change(_small()))  # type: ignore[operator]
    assert raised.value.line == line
    assert str(raised.value).startswith(f"line {line}: ")


@pytest.mark.parametrize(
    ("points", "message"),
    [("a;1,2;3", "2 projects but 1 points"), ("a;1,2;3,-2", "negative"), ("a;1,2;3,1.5", "whole")],
)
def test_malformed_points_name_the_line(points: str, message: str) -> None:
    with pytest.raises(PabulibError, match=message) as raised:
        parse_pb(_small("cumulative").replace("a;1,2;3,2", points))
    assert raised.value.line == 13


def test_points_written_as_decimals_are_read() -> None:
    election = parse_pb(_small("cumulative").replace("a;1,2;3,2", "a;1,2;3.0,2.0"))
    assert election.ballots[0] == {"1": 3, "2": 2}


def test_not_utf8_names_the_line() -> None:
    data = _small().encode().replace(b"Bomen", b"B\xf6men")
    with pytest.raises(PabulibError, match="not UTF-8") as raised:
        parse_pb(data)
    assert raised.value.line == 10


def _same(a: Election, b: Election) -> None:
    assert a.budget == b.budget
    assert a.projects == b.projects
    assert a.vote_type == b.vote_type
    assert list(a.ballots) == list(b.ballots)
    assert [list(ballot) for ballot in a.ballots] == [list(ballot) for ballot in b.ballots]


@pytest.mark.parametrize("name", LIVE_FILES)
def test_round_trip_of_reference_files(name: str, tmp_path: Path) -> None:
    election = load_pb(name)
    write_pb(election, tmp_path / name)
    again = parse_pb((tmp_path / name).read_bytes())
    _same(election, again)
    assert format_pb(again) == format_pb(election)  # deterministic and stable
    # pabutools reads what we write, to the same election.
    instance, profile = parse_pabulib(str(tmp_path / name))
    assert len(profile) == len(election.ballots)
    assert to_fraction(instance.budget_limit) == election.budget


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections(vote_types=tuple(VoteType), max_voters=60))
def test_round_trip_of_random_elections(election: Election) -> None:
    text = format_pb(election)
    again = parse_pb(text)
    _same(election, again)
    assert format_pb(again) == text


def test_writer_keeps_meta_and_updates_counts() -> None:
    election = parse_pb(_small())
    text = format_pb(election)
    assert text.startswith("META\nkey;value\ndescription;")
    assert "num_projects;3\n" in text and "num_votes;3\n" in text
    assert "budget;100.5\n" in text
    assert '2;40.25;"Speeltuin; groot"\n' in text
    assert text.endswith("VOTES\nvoter_id;vote\n1;1,2\n2;10\n3;\n")


def test_writer_refuses_ids_a_reader_would_split() -> None:
    election = parse_pb(_small())
    bad = Election(
        election.budget,
        (election.projects[0].__class__("a,b", Fraction(1)),),
        [],
    )
    with pytest.raises(ValueError, match="cannot be written"):
        format_pb(bad)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(12), "12"),
        (Fraction("2532645.83"), "2532645.83"),
        (Fraction("0.05"), "0.05"),
        (Fraction(-3, 4), "-0.75"),
        (Fraction(1, 3), "1/3"),
        (Fraction(1, 8), "0.125"),
    ],
)
def test_format_decimal_is_exact(value: Fraction, text: str) -> None:
    assert format_decimal(value) == text
    assert Fraction(text) == value


# -- honest reading: counts, empty files, rankings, further columns -------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("num_votes", "4", "META says num_votes 4 but VOTES has 3 rows"),
        ("num_votes", "2", "META says num_votes 2 but VOTES has 3 rows"),
        ("num_projects", "4", "META says num_projects 4 but PROJECTS has 3 rows"),
        ("num_votes", "veel", "num_votes is not a whole number"),
    ],
)
def test_meta_counts_must_match_the_rows(key: str, value: str, message: str) -> None:
    text = _small().replace("budget;100,5", f"budget;100,5\n{key};{value}")
    with pytest.raises(PabulibError, match=message) as raised:
        parse_pb(text)
    assert raised.value.line == 5  # the META line with the count


def test_a_file_cut_off_in_its_votes_is_refused() -> None:
    text = _small().replace("budget;100,5", "budget;100,5\nnum_votes;3\nnum_projects;3")
    assert parse_pb(text).matrix.voter_count == 3
    with pytest.raises(PabulibError, match="num_votes 3 but VOTES has 2 rows"):
        parse_pb(text.rstrip("\n").rsplit("\n", 1)[0] + "\n")


@pytest.mark.parametrize("content", ["", "\n", "  \r\n\t\n", b"", b"\xef\xbb\xbf"])
def test_an_empty_or_blank_file_is_malformed(content: str | bytes) -> None:
    with pytest.raises(PabulibError, match="the file is empty") as raised:
        parse_pb(content)
    assert raised.value.line == 1


def test_text_without_any_section_is_malformed() -> None:
    with pytest.raises(PabulibError, match="expected META, PROJECTS or VOTES"):
        parse_pb("hallo\n")


def test_further_project_columns_are_kept_as_text() -> None:
    text = _small().replace("project_id;cost;name", "project_id;cost;name;selected;score")
    text = text.replace("1;50;Bankjes", "1;50;Bankjes;1;7").replace("10;10;Bomen", "10;10;Bomen;0")
    election = parse_pb(text)
    assert election.project_data["1"] == {"selected": "1", "score": "7"}
    assert election.project_data["10"] == {"selected": "0", "score": ""}


def test_rankings_become_points_by_rank_only_when_asked() -> None:
    ordinal = parse_pb(_small("ordinal").replace("a;1,2", "a;2,10,1"))
    assert ordinal.vote_type is VoteType.ORDINAL
    ranked = ordinal.as_points_by_rank(3)
    assert ranked.vote_type is VoteType.POINTS
    assert list(ranked.ballots) == [{"2": 3, "10": 2, "1": 1}, {"10": 3}, {}]
    assert ranked.points.tolist() == [1, 3, 5]
    assert ordinal.as_points_by_rank().ballots[0] == {"2": 3, "10": 2, "1": 1}
    with pytest.raises(ValueError, match="longer than 2"):
        ordinal.as_points_by_rank(2)
    with pytest.raises(ValueError, match="only ordinal"):
        ranked.as_points_by_rank()


def test_points_given_with_a_ranking_are_kept() -> None:
    text = _small("cumulative").replace("vote_type;cumulative", "vote_type;ordinal")
    ordinal = parse_pb(text)
    assert ordinal.vote_type is VoteType.ORDINAL
    assert list(ordinal.as_points_by_rank().ballots) == [{"1": 3, "2": 2}, {"10": 5}, {}]
    assert list(parse_pb(format_pb(ordinal)).ballots) == list(ordinal.ballots)
    empty_points = text.replace(";3,2", ";").replace(";5", ";")
    assert list(parse_pb(empty_points).ballots) == [{"1": 1, "2": 1}, {"10": 1}, {}]
