"""The outbox: mail queued with the action, claimed by one sender, put back when sending fails."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.models import OutboxMail
from proeftuin.services import outbox

NOW = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)


def _queue(db: Database, *recipients: str) -> list[int]:
    def queue(session: Session) -> list[int]:
        return [outbox.queue(session, r, f"Aan {r}", "Tekst").id for r in recipients]

    return transact(db, queue)


def test_queued_mail_is_pending_in_order(db: Database) -> None:
    ids = _queue(db, "a@example.nl", "b@example.nl", "c@example.nl")
    assert read(db, outbox.pending_ids) == ids
    assert read(db, outbox.pending_ids, 2) == ids[:2]
    stored = read(db, lambda s: s.get_one(OutboxMail, ids[1]))
    assert (stored.recipient, stored.subject, stored.body) == (
        "b@example.nl",
        "Aan b@example.nl",
        "Tekst",
    )
    assert (stored.sent_at, stored.attempts) == (None, 0)


def test_a_mail_is_claimed_by_one_sender_only(db: Database) -> None:
    [mail_id] = _queue(db, "a@example.nl")
    first = transact(db, lambda s: outbox.claim(s, mail_id, NOW) is not None)
    second = transact(db, lambda s: outbox.claim(s, mail_id, NOW) is not None)
    assert (first, second) == (True, False)
    stored = read(db, lambda s: s.get_one(OutboxMail, mail_id))
    assert (stored.sent_at, stored.attempts) == (NOW, 1)
    assert read(db, outbox.pending_ids) == []


def test_a_failed_mail_goes_back_with_its_reason(db: Database) -> None:
    [mail_id] = _queue(db, "a@example.nl")
    transact(db, outbox.claim, mail_id, NOW)
    transact(db, outbox.release, mail_id, "ConnectionRefusedError " + "x" * 400)
    stored = read(db, lambda s: s.get_one(OutboxMail, mail_id))
    assert stored.sent_at is None
    assert stored.attempts == 1
    assert stored.last_error.startswith("ConnectionRefusedError") and len(stored.last_error) == 300
    assert read(db, outbox.pending_ids) == [mail_id]


def test_a_mail_that_keeps_failing_is_given_up(db: Database) -> None:
    [mail_id, other] = _queue(db, "a@example.nl", "b@example.nl")
    for _ in range(outbox.MAX_ATTEMPTS):
        transact(db, outbox.claim, mail_id, NOW)
        transact(db, outbox.release, mail_id, "kapot")
    assert read(db, outbox.pending_ids) == [other]


def test_recent_shows_the_newest_first(db: Database) -> None:
    ids = _queue(db, "a@example.nl", "b@example.nl", "c@example.nl")
    assert [m.id for m in read(db, outbox.recent)] == ids[::-1]
    assert [m.id for m in read(db, outbox.recent, 1)] == ids[-1:]
