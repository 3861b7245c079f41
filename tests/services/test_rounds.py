from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, InvalidForm, NotAllowed
from proeftuin.models import (
    Area,
    Ballot,
    BallotChoice,
    BallotKind,
    Phase,
    Plan,
    PlanStatus,
    Result,
    ResultStatus,
    Round,
    VotingCode,
)
from proeftuin.services import audit, ballot_kinds, lookup, rounds, voting
from proeftuin.services.permissions import Actor
from proeftuin.services.rounds import list_areas_with_rounds
from tests.factories import (
    PEPPER,
    add_area,
    add_round,
    make_codes,
    make_plan,
    make_round,
    make_staff,
)


def test_areas_by_name_with_public_rounds_newest_first(db: Database) -> None:
    dorp = add_area(db, "ter-aa", "Ter Aa", kind="dorp")
    wijk = add_area(db, "centrum", "Centrum")
    ends = dt.datetime(2027, 3, 17, 22, 0, tzinfo=dt.UTC)
    add_round(db, wijk, "c-2026", "Centrum 2026", budget=40_000, phase=Phase.GEPUBLICEERD)
    add_round(
        db, wijk, "c-2027", "Centrum 2027", budget=50_000, phase=Phase.STEMMEN, voting_ends_at=ends
    )
    add_round(db, wijk, "c-2028", "Centrum 2028", budget=60_000, phase=Phase.CONCEPT)

    areas = read(db, list_areas_with_rounds)

    assert [(a.name, a.kind) for a in areas] == [("Centrum", "wijk"), ("Ter Aa", "dorp")]
    centrum, ter_aa = areas
    assert [(r.title, r.phase, r.budget) for r in centrum.rounds] == [
        ("Centrum 2027", Phase.STEMMEN, 50_000),
        ("Centrum 2026", Phase.GEPUBLICEERD, 40_000),
    ]
    assert centrum.rounds[0].voting_ends_at == ends
    assert ter_aa.rounds == ()
    assert dorp  # the id exists; the public view does not need it


def test_no_areas(db: Database) -> None:
    assert read(db, list_areas_with_rounds) == []


# -- Staff: creating, editing, phases, reset ------------------------------------------------

FROZEN = "Dit kan niet meer: het stemmen is begonnen."
NOW = dt.datetime(2027, 3, 10, 12, 0, tzinfo=dt.UTC)


def _messages(error: InvalidForm) -> dict[str, str]:
    return {field: str(e) for field, e in error.errors.items()}


def _area_and_staff(db: Database) -> tuple[int, Actor, Actor, Actor]:
    """An area, its moderator, a moderator of another area, and an admin."""

    def build(session: Session) -> tuple[int, Actor, Actor, Actor]:
        area = Area(slug="noord", name="Noord", kind="wijk")
        other = Area(slug="zuid", name="Zuid", kind="wijk")
        session.add_all([area, other])
        session.flush()
        return (
            area.id,
            make_staff(session, "moderator", [area.id]),
            make_staff(session, "moderator", [other.id]),
            make_staff(session, "admin"),
        )

    return transact(db, build)


def _input(area: int, **changes: str) -> rounds.RoundInput:
    values = {"area_id": str(area), "title": "Buurtbudget Noord 2027", "budget": "50.000"}
    return rounds.RoundInput(**(values | changes))


def _create(db: Database, actor: Actor, data: rounds.RoundInput) -> int:
    return transact(db, lambda s: rounds.create_round(s, actor, data).id)


def _round(db: Database, round_id: int) -> Round:
    return read(db, lambda s: s.get(Round, round_id))


def _actions(db: Database) -> list[tuple[str, dict[str, object]]]:
    return [(e.action, e.details) for e in reversed(read(db, audit.events))]


def test_a_new_round_is_a_concept_with_a_unique_slug_and_a_random_seed(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    first = _create(db, moderator, _input(area, title="Café & Speeltuin in Noord!"))
    second = _create(db, moderator, _input(area, title="Café & Speeltuin in Noord"))
    one, two = _round(db, first), _round(db, second)
    assert (one.slug, two.slug) == ("cafe-speeltuin-in-noord", "cafe-speeltuin-in-noord-2")
    assert one.phase == Phase.CONCEPT and one.budget == 50_000
    assert len(one.tie_break_seed) == 32 and one.tie_break_seed != two.tie_break_seed
    assert [a for a, _ in _actions(db)] == ["round.create", "round.create"]


def test_phase_dates_are_dutch_local_time(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    data = _input(
        area,
        submission_starts_at="2027-01-15T09:00",  # winter time, UTC+1
        review_starts_at="01-03-2027 09:00",
        voting_starts_at="2027-06-01 09:00",  # summer time, UTC+2
        voting_ends_at="2027-06-15",
    )
    round_ = _round(db, _create(db, moderator, data))
    assert round_.submission_starts_at == dt.datetime(2027, 1, 15, 8, 0, tzinfo=dt.UTC)
    assert round_.review_starts_at == dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert round_.voting_starts_at == dt.datetime(2027, 6, 1, 7, 0, tzinfo=dt.UTC)
    assert round_.voting_ends_at == dt.datetime(2027, 6, 14, 22, 0, tzinfo=dt.UTC)
    again = rounds.RoundInput.from_round(round_)
    assert (again.voting_starts_at, again.budget) == ("2027-06-01T09:00", "50000")


def test_every_wrong_field_gets_its_own_message_and_nothing_is_stored(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    data = _input(
        area,
        title="Nrd",
        budget="veel",
        ballot_kind="k_approval",
        max_choices="",
        rule="loting",
        eligibility="iedereen",
        min_age="200",
        review_starts_at="2027-03-01 09:00",
        voting_starts_at="2027-02-01 09:00",
        voting_ends_at="morgen",
    )
    with pytest.raises(InvalidForm) as refused:
        _create(db, moderator, data)
    messages = _messages(refused.value)
    assert set(messages) == {
        "title",
        "budget",
        "max_choices",
        "rule",
        "eligibility",
        "min_age",
        "voting_starts_at",
        "voting_ends_at",
    }
    assert "het begin van het beoordelen" in messages["voting_starts_at"]
    assert "hoeveel plannen" in messages["max_choices"]
    assert read(db, lambda s: s.scalar(select(func.count(Round.id)))) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ballot_kind": "points", "points_total": "0"}, "points_total"),
        ({"min_spend_percent": "101"}, "min_spend_percent"),
        ({"min_choices": "3", "max_choices": "2"}, "max_choices"),
        ({"budget": "-5"}, "budget"),
        ({"area_id": "999"}, "area_id"),
        ({"ballot_kind": "stemmen"}, "ballot_kind"),
    ],
)
def test_ballot_rules_that_cannot_work_are_refused(
    db: Database, changes: dict[str, str], field: str
) -> None:
    area, _, _, admin = _area_and_staff(db)
    with pytest.raises(InvalidForm) as refused:
        _create(db, admin, _input(area, **changes))
    assert list(refused.value.errors) == [field]


def test_every_valid_round_gives_ballot_rules_the_engine_accepts(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    for kind in BallotKind:
        data = _input(
            area,
            ballot_kind=kind.value,
            max_choices="3",
            min_spend_percent="40",
            points_total="10",
            rule="greedy",
        )
        round_ = _round(db, _create(db, moderator, data))
        rules = ballot_kinds.spec(kind).engine_rules(ballot_kinds.rules_of(round_))
        assert rules.min_spend_percent == (40 if kind == "knapsack" else 0)
        assert rules.points_total == (10 if kind == "points" else None)


def test_a_moderator_works_only_on_rounds_of_their_own_areas(db: Database) -> None:
    area, moderator, stranger, admin = _area_and_staff(db)
    with pytest.raises(NotAllowed):
        _create(db, stranger, _input(area))
    round_id = _create(db, admin, _input(area))
    for action in (
        lambda s: rounds.update_round(s, stranger, round_id, _input(area, title="Andere titel")),
        lambda s: rounds.advance_phase(s, stranger, round_id, Phase.INDIENEN),
        lambda s: lookup.staff_round_by_id(s, stranger, round_id),
    ):
        with pytest.raises(NotAllowed):
            transact(db, action)
    assert read(db, rounds.rounds_for, stranger) == []
    assert [r.id for r in read(db, rounds.rounds_for, moderator)] == [round_id]


def test_editing_a_round_is_audited_with_the_changed_fields(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    round_id = _create(db, moderator, _input(area))
    transact(
        db,
        lambda s: rounds.update_round(
            s, moderator, round_id, _input(area, title="Nieuwe titel", budget="60000")
        ),
    )
    round_ = _round(db, round_id)
    assert (round_.title, round_.budget, round_.slug) == (
        "Nieuwe titel",
        60_000,
        "buurtbudget-noord-2027",
    )
    assert _actions(db)[-1] == ("round.update", {"changed": ["budget", "title"]})


def test_the_budget_cannot_drop_below_a_plan_on_the_ballot(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    round_id = _create(db, moderator, _input(area))

    def plan(session: Session) -> None:
        round_ = session.get(Round, round_id)
        make_plan(session, round_, "p1", status=PlanStatus.OP_STEMBILJET, official_cost=30_000)

    transact(db, plan)
    with pytest.raises(InvalidForm) as refused:
        transact(
            db, lambda s: rounds.update_round(s, moderator, round_id, _input(area, budget="20000"))
        )
    assert "30.000" in _messages(refused.value)["budget"]
    assert _round(db, round_id).budget == 50_000


@pytest.mark.parametrize("phase", [Phase.STEMMEN, Phase.GESLOTEN])
def test_ballot_rules_are_frozen_once_voting_opens(db: Database, phase: Phase) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    round_id = _create(db, moderator, _input(area))
    _set_phase(db, round_id, phase)
    changes_refused = (
        {"budget": "60000"},
        {"ballot_kind": "approval"},
        {"rule": "greedy"},
        {"paper_check": "1"},  # one person could otherwise switch the second check off
    )
    for changes in changes_refused:
        with pytest.raises(InvalidForm) as refused:
            transact(
                db,
                lambda s, c=changes: rounds.update_round(s, moderator, round_id, _input(area, **c)),
            )
        assert set(_messages(refused.value).values()) == {FROZEN}
    # The text and the end date may still change: voting can be extended.
    transact(
        db,
        lambda s: rounds.update_round(
            s, moderator, round_id, _input(area, title="Nieuwe titel", voting_ends_at="2027-07-01")
        ),
    )
    round_ = _round(db, round_id)
    assert (round_.title, round_.budget, round_.ballot_kind) == ("Nieuwe titel", 50_000, "knapsack")


def _set_phase(db: Database, round_id: int, phase: Phase) -> None:
    def set_phase(session: Session) -> None:
        session.get(Round, round_id).phase = phase.value

    transact(db, set_phase)


def _ready_round(db: Database, **settings: object) -> tuple[int, Actor, Actor]:
    """A round in beoordelen with three plans on the ballot; its moderator and an admin."""

    def build(session: Session) -> tuple[int, Actor, Actor]:
        round_ = make_round(session, phase=Phase.BEOORDELEN, **settings)
        return (
            round_.id,
            make_staff(session, "moderator", [round_.area_id]),
            make_staff(session, "admin"),
        )

    return transact(db, build)


def _advance(db: Database, actor: Actor, round_id: int, to: Phase | str) -> None:
    transact(db, lambda s: rounds.advance_phase(s, actor, round_id, to))


def test_a_round_moves_forward_one_step_at_a_time(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    round_id = _create(db, moderator, _input(area))
    with pytest.raises(Invalid, match="één stap tegelijk: van concept naar indienen"):
        _advance(db, moderator, round_id, Phase.BEOORDELEN)
    with pytest.raises(Invalid, match="al in deze fase"):
        _advance(db, moderator, round_id, "concept")
    with pytest.raises(Invalid, match="Kies een fase"):
        _advance(db, moderator, round_id, "klaar")
    _advance(db, moderator, round_id, Phase.INDIENEN)
    _advance(db, moderator, round_id, "beoordelen")
    with pytest.raises(Invalid, match="kan niet terug"):
        _advance(db, moderator, round_id, Phase.INDIENEN)
    assert _round(db, round_id).phase == Phase.BEOORDELEN
    assert [d for a, d in _actions(db) if a == "round.phase"] == [
        {"from_phase": "concept", "to_phase": "indienen", "automatic": False},
        {"from_phase": "indienen", "to_phase": "beoordelen", "automatic": False},
    ]


def test_submissions_cannot_open_without_a_budget(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    round_id = _create(db, moderator, _input(area, budget="0"))
    with pytest.raises(Invalid, match="budget"):
        _advance(db, moderator, round_id, Phase.INDIENEN)


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        ("no_plans", "nog geen plan op het stembiljet"),
        ("over_budget", "meer dan het budget van € 10.000"),
        ("unreviewed", "Nog 1 plannen wachten"),
        ("hidden", "is verborgen"),
        ("min_choices", "minstens 4 plannen kiezen, maar er staan er 3 op"),
        ("min_spend", "nooit het minimum van € 9.500"),
    ],
)
def test_voting_cannot_open_when_the_ballot_makes_no_sense(
    db: Database, prepare: str, message: str
) -> None:
    round_id, moderator, _ = _ready_round(db, costs=(4_000, 3_000, 2_000))

    def break_it(session: Session) -> None:
        round_ = session.get(Round, round_id)
        plans = session.scalars(select(Plan).where(Plan.round_id == round_id)).all()
        if prepare == "no_plans":
            for plan in plans:
                plan.status = PlanStatus.AFGEWEZEN.value
        elif prepare == "over_budget":
            plans[0].official_cost = 12_000
        elif prepare == "unreviewed":
            make_plan(session, round_, "nieuw")
        elif prepare == "hidden":
            plans[1].hidden = True
        elif prepare == "min_choices":
            round_.min_choices = 4
        elif prepare == "min_spend":
            round_.min_spend_percent = 95

    transact(db, break_it)
    with pytest.raises(Invalid) as refused:
        _advance(db, moderator, round_id, Phase.STEMMEN)
    assert message in str(refused.value)
    assert _round(db, round_id).phase == Phase.BEOORDELEN


def test_publishing_waits_for_a_result_that_was_signed_off(db: Database) -> None:
    round_id, moderator, _ = _ready_round(db)
    _advance(db, moderator, round_id, Phase.STEMMEN)
    _advance(db, moderator, round_id, Phase.GESLOTEN)
    with pytest.raises(Invalid, match="Stel eerst de uitslag vast"):
        _advance(db, moderator, round_id, Phase.GEPUBLICEERD)

    def result(session: Session, status: ResultStatus) -> None:
        session.execute(delete(Result))
        session.add(
            Result(
                round_id=round_id,
                rule="greedy",
                tie_break_seed="seed",
                data="{}",
                ballots_sha256="0" * 64,
                status=status.value,
            )
        )

    transact(db, result, ResultStatus.CONCEPT)
    with pytest.raises(Invalid, match="Stel eerst de uitslag vast"):
        _advance(db, moderator, round_id, Phase.GEPUBLICEERD)
    transact(db, result, ResultStatus.VASTGESTELD)
    _advance(db, moderator, round_id, Phase.GEPUBLICEERD)
    assert _round(db, round_id).phase == Phase.GEPUBLICEERD


def test_tick_follows_the_dates_and_changes_nothing_when_run_again(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    hour = dt.timedelta(hours=1)

    def at(offset: dt.timedelta) -> str:
        return rounds.local_time_text(NOW + offset)

    submission = _create(
        db, moderator, _input(area, title="Indienen open", submission_starts_at=at(-hour))
    )
    later = _create(db, moderator, _input(area, title="Nog niet", submission_starts_at=at(hour)))
    undated = _create(db, moderator, _input(area, title="Zonder datums"))
    closing, _, _ = _ready_round(db)
    _set_phase(db, closing, Phase.STEMMEN)

    def dates(session: Session) -> None:
        session.get(Round, closing).voting_ends_at = NOW - hour

    transact(db, dates)

    changes = transact(db, rounds.tick, NOW)
    assert {(c.round_id, c.from_phase, c.to_phase, c.refused) for c in changes} == {
        (submission, Phase.CONCEPT, Phase.INDIENEN, None),
        (closing, Phase.STEMMEN, Phase.GESLOTEN, None),
    }
    assert transact(db, rounds.tick, NOW) == []
    assert _round(db, later).phase == Phase.CONCEPT
    assert _round(db, undated).phase == Phase.CONCEPT
    assert _round(db, closing).phase == Phase.GESLOTEN  # and never published by itself
    automatic = [d for a, d in _actions(db) if a == "round.phase"]
    assert all(d["automatic"] for d in automatic) and len(automatic) == 2


def test_tick_catches_up_step_by_step_and_stops_where_a_check_fails(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    past = rounds.local_time_text(NOW - dt.timedelta(days=1))
    round_id = _create(db, moderator, _input(area, voting_starts_at=past))

    changes = transact(db, rounds.tick, NOW)
    assert [(c.from_phase, c.to_phase) for c in changes] == [
        (Phase.CONCEPT, Phase.INDIENEN),
        (Phase.INDIENEN, Phase.BEOORDELEN),
        (Phase.BEOORDELEN, Phase.STEMMEN),
    ]
    assert changes[-1].refused == "Er staat nog geen plan op het stembiljet."
    assert _round(db, round_id).phase == Phase.BEOORDELEN
    again = transact(db, rounds.tick, NOW)
    assert [(c.to_phase, c.refused is not None) for c in again] == [(Phase.STEMMEN, True)]


def _vote(db: Database, code: str, choices: dict[str, int]) -> None:
    def cast(session: Session) -> None:
        _, credential = voting.check_code(session, PEPPER, code)
        voting.cast(session, credential, choices, today=dt.date(2027, 3, 10))

    transact(db, cast)


def test_an_admin_reset_voids_the_ballots_and_unfreezes_the_round(db: Database) -> None:
    round_id, moderator, admin = _ready_round(db)
    _advance(db, moderator, round_id, Phase.STEMMEN)
    plain = transact(db, lambda s: make_codes(s, s.get(Round, round_id), 3))
    _vote(db, plain[0], {"plan0": 1})
    _vote(db, plain[1], {"plan1": 1, "plan0": 1})

    with pytest.raises(NotAllowed):
        transact(db, lambda s: rounds.reset_round(s, moderator, round_id, "Het budget was fout."))
    with pytest.raises(Invalid, match="minstens 10 tekens"):
        transact(db, lambda s: rounds.reset_round(s, admin, round_id, " kort "))
    voided = transact(db, lambda s: rounds.reset_round(s, admin, round_id, "Het budget was fout."))

    assert voided == 2
    assert read(db, lambda s: s.scalar(select(func.count(Ballot.id)))) == 0
    assert read(db, lambda s: s.scalar(select(func.count(BallotChoice.id)))) == 0
    assert read(db, lambda s: sorted(s.scalars(select(VotingCode.status)))) == ["unused"] * 3
    assert read(db, lambda s: s.scalars(select(VotingCode.used_on)).all()) == [None] * 3
    assert _round(db, round_id).phase == Phase.BEOORDELEN
    assert _actions(db)[-1] == (
        "round.reset",
        {
            "from_phase": "stemmen",
            "voided_ballots": 2,
            "result_removed": False,
            "reason": "Het budget was fout.",
        },
    )
    # No longer frozen: the budget can change, and the same code votes again after reopening.
    transact(
        db,
        lambda s: rounds.update_round(
            s, admin, round_id, _same_round_input(s, round_id, budget="9000")
        ),
    )
    _advance(db, moderator, round_id, Phase.STEMMEN)
    _vote(db, plain[0], {"plan2": 1})
    assert read(db, lambda s: s.scalar(select(func.count(Ballot.id)))) == 1


def _same_round_input(session: Session, round_id: int, **changes: str) -> rounds.RoundInput:
    current = rounds.RoundInput.from_round(session.get(Round, round_id))
    return dataclasses.replace(current, **changes)


def test_a_reset_is_only_for_rounds_in_or_after_voting_and_before_publication(
    db: Database,
) -> None:
    round_id, _, admin = _ready_round(db)
    with pytest.raises(Invalid, match="nog niet begonnen"):
        transact(db, lambda s: rounds.reset_round(s, admin, round_id, "Het budget was fout."))
    _set_phase(db, round_id, Phase.GEPUBLICEERD)
    with pytest.raises(Invalid, match="al gepubliceerd"):
        transact(db, lambda s: rounds.reset_round(s, admin, round_id, "Het budget was fout."))


# -- greedy's options ---------------------------------------------------------------------------

ONLY_WITH_GREEDY = (
    "Dit kan alleen als het budget wordt verdeeld met \u2018meeste stemmen eerst\u2019. "
    "Kies die manier, of haal dit weg."
)


def test_greedy_takes_no_skipping_and_a_minimum_share_of_the_votes(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    data = _input(area, rule="greedy", greedy_no_skip="1", min_vote_percent="10")
    round_ = _round(db, _create(db, moderator, data))
    assert (round_.greedy_no_skip, round_.min_vote_percent) == (True, 10)
    assert rounds.RoundInput.from_round(round_).greedy_no_skip == "1"
    assert rounds.RoundInput.from_round(round_).min_vote_percent == "10"
    plain = _round(db, _create(db, moderator, _input(area, rule="greedy")))
    assert (plain.greedy_no_skip, plain.min_vote_percent) == (False, 0)


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"rule": "greedy", "min_vote_percent": "101"}, {"min_vote_percent": "percentage"}),
        ({"rule": "greedy", "min_vote_percent": "tien"}, {"min_vote_percent": "percentage"}),
        ({"rule": "greedy", "min_vote_percent": "-5"}, {"min_vote_percent": "percentage"}),
        ({"rule": "greedy", "greedy_no_skip": "ja"}, {"greedy_no_skip": "vinkje"}),
        (
            {"rule": "equal_shares", "greedy_no_skip": "1", "min_vote_percent": "10"},
            {"greedy_no_skip": ONLY_WITH_GREEDY, "min_vote_percent": ONLY_WITH_GREEDY},
        ),
        ({"rule": "optimal", "min_vote_percent": "5"}, {"min_vote_percent": ONLY_WITH_GREEDY}),
    ],
)
def test_greedy_options_that_cannot_work_are_refused(
    db: Database, changes: dict[str, str], messages: dict[str, str]
) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    with pytest.raises(InvalidForm) as refused:
        _create(db, moderator, _input(area, **changes))
    found = _messages(refused.value)
    assert set(found) == set(messages)
    for field, words in messages.items():
        assert words in found[field]
    assert read(db, lambda s: s.scalar(select(func.count(Round.id)))) == 0


@pytest.mark.parametrize("phase", [Phase.STEMMEN, Phase.GESLOTEN])
def test_greedy_options_are_frozen_once_voting_opens(db: Database, phase: Phase) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    round_id = _create(db, moderator, _input(area, rule="greedy", min_vote_percent="10"))
    _set_phase(db, round_id, phase)
    for changes in ({"greedy_no_skip": "1"}, {"min_vote_percent": "20"}, {"min_vote_percent": ""}):
        data = _input(area, rule="greedy", min_vote_percent="10")
        data = dataclasses.replace(data, **changes)
        with pytest.raises(InvalidForm) as refused:
            transact(db, lambda s, d=data: rounds.update_round(s, moderator, round_id, d))
        assert _messages(refused.value) == {next(iter(changes)): FROZEN}
    round_ = _round(db, round_id)
    assert (round_.greedy_no_skip, round_.min_vote_percent) == (False, 10)


def test_the_second_check_of_paper_ballots_is_a_checkbox_of_the_round(db: Database) -> None:
    area, moderator, _, _ = _area_and_staff(db)
    with pytest.raises(InvalidForm) as refused:
        _create(db, moderator, _input(area, paper_check="ja"))
    assert _messages(refused.value) == {"paper_check": "Zet een vinkje, of laat het vakje leeg."}
    round_id = _create(db, moderator, _input(area, paper_check="1"))
    assert _round(db, round_id).paper_check is True
    assert rounds.RoundInput.from_round(_round(db, round_id)).paper_check == "1"
    transact(db, lambda s: rounds.update_round(s, moderator, round_id, _input(area)))
    assert _round(db, round_id).paper_check is False
