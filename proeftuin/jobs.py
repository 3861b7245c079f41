"""Scheduled jobs: rounds move to their next phase at the set dates, subscribers get what is new
(at most a mail a day), queued mail goes out, old rate-limit rows go.

Every server process may run them (the built-in scheduler, every ``jobs_interval`` seconds, or
``proeftuin jobs run-once`` from a timer); a lock makes sure only one runs them at a time, and each
job is safe to repeat, so however many servers there are, each due change happens once.

- PostgreSQL: ``pg_try_advisory_xact_lock`` on a connection that holds its transaction open while
  the jobs run on others. A crashed server's connection closes, and the lock with it.
- SQLite: ``flock`` on a file beside the database. SQLite is shared only by processes on one host,
  so a host lock has exactly the reach that is needed. (A lock inside SQLite would mean holding its
  one write lock while mail is sent, and every ballot would wait for the mail server.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import text

from proeftuin import mail
from proeftuin.config import Settings
from proeftuin.db import Database, live_connection, transact, utcnow
from proeftuin.services import merges, notifications, ratelimit, rounds
from proeftuin.services.rounds import PhaseChange

log = logging.getLogger(__name__)

# The advisory lock's key: any fixed 64-bit number that nothing else on the server uses.
LOCK_KEY = 0x7072_6F65_6A6F_6273  # "proejobs"
# Without a file (SQLite in memory) the database lives in one process: a lock in it suffices.
_PROCESS_LOCK = threading.Lock()

T = TypeVar("T")


@dataclass(frozen=True)
class JobRun:
    ran: bool  # False: another process held the lock, nothing was done
    phase_changes: tuple[PhaseChange, ...] = ()
    mails_sent: int = 0
    rate_limits_pruned: int = 0
    failed: tuple[str, ...] = ()  # names of the jobs that raised (logged with their traceback)
    notices_mailed: int = 0  # subscribers' mails queued (at most one a day per address)


def run_once(database: Database, settings: Settings, now: dt.datetime | None = None) -> JobRun:
    """Run every job once, unless another process is running them right now."""
    with exclusive(database) as acquired:
        if not acquired:
            log.info("scheduled jobs: another process is running them; skipped")
            return JobRun(ran=False)
        return _run_jobs(database, settings, now or utcnow())


def _run_jobs(database: Database, settings: Settings, now: dt.datetime) -> JobRun:
    failed: list[str] = []
    empty: list[PhaseChange] = []
    changes = _attempt("phases", lambda: transact(database, rounds.tick, now), empty, failed)
    for change in changes:
        step = f"{change.slug}: {change.from_phase.value} -> {change.to_phase.value}"
        if change.refused:
            log.warning("round %s refused: %s", step, change.refused)
        else:
            log.info("round %s", step)
    pruned = _attempt("prune", lambda: transact(database, ratelimit.prune, now), 0, failed)
    _attempt("merge mail", lambda: transact(database, merges.send_due, now), 0, failed)
    mailed = _attempt("notices", lambda: _notices(database, settings, now), 0, failed)
    sent = _attempt("mail", lambda: mail.deliver_pending(database, settings), 0, failed)
    return JobRun(True, tuple(changes), sent, pruned, tuple(failed), mailed)


def _notices(database: Database, settings: Settings, now: dt.datetime) -> int:
    """Announce the phases rounds reached, then queue the subscribers' mail that is due."""
    transact(database, notifications.announce_phases, now)
    return transact(database, notifications.send_due, settings.base_url, now)


def _attempt(name: str, job: Callable[[], T], fallback: T, failed: list[str]) -> T:
    try:
        return job()
    except Exception:
        # One broken job must not keep the others (mail, say) from running.
        log.exception("scheduled job %s failed", name)
        failed.append(name)
        return fallback


@contextlib.contextmanager
def exclusive(database: Database) -> Iterator[bool]:
    """Yields True while this process holds the jobs lock, False when another one does."""
    if database.is_sqlite:
        path = database.engine.url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            with _process_lock() as acquired:
                yield acquired
        else:
            with _file_lock(Path(path).with_name(Path(path).name + ".jobs-lock")) as acquired:
                yield acquired
        return
    with live_connection(database.engine) as conn, conn.begin():
        acquired = conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        yield bool(acquired)
        # Leaving the transaction (commit or rollback) releases the lock.


@contextlib.contextmanager
def _process_lock() -> Iterator[bool]:
    if not _PROCESS_LOCK.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        _PROCESS_LOCK.release()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- The built-in scheduler ------------------------------------------------------------------


@asynccontextmanager
async def scheduled(database: Database, settings: Settings) -> AsyncIterator[None]:
    """While open, run the jobs now and then every ``settings.jobs_interval`` seconds (0: never).

    For the app's lifespan. Closing waits for a run in progress to finish.
    """
    if settings.jobs_interval <= 0:
        yield
        return
    async with anyio.create_task_group() as group:
        group.start_soon(_loop, database, settings)
        try:
            yield
        finally:
            group.cancel_scope.cancel()


async def _loop(database: Database, settings: Settings) -> None:
    while True:
        try:
            await anyio.to_thread.run_sync(run_once, database, settings)
        except Exception:  # the database may be down for a while: try again next time
            log.exception("scheduled jobs could not run")
        await anyio.sleep(settings.jobs_interval)
