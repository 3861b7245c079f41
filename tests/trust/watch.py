"""Watching a real server's casting transaction from outside, and sending a cast whose answer
is never read: shared by the trust tests of single ballots and of voting events."""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.trust.client import FORM_HEADERS
from tests.trust.server import TrustDatabase

WAIT_SECONDS = 30
OURS = "trust-test"  # application_name of the test's own PostgreSQL connection


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.005)


def send_and_hang_up(
    url: str, cookie: str, form: list[tuple[str, str]], path: str = "/stem/uitbrengen"
) -> None:
    """The whole request, then the connection closed at once: the answer is never read."""
    body = str(httpx.QueryParams(form)).encode()
    parts = urlsplit(url)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nCookie: {cookie}\r\n"
        f"Content-Type: {FORM_HEADERS['content-type']}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(head.encode() + body)


def cast_is_open(db: TrustDatabase) -> bool:
    """True while some connection holds a write transaction open (the server's cast)."""
    if db.backend == "sqlite":
        probe = sqlite3.connect(make_url(db.url).database or "", timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # database is locked: the writer is in its transaction
            return True
        finally:
            probe.close()
    return _activity(db, "state = 'idle in transaction'") > 0


def cast_waits(db: TrustDatabase) -> bool:
    return _activity(db, "wait_event_type = 'Lock'") > 0


def _activity(db: TrustDatabase, condition: str) -> int:
    """Connections of the server (not ours: they are named) in this state."""
    with db.database.engine.connect() as conn:
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            f"AND pid <> pg_backend_pid() AND application_name <> '{OURS}' AND {condition}"
        )
        return int(conn.execute(sa.text(query)).scalar_one())
