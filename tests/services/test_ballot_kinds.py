"""The ballot-kind specs: every kind has one, complete, and the rest of the code asks it rather
than testing the kind's name."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.allocation import Election, Project, VoteType, format_pb, parse_pb
from proeftuin.allocation.ballots import BallotKind, InvalidBallot
from proeftuin.config import Settings
from proeftuin.db import Database, read, table_of, transact
from proeftuin.models import Round
from proeftuin.services import ballot_kinds
from proeftuin.services.ballot_kinds import RULE_COLUMNS, TEMPLATE_MACROS, Param, RoundRules
from proeftuin.web.templating import create_templates, resource_dir
from tests.factories import make_round

ROOT = Path(__file__).resolve().parents[2]
PLANS = [Project("a", Fraction(400)), Project("b", Fraction(300)), Project("c", Fraction(500))]


def _rules(kind: BallotKind, **settings: int | None) -> RoundRules:
    values: dict[str, int | None] = {
        "min_choices": 0,
        "max_choices": None,
        "min_spend_percent": 0,
        "points_total": 0,
    }
    values.update(settings)
    return ballot_kinds.round_rules(
        kind,
        1_000,
        values["min_choices"] or 0,
        values["max_choices"],
        values["min_spend_percent"] or 0,
        values["points_total"] or 0,
    )


def _check(kind: BallotKind, choices: dict[str, int], **settings: int | None) -> dict[str, int]:
    spec = ballot_kinds.spec(kind)
    engine = spec.engine_rules(_rules(kind, **settings))
    return dict(spec.check(engine, PLANS, Fraction(1_000), choices))


# -- one spec per kind, complete ---------------------------------------------------------------


def test_every_kind_has_its_own_spec_and_the_form_offers_each_once() -> None:
    for kind in BallotKind:
        assert ballot_kinds.spec(kind).kind is kind
    assert sorted(spec.kind for spec in ballot_kinds.SPECS) == sorted(BallotKind)


@pytest.mark.parametrize("kind", list(BallotKind))
def test_every_template_a_spec_names_exists_with_every_macro_the_pages_call(
    kind: BallotKind, tmp_path: Path
) -> None:
    spec = ballot_kinds.spec(kind)
    assert (resource_dir("templates") / spec.template).is_file()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        secret_key="test-secret-key-" + "x" * 32,
        code_pepper="test-pepper-" + "y" * 32,
        env="test",
        instance_path=tmp_path,
    )
    module = create_templates(settings).env.get_template(spec.template).module
    missing = [name for name in TEMPLATE_MACROS if not callable(getattr(module, name, None))]
    assert missing == []


def test_the_pages_import_the_template_the_spec_names() -> None:
    # The other half of the contract: each generic page calls the kind's macros.
    for page in ("voting/ballot.html", "voting/review.html", "voting/_state.html"):
        assert re.search(r"{% import (page\.)?round\.template as kind %}", _template(page))
    for page in ("codes/paper.html", "codes/_paper_total.html"):
        assert "{% import ballot.template as kind %}" in _template(page)
    called = set()
    for page in (
        "voting/ballot.html",
        "voting/_rules.html",
        "voting/_options.html",
        "voting/review.html",
        "voting/_review_table.html",
        "voting/_state.html",
        "codes/paper.html",
        "codes/_paper_total.html",
    ):
        called |= set(re.findall(r"\bkind\.(\w+)\(", _template(page)))
    assert called == set(TEMPLATE_MACROS)


def test_no_template_tests_a_kind_by_its_name() -> None:
    branch = re.compile(r"""kind(\.value)?\s*(==|!=|\bin\b|\bnot in\b)\s*["'(\[]""")
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in (ROOT / "templates").rglob("*.html")
        for match in branch.finditer(path.read_text())
    ]
    assert found == []


def test_no_python_outside_the_specs_branches_on_a_kind() -> None:
    # Where code must branch on a kind it does so in the engine's _shape or in ballot_kinds.spec,
    # with a match that the type check holds to every member.
    allowed = {
        ROOT / "proeftuin/allocation/ballots.py",
        *(ROOT / "proeftuin/services/ballot_kinds").glob("*.py"),
    }
    branch = re.compile(
        r"(==|!=|\bis\b|\bin\b|\bcase)\s*[\(\[{]?\s*BallotKind\.[A-Z_]+"
        r"|BallotKind\.[A-Z_]+(\.value)?\s*(==|!=|\bin\b)"
        r"""|ballot_kind\s*(==|!=)\s*["']"""
    )
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in (ROOT / "proeftuin").rglob("*.py")
        if path not in allowed
        for match in branch.finditer(path.read_text())
    ]
    assert found == []


# -- parameters ----------------------------------------------------------------------------------


def test_settings_a_kind_does_not_use_stay_at_their_defaults() -> None:
    everything = {"min_choices": 1, "max_choices": 3, "min_spend_percent": 40, "points_total": 10}
    for kind in BallotKind:
        rules = _rules(kind, **everything)
        params = ballot_kinds.spec(kind).params
        assert rules.min_spend_percent == (40 if Param.MIN_SPEND_PERCENT in params else 0)
        assert rules.points_total == (10 if Param.POINTS_TOTAL in params else 0)
        assert (rules.min_choices, rules.max_choices) == (1, 3)  # every kind limits the count
    assert ballot_kinds.spec(BallotKind.KNAPSACK).params >= {Param.MIN_SPEND_PERCENT}
    assert ballot_kinds.spec(BallotKind.POINTS).params >= {Param.POINTS_TOTAL}


@pytest.mark.parametrize("kind", list(BallotKind))
def test_what_a_spec_requires_is_what_the_engine_needs(kind: BallotKind) -> None:
    spec = ballot_kinds.spec(kind)
    assert spec.required <= spec.params
    complete = {"max_choices": 3, "points_total": 10}
    spec.engine_rules(_rules(kind, **complete))  # accepted
    for param in spec.required:
        with pytest.raises(ValueError):
            spec.engine_rules(_rules(kind, **(complete | {param.value: None})))
    for param in (Param.MAX_CHOICES, Param.POINTS_TOTAL):
        if param in spec.params and param not in spec.required:
            spec.engine_rules(_rules(kind, **(complete | {param.value: None})))


def test_the_minimum_spend_is_rounded_up_to_whole_euros() -> None:
    rules = _rules(BallotKind.KNAPSACK, min_spend_percent=33)
    assert (rules.min_spend_percent, rules.min_spend) == (33, 330)
    odd = ballot_kinds.round_rules(BallotKind.KNAPSACK, 1_001, 0, None, 33, 0)
    assert odd.min_spend == 331  # 330.33 euros
    assert _rules(BallotKind.APPROVAL, min_spend_percent=33).min_spend == 0


def test_columns_give_back_what_rules_are_made_of() -> None:
    rules = _rules(BallotKind.POINTS, min_choices=1, points_total=7)
    assert list(ballot_kinds.columns(rules)) == list(RULE_COLUMNS)
    assert ballot_kinds.round_rules(**_arguments(ballot_kinds.columns(rules))) == rules


def _arguments(columns: dict[str, object]) -> dict[str, object]:
    values = dict(columns)
    values["kind"] = BallotKind(str(values.pop("ballot_kind")))
    return values


def test_a_round_and_a_row_of_its_rule_columns_give_the_same_rules(db: Database) -> None:
    def build(session: Session) -> int:
        round_ = make_round(
            session, ballot_kind="points", points_total=9, max_choices=2, min_spend_percent=20
        )
        return round_.id

    round_id = transact(db, build)
    rounds = table_of(Round)
    query = select(*(rounds.c[name] for name in RULE_COLUMNS)).where(rounds.c.id == round_id)

    def load(session: Session) -> tuple[RoundRules, RoundRules]:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        row = session.connection().execute(query).one()
        return ballot_kinds.rules_of(round_), ballot_kinds.rules_of_row(row)

    from_round, from_row = read(db, load)
    assert from_round == from_row
    # The stored 20 % is not a points ballot's setting: it does not reach the rules.
    assert from_round == RoundRules(BallotKind.POINTS, 10_000, 0, 2, 0, 9)


# -- checking a ballot ---------------------------------------------------------------------------


def test_ballots_of_ticks_take_every_plan_given_points_once() -> None:
    for kind in (BallotKind.APPROVAL, BallotKind.KNAPSACK):
        assert _check(kind, {"c": 1, "a": 0, "b": 5}) == {"c": 1, "b": 1}
    assert _check(BallotKind.K_APPROVAL, {"a": 1, "b": 1}, max_choices=2) == {"a": 1, "b": 1}


def test_each_kind_refuses_what_breaks_its_own_rule() -> None:
    everything = {"a": 1, "b": 1, "c": 1}  # 1.200 of a budget of 1.000
    assert len(_check(BallotKind.APPROVAL, everything)) == 3  # approval ignores the money
    with pytest.raises(InvalidBallot) as over:
        _check(BallotKind.KNAPSACK, everything)
    assert over.value.code == "over_budget"
    with pytest.raises(InvalidBallot) as too_many:
        _check(BallotKind.K_APPROVAL, everything, max_choices=2)
    assert too_many.value.code == "too_many_choices"
    with pytest.raises(InvalidBallot) as points:
        _check(BallotKind.POINTS, {"a": 6, "b": 5}, points_total=10)
    assert points.value.code == "too_many_points"


def test_a_points_ballot_keeps_the_points_and_leaves_out_zeros() -> None:
    assert _check(BallotKind.POINTS, {"a": 6, "b": 0, "c": 4}, points_total=10) == {"a": 6, "c": 4}


# -- Pabulib -------------------------------------------------------------------------------------


def test_the_pabulib_lines_of_each_kind() -> None:
    def meta(kind: BallotKind, **settings: int | None) -> list[tuple[str, str]]:
        return ballot_kinds.spec(kind).pabulib_meta(_rules(kind, **settings))

    assert meta(BallotKind.APPROVAL) == meta(BallotKind.K_APPROVAL, max_choices=2) == []
    assert meta(BallotKind.KNAPSACK) == [("max_sum_cost", "1000")]
    assert meta(BallotKind.KNAPSACK, min_spend_percent=25) == [
        ("max_sum_cost", "1000"),
        ("min_sum_cost", "250"),
    ]
    assert meta(BallotKind.POINTS, points_total=7) == [("max_sum_points", "7")]


@pytest.mark.parametrize("kind", list(BallotKind))
def test_the_pabulib_vote_type_reads_back_as_the_kind_counts(kind: BallotKind) -> None:
    spec = ballot_kinds.spec(kind)
    ballots = [{"a": 2, "c": 1}, {"b": 1}] if spec.vote_type is VoteType.POINTS else [{"a": 1}]
    meta = {"vote_type": spec.pabulib_vote_type}
    written = Election(Fraction(1_000), tuple(PLANS), ballots, spec.vote_type, meta)
    text = format_pb(written)
    assert f"vote_type;{spec.pabulib_vote_type}\n" in text
    assert parse_pb(text).vote_type is spec.vote_type


def _template(name: str) -> str:
    return (resource_dir("templates") / name).read_text()
