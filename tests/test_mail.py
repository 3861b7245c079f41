"""Mail goes out over a real SMTP server on loopback (aiosmtpd), in the recipient's language."""

from __future__ import annotations

import dataclasses
import re
from email.message import Message

import pytest
from sqlalchemy.orm import Session as OrmSession
from starlette.testclient import TestClient

from proeftuin import i18n, mail
from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.models import Phase
from proeftuin.services import lookup, moderation, outbox
from proeftuin.services.permissions import Actor
from proeftuin.web.app import create_app
from tests.factories import make_plan, make_resident, make_round, make_staff
from tests.smtp import Inbox


def test_queued_mail_is_delivered_once(
    db: Database, settings: Settings, smtp_inbox: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_inbox
    settings = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    transact(db, outbox.queue, "bewoner@example.nl", "Uw inloglink", "Klik op de link.")
    assert mail.deliver_pending(db, settings) == 1
    assert mail.deliver_pending(db, settings) == 0
    assert len(inbox.messages) == 1
    received = inbox.messages[0]
    assert received["To"] == "bewoner@example.nl"
    assert received["Subject"] == "Uw inloglink"
    assert "Klik op de link." in received.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert read(db, outbox.pending_ids) == []


def test_mail_waits_in_the_outbox_when_the_server_is_down(db: Database, settings: Settings) -> None:
    settings = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=1)
    transact(db, outbox.queue, "bewoner@example.nl", "Onderwerp", "Tekst")
    assert mail.deliver_pending(db, settings) == 0
    [waiting] = read(db, outbox.recent)
    assert waiting.sent_at is None
    assert waiting.attempts == 1
    assert "ConnectionRefusedError" in waiting.last_error


def test_without_smtp_host_mail_stays_in_the_outbox(db: Database, settings: Settings) -> None:
    transact(db, outbox.queue, "bewoner@example.nl", "Onderwerp", "Tekst")
    assert mail.deliver_pending(db, settings) == 0
    assert len(read(db, outbox.pending_ids)) == 1


# -- The recipient's language ------------------------------------------------------------------


def _mailing(settings: Settings, port: int) -> Settings:
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)


def _body(message: Message) -> str:
    return message.get_payload(decode=True).decode()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("language", "subject", "sentences"),
    [
        (
            "en",
            "Gemeente Proeftuin: your link to sign in",
            ["participatory budget of Gemeente Proeftuin", "works for 10 minutes"],
        ),
        (
            "nl",
            "Gemeente Proeftuin: uw link om in te loggen",
            ["burgerbegroting van Gemeente Proeftuin", "werkt 10 minuten"],
        ),
    ],
)
def test_the_sign_in_mail_is_in_the_language_of_the_session_that_asked(
    db: Database,
    settings: Settings,
    smtp_inbox: tuple[Inbox, int],
    language: str,
    subject: str,
    sentences: list[str],
) -> None:
    inbox, port = smtp_inbox
    with TestClient(create_app(_mailing(settings, port), db)) as client:
        page = client.get(f"/inloggen?lang={language}").text  # the choice is kept in the session
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        answer = client.post(
            "/inloggen", data={"email": "anna@example.nl", "csrf_token": token.group(1)}
        )
        assert answer.status_code == 200
    [message] = inbox.messages
    assert message["Subject"] == subject
    body = _body(message)
    assert all(sentence in body for sentence in sentences), body
    assert re.search(r"http://testserver/inloggen/link\?token=\S+", body)


def _plan_with_an_author(session: OrmSession) -> tuple[Actor, str]:
    round_ = make_round(session, phase=Phase.INDIENEN, costs=())
    author = make_resident(session, email="fatima@example.nl", name="Fatima")
    plan = make_plan(session, round_, "speeltuin", author=author)
    return make_staff(session, area_ids=[round_.area_id]), plan.public_id


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "Hello Fatima,",
                "You submitted the plan “Plan speeltuin” for “Buurtbudget Noord”.",
                "It will not be on the ballot.",
                "Te duur voor dit budget.",  # the reason stays as the moderator wrote it
                "See your plan with this link:",
            ],
        ),
        (
            "nl",
            [
                "Hallo Fatima,",
                "U diende het plan “Plan speeltuin” in voor “Buurtbudget Noord”.",
                "Het komt niet op het stembiljet.",
                "Te duur voor dit budget.",
                "Bekijk uw plan via deze link:",
            ],
        ),
    ],
)
def test_a_decision_mailed_to_the_author_is_in_the_language_of_the_request_that_made_it(
    db: Database,
    settings: Settings,
    smtp_inbox: tuple[Inbox, int],
    language: str,
    expected: list[str],
) -> None:
    inbox, port = smtp_inbox
    moderator, public_id = transact(db, _plan_with_an_author)
    token = i18n.current_language.set(language)  # what the web's language middleware does
    try:
        transact(
            db,
            lambda session: moderation.reject(
                session,
                moderator,
                lookup.staff_plan(session, moderator, public_id),
                "Te duur voor dit budget.",
                "http://testserver/plannen/speeltuin",
            ),
        )
    finally:
        i18n.current_language.reset(token)
    assert mail.deliver_pending(db, _mailing(settings, port)) == 1
    [message] = inbox.messages
    assert message["To"] == "fatima@example.nl"
    assert message["Subject"] == i18n.gettext("Uw plan komt niet op het stembiljet", language)
    body = _body(message)
    assert all(line in body for line in expected), body


def test_outside_a_request_mail_is_in_dutch(db: Database) -> None:
    moderator, public_id = transact(db, _plan_with_an_author)
    transact(
        db,
        lambda session: moderation.ask_changes(
            session,
            moderator,
            lookup.staff_plan(session, moderator, public_id),
            "Graag een tekening erbij.",
        ),
    )
    [queued] = read(db, outbox.recent)
    assert queued.subject == "Uw plan: wilt u iets aanpassen?"
    assert queued.body.startswith("Hallo Fatima,\n")
