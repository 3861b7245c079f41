from __future__ import annotations

import datetime as dt

from proeftuin.db import Database, read, transact
from proeftuin.services import ratelimit
from proeftuin.services.ratelimit import Limit

LIMIT = Limit("test", 10, dt.timedelta(minutes=15))
T0 = dt.datetime(2027, 3, 3, 12, 0, 30, tzinfo=dt.UTC)


def _fail(db: Database, key: str, at: dt.datetime, times: int = 1) -> None:
    for _ in range(times):
        transact(db, ratelimit.record, LIMIT, key, at)


def test_ten_failures_block_the_eleventh_attempt_until_the_window_passes(db: Database) -> None:
    _fail(db, "ip-a", T0, 9)
    assert read(db, ratelimit.retry_after, LIMIT, "ip-a", T0) is None
    _fail(db, "ip-a", T0)
    wait = read(db, ratelimit.retry_after, LIMIT, "ip-a", T0)
    assert wait is not None and 14 * 60 < wait <= 16 * 60
    later = T0 + dt.timedelta(seconds=wait)
    assert read(db, ratelimit.retry_after, LIMIT, "ip-a", later) is None


def test_keys_and_buckets_are_counted_apart(db: Database) -> None:
    _fail(db, "ip-a", T0, 10)
    assert read(db, ratelimit.retry_after, LIMIT, "ip-b", T0) is None
    other = Limit("other", 10, LIMIT.window)
    assert read(db, ratelimit.retry_after, other, "ip-a", T0) is None


def test_failures_spread_over_the_window_still_count(db: Database) -> None:
    for minute in range(10):
        _fail(db, "ip-a", T0 + dt.timedelta(minutes=minute))
    assert read(db, ratelimit.retry_after, LIMIT, "ip-a", T0 + dt.timedelta(minutes=10))
    assert read(db, ratelimit.retry_after, LIMIT, "ip-a", T0 + dt.timedelta(minutes=17)) is None


def test_global_failure_count_and_pruning(db: Database) -> None:
    _fail(db, "ip-a", T0, 3)
    _fail(db, "ip-b", T0, 4)
    assert read(db, ratelimit.failures_since, LIMIT, T0 - dt.timedelta(minutes=5)) == 7
    assert transact(db, ratelimit.prune, T0 + dt.timedelta(days=2)) == 2
    assert read(db, ratelimit.failures_since, LIMIT, T0 - dt.timedelta(minutes=5)) == 0


def test_hash_key_hides_the_raw_value() -> None:
    hashed = ratelimit.hash_key("secret", "192.0.2.7")
    assert "192" not in hashed and len(hashed) == 64
    assert hashed != ratelimit.hash_key("other-secret", "192.0.2.7")
