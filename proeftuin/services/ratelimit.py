"""Failure counters in the database, shared by every worker and host.

See docs/decisions.md, Rate limits.

Only failures count (wrong codes, wrong passwords), so a community centre can help hundreds of
residents from one IP. Counts are kept per minute and summed over a sliding window; keys are HMACs,
so the table holds no IP address or e-mail address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from proeftuin.db import table_of
from proeftuin.models import RateLimit

BUCKET_SECONDS = 60


@dataclass(frozen=True)
class Limit:
    bucket: str
    max_failures: int
    window: dt.timedelta


CODE_FAILURES_PER_IP = Limit("code_ip", 10, dt.timedelta(minutes=15))
LOGIN_FAILURES_PER_IP = Limit("login_ip", 20, dt.timedelta(minutes=15))
LOGIN_FAILURES_PER_ACCOUNT = Limit("login_account", 5, dt.timedelta(minutes=15))
MAIL_PER_ADDRESS = Limit("mail_address", 3, dt.timedelta(minutes=15))
MAIL_PER_IP = Limit("mail_ip", 20, dt.timedelta(minutes=15))


@dataclass(frozen=True)
class Alarm:
    """Too many failures of one kind from all keys together: someone may be guessing from many
    addresses at once, which no per-key limit notices."""

    limit: Limit
    threshold: int
    window: dt.timedelta


# A gemeente's residents mistype a code now and then; a hundred in ten minutes is not that.
WRONG_CODES_ALARM = Alarm(CODE_FAILURES_PER_IP, 100, dt.timedelta(minutes=10))


LIMITS = table_of(RateLimit)
# Built once: every typed code asks it (building a statement costs more than running it).
RECENT = (
    select(LIMITS.c.window_start, LIMITS.c.count)
    .where(
        LIMITS.c.bucket == bindparam("bucket"),
        LIMITS.c.key == bindparam("key"),
        LIMITS.c.window_start > bindparam("since"),
    )
    .order_by(LIMITS.c.window_start)
)


def hash_key(secret: str, raw: str) -> str:
    return hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()


def retry_after(session: Session, limit: Limit, key: str, now: dt.datetime) -> int | None:
    """Seconds until another attempt is allowed, or None when the key is under its limit."""
    since = now - limit.window
    since -= dt.timedelta(seconds=BUCKET_SECONDS)
    rows = (
        session.connection()
        .execute(RECENT, {"bucket": limit.bucket, "key": key, "since": since})
        .all()
    )
    total = sum(count for _, count in rows)
    if total < limit.max_failures:
        return None
    # Wait until enough of the oldest failures have left the window.
    for start, count in rows:
        total -= count
        if total < limit.max_failures:
            expires = start + dt.timedelta(seconds=BUCKET_SECONDS) + limit.window
            return max(1, int((expires - now).total_seconds()))
    return int(limit.window.total_seconds())


def record(session: Session, limit: Limit, key: str, now: dt.datetime) -> None:
    """Count one failure (or one use, for limits on sending) for the key."""
    start = now.replace(second=0, microsecond=0)
    values = {"bucket": limit.bucket, "key": key, "window_start": start, "count": 1}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(RateLimit).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["bucket", "key", "window_start"],
        set_={"count": RateLimit.count + 1},
    )
    session.execute(statement)


def take(session: Session, limit: Limit, key: str, now: dt.datetime) -> int | None:
    """Count an attempt as a failure *before* the work it guards (a password hash), and return the
    seconds to wait when that makes one too many (the caller raises, rolling the count back), or
    None when the attempt may go ahead. ``give_back`` undoes it for an attempt that succeeds.

    Counting first makes concurrent attempts on one key queue at the counter (its row on
    PostgreSQL, the write lock on SQLite) instead of all passing a check that none of them has
    counted yet: under a flood no more attempts than the limit get to the expensive work.
    """
    record(session, limit, key, now)
    with_this_one = Limit(limit.bucket, limit.max_failures + 1, limit.window)
    return retry_after(session, with_this_one, key, now)


def give_back(session: Session, limit: Limit, key: str, now: dt.datetime) -> None:
    """Undo ``take`` (same ``now``) for an attempt that turned out to be a success."""
    start = now.replace(second=0, microsecond=0)
    this_minute = (
        RateLimit.bucket == limit.bucket,
        RateLimit.key == key,
        RateLimit.window_start == start,
    )
    session.execute(update(RateLimit).where(*this_minute).values(count=RateLimit.count - 1))
    session.execute(delete(RateLimit).where(*this_minute, RateLimit.count <= 0))


def failures_since(session: Session, limit: Limit, since: dt.datetime) -> int:
    """All failures of a kind across every key: for the alarm on a global failure rate."""
    total = session.scalar(
        select(func.coalesce(func.sum(RateLimit.count), 0)).where(
            RateLimit.bucket == limit.bucket, RateLimit.window_start >= since
        )
    )
    return int(total or 0)


def alarm(session: Session, alarm: Alarm, now: dt.datetime) -> int | None:
    """The count of failures in the alarm's window when it has just reached a multiple of the
    threshold (so a steady attack is reported once per threshold, not once per failure), else
    None. Call it right after ``record``."""
    total = failures_since(session, alarm.limit, now - alarm.window)
    return total if total and total % alarm.threshold == 0 else None


def prune(session: Session, now: dt.datetime, keep: dt.timedelta = dt.timedelta(days=1)) -> int:
    result = session.execute(delete(RateLimit).where(RateLimit.window_start < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)
