from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import NotAllowed
from proeftuin.models import Channel, Plan
from proeftuin.services import codes, turnout, voting
from proeftuin.services.permissions import Actor
from tests.factories import PEPPER, make_codes, make_round, make_staff

MON, TUE, WED = dt.date(2027, 3, 1), dt.date(2027, 3, 2), dt.date(2027, 3, 3)


def _round(db: Database, prefix: str = "plan") -> tuple[int, list[str], Actor]:
    def build(session: Session) -> tuple[int, list[str], Actor]:
        round_ = make_round(session, plan_prefix=prefix)
        plain = make_codes(session, round_, 6)
        return round_.id, plain, make_staff(session, "moderator", [round_.area_id])

    return transact(db, build)


def _vote(
    db: Database,
    code: str,
    choices: dict[str, int],
    day: dt.date,
    channel: Channel = Channel.ONLINE,
) -> None:
    def cast(session: Session) -> None:
        _, credential = voting.check_code(session, PEPPER, code)
        voting.cast(session, credential, choices, channel=channel, today=day)

    transact(db, cast)


def _turnout(db: Database, actor: Actor, round_id: int) -> turnout.Turnout:
    return read(db, turnout.turnout, actor, round_id)


def _revoke(db: Database, round_id: int, actor: Actor, code: str) -> None:
    transact(db, codes.revoke_code, actor, round_id, code, PEPPER)


def test_turnout_per_day_and_per_channel(db: Database) -> None:
    round_id, plain, moderator = _round(db)
    _vote(db, plain[0], {"plan0": 1}, MON)
    _vote(db, plain[1], {"plan1": 1}, MON)
    _vote(db, plain[2], {"plan2": 1}, TUE, Channel.PAPER)
    _vote(db, plain[0], {"plan1": 1}, WED)  # changed their mind: the ballot moves to Wednesday
    _revoke(db, round_id, moderator, plain[5])

    result = _turnout(db, moderator, round_id)
    assert (result.ballots, result.online, result.paper) == (3, 2, 1)
    assert result.ballots_per_day == (
        turnout.DayCount(MON, 1),
        turnout.DayCount(TUE, 1),
        turnout.DayCount(WED, 1),
    )
    assert result.codes_used_per_day == (turnout.DayCount(MON, 2), turnout.DayCount(TUE, 1))
    assert (result.codes_issued, result.codes_used, result.codes_revoked) == (6, 3, 1)
    assert result.share_of_codes_used == Fraction(3, 5)
    assert result.percent_of_codes_used == 60
    assert result.phase == "stemmen"


def test_an_empty_round_has_no_turnout_yet(db: Database) -> None:
    def build(session: Session) -> tuple[int, Actor]:
        round_ = make_round(session)
        return round_.id, make_staff(session, "admin")

    round_id, admin = transact(db, build)
    result = _turnout(db, admin, round_id)
    assert (result.ballots, result.codes_issued, result.share_of_codes_used) == (0, 0, 0)
    assert result.ballots_per_day == result.codes_used_per_day == ()


def test_turnout_holds_nothing_per_plan(db: Database) -> None:
    """The same participation with opposite choices gives the very same turnout: nothing in it
    depends on what was chosen, so it cannot reveal a tally (docs/decisions.md, Results embargo)."""
    first, first_codes, first_moderator = _round(db, "a")
    second, second_codes, second_moderator = _round(db, "b")
    pattern = [(0, MON, Channel.ONLINE), (1, MON, Channel.ONLINE), (2, TUE, Channel.PAPER)]
    for i, day, channel in pattern:
        _vote(db, first_codes[i], {"a0": 1}, day, channel)  # everyone for plan 0
        _vote(db, second_codes[i], {"b1": 1, "b2": 1}, day, channel)  # nobody for plan 0

    one = _turnout(db, first_moderator, first)
    two = _turnout(db, second_moderator, second)
    assert one == two
    # And nothing in it names a plan.
    plans = read(db, lambda s: s.execute(select(Plan.id, Plan.public_id, Plan.title)).all())
    names = {str(value) for row in plans for value in row[1:]}
    flat = repr(dataclasses.asdict(one))
    assert "plan" not in flat.lower()
    assert not any(name in flat for name in names)


def test_turnout_only_for_staff_of_the_area(db: Database) -> None:
    round_id, _, _ = _round(db)

    def other(session: Session) -> Actor:
        round_ = make_round(session, costs=())
        return make_staff(session, "moderator", [round_.area_id])

    stranger = transact(db, other)
    with pytest.raises(NotAllowed):
        _turnout(db, stranger, round_id)
