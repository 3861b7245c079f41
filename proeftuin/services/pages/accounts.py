"""A staff member's own account: signing in and out, the check on every staff request, the
second factor, the password and how long the session still lasts.

The rules live in ``services.staff_sessions`` and ``services.staff``; the functions here give the
web layer one call per page or action, each in the transaction it needs.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from proeftuin.services import staff, staff_sessions
from proeftuin.services.permissions import Actor
from proeftuin.services.ratelimit import hash_key as hash_key
from proeftuin.services.staff import Account as Account
from proeftuin.services.staff_sessions import SignedIn as SignedIn
from proeftuin.services.staff_sessions import totp_uri as totp_uri

from . import declare

# How long an active session still lasts, as shown to its user. The last activity may be stored
# up to TOUCH_EVERY late, so this errs on the early side.
SESSION_LEFT = staff_sessions.IDLE - staff_sessions.TOUCH_EVERY


@declare.write
def sign_in(
    session: Session,
    email: str,
    password: str,
    totp: str,
    ip_key: str,
    secret_key: str,
    now: dt.datetime,
    require_admin_totp: bool,
) -> SignedIn:
    """A new session for the account; a wrong attempt is counted (so this writes)."""
    return staff_sessions.sign_in(
        session, email, password, totp, ip_key, secret_key, now, require_admin_totp
    )


@declare.write
def sign_out(session: Session, token: str, now: dt.datetime) -> None:
    staff_sessions.sign_out(session, token, now)


@declare.write
def check_session(session: Session, token: str, now: dt.datetime) -> Actor:
    """Who is behind this session token; ``NotAllowed`` when it has ended. It writes: a session
    in use is kept alive (at most once a minute)."""
    return staff_sessions.check(session, token, now)


@declare.read
def session_ends_at(session: Session, token: str, now: dt.datetime) -> dt.datetime | None:
    return staff.session_ends_at(session, token, now)


@declare.read
def own_account(session: Session, actor: Actor) -> Account:
    return staff.own_account(session, actor)


@declare.write
def enable_second_factor(session: Session, actor: Actor, secret: str, code: str) -> None:
    staff.enable_second_factor(session, actor, secret, code)


@declare.write
def change_password(
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    repeat: str,
    secret_key: str,
    now: dt.datetime,
) -> None:
    """Every session of the account ends, the one making the change too."""
    staff.change_own_password(session, actor, current, new, repeat, secret_key, now)
