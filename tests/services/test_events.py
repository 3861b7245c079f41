from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import select

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid, NotAllowed
from proeftuin.models import AuditEvent, Ballot, Phase, Round, VotingCode
from proeftuin.services import events, voting
from proeftuin.services.events import BallotRefused, EventInput
from tests.factories import PEPPER, add_event, make_resident, make_round, make_staff

TODAY = dt.date(2027, 3, 3)


def _credentials(db: Database, code: str) -> list[voting.Credential]:
    def run(session):  # type: ignore[no-untyped-def]
        round_, credential = voting.check_code(session, PEPPER, code)
        assert round_.event_id is not None
        return events.ballot_credentials(session, PEPPER, credential, round_.event_id)

    return read(db, run)


def _cast(db: Database, code: str, choices: dict[str, int], **kw: object) -> list[voting.Receipt]:
    credentials = _credentials(db, code)
    return transact(db, lambda s: events.cast_all(s, credentials, choices, today=TODAY, **kw))


def _ballots(db: Database) -> dict[int, int]:
    rows = read(db, lambda s: s.execute(select(Ballot.round_id)).scalars().all())
    return {rid: rows.count(rid) for rid in set(rows)}


def test_a_district_code_opens_its_ballot_and_the_city_wide_one(db: Database) -> None:
    world = add_event(db)
    north, south = world.district_round_ids
    [cred_a, cred_b] = _credentials(db, world.codes[north][0])
    assert (cred_a.round_id, cred_b.round_id) == (north, world.city_round_id)
    assert cred_a.code_id == cred_b.code_id and cred_a.voter_key != cred_b.voter_key
    [cred_c, _city] = _credentials(db, world.codes[south][0])
    assert cred_c.round_id == south


def test_both_ballots_are_cast_in_one_go_each_with_a_tracker(db: Database) -> None:
    world = add_event(db)
    north = world.district_round_ids[0]
    receipts = _cast(db, world.codes[north][0], {"noord0": 1, "stad1": 1})
    assert len({r.receipt for r in receipts}) == 2
    assert _ballots(db) == {north: 1, world.city_round_id: 1}
    used = read(
        db, lambda s: s.scalars(select(VotingCode.status).where(VotingCode.round_id == north)).all()
    )
    assert sorted(used) == ["unused", "unused", "used"]


def test_a_plan_of_another_district_is_refused_and_nothing_stored(db: Database) -> None:
    world = add_event(db)
    north = world.district_round_ids[0]
    with pytest.raises(Invalid) as refused:
        _cast(db, world.codes[north][0], {"noord0": 1, "zuid0": 1})
    assert "niet op uw stembiljetten" in refused.value.message
    assert _ballots(db) == {}


def test_one_wrong_ballot_stores_neither_and_names_the_wrong_one(db: Database) -> None:
    world = add_event(db)
    north = world.district_round_ids[0]
    # The city-wide plans cost 4.000 + 3.000 + 5.000: all three overspend its 10.000.
    with pytest.raises(BallotRefused) as refused:
        _cast(db, world.codes[north][0], {"noord0": 1, "stad0": 1, "stad1": 1, "stad2": 1})
    assert refused.value.round_id == world.city_round_id
    assert _ballots(db) == {}


def test_changing_one_ballot_keeps_the_others_tracker(db: Database) -> None:
    world = add_event(db)
    code = world.codes[world.district_round_ids[0]][0]
    first = _cast(db, code, {"noord0": 1, "stad1": 1})
    second = _cast(db, code, {"noord1": 1, "stad1": 1})
    assert second[0].receipt != first[0].receipt and second[0].replaced
    assert second[1].receipt == first[1].receipt and not second[1].replaced
    assert sum(_ballots(db).values()) == 2


def test_a_closed_city_round_leaves_only_the_district_ballot(db: Database) -> None:
    world = add_event(db)

    def close(session):  # type: ignore[no-untyped-def]
        session.get(Round, world.city_round_id).phase = Phase.GESLOTEN.value

    transact(db, close)
    creds = _credentials(db, world.codes[world.district_round_ids[0]][0])
    assert [c.round_id for c in creds] == [world.district_round_ids[0]]


def test_only_admins_make_events_and_add_rounds_and_it_is_audited(db: Database) -> None:
    def run(session):  # type: ignore[no-untyped-def]
        city = make_round(session, phase=Phase.BEOORDELEN)
        district = make_round(session, phase=Phase.BEOORDELEN, plan_prefix="d")
        moderator = make_staff(session, area_ids=[district.area_id])
        admin = make_staff(session, role="admin")
        data = EventInput("Stadsbudget", "", city.area_id, False)
        with pytest.raises(NotAllowed):
            events.create_event(session, moderator, data)
        event = events.create_event(session, admin, data)
        events.add_round(session, admin, event, city)
        with pytest.raises(NotAllowed):
            events.add_round(session, moderator, event, district)
        events.add_round(session, admin, event, district)
        with pytest.raises(Invalid):
            events.add_round(session, admin, event, district)  # already in an event
        shown = events.visible_rounds(events.event_rounds(session, event), moderator)
        return event.slug, [r.id for r in shown], district.id

    slug, shown, district_id = transact(db, run)
    assert slug == "stadsbudget" and shown == [district_id]
    actions = read(db, lambda s: s.scalars(select(AuditEvent.action)).all())
    assert actions.count("event.add_round") == 2 and "event.create" in actions


def test_a_round_with_other_voting_dates_or_a_second_round_of_an_area_is_refused(
    db: Database,
) -> None:
    def run(session):  # type: ignore[no-untyped-def]
        admin = make_staff(session, role="admin")
        first = make_round(session, phase=Phase.BEOORDELEN)
        late = make_round(
            session,
            phase=Phase.BEOORDELEN,
            plan_prefix="l",
            voting_starts_at=dt.datetime(2027, 5, 1, tzinfo=dt.UTC),
        )
        event = events.create_event(session, admin, EventInput("S", "", None, False))
        events.add_round(session, admin, event, first)
        with pytest.raises(Invalid, match="stemdata"):
            events.add_round(session, admin, event, late)
        same_area = Round(
            area_id=first.area_id, slug="zelfde", title="T", budget=1, tie_break_seed="s"
        )
        session.add(same_area)
        session.flush()
        with pytest.raises(Invalid, match="al een ronde"):
            events.add_round(session, admin, event, same_area)

    transact(db, run)


def test_a_district_file_names_its_gemeente_and_district_as_pabulib_does(db: Database) -> None:
    world = add_event(db)

    def places(session):  # type: ignore[no-untyped-def]
        city, north = (
            session.get(Round, r) for r in (world.city_round_id, world.district_round_ids[0])
        )
        return events.pabulib_place(session, city), events.pabulib_place(session, north)

    city, north = read(db, places)
    assert city is None and north == ("Noord", "Noord")


def test_the_archive_is_the_same_bytes_for_the_same_files() -> None:
    files = [("a/stemmen.pb", b"META\n"), ("b/plannen.csv", b"id\n")]
    first = events.zip_archive(files)
    assert first == events.zip_archive(files)
    with zipfile.ZipFile(io.BytesIO(first)) as opened:
        assert opened.namelist() == ["a/stemmen.pb", "b/plannen.csv"]
        assert opened.read("b/plannen.csv") == b"id\n"


def test_an_email_voter_of_the_city_wide_round_gets_the_district_of_their_postcode(
    db: Database,
) -> None:
    world = add_event(db, eligibility="codes_or_email")

    def run(session):  # type: ignore[no-untyped-def]
        north, south = (session.get(Round, r) for r in world.district_round_ids)
        north.area.postcodes, south.area.postcodes = "9401-9403", "9404-9406"
        city = session.get(Round, world.city_round_id)
        found = []
        for postcode in ("9402 AA", "9999 ZZ"):
            resident = make_resident(session, email=f"{postcode[:4]}@example.nl")
            resident.postcode = postcode
            creds = events.email_credentials(session, PEPPER, city, resident)
            found.append([c.round_id for c in creds])
        return found

    placed, outside = transact(db, run)
    assert placed == [world.district_round_ids[0], world.city_round_id]
    assert outside == [world.city_round_id]
