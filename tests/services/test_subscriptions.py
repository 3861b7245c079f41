"""Subscribing by e-mail: double opt-in, no second mail to a stranger, nothing revealed, a stop."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid
from proeftuin.models import OutboxMail, Phase, Subscription
from proeftuin.services import retention, subscriptions
from tests.factories import NOW, STOPPING, STOPPING_COSTS, make_round, published_round

BASE = "https://burgerbegroting.example"


def target(session: Session, phase: Phase = Phase.INDIENEN) -> subscriptions.Subject:
    round_ = make_round(session, phase=phase, plan_prefix=secrets.token_hex(4))
    found = subscriptions.subject(session, "ronde", round_.slug)
    assert found is not None
    return found


def mails(session: Session) -> list[OutboxMail]:
    return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def test_an_address_gets_one_confirmation_mail_and_no_second_within_the_hour(
    db: Database,
) -> None:
    def work(session: Session) -> list[OutboxMail]:
        about = target(session)
        subscriptions.subscribe(session, "Anna@Example.nl ", about, BASE, NOW)
        subscriptions.subscribe(
            session, "anna@example.nl", about, BASE, NOW + dt.timedelta(minutes=5)
        )
        assert subscriptions.subject(session, "wijk", "bestaat-niet") is None
        return mails(session)

    [mail] = transact(db, work)
    assert mail.recipient == "anna@example.nl"
    assert f"{BASE}/berichten/bevestigen?t=" in mail.body
    assert mail.unsubscribe_url.startswith(f"{BASE}/berichten/stoppen?t=")


def test_after_the_hour_a_new_confirmation_may_go_out(db: Database) -> None:
    def work(session: Session) -> int:
        about = target(session)
        subscriptions.subscribe(session, "anna@example.nl", about, BASE, NOW)
        later = NOW + subscriptions.RESEND_AFTER + dt.timedelta(minutes=1)
        subscriptions.subscribe(session, "anna@example.nl", about, BASE, later)
        return len(mails(session))

    assert transact(db, work) == 2


def test_a_confirmed_address_asking_again_gets_nothing_and_the_answer_is_the_same(
    db: Database,
) -> None:
    def work(session: Session) -> int:
        about = target(session)
        subscriptions.subscribe(session, "anna@example.nl", about, BASE, NOW)
        token = session.scalars(select(Subscription.token)).one()
        subscriptions.confirm(session, token, NOW, 0)
        before = len(mails(session))
        later = NOW + dt.timedelta(days=2)
        assert subscriptions.subscribe(session, "anna@example.nl", about, BASE, later) is None
        return len(mails(session)) - before

    assert transact(db, work) == 0


def test_a_bad_address_or_token_is_refused(db: Database) -> None:
    def bad_address(session: Session) -> None:
        subscriptions.subscribe(session, "geen-adres", target(session), BASE, NOW)

    with pytest.raises(Invalid):
        transact(db, bad_address)
    with pytest.raises(Invalid):
        transact(db, subscriptions.confirm, "onbekend", NOW, 0)
    assert read(db, lambda s: s.scalar(select(func.count(Subscription.id)))) == 0


def test_stopping_ends_every_subscription_of_the_address(db: Database) -> None:
    def work(session: Session) -> int:
        subscriptions.subscribe(session, "anna@example.nl", target(session), BASE, NOW)
        subscriptions.subscribe(session, "anna@example.nl", target(session), BASE, NOW)
        subscriptions.subscribe(session, "bram@example.nl", target(session), BASE, NOW)
        token = session.scalars(select(Subscription.token).order_by(Subscription.id)).first()
        assert token is not None
        subscriptions.unsubscribe(session, token, NOW)
        subscriptions.unsubscribe(session, "onbekend", NOW)  # changes nothing, says nothing
        return len(session.scalars(select(Subscription.email)).all())

    assert transact(db, work) == 1


def test_the_purge_removes_unconfirmed_subscriptions_after_a_week(db: Database) -> None:
    def work(session: Session) -> None:
        about = target(session)
        subscriptions.subscribe(session, "anna@example.nl", about, BASE, NOW)
        subscriptions.subscribe(session, "bram@example.nl", about, BASE, NOW + dt.timedelta(days=6))

    transact(db, work)
    purged = transact(db, retention.purge, NOW + dt.timedelta(days=7, minutes=1))
    assert purged.subscriptions == 1
    left = read(db, lambda s: s.scalars(select(Subscription.email)).all())
    assert left == ["bram@example.nl"]


def test_the_purge_removes_subscriptions_of_finished_rounds(db: Database) -> None:
    def work(session: Session) -> None:
        round_, _ = published_round(session, STOPPING, costs=STOPPING_COSTS, rule="greedy")
        about = subscriptions.subject(session, "ronde", round_.slug)
        assert about is not None
        subscriptions.subscribe(session, "anna@example.nl", about, BASE, NOW)
        token = session.scalars(select(Subscription.token)).one()
        subscriptions.confirm(session, token, NOW, 0)

    transact(db, work)
    assert transact(db, retention.purge, NOW + dt.timedelta(days=30)).subscriptions == 0
    later = NOW + retention.RETENTION + dt.timedelta(days=1)
    assert transact(db, retention.purge, later).subscriptions == 1
    assert read(db, lambda s: s.scalar(select(func.count(Subscription.id)))) == 0
