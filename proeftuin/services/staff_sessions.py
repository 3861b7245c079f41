"""Staff sign-in and server-side sessions (docs/decisions.md, Sessions).

The cookie carries a random token; only its hash is stored. A session ends after 30 minutes idle or
12 hours in all, on logout, and for every device at once when the password changes (the account's
``session_version`` moves on). Failed sign-ins are limited per account and per IP, and the limit is
checked *before* the password hash is computed, so a login flood cannot buy unbounded argon2 work:
each attempt is counted as a failure first (``ratelimit.take``, given back when it succeeds), so
that concurrent attempts queue at the counter instead of all hashing before any was counted.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid, NotAllowed, TooManyAttempts
from proeftuin.models import Membership, Role, StaffSession, StaffUser
from proeftuin.services import accounts, audit, ratelimit
from proeftuin.services.permissions import Actor

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)
TOUCH_EVERY = dt.timedelta(seconds=60)  # spare the database a write on every request


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the address is unknown, so both answers take as long. Made on first
    use: an argon2 hash costs a tenth of a second, which no import should pay."""
    return accounts.password_hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class SignedIn:
    token: str  # goes into the cookie; never stored
    actor: Actor
    needs_totp_setup: bool  # admins in production must set up a second factor first


def sign_in(
    session: Session,
    email: str,
    password: str,
    totp_code: str,
    ip_key: str,
    secret_key: str,
    now: dt.datetime,
    require_admin_totp: bool,
) -> SignedIn:
    email = accounts.normalise_email(email)
    account_key = ratelimit.hash_key(secret_key, email)
    limits = (
        (ratelimit.LOGIN_FAILURES_PER_IP, ip_key),  # always in this order: no lock cycles
        (ratelimit.LOGIN_FAILURES_PER_ACCOUNT, account_key),
    )
    for limit, key in limits:  # a flood past the limit is refused here, before taking any lock
        wait = ratelimit.retry_after(session, limit, key, now)
        if wait is not None:
            raise TooManyAttempts(wait)
    for limit, key in limits:
        wait = ratelimit.take(session, limit, key, now)
        if wait is not None:
            raise TooManyAttempts(wait)
    # From here on this attempt counts as a failure: the errors below keep that (and commit it).
    user = session.scalar(select(StaffUser).where(StaffUser.email == email))
    if user is None or not user.active or not _password_ok(user, password):
        if user is None:
            _password_matches(_dummy_hash(), password)
        target = user.id if user is not None else None
        audit.record(
            session, None, "staff.sign_in_failed", "staff_user", target, known_account=bool(user)
        )
        _audit_lockout(session, limits, target, now)
        raise Invalid("password", "Het e-mailadres of het wachtwoord klopt niet.").keeping_changes()
    if user.totp_secret and not pyotp.TOTP(user.totp_secret).verify(
        totp_code.strip(), valid_window=1
    ):
        audit.record(session, None, "staff.sign_in_totp_failed", "staff_user", user.id)
        _audit_lockout(session, limits, user.id, now)
        raise Invalid(
            "totp", "De code uit uw app klopt niet. Probeer de nieuwste code."
        ).keeping_changes()
    for limit, key in limits:
        ratelimit.give_back(session, limit, key, now)
    if accounts.password_hasher.check_needs_rehash(user.password_hash):
        user.password_hash = accounts.password_hasher.hash(password)
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=_hash(token),
            staff_id=user.id,
            session_version=user.session_version,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    audit.record(session, user.id, "staff.sign_in", "staff_user", user.id)
    needs_setup = require_admin_totp and user.role == Role.ADMIN and not user.totp_secret
    return SignedIn(token=token, actor=_actor(session, user), needs_totp_setup=needs_setup)


def _audit_lockout(
    session: Session,
    limits: tuple[tuple[ratelimit.Limit, str], ...],
    staff_id: int | None,
    now: dt.datetime,
) -> None:
    """The failure just counted locks the IP or the account: one event, when the lock begins.
    Attempts refused while locked are not logged one by one: a flood would fill the log and
    queue at its chain (``audit.record``), which is what refusing them first avoids."""
    for limit, key in limits:
        if ratelimit.retry_after(session, limit, key, now) is not None:
            audit.record(
                session,
                None,
                "staff.locked_out",
                "staff_user",
                staff_id,
                limit=limit.bucket.removeprefix("login_"),
                minutes=int(limit.window.total_seconds() // 60),
            )


def check(session: Session, token: str, now: dt.datetime) -> Actor:
    """The staff member behind a session token, or NotAllowed when the session is over."""
    row = session.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None:
        raise NotAllowed("U bent niet (meer) ingelogd.")
    user = session.get(StaffUser, row.staff_id)
    if (
        user is None
        or not user.active
        or row.session_version != user.session_version
        or now - row.last_seen_at > IDLE
        or now - row.created_at > ABSOLUTE
    ):
        raise NotAllowed("U bent niet (meer) ingelogd.")
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return _actor(session, user)


def sign_out(session: Session, token: str, now: dt.datetime) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == _hash(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def change_password(
    session: Session, staff_id: int, current: str, new: str, now: dt.datetime
) -> None:
    """New password; every session of the account ends, this one included."""
    user = session.get(StaffUser, staff_id)
    if user is None or not _password_ok(user, current):
        raise Invalid("current", "Uw huidige wachtwoord klopt niet.")
    accounts.validate_password(new)
    user.password_hash = accounts.password_hasher.hash(new)
    _revoke_all(session, user, now)


def revoke_all_sessions(session: Session, staff_id: int, now: dt.datetime) -> None:
    user = session.get(StaffUser, staff_id)
    if user is not None:
        _revoke_all(session, user, now)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def enable_totp(session: Session, staff_id: int, secret: str, code: str) -> None:
    """Turn on the second factor once the staff member proved their app shows the right code."""
    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        raise Invalid("totp", "De code uit uw app klopt niet. Probeer de nieuwste code.")
    user = session.get(StaffUser, staff_id)
    if user is None:
        raise NotAllowed()
    user.totp_secret = secret


def _revoke_all(session: Session, user: StaffUser, now: dt.datetime) -> None:
    user.session_version += 1
    session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == user.id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _actor(session: Session, user: StaffUser) -> Actor:
    areas = session.scalars(select(Membership.area_id).where(Membership.staff_id == user.id))
    return Actor(staff_id=user.id, role=user.role, area_ids=frozenset(areas))


def _password_ok(user: StaffUser, password: str) -> bool:
    return _password_matches(user.password_hash, password)


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return accounts.password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
