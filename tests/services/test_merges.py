"""Merges that can be undone: the author's mail waits out the window, staff can send it sooner,
and undoing puts status, reason, supporters and followers back as they were."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact, utcnow
from proeftuin.errors import Invalid, NotAllowed
from proeftuin.models import OutboxMail, Phase, Plan, PlanStatus, Support
from proeftuin.services import audit, lookup, merges, moderation
from proeftuin.services.permissions import Actor
from tests.factories import make_plan, make_resident, make_round, make_staff

AUTHOR_EMAIL = "auteur@example.nl"
REASON = "Deze plannen gaan over hetzelfde."


@dataclass(frozen=True)
class World:
    moderator: Actor
    stranger: Actor
    fans: tuple[int, int]  # support a; the first supports b too


def _world(db: Database) -> World:
    def build(session: Session) -> World:
        round_ = make_round(session, phase=Phase.BEOORDELEN, costs=())
        author = make_resident(session, AUTHOR_EMAIL, name="Anouk")
        fans = [make_resident(session) for _ in range(2)]
        make_plan(session, round_, "a", estimated_cost=2_000, author=author, supporters=fans)
        make_plan(session, round_, "b", estimated_cost=1_000, supporters=fans[:1])
        earlier = make_plan(session, round_, "d", estimated_cost=500)
        a = session.scalar(select(Plan).where(Plan.public_id == "a"))
        assert a is not None
        a.public_reason = "Eerder: graag een tekening."
        earlier.status, earlier.merged_into_id = PlanStatus.SAMENGEVOEGD.value, a.id
        other = make_round(session, costs=())
        return World(
            make_staff(session, "moderator", [round_.area_id]),
            make_staff(session, "moderator", [other.area_id]),
            (fans[0].id, fans[1].id),
        )

    return transact(db, build)


def _merge(session: Session, actor: Actor) -> Plan:
    a, b = (lookup.staff_plan(session, actor, pid) for pid in ("a", "b"))
    return moderation.merge(session, actor, a, b, REASON, "https://example.nl/plannen/a")


def _undo(session: Session, actor: Actor) -> Plan:
    return moderation.undo_merge(session, actor, lookup.staff_plan(session, actor, "a"))


def _state(session: Session) -> dict[str, object]:
    plans = {p.public_id: p for p in session.scalars(select(Plan))}
    supports = {
        pid: sorted(
            session.scalars(select(Support.resident_id).where(Support.plan_id == plans[pid].id))
        )
        for pid in ("a", "b")
    }
    a, d = plans["a"], plans["d"]
    return {
        "a": (a.status, a.public_reason, a.merged_into_id),
        "d": d.merged_into_id == a.id,
        "supports": supports,
    }


def _mails(db: Database) -> list[OutboxMail]:
    return read(db, lambda s: s.scalars(select(OutboxMail)).all())


def test_the_authors_mail_waits_out_the_undo_window(db: Database) -> None:
    world = _world(db)
    transact(db, _merge, world.moderator)
    assert _mails(db) == []
    soon = utcnow() + dt.timedelta(minutes=merges.UNDO_MINUTES - 1)
    assert transact(db, merges.send_due, soon) == 0
    later = utcnow() + dt.timedelta(minutes=merges.UNDO_MINUTES + 1)
    assert transact(db, merges.send_due, later) == 1
    assert transact(db, merges.send_due, later) == 0  # once
    [mail] = _mails(db)
    assert mail.recipient == AUTHOR_EMAIL and REASON in mail.body
    assert "https://example.nl/plannen/a" in mail.body


def test_undoing_a_merge_puts_status_reason_support_and_followers_back(db: Database) -> None:
    world = _world(db)
    before = read(db, _state)
    transact(db, _merge, world.moderator)
    merged = read(db, _state)
    assert merged["supports"] == {"a": [], "b": sorted(world.fans)}
    assert merged["d"] is False
    transact(db, _undo, world.moderator)
    assert read(db, _state) == before
    entry = read(db, audit.events)[0]
    assert entry.action == "plan.merge_undo"
    assert entry.details["author_was_mailed"] is False
    later = utcnow() + dt.timedelta(minutes=merges.UNDO_MINUTES + 1)
    assert transact(db, merges.send_due, later) == 0  # an undone merge never mails
    assert _mails(db) == []
    with pytest.raises(Invalid, match="niets ongedaan"):
        transact(db, _undo, world.moderator)


def test_staff_can_send_the_mail_at_once_and_only_their_area_can_undo(db: Database) -> None:
    world = _world(db)
    transact(db, _merge, world.moderator)
    with pytest.raises(NotAllowed):
        transact(db, _undo, world.stranger)

    def send(session: Session) -> Plan:
        return merges.send_now(
            session, world.moderator, lookup.staff_plan(session, world.moderator, "a")
        )

    transact(db, send)
    assert [m.recipient for m in _mails(db)] == [AUTHOR_EMAIL]
    assert read(db, audit.events)[0].action == "plan.merge_mail"
    with pytest.raises(Invalid, match="geen e-mail"):
        transact(db, send)
    transact(db, _undo, world.moderator)
    assert read(db, audit.events)[0].details["author_was_mailed"] is True
