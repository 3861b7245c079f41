"""Outgoing mail as an outbox: queued in the same transaction as the action that causes it, sent
afterwards by whichever server gets to it first (one row is claimed by one sender only).

A mail is written when it is queued, as gettext messages (Dutch msgids, like the pages), in the
recipient's language where it is known; no language is stored for residents or staff, so that is
the language of the request that queues it (i18n.current_language, set by the web layer), and
Dutch outside a request (the command line, scheduled jobs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from proeftuin.models import OutboxMail

MAX_ATTEMPTS = 5


def queue(
    session: Session, recipient: str, subject: str, body: str, *, unsubscribe_url: str = ""
) -> OutboxMail:
    """``unsubscribe_url``: the one-click stop link the mail's List-Unsubscribe headers name."""
    mail = OutboxMail(
        recipient=recipient, subject=subject, body=body, unsubscribe_url=unsubscribe_url
    )
    session.add(mail)
    session.flush()
    return mail


def pending_ids(session: Session, limit: int = 50) -> list[int]:
    return list(
        session.scalars(
            select(OutboxMail.id)
            .where(OutboxMail.sent_at.is_(None), OutboxMail.attempts < MAX_ATTEMPTS)
            .order_by(OutboxMail.id)
            .limit(limit)
        )
    )


def claim(session: Session, mail_id: int, now: dt.datetime) -> OutboxMail | None:
    """Mark one mail as being sent; None when another sender claimed it first."""
    claimed = session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.sent_at.is_(None))
        .values(sent_at=now, attempts=OutboxMail.attempts + 1)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    return session.get(OutboxMail, mail_id)


def release(session: Session, mail_id: int, error: str) -> None:
    """Sending failed: put it back in the queue with the reason."""
    session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id)
        .values(sent_at=None, last_error=error[:300])
    )


def recent(session: Session, limit: int = 20) -> list[OutboxMail]:
    return list(session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)))


Sender = Callable[[OutboxMail], None]
