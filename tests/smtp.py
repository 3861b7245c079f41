"""A real SMTP server on loopback (aiosmtpd, in a thread) that keeps what it receives."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A running server and its inbox and port; stopped on leaving."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def wait_for_mail(inbox: Inbox, to: str, seconds: float = 15) -> Message:
    """The first mail to ``to`` that arrives within ``seconds`` (other mail is passed over)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in inbox.messages:
            if message["To"] == to:
                return message
        time.sleep(0.05)
    raise AssertionError(f"no mail to {to} within {seconds}s")
