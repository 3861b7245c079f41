from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, NotAllowed, PhaseClosed
from proeftuin.models import AuditEvent, Ballot, BallotChoice, Plan, Round, VotingCode
from proeftuin.services import audit, events, paper, voting
from proeftuin.services.permissions import Actor
from tests.factories import PEPPER, add_event, make_codes, make_round, make_staff

TODAY = dt.date(2027, 3, 4)


@dataclass(frozen=True)
class Setup:
    round_id: int
    codes: list[str]
    clerk: Actor
    checker: Actor  # a second moderator of the same area
    stranger: Actor  # a moderator of another area
    inactive: Actor  # of the same area, but deactivated


def _setup(db: Database) -> Setup:
    def build(session: Session) -> Setup:
        round_ = make_round(session)
        other = make_round(session, costs=())
        area = [round_.area_id]
        return Setup(
            round_.id,
            make_codes(session, round_, 3),
            make_staff(session, "moderator", area),
            make_staff(session, "moderator", area),
            make_staff(session, "moderator", [other.area_id]),
            make_staff(session, "moderator", area, active=False),
        )

    return transact(db, build)


def _enter(
    db: Database,
    actor: Actor,
    setup: Setup,
    code: str,
    choices: dict[str, int],
    checked_by: int | None = None,
    require_check: bool = False,
) -> voting.Receipt:
    return transact(
        db,
        lambda s: paper.enter_paper_ballot(
            s,
            actor,
            setup.round_id,
            code,
            choices,
            PEPPER,
            TODAY,
            checked_by,
            require_check=require_check,
        ),
    )


def _online(db: Database, code: str, choices: dict[str, int]) -> None:
    def cast(session: Session) -> None:
        _, credential = voting.check_code(session, PEPPER, code)
        voting.cast(session, credential, choices, today=TODAY)

    transact(db, cast)


def _ballots(db: Database) -> list[tuple[str, dt.date, list[str]]]:
    def load(session: Session) -> list[tuple[str, dt.date, list[str]]]:
        out = []
        for ballot in session.scalars(select(Ballot).order_by(Ballot.id)):
            picks = sorted(session.get(Plan, c.plan_id).public_id for c in ballot.choices)
            out.append((ballot.channel, ballot.cast_on, picks))
        return out

    return read(db, load)


def test_a_paper_ballot_counts_with_the_online_ones_marked_as_paper(db: Database) -> None:
    setup = _setup(db)
    _online(db, setup.codes[0], {"plan0": 1})
    receipt = _enter(db, setup.clerk, setup, setup.codes[1], {"plan1": 1, "plan2": 1})
    assert receipt.channel == "paper" and not receipt.replaced
    assert _ballots(db) == [
        ("online", TODAY, ["plan0"]),
        ("paper", TODAY, ["plan1", "plan2"]),
    ]
    statuses = read(db, lambda s: sorted(s.scalars(select(VotingCode.status))))
    assert statuses == ["unused", "used", "used"]


def test_a_code_that_voted_online_cannot_vote_on_paper(db: Database) -> None:
    setup = _setup(db)
    _online(db, setup.codes[0], {"plan0": 1})
    with pytest.raises(Invalid) as refused:
        _enter(db, setup.clerk, setup, setup.codes[0], {"plan1": 1})
    assert "deze code heeft al online gestemd" in str(refused.value).lower()
    assert _ballots(db) == [("online", TODAY, ["plan0"])]


def test_a_code_used_on_paper_cannot_vote_again_online_or_on_paper(db: Database) -> None:
    setup = _setup(db)
    _enter(db, setup.clerk, setup, setup.codes[0], {"plan0": 1})
    with pytest.raises(Invalid, match="op papier gestemd"):
        _online(db, setup.codes[0], {"plan1": 1})
    with pytest.raises(Invalid, match="al een papieren stembiljet"):
        _enter(db, setup.checker, setup, setup.codes[0], {"plan1": 1})
    assert _ballots(db) == [("paper", TODAY, ["plan0"])]


def test_the_ballot_rules_apply_to_paper_too(db: Database) -> None:
    setup = _setup(db)
    with pytest.raises(Invalid, match="meer dan het budget"):
        _enter(db, setup.clerk, setup, setup.codes[0], {"plan0": 1, "plan1": 1, "plan2": 1})
    assert _ballots(db) == []


def test_a_code_of_another_round_or_a_closed_round_is_refused(db: Database) -> None:
    setup = _setup(db)

    def elsewhere(session: Session) -> str:
        other = make_round(session, plan_prefix="x")
        other.area_id = session.get(Round, setup.round_id).area_id
        return make_codes(session, other, 1)[0]

    foreign = transact(db, elsewhere)
    with pytest.raises(Invalid, match="hoort niet bij deze ronde"):
        _enter(db, setup.clerk, setup, foreign, {"x0": 1})

    def close(session: Session) -> None:
        session.get(Round, setup.round_id).phase = "gesloten"

    transact(db, close)
    with pytest.raises(PhaseClosed):
        _enter(db, setup.clerk, setup, setup.codes[0], {"plan0": 1})
    assert _ballots(db) == []


def test_only_staff_of_the_area_enter_paper_ballots(db: Database) -> None:
    setup = _setup(db)
    with pytest.raises(NotAllowed):
        _enter(db, setup.stranger, setup, setup.codes[0], {"plan0": 1})
    assert _ballots(db) == []


@pytest.mark.parametrize(
    ("who", "message"),
    [
        (None, "tweede medewerker"),
        ("clerk", "andere medewerker"),
        ("stranger", "niet controleren"),
        ("inactive", "niet controleren"),
        ("nobody", "niet controleren"),
    ],
)
def test_when_the_round_asks_for_it_a_second_person_must_check(
    db: Database, who: str | None, message: str
) -> None:
    setup = _setup(db)
    checker = None if who is None else 99_999 if who == "nobody" else getattr(setup, who).staff_id
    with pytest.raises(Invalid, match=message) as refused:
        _enter(db, setup.clerk, setup, setup.codes[0], {"plan0": 1}, checker, require_check=True)
    assert refused.value.field == "checked_by"
    assert _ballots(db) == []


def test_a_checked_entry_is_stored_and_the_audit_names_both_but_not_the_ballot(
    db: Database,
) -> None:
    setup = _setup(db)
    _enter(
        db,
        setup.clerk,
        setup,
        setup.codes[0],
        {"plan0": 1},
        setup.checker.staff_id,
        require_check=True,
    )
    assert _ballots(db) == [("paper", TODAY, ["plan0"])]
    entry = read(db, audit.events)[0]
    assert (entry.action, entry.actor_id, entry.target_type) == (
        "paper.enter",
        setup.clerk.staff_id,
        "round",
    )
    assert entry.details == {"checked_by": setup.checker.staff_id}
    raw = read(db, lambda s: s.scalar(select(AuditEvent.details)))
    assert "plan" not in raw and setup.codes[0] not in raw.upper().replace("-", "")
    assert read(db, lambda s: s.scalar(select(BallotChoice.points))) == 1


def test_an_admin_may_check_any_area(db: Database) -> None:
    setup = _setup(db)
    admin = transact(db, lambda s: make_staff(s, "admin"))
    _enter(db, setup.clerk, setup, setup.codes[0], {"plan0": 1}, admin.staff_id, True)
    assert len(_ballots(db)) == 1


def test_a_paper_ballot_of_an_event_stores_both_ballots_or_neither(db: Database) -> None:
    world = add_event(db)
    north = world.district_round_ids[0]
    clerk = transact(db, lambda s: make_staff(s, "moderator", [world.area_ids[1]]))
    [first, second, *_] = world.codes[north]

    def enter(code: str, choices: dict[str, int]) -> voting.Receipt:
        return transact(db, paper.enter_paper_ballot, clerk, north, code, choices, PEPPER, TODAY)

    enter(first, {"noord0": 1, "stad1": 1})
    with pytest.raises(events.BallotRefused):  # the city-wide part overspends
        enter(second, {"noord0": 1, "stad0": 1, "stad1": 1, "stad2": 1})
    with pytest.raises(Invalid):  # another district's plan
        enter(second, {"zuid0": 1})
    rows = read(db, lambda s: s.execute(select(Ballot.round_id, Ballot.channel)).all())
    assert sorted((r, c) for r, c in rows) == sorted(
        [(north, "paper"), (world.city_round_id, "paper")]
    )
