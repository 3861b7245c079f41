"""The database: engine, sessions, and one transaction per service call.

SQLite is the embedded default and must survive several workers: WAL, a busy timeout, foreign
keys on, and ``BEGIN IMMEDIATE`` for writes so two writers queue instead of failing half-way.
PostgreSQL runs writes at SERIALIZABLE and retries on serialization failures and deadlocks.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import DateTime, Dialect, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
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
RETRIES = 8


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


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


@dataclass(frozen=True)
class Database:
    engine: Engine
    reader: sessionmaker[Session]
    writer: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.engine.dispose()


def connect(url: str, **engine_options: Any) -> Database:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **engine_options
        )
        _configure_sqlite(engine)
        write_engine = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    else:
        engine = create_engine(url, pool_pre_ping=True, **engine_options)
        write_engine = engine.execution_options(isolation_level="SERIALIZABLE")
    return Database(
        engine=engine,
        reader=sessionmaker(engine, expire_on_commit=False),
        writer=sessionmaker(write_engine, expire_on_commit=False),
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
    for attempt in range(RETRIES):
        kept: Exception | None = None
        try:
            with db.writer() as session, session.begin():
                try:
                    return fn(session, *args, **kwargs)
                except Exception as error:
                    if not getattr(error, "keep_changes", False):
                        raise
                    kept = error  # leaving the block normally commits
        except (OperationalError, DBAPIError) as error:
            if attempt == RETRIES - 1 or not _retryable(error):
                raise
            time.sleep(0.01 * 2**attempt)
            continue
        assert kept is not None
        raise kept
    raise AssertionError("unreachable")


def read(
    db: Database,
    fn: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run ``fn(session, ...)`` in a transaction that is rolled back when the session closes."""
    with db.reader() as session:
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
    return "database is locked" in str(error.orig)
