"""The database: engine, sessions, and one transaction per service call.

SQLite is the embedded default and must survive several workers: WAL, a busy timeout, foreign
keys on, and ``BEGIN IMMEDIATE`` for writes so two writers queue instead of failing half-way.
Writers also queue on a file lock beside the database first (``WriteQueue``), so they wait in
the kernel's queue instead of in SQLite's busy handler, which polls with sleeps of up to 100 ms.
PostgreSQL runs writes at SERIALIZABLE and retries on serialization failures and deadlocks;
reads are READ ONLY transactions that end with COMMIT (``read``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import itertools
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import anyio.to_thread
from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    MetaData,
    Table,
    bindparam,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, InvalidRequestError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 16  # connections per process; threads beyond wait for one (as with 5 + 10 before)
# Conflicts are retried for this long, not a number of times: fifty revotes of one ballot at once
# on PostgreSQL commit one after another, and the last needs about fifty attempts. The pause
# before each attempt is random ("full jitter"), so the losers do not collide again in step.
RETRY_SECONDS = 15.0
BACKOFF_FIRST_SECONDS = 0.005
BACKOFF_MAX_SECONDS = 0.1
# Unique constraints whose violation means "another transaction got there first": the work checks
# for the row before it inserts, so run again it sees that row. PostgreSQL reports such a race
# as a serialization failure only when both transactions are SERIALIZABLE; a ballot cast at
# READ COMMITTED (transact_locking) next to a paper ballot entered at SERIALIZABLE shows it so.
RACE_CONSTRAINTS = frozenset({"uq_ballot_round_id_voter_key"})
# The audit chain (services.audit.record): a SERIALIZABLE writer whose snapshot began before
# the newest event was committed tries to follow the one before it, and this refuses it. That
# is a serialization failure in all but name, retried as one (no limit but RETRY_SECONDS).
SERIALIZATION_CONSTRAINTS = frozenset({"uq_audit_event_prev_hash"})
RACE_RETRIES = 2  # a race is lost once or twice; more often, it is a real duplicate


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """A model's table, for statements built once and run without the ORM on hot paths."""
    return cast(Table, model.__table__)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in and out; SQLite stores no zone, so we put it back on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use proeftuin.db.utcnow()")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class WriteQueue:
    """One SQLite writer at a time across the processes of this host, queued in the kernel.

    SQLite admits one writer; the others wait in its busy handler, which sleeps 1, 2, 5, ... up to
    100 ms between tries. Under load a writer then waits far longer than the writes before it
    took, and one worker process can starve the other. A ``flock`` on a file beside the database
    wakes the next writer the moment the lock is free; threads of one process queue on a lock of
    their own first, so each process has one writer at the file lock. ``BEGIN IMMEDIATE`` and
    the busy timeout stay: they still guard against writers that do not take this queue.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0  # a transaction inside a transaction (same thread) does not queue again
        self._fd: int | None = None
        self._pid = 0

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    fcntl.flock(self._file(), fcntl.LOCK_UN)

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked child needs its own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


@dataclass(frozen=True)
class Database:
    engine: Engine
    reader: sessionmaker[Session]
    writer: sessionmaker[Session]
    locking_writer: sessionmaker[Session]  # see transact_locking
    write_queue: WriteQueue | None = field(default=None, compare=False)

    def write_turn(self) -> contextlib.AbstractContextManager[None]:
        return self.write_queue.turn() if self.write_queue else contextlib.nullcontext()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def connect(url: str, **engine_options: Any) -> Database:
    queue = None
    if ":memory:" not in url:
        # Keep every connection the process may use open. SQLAlchemy's default keeps 5 of 15
        # and opens and closes the others for each query under load: on PostgreSQL a new server
        # process each time (the load benchmark: 35 ballots/s with that, 48 without).
        engine_options = {"pool_size": POOL_SIZE, "max_overflow": 0} | engine_options
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **engine_options
        )
        _configure_sqlite(engine)
        write_engine = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        locking_engine = write_engine  # one writer at a time already
        read_engine = engine
        path = engine.url.database
        if path and path != ":memory:" and not path.startswith("file:"):
            queue = WriteQueue(f"{path}.write-lock")
    else:
        # No ping before each use (pool_pre_ping): a round trip per transaction, some 10 % of a
        # ballot's CPU. A connection the server closed fails at its first statement instead, and
        # the transaction runs again on a new one (_transaction, read).
        engine = create_engine(url, **engine_options)
        write_engine = engine.execution_options(isolation_level="SERIALIZABLE")
        locking_engine = engine.execution_options(isolation_level="READ COMMITTED")
        # Reads end with COMMIT, not ROLLBACK (read): the server refuses any write in them.
        read_engine = engine.execution_options(postgresql_readonly=True)
    return Database(
        engine=engine,
        reader=sessionmaker(read_engine, expire_on_commit=False),
        writer=sessionmaker(write_engine, expire_on_commit=False),
        locking_writer=sessionmaker(locking_engine, expire_on_commit=False),
        write_queue=queue,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take BEGIN out of pysqlite's hands so that we decide when and how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


P = ParamSpec("P")
T = TypeVar("T")
E = TypeVar("E")


def transact(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run ``fn(session, ...)`` in one write transaction; commit, or roll back on any error.

    Retried from the start when the database reports a conflict that a retry resolves. An error
    with ``keep_changes`` set (errors.DomainError.keeping_changes) commits first, then is raised.
    """
    return _transaction(lambda session: fn(session, *args, **kwargs), db.writer, db.write_turn)


def transact_locking(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``transact`` for work that locks what it decides on itself (``lock_row``, ``lock_name``):
    casting a ballot. On PostgreSQL it runs at READ COMMITTED instead of SERIALIZABLE, whose
    predicate locks on index pages make casts of *different* codes abort each other (measured:
    676 retries for 445 casts in the load benchmark). On SQLite it is ``transact``."""
    return _transaction(
        lambda session: fn(session, *args, **kwargs), db.locking_writer, db.write_turn
    )


def lock_row(session: Session, entity: type[E], id_: int, *, shared: bool = False) -> E | None:
    """The row, read afresh and locked until the transaction ends: ``FOR UPDATE`` on
    PostgreSQL, or ``FOR SHARE`` (others may lock it so too, no one may change it). SQLite has
    one writer at a time and leaves the clause out."""
    where = entity.id == id_  # type: ignore[attr-defined]
    statement = select(entity).where(where).with_for_update(read=shared)
    return session.scalars(statement.execution_options(populate_existing=True)).one_or_none()


ADVISORY_LOCK = select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger)))


def lock_name(session: Session, name: str) -> None:
    """Hold a lock on ``name`` until the transaction ends: transactions that lock the same name
    run one after another (PostgreSQL: an advisory lock; SQLite: one writer at a time anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
        key = int.from_bytes(digest, signed=True)
        session.connection().execute(ADVISORY_LOCK, {"key": key})


def transact_deferred(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``transact`` for work that mostly reads and only now and then writes (a typed letter code:
    only a wrong one is counted), and locks what it decides on (``lock_name``). On SQLite it
    does not take the write lock up front, so it neither waits for the writers nor holds them
    up. Should it write after another transaction committed since it began, SQLite refuses
    ("database is locked") and it runs again from the start, now as an ordinary writer: the
    outcome is still as if the transactions ran one after another. On PostgreSQL it is
    ``transact_locking``: at SERIALIZABLE, wrong codes typed at once from many addresses (a
    guessing attack) aborted each other over the shared count, 8 attempts per code at 64 at
    once."""
    if not db.is_sqlite:
        return transact_locking(db, fn, *args, **kwargs)
    # A plain BEGIN, committed below. After a conflict it runs as a writer in the queue: a
    # deferred write can lose to every writer that comes along while they keep coming.
    return _transaction(
        lambda session: fn(session, *args, **kwargs),
        db.reader,
        contextlib.nullcontext,
        retry_as=(db.writer, db.write_turn),
    )


def _transaction(
    work: Callable[[Session], T],
    sessions: sessionmaker[Session],
    turn: Callable[[], contextlib.AbstractContextManager[None]],
    *,
    retry_as: tuple[sessionmaker[Session], Callable[[], Any]] | None = None,
) -> T:
    """``retry_as``: the sessions and turn for every attempt after the first conflict."""
    give_up = time.monotonic() + RETRY_SECONDS
    races = reconnects = 0
    for attempt in itertools.count():
        kept: Exception | None = None
        committing = False
        try:
            with turn(), sessions() as session, session.begin():
                try:
                    result = work(session)
                except Exception as error:
                    if not getattr(error, "keep_changes", False):
                        raise
                    kept = error  # leaving the block normally commits
                committing = True
            if kept is None:
                return result
        except (OperationalError, DBAPIError) as error:
            races += _lost_race(error)
            # A connection lost before the commit took nothing with it: run again on a new one.
            # Lost during the commit, no one knows whether it committed: that is for the caller.
            lost = error.connection_invalidated and not committing
            reconnects += lost
            retry = (_retryable(error) and races <= RACE_RETRIES) or (lost and reconnects == 1)
            if not retry or time.monotonic() > give_up:
                raise
            if retry_as is not None:
                sessions, turn = retry_as
            backoff = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** min(attempt, 10))
            time.sleep(random.uniform(0, backoff))  # noqa: S311 (timing, not security)
            continue
        assert kept is not None
        raise kept
    raise AssertionError("unreachable")


def live_connection(engine: Engine) -> Connection:
    """A connection for work outside ``transact`` and ``read`` (the jobs lock, readiness), tried
    first: no ping guards the pool (``connect``), and the server may have closed this one."""
    connection = engine.connect()
    try:
        connection.exec_driver_sql("SELECT 1")
        connection.rollback()  # end the transaction the query began: the caller begins its own
    except DBAPIError as error:
        connection.close()
        if not error.connection_invalidated:
            raise
        connection = engine.connect()  # the pool has let go of the closed ones
    return connection


def read(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run ``fn(session, ...)`` in a transaction that changes nothing: rolled back on SQLite;
    on PostgreSQL read-only and committed, since psycopg forgets its prepared statements at every
    ROLLBACK (and so parsed and planned every statement afresh). Run again once on a new
    connection when the database had closed the one it had."""
    try:
        return _read_once(db, lambda session: fn(session, *args, **kwargs))
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return _read_once(db, lambda session: fn(session, *args, **kwargs))


def _read_once(db: Database, work: Callable[[Session], T]) -> T:
    with db.reader() as session:
        try:
            result = work(session)
        except DBAPIError:
            raise  # the database failed: closing the session rolls back
        except Exception:
            # Also when the work refused (a page not found): a ROLLBACK would cost the prepared
            # statements all the same. Should that COMMIT fail, the work's error is what counts.
            with contextlib.suppress(DBAPIError, InvalidRequestError):
                _end_read(db, session)
            raise
        _end_read(db, session)
        return result


def _end_read(db: Database, session: Session) -> None:
    if not db.is_sqlite:
        session.commit()


def rehearse(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run ``fn(session, ...)`` as a write transaction that is rolled back: what it would change,
    changing nothing (a dry run). At READ COMMITTED on PostgreSQL, as reads: a dry run on a
    busy server must not fail on a serialization conflict."""
    with db.write_turn(), db.locking_writer() as session:
        return fn(session, *args, **kwargs)


async def run(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """From async code: one service call, one write transaction, in a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(transact, db, fn, *args, **kwargs))


async def run_locking(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``run`` with ``transact_locking``."""
    return await anyio.to_thread.run_sync(
        functools.partial(transact_locking, db, fn, *args, **kwargs)
    )


async def run_deferred(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``run`` with ``transact_deferred``."""
    return await anyio.to_thread.run_sync(
        functools.partial(transact_deferred, db, fn, *args, **kwargs)
    )


async def run_read(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    return await anyio.to_thread.run_sync(functools.partial(read, db, fn, *args, **kwargs))


def _retryable(error: DBAPIError) -> bool:
    # psycopg: 40001 serialization_failure, 40P01 deadlock_detected; SQLite: a lock held past the
    # busy timeout.
    code = getattr(error.orig, "sqlstate", None)
    if code in ("40001", "40P01"):
        return True
    if code == "23505":
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        if constraint in SERIALIZATION_CONSTRAINTS:
            return True
    return _lost_race(error) or "database is locked" in str(error.orig)


def _lost_race(error: DBAPIError) -> bool:
    if getattr(error.orig, "sqlstate", None) != "23505":  # unique_violation
        return False
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    return constraint in RACE_CONSTRAINTS
