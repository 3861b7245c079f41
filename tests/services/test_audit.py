from __future__ import annotations

import csv
import io
import json
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact, transact_locking
from proeftuin.models import Area, AuditEvent
from proeftuin.services import audit, spreadsheets
from tests.factories import make_staff


def _areas(session: Session) -> tuple[int, int]:
    north = Area(slug="noord", name="Noord", kind="wijk")
    south = Area(slug="zuid", name="Zuid", kind="dorp")
    session.add_all([north, south])
    session.flush()
    return north.id, south.id


def _stored_details(db: Database) -> list[dict[str, object]]:
    rows = read(db, lambda s: s.scalars(select(AuditEvent.details).order_by(AuditEvent.id)).all())
    return [json.loads(row) for row in rows]


def test_an_event_records_who_did_what_to_which_object(db: Database) -> None:
    def act(session: Session) -> int:
        north, _ = _areas(session)
        actor = make_staff(session, "admin")
        audit.record(session, actor.staff_id, "round.create", "round", 7, north, budget=50_000)
        return actor.staff_id

    staff_id = transact(db, act)
    [entry] = read(db, audit.events)
    assert (entry.actor_id, entry.action, entry.target_type, entry.target_id) == (
        staff_id,
        "round.create",
        "round",
        7,
    )
    assert entry.actor_name.startswith("Medewerker")
    assert entry.details == {"budget": 50_000}
    assert entry.at.tzinfo is not None


@pytest.mark.parametrize(
    "key", ["code", "codes", "typed_code", "email", "author_email", "choices", "voter_key"]
)
def test_details_that_name_codes_e_mail_or_ballots_are_refused(db: Database, key: str) -> None:
    def act(session: Session) -> None:
        audit.record(session, None, "x", "round", 1, **{key: "iets"})

    with pytest.raises(ValueError, match="no codes, e-mail or ballots"):
        transact(db, act)
    assert read(db, lambda s: s.scalar(select(func.count(AuditEvent.id)))) == 0


def test_e_mail_addresses_and_codes_in_values_are_dropped_or_blanked(db: Database) -> None:
    def act(session: Session) -> None:
        audit.record(
            session,
            None,
            "plan.reject",
            "plan",
            1,
            contact="Jan.de.Vries@Example.NL",
            reason="Gemaild aan jan@example.nl; code ABCD-2FGH-JKMN en 7K3M9Q2RX4TW gezien.",
            note="voor deze plek zijn verkeersplans nodig",
            seen="ABCD2FGHJKMN",
            names=["a@b.nl", "Noord"],
            count=3,
            flag=True,
        )

    transact(db, act)
    [details] = _stored_details(db)
    assert "contact" not in details
    assert "seen" not in details
    assert details["reason"] == "Gemaild aan [e-mailadres]; code [code] en [code] gezien."
    assert details["note"] == "voor deze plek zijn verkeersplans nodig"  # ordinary words stay
    assert details["names"] == ["Noord"]
    assert (details["count"], details["flag"]) == (3, True)
    raw = read(db, lambda s: s.scalar(select(AuditEvent.details)))
    assert "@" not in raw and "ABCD" not in raw


def test_nested_values_are_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="text, a number"):
        transact(db, lambda s: audit.record(s, None, "x", "round", 1, data={"nested": 1}))


def test_events_newest_first_per_area_with_paging(db: Database) -> None:
    def act(session: Session) -> tuple[int, int]:
        north, south = _areas(session)
        for i in range(5):
            audit.record(session, None, f"north.{i}", "round", i, north)
        audit.record(session, None, "south.0", "round", 9, south)
        audit.record(session, None, "system", "", None)
        return north, south

    north, south = transact(db, act)
    assert [e.action for e in read(db, audit.events)][:3] == ["system", "south.0", "north.4"]
    mine = read(db, audit.events, [north], 2, 1)
    assert [e.action for e in mine] == ["north.3", "north.2"]
    assert [e.action for e in read(db, audit.events, [south])] == ["south.0"]
    assert read(db, audit.events, []) == []
    assert read(db, audit.count, [north]) == 5
    assert read(db, audit.count) == 7


def test_the_export_holds_every_event_oldest_first_and_is_safe_in_a_spreadsheet(
    db: Database,
) -> None:
    def act(session: Session) -> None:
        north, _ = _areas(session)
        actor = make_staff(session, "admin")
        audit.record(session, actor.staff_id, "round.create", "round", 1, north)
        audit.record(
            session, actor.staff_id, "plan.reject", "plan", 2, north, reason="=HYPERLINK(1)"
        )

    transact(db, act)
    rows = list(csv.reader(io.StringIO(spreadsheets.csv_text(read(db, audit.export_sheet)))))
    assert rows[0] == list(audit.CSV_HEADER)
    assert [row[4] for row in rows[1:]] == ["round.create", "plan.reject"]
    assert rows[1][3].startswith("Medewerker")
    assert json.loads(rows[2][8]) == {"reason": "=HYPERLINK(1)"}  # the JSON cell starts with {
    sheet = spreadsheets.Sheet("t", ("a",), [["=1+1"], ["-2"], ["ok"]])
    assert spreadsheets.csv_text(sheet).splitlines() == [
        "a",
        "'=1+1",
        "'-2",
        "ok",
    ]


def _three_events(db: Database) -> list[AuditEvent]:
    def act(session: Session) -> None:
        north, _ = _areas(session)
        for n in range(3):
            audit.record(session, None, "round.update", "round", n, north, changed=["title"])

    transact(db, act)
    return list(read(db, lambda s: s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()))


def _sql(db: Database, statement: str, **params: object) -> None:
    transact(db, lambda s: s.execute(text(statement), params))


def test_each_event_carries_the_hash_of_the_one_before(db: Database) -> None:
    first, second, third = _three_events(db)
    assert first.prev_hash == audit.GENESIS
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)
    assert len({first.hash, second.hash, third.hash}) == 3
    check = read(db, audit.verify_chain)
    assert (check.ok, check.events, check.head, check.problems) == (True, 3, third.hash, ())


def test_an_event_changed_in_the_database_breaks_the_chain(db: Database) -> None:
    _, second, _ = _three_events(db)
    _sql(db, "UPDATE audit_event SET details = '{}' WHERE id = :id", id=second.id)
    check = read(db, audit.verify_chain)
    assert not check.ok
    assert check.problems == (
        f"event {second.id} no longer has the hash of what it holds: changed",
    )


def test_an_event_removed_from_the_database_breaks_the_chain(db: Database) -> None:
    _, second, third = _three_events(db)
    _sql(db, "DELETE FROM audit_event WHERE id = :id", id=second.id)
    check = read(db, audit.verify_chain)
    assert not check.ok
    assert check.problems[0].startswith(f"event {third.id} follows {second.hash[:16]}")


def test_a_rewritten_chain_is_caught_by_the_head_printed_before(db: Database) -> None:
    """Someone with the database rewrites an event and every hash after it: the chain is whole
    again, but the head printed on a proces-verbaal before is no longer in it."""
    first, _, _ = _three_events(db)
    printed = read(db, audit.verify_chain).head
    _sql(db, "UPDATE audit_event SET details = '{}' WHERE id = :id", id=first.id)
    previous = audit.GENESIS
    for event in read(db, lambda s: s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()):
        fields = (event.at, event.actor_id, event.action, event.target_type, event.target_id)
        own = audit.chain_hash(previous, *fields, event.area_id, event.details)
        _sql(db, "UPDATE audit_event SET prev_hash = :p, hash = :h WHERE id = :id",
             p=previous, h=own, id=event.id)  # fmt: skip
        previous = own
    assert read(db, audit.verify_chain).ok
    check = read(db, audit.verify_chain, printed)
    assert check.head_found is False and not check.ok
    assert read(db, audit.verify_chain, previous).ok


def test_two_events_cannot_follow_the_same_one(db: Database) -> None:
    """A fork is refused by the database itself (unique prev_hash), not only by the lock."""
    first, _, _ = _three_events(db)

    def fork(session: Session) -> None:
        session.add(AuditEvent(action="x", details="{}", prev_hash=first.prev_hash, hash="f" * 64))

    with pytest.raises(IntegrityError):
        transact(db, fork)


def test_concurrent_writers_do_not_fork_the_chain(db: Database) -> None:
    """Writers at SERIALIZABLE (transact) and READ COMMITTED (transact_locking) at once, each
    having read before it writes (an early snapshot): the chain stays one line."""
    writers, each = 6, 8
    barrier = threading.Barrier(writers)

    def work(session: Session, n: int) -> None:
        session.scalar(select(func.count(AuditEvent.id)))  # the snapshot starts here
        audit.record(session, None, "round.update", "round", n)

    def writer(index: int) -> None:
        run = transact if index % 2 else transact_locking
        barrier.wait()
        for n in range(each):
            run(db, work, index * 100 + n)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check = read(db, audit.verify_chain)
    assert (check.ok, check.events, check.problems) == (True, writers * each, ())
