from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from proeftuin.db import Database, transact
from proeftuin.errors import Invalid, NotFound
from proeftuin.models import Phase, Round
from proeftuin.services import voting
from proeftuin.services.pages import events
from proeftuin.services.pages.declare import perform_now
from proeftuin.services.permissions import Actor
from tests.factories import PEPPER, EventWorld, add_event, make_staff, publish_event

TODAY = dt.date(2027, 3, 3)


def _credential(db: Database, code: str) -> voting.Credential:
    return transact(db, lambda s: voting.check_code(s, PEPPER, code)[1])


def _staff(db: Database, world: EventWorld) -> tuple[Actor, Actor]:
    def build(session: Session) -> tuple[Actor, Actor]:
        return make_staff(session, area_ids=[world.area_ids[1]]), make_staff(session, "admin")

    return transact(db, build)


def test_a_code_gets_its_districts_ballot_then_the_city_wide_one(db: Database) -> None:
    world = add_event(db)
    north = world.district_round_ids[0]
    found = perform_now(db, events.ballots, PEPPER, [_credential(db, world.codes[north][0])], None)
    assert [p.round.id for p in found.pages] == [north, world.city_round_id]
    assert [o.public_id[:4] for o in found.pages[0].options] == ["noor"] * 3
    # The choices of one form go to their own ballots; another district's plan is refused.
    split = perform_now(db, events.ballots, PEPPER, found.credentials, {"noord1": 1, "stad2": 1})
    assert [p.choices for p in split.pages] == [{"noord1": 1}, {"stad2": 1}]
    with pytest.raises(Invalid):
        perform_now(db, events.ballots, PEPPER, found.credentials, {"zuid1": 1})


def test_casting_gives_a_tracker_per_round_and_the_receipt_page_names_them(db: Database) -> None:
    world = add_event(db)
    north = world.district_round_ids[0]
    found = perform_now(db, events.ballots, PEPPER, [_credential(db, world.codes[north][0])], None)
    receipts = perform_now(db, events.cast, found.credentials, {"noord0": 1}, None, TODAY)
    assert len(receipts) == 2
    titles = perform_now(db, events.round_titles, [r.round_slug for r in receipts])
    assert len(titles) == 2


def test_a_moderator_sees_only_the_rounds_of_their_areas_with_turnout(db: Database) -> None:
    world = add_event(db)
    moderator, admin = _staff(db, world)
    mine = perform_now(db, events.staff_event, moderator, world.slug)
    assert [r.round.slug for r in mine.rounds] == [r.slug for r in mine.view.rounds]
    assert len(mine.rounds) == 1 and mine.joinable == ()
    everything = perform_now(db, events.staff_event, admin, world.slug)
    assert len(everything.rounds) == 3 and everything.ballots == 0
    assert everything.codes_issued == 6  # three codes per district
    listed = perform_now(db, events.staff_events, moderator)
    assert [len(e.rounds) for e in listed.events] == [1]


def test_the_public_event_page_waits_until_a_round_is_public(db: Database) -> None:
    world = add_event(db, phase=Phase.CONCEPT)
    with pytest.raises(NotFound):
        perform_now(db, events.public_event, world.slug)

    def open_one(session: Session) -> None:
        round_ = session.get(Round, world.city_round_id)
        assert round_ is not None
        round_.phase = Phase.INDIENEN.value

    transact(db, open_one)
    view = perform_now(db, events.public_event, world.slug)
    assert [r.citywide for r in view.rounds] == [True]


def test_the_event_results_archive_and_record_come_after_publication(db: Database) -> None:
    world = add_event(db)
    with pytest.raises(NotFound):
        perform_now(db, events.event_results, world.slug)
    admin = transact(db, publish_event, world)
    found = perform_now(db, events.event_results, world.slug)
    assert found.complete and len(found.results) == 3
    archive = perform_now(db, events.event_archive, world.slug)
    assert archive.filename == f"{world.slug}.zip"
    assert perform_now(db, events.event_archive, world.slug).content == archive.content
    moderator, _admin = _staff(db, world)
    _view, records = perform_now(db, events.event_record, moderator, world.slug)
    assert len(records) == 1 and records[0].view is not None
    assert len(perform_now(db, events.event_record, admin, world.slug)[1]) == 3
