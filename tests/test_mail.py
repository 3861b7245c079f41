"""Mail goes out over a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from proeftuin import mail
from proeftuin.config import Settings
from proeftuin.db import Database, read, transact
from proeftuin.services import outbox


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
