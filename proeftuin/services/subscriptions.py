"""Subscribing by e-mail to a round or an area, without an account, with double opt-in.

- Asking to subscribe always gets the same answer, whether or not the address is known, so the
  form reveals nothing about who is subscribed.
- An address that has not confirmed gets nothing but the one confirmation mail; asking again
  within ``RESEND_AFTER`` sends no second one (no mail bombing a stranger through this form).
- Confirming proves the address: every waiting subscription of that address is confirmed.
  A new subject for a confirmed address is confirmed anew, so no one can add subjects to
  someone else's mail.
- Every mail carries a stop link (``unsubscribe``): one click stops every mail to the address.

Plan authors are subscribed to their own plan without asking (``notifications``); they signed in
with that address. Links are full URLs on the public address (``base_url``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, TooManyAttempts, _
from proeftuin.i18n import gettext
from proeftuin.models import Area, Phase, Plan, Round, Subscription
from proeftuin.services import accounts, outbox, ratelimit

RESEND_AFTER = dt.timedelta(hours=1)
UNCONFIRMED_FOR = dt.timedelta(days=7)
CONFIRM_PATH = "/berichten/bevestigen?t={token}"
UNSUBSCRIBE_PATH = "/berichten/stoppen?t={token}"


@dataclass(frozen=True)
class Subject:
    """What one may subscribe to: a round or an area."""

    kind: str  # "ronde" or "wijk"
    slug: str
    name: str
    round_id: int | None
    area_id: int | None


def subject(session: Session, kind: str, slug: str) -> Subject | None:
    """The round (not in concept) or area a form names; None when there is none."""
    if kind == "ronde":
        round_ = session.scalar(select(Round).where(Round.slug == slug))
        if round_ is None or round_.phase == Phase.CONCEPT:
            return None
        return Subject(kind, slug, round_.title, round_.id, None)
    if kind == "wijk":
        area = session.scalar(select(Area).where(Area.slug == slug))
        return Subject(kind, slug, area.name, None, area.id) if area is not None else None
    return None


def subscribe(
    session: Session,
    email: str,
    target: Subject,
    base_url: str,
    now: dt.datetime,
    ip_key: str = "",
) -> None:
    """Ask for a subscription. Returns nothing: the caller answers the same in every case.
    Every request counts towards the sender's limit of mails asked for (``ip_key``, shared
    with the sign-in links), whether or not a mail goes out, so the limit tells nothing."""
    address = accounts.validate_email(email)
    if ip_key:
        wait = ratelimit.retry_after(session, ratelimit.MAIL_PER_IP, ip_key, now)
        if wait is not None:
            raise TooManyAttempts(wait)
        ratelimit.record(session, ratelimit.MAIL_PER_IP, ip_key, now)
    found = session.scalar(
        select(Subscription).where(
            Subscription.email == address,
            Subscription.round_id.is_(None)
            if target.round_id is None
            else Subscription.round_id == target.round_id,
            Subscription.area_id.is_(None)
            if target.area_id is None
            else Subscription.area_id == target.area_id,
        )
    )
    if found is not None and found.confirmed_at is not None:
        return  # subscribed already: nothing to send
    if found is None:
        found = Subscription(
            email=address,
            round_id=target.round_id,
            area_id=target.area_id,
            token=new_token(),
            created_at=now,
        )
        session.add(found)
        session.flush()
    recent = session.scalar(
        select(Subscription.id).where(
            Subscription.email == address,
            Subscription.confirm_sent_at.is_not(None),
            Subscription.confirm_sent_at > now - RESEND_AFTER,
        )
    )
    if recent is not None:
        return
    found.confirm_sent_at = now
    base = base_url.rstrip("/")
    body = "\n".join(
        [
            gettext(_("Hallo,")),
            "",
            gettext(
                _("Iemand vroeg om berichten over \u201c{name}\u201d op dit e-mailadres."),
                name=target.name,
            ),
            gettext(_("Wilt u die berichten? Bevestig het met deze link:")),
            base + CONFIRM_PATH.format(token=found.token),
            "",
            gettext(_("Vroeg u dit niet? Doe dan niets. U krijgt dan geen berichten van ons.")),
        ]
    )
    outbox.queue(
        session,
        address,
        gettext(_("Bevestig uw aanmelding voor berichten")),
        body,
        unsubscribe_url=base + UNSUBSCRIBE_PATH.format(token=found.token),
    )


def new_token() -> str:
    return secrets.token_urlsafe(32)


def confirm(session: Session, token: str, now: dt.datetime, latest_notice: int) -> None:
    """Confirm every waiting subscription of the token's address. Only what happens from now
    on is mailed (``latest_notice``: the newest notice now)."""
    found = _by_token(session, token)
    if found is None:
        raise Invalid("", _("Deze link werkt niet meer. Meld u opnieuw aan."))
    session.execute(
        update(Subscription)
        .where(Subscription.email == found.email, Subscription.confirmed_at.is_(None))
        .values(confirmed_at=now, last_notice_id=latest_notice)
    )


def unsubscribe(session: Session, token: str, now: dt.datetime) -> None:
    """Stop every mail to the token's address. An unknown token changes nothing and says the
    same (it may have been used already)."""
    found = _by_token(session, token)
    if found is None:
        return
    session.execute(
        delete(Subscription).where(
            Subscription.email == found.email, Subscription.plan_id.is_(None)
        )
    )
    session.execute(
        update(Subscription)
        .where(Subscription.email == found.email, Subscription.plan_id.is_not(None))
        .values(stopped_at=now)
    )


def _by_token(session: Session, token: str) -> Subscription | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Subscription).where(Subscription.token == token))


def purge(session: Session, now: dt.datetime, finished_round_ids: list[int]) -> int:
    """Subscriptions of finished rounds (and of their plans), and those never confirmed within
    ``UNCONFIRMED_FOR``; the number removed."""
    removed = session.execute(
        delete(Subscription).where(
            Subscription.confirmed_at.is_(None), Subscription.created_at < now - UNCONFIRMED_FOR
        )
    )
    count = int(getattr(removed, "rowcount", 0) or 0)
    if finished_round_ids:
        plans = select(Plan.id).where(Plan.round_id.in_(finished_round_ids))
        removed = session.execute(
            delete(Subscription).where(
                Subscription.round_id.in_(finished_round_ids) | Subscription.plan_id.in_(plans)
            )
        )
        count += int(getattr(removed, "rowcount", 0) or 0)
    return count
