"""Failure counters in the database, shared by every worker and host (DESIGN.md §4.7).

Only failures count (wrong codes, wrong passwords), so a community centre can help hundreds of
residents from one IP. Counts are kept per minute and summed over a sliding window; keys are HMACs,
so the table holds no IP address or e-mail address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

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


def hash_key(secret: str, raw: str) -> str:
    return hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()


def retry_after(session: Session, limit: Limit, key: str, now: dt.datetime) -> int | None:
    """Seconds until another attempt is allowed, or None when the key is under its limit."""
    since = now - limit.window
    rows = session.execute(
        select(RateLimit.window_start, RateLimit.count)
        .where(
            RateLimit.bucket == limit.bucket,
            RateLimit.key == key,
            RateLimit.window_start > since - dt.timedelta(seconds=BUCKET_SECONDS),
        )
        .order_by(RateLimit.window_start)
    ).all()
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


def failures_since(session: Session, limit: Limit, since: dt.datetime) -> int:
    """All failures of a kind across every key: for the alarm on a global failure rate."""
    total = session.scalar(
        select(func.coalesce(func.sum(RateLimit.count), 0)).where(
            RateLimit.bucket == limit.bucket, RateLimit.window_start >= since
        )
    )
    return int(total or 0)


def prune(session: Session, now: dt.datetime, keep: dt.timedelta = dt.timedelta(days=1)) -> int:
    result = session.execute(delete(RateLimit).where(RateLimit.window_start < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)
