"""News by e-mail (web/subscriptions.py): asking for it, confirming it, stopping it. No account
and no sign-in; the answers never tell whether an address was known."""

from __future__ import annotations

from sqlalchemy.orm import Session

from proeftuin.db import utcnow
from proeftuin.errors import NotFound
from proeftuin.services import notifications, subscriptions
from proeftuin.services.pages import declare
from proeftuin.services.ratelimit import hash_key as hash_key
from proeftuin.services.subscriptions import Subject as Subject


def _subject(session: Session, kind: str, slug: str) -> Subject:
    found = subscriptions.subject(session, kind, slug)
    if found is None:
        raise NotFound()
    return found


@declare.read
def subject(session: Session, kind: str, slug: str) -> Subject:
    """The round or area the form is about; ``NotFound`` when there is none."""
    return _subject(session, kind, slug)


@declare.write
def subscribe(
    session: Session, kind: str, slug: str, email: str, base_url: str, ip_key: str = ""
) -> Subject:
    target = _subject(session, kind, slug)
    subscriptions.subscribe(session, email, target, base_url, utcnow(), ip_key)
    return target


@declare.write
def confirm(session: Session, token: str) -> None:
    now = utcnow()
    # What is true already (the phase a round is in) is not news to someone who joins now.
    notifications.announce_phases(session, now)
    subscriptions.confirm(session, token, now, notifications.latest_notice_id(session))


@declare.write
def unsubscribe(session: Session, token: str) -> None:
    subscriptions.unsubscribe(session, token, utcnow())
