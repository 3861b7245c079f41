"""Compose and send mail over SMTP, and deliver what the outbox service queued."""

from __future__ import annotations

import logging
import smtplib
from email import policy
from email.message import EmailMessage

from proeftuin.config import Settings
from proeftuin.db import Database, read, transact, utcnow
from proeftuin.services import outbox

log = logging.getLogger(__name__)
# RFC 5322's limit rather than 78: a List-Unsubscribe address cannot be folded, and a longer one
# would otherwise be sent as an encoded word that no mail program reads as a link.
POLICY = policy.default.clone(max_line_length=998)


def compose(
    settings: Settings, recipient: str, subject: str, body: str, unsubscribe_url: str = ""
) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    if unsubscribe_url:
        # One click stops it (RFC 8058): the mail program POSTs to the link itself.
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(body)
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Deliver one message; raises ``smtplib.SMTPException`` or ``OSError`` when it cannot."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def deliver_pending(database: Database, settings: Settings) -> int:
    """Send what waits in the outbox; returns how many were sent. Without an SMTP host (development)
    mail stays in the outbox, where a developer reads it."""
    if not settings.smtp_host:
        return 0
    sent = 0
    for mail_id in read(database, outbox.pending_ids):
        mail = transact(database, outbox.claim, mail_id, utcnow())
        if mail is None:
            continue
        try:
            message = compose(
                settings, mail.recipient, mail.subject, mail.body, mail.unsubscribe_url
            )
            send(settings, message)
        except (smtplib.SMTPException, OSError) as error:
            log.warning("mail %s not sent: %s", mail_id, type(error).__name__)
            transact(database, outbox.release, mail_id, f"{type(error).__name__}: {error}")
            continue
        sent += 1
    return sent
