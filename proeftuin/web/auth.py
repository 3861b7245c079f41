"""Where a staff member's sign-in lives in the cookie session (docs/decisions.md, Sessions).

The signed cookie holds only a random session token; the server keeps its hash in
``StaffSession`` and checks it (revoked, idle, absolute age, session_version) on every staff
request, so that logging out or a password change ends the session everywhere. The check itself
belongs to the moderation/accounts services; this module only reads and writes the cookie side.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from proeftuin.web.language import SESSION_KEY as LANGUAGE_KEY
from proeftuin.web.security import rotate_csrf_token

STAFF_SESSION_KEY = "staff"


def staff_session_token(conn: HTTPConnection) -> str | None:
    """The staff session token from the cookie, not yet checked against the database."""
    token = conn.session.get(STAFF_SESSION_KEY)
    return token if isinstance(token, str) and token else None


def start_signed_in_session(conn: HTTPConnection, key: str, value: object) -> None:
    """After a successful sign-in: a fresh session (against fixation) that keeps the language."""
    language = conn.session.get(LANGUAGE_KEY)
    conn.session.clear()
    if language:
        conn.session[LANGUAGE_KEY] = language
    conn.session[key] = value
    rotate_csrf_token(conn)


def start_staff_session(conn: HTTPConnection, token: str) -> None:
    start_signed_in_session(conn, STAFF_SESSION_KEY, token)


def end_staff_session(conn: HTTPConnection) -> None:
    conn.session.pop(STAFF_SESSION_KEY, None)
    rotate_csrf_token(conn)
