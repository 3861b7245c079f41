"""What subscribers and authors are told: announcements once, one mail a day at most (a digest
when more waits), the stop link in the headers, sent over real SMTP on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin import jobs
from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import Notice, OutboxMail, Phase, Plan, Subscription
from proeftuin.services import execution, notifications, subscriptions
from proeftuin.services.permissions import Actor
from tests.factories import (
    NOW,
    STOPPING,
    STOPPING_COSTS,
    make_resident,
    make_round,
    make_staff,
    published_round,
)
from tests.smtp import Inbox

BASE = "https://burgerbegroting.example"
DAY = dt.timedelta(days=1)


def funded_round_with_author(session: Session) -> tuple[int, str]:
    """A published round (plan0 and plan2 funded) whose plan0 has an author; a confirmed
    subscriber of the round, and one who never confirmed."""
    round_, _ = published_round(session, STOPPING, costs=STOPPING_COSTS, rule="greedy")
    author = make_resident(session, email="fatima@example.nl")
    plan0 = next(p for p in round_.plans if p.public_id == "plan0")
    plan0.author_id = author.id
    about = subscriptions.subject(session, "ronde", round_.slug)
    assert about is not None
    for address in ("volger@example.nl", "vreemde@example.nl"):
        subscriptions.subscribe(session, address, about, BASE, NOW - DAY)
    token = session.scalars(
        select(Subscription.token).where(Subscription.email == "volger@example.nl")
    ).one()
    subscriptions.confirm(session, token, NOW - DAY, 0)
    session.flush()
    return round_.id, round_.slug


def queued(session: Session, since: int = 0) -> list[OutboxMail]:
    return list(session.scalars(select(OutboxMail).where(OutboxMail.id > since)))


def test_phases_are_announced_once_and_authors_hear_the_outcome(db: Database) -> None:
    def work(session: Session) -> tuple[int, int, list[str]]:
        round_id, _ = funded_round_with_author(session)
        first = notifications.announce_phases(session, NOW)
        again = notifications.announce_phases(session, NOW)
        subjects = session.scalars(
            select(Notice.subject).where(Notice.round_id == round_id).order_by(Notice.id)
        ).all()
        return first, again, list(subjects)

    first, again, subjects = transact(db, work)
    assert again == 0 and first == len(subjects)
    assert any("uitslag" in s for s in subjects)
    assert "Uw plan \u201cPlan 0\u201d gaat door" in subjects


def test_one_mail_a_day_with_a_digest_and_only_for_confirmed_addresses(db: Database) -> None:
    def work(session: Session) -> None:
        round_id, _ = funded_round_with_author(session)
        sent_before = len(queued(session))
        notifications.announce_phases(session, NOW)
        plan = session.scalars(
            select(Plan).where(Plan.public_id == "plan0", Plan.round_id == round_id)
        ).one()
        text = "De schop gaat de grond in."
        execution.post_update(session, _actor(session, plan), plan, text, NOW.date(), NOW)
        notifications.update_posted(session, plan, text, NOW)
        assert notifications.send_due(session, BASE, NOW) == 2  # the follower and the author
        mails = {m.recipient: m for m in queued(session)[sent_before:]}
        assert set(mails) == {"volger@example.nl", "fatima@example.nl"}  # not the stranger
        digest = mails["volger@example.nl"]
        assert digest.subject.startswith("2 berichten")
        assert "De schop gaat de grond in." in digest.body and "[site]" not in digest.body
        assert digest.unsubscribe_url in digest.body
        assert "gaat door" in mails["fatima@example.nl"].body + mails["fatima@example.nl"].subject
        # More news the same day waits for tomorrow.
        notifications.update_posted(
            session, plan, "Nog een bericht vandaag.", NOW + dt.timedelta(hours=2)
        )
        assert notifications.send_due(session, BASE, NOW + dt.timedelta(hours=3)) == 0
        assert notifications.send_due(session, BASE, NOW + DAY + dt.timedelta(minutes=1)) == 2

    transact(db, work)


def _actor(session: Session, plan: Plan) -> Actor:
    return make_staff(session, area_ids=[plan.round.area_id])


def test_a_stop_in_any_mail_ends_the_authors_mail_too(db: Database) -> None:
    def work(session: Session) -> int:
        funded_round_with_author(session)
        notifications.announce_phases(session, NOW)
        token = session.scalars(
            select(Subscription.token).where(Subscription.email == "fatima@example.nl")
        ).one()
        subscriptions.unsubscribe(session, token, NOW)
        notifications.announce_phases(session, NOW)  # the subscription is not made again
        before = len(queued(session))
        notifications.send_due(session, BASE, NOW)
        return len([m for m in queued(session)[before:] if m.recipient == "fatima@example.nl"])

    assert transact(db, work) == 0


def test_the_scheduled_jobs_send_it_with_one_click_unsubscribe_headers(
    db: Database, settings: Settings, smtp_inbox: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_inbox
    settings = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, base_url=BASE)
    transact(db, funded_round_with_author)
    run = jobs.run_once(db, settings, NOW)
    assert run.notices_mailed == 2 and not run.failed
    by_recipient = {m["To"]: m for m in inbox.messages}
    follower = by_recipient["volger@example.nl"]
    assert follower["List-Unsubscribe"].startswith(f"<{BASE}/berichten/stoppen?t=")
    assert follower["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The stranger got the one confirmation mail (queued before the jobs ran) and nothing else.
    assert [m["Subject"] for m in inbox.messages if m["To"] == "vreemde@example.nl"] == [
        "Bevestig uw aanmelding voor berichten"
    ]
    assert (
        read(db, lambda s: s.scalar(select(OutboxMail.id).where(OutboxMail.sent_at.is_(None))))
        is None
    )


def test_the_voting_announcement_says_how_to_vote_in_this_round(db: Database) -> None:
    def work(session: Session) -> dict[str, str]:
        by_code = make_round(session, phase=Phase.STEMMEN, plan_prefix="c")
        by_mail = make_round(session, phase=Phase.STEMMEN, plan_prefix="m", eligibility="email")
        notifications.announce_phases(session, NOW)
        bodies = dict(session.execute(select(Notice.round_id, Notice.body)).all())
        return {"code": bodies[by_code.id], "mail": bodies[by_mail.id]}

    bodies = transact(db, work)
    assert "code uit de brief" in bodies["code"] and "[site]/stem" in bodies["code"]
    assert "e-mailadres" in bodies["mail"] and "brief" not in bodies["mail"]
