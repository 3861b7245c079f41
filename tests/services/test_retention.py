"""Purging personal data once a round's result has been public for the retention period."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.models import (
    AuditEvent,
    Ballot,
    Eligibility,
    OutboxMail,
    Phase,
    Resident,
    Round,
    UsedToken,
    VotingCode,
)
from proeftuin.services import retention
from tests.factories import (
    NOW,
    closed_round,
    make_codes,
    make_plan,
    make_resident,
    make_round,
    published_round,
)

AFTER = NOW + retention.RETENTION + dt.timedelta(days=1)  # NOW is when published_round publishes
BEFORE = NOW + retention.RETENTION - dt.timedelta(days=1)
VOTES = [{"plan0": 1}, {"plan1": 1}, {"plan0": 1, "plan1": 1}]


def _published_with_codes(session: Session) -> int:
    round_, _ = published_round(session, VOTES)
    make_codes(session, round_, 4)
    return round_.id


def _ballots(session: Session, round_id: int) -> list[tuple[str, str, str | None]]:
    rows = session.execute(
        select(Ballot.receipt, Ballot.voter_key, Ballot.submission_token)
        .where(Ballot.round_id == round_id)
        .order_by(Ballot.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _codes(session: Session, round_id: int) -> int:
    return int(
        session.scalar(select(func.count(VotingCode.id)).where(VotingCode.round_id == round_id))
    )


def test_a_finished_round_loses_its_codes_and_ballot_keys_but_keeps_its_ballots(
    db: Database,
) -> None:
    round_id = transact(db, _published_with_codes)
    before = read(db, _ballots, round_id)
    slug = read(db, lambda s: s.get_one(Round, round_id).slug)

    purged = transact(db, retention.purge, AFTER)

    assert (purged.rounds, purged.codes, purged.ballot_keys) == ((slug,), 4, 3)
    assert read(db, _codes, round_id) == 0
    after = read(db, _ballots, round_id)
    assert [receipt for receipt, _, _ in after] == [receipt for receipt, _, _ in before]
    assert all(key.startswith(retention.WIPED) for _, key, _ in after)
    assert {key for _, key, _ in after}.isdisjoint(key for _, key, _ in before)
    assert len({key for _, key, _ in after}) == 3
    assert all(token is None for _, _, token in after)
    details = read(
        db,
        lambda s: s.scalar(
            select(AuditEvent.details).where(AuditEvent.action == "retention.purge")
        ),
    )
    logged = json.loads(details)
    assert (logged["rounds"], logged["letter_hashes"], logged["ballot_keys"]) == ([slug], 4, 3)


def test_a_second_purge_changes_nothing_and_logs_nothing(db: Database) -> None:
    round_id = transact(db, _published_with_codes)
    transact(db, retention.purge, AFTER)
    keys = read(db, _ballots, round_id)

    again = transact(db, retention.purge, AFTER + dt.timedelta(days=30))

    assert again.total == 0 and again.rounds == ()
    assert read(db, _ballots, round_id) == keys
    logged = read(
        db,
        lambda s: s.scalar(
            select(func.count(AuditEvent.id)).where(AuditEvent.action == "retention.purge")
        ),
    )
    assert logged == 1


def test_nothing_is_purged_before_the_retention_period_is_over(db: Database) -> None:
    round_id = transact(db, _published_with_codes)
    keys = read(db, _ballots, round_id)

    purged = transact(db, retention.purge, BEFORE)

    assert purged.rounds == () and purged.codes == 0 and purged.ballot_keys == 0
    assert read(db, _codes, round_id) == 4
    assert read(db, _ballots, round_id) == keys


def test_a_round_that_was_never_published_is_left_alone(db: Database) -> None:
    def build(session: Session) -> int:
        round_ = closed_round(session, VOTES)
        make_codes(session, round_, 2)
        return round_.id

    round_id = transact(db, build)
    keys = read(db, _ballots, round_id)

    purged = transact(db, retention.purge, AFTER + dt.timedelta(days=3_650))

    assert purged.rounds == ()
    assert read(db, _codes, round_id) == 2
    assert read(db, _ballots, round_id) == keys


def _residents(session: Session) -> dict[str, int]:
    """An author in a finished round, one in an open round, and a new account."""
    old = NOW - dt.timedelta(days=400)
    finished, _ = published_round(session, VOTES)
    open_round = make_round(session, phase=Phase.INDIENEN, costs=())
    done = make_resident(session, email="klaar@example.nl", name="Klaar")
    busy = make_resident(session, email="bezig@example.nl", name="Bezig")
    new = make_resident(session, email="nieuw@example.nl", name="Nieuw")
    done.created_at = busy.created_at = old
    new.created_at = AFTER - dt.timedelta(days=1)
    done.postcode = "1234AB"
    make_plan(session, finished, "oud", author=done)
    make_plan(session, open_round, "nieuw", author=busy)
    session.flush()
    return {"done": done.id, "busy": busy.id, "new": new.id}


def _resident(session: Session, resident_id: int) -> tuple[str, str, str]:
    r = session.get_one(Resident, resident_id)
    return r.email, r.display_name, r.postcode


def test_residents_whose_rounds_are_all_finished_are_wiped(db: Database) -> None:
    ids = transact(db, _residents)

    purged = transact(db, retention.purge, AFTER)

    assert purged.residents == 1
    assert read(db, _resident, ids["done"]) == (f"{retention.WIPED}{ids['done']}", "", "")
    assert read(db, _resident, ids["busy"]) == ("bezig@example.nl", "Bezig", "")
    assert read(db, _resident, ids["new"]) == ("nieuw@example.nl", "Nieuw", "")


def test_residents_wait_while_a_round_votes_by_e_mail(db: Database) -> None:
    ids = transact(db, _residents)
    transact(
        db,
        lambda s: make_round(s, costs=(), eligibility=Eligibility.EMAIL.value),
    )

    purged = transact(db, retention.purge, AFTER)

    assert purged.residents == 0
    assert purged.codes == 0 and purged.ballot_keys == 3  # the rest goes all the same
    assert read(db, _resident, ids["done"]) == ("klaar@example.nl", "Klaar", "1234AB")


def test_old_mail_and_expired_sign_in_links_go(db: Database) -> None:
    def build(session: Session) -> None:
        session.add_all(
            [
                OutboxMail(recipient="a@example.nl", subject="Oud", body="x", created_at=NOW),
                OutboxMail(recipient="b@example.nl", subject="Nieuw", body="x", created_at=BEFORE),
                UsedToken(token_hash="a" * 64, expires_at=BEFORE),
                UsedToken(token_hash="b" * 64, expires_at=AFTER + dt.timedelta(hours=1)),
            ]
        )

    transact(db, build)

    purged = transact(db, retention.purge, AFTER)

    assert (purged.outbox, purged.used_tokens) == (1, 1)
    assert read(db, lambda s: list(s.scalars(select(OutboxMail.subject)))) == ["Nieuw"]
    assert read(db, lambda s: list(s.scalars(select(UsedToken.token_hash)))) == ["b" * 64]
