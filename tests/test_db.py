"""proeftuin.db on SQLite: writers queue for their turn, and a deferred transaction that writes on a
stale snapshot runs again instead of losing an update. On PostgreSQL: work survives a restart,
and reads keep the prepared statements. On both: reads and dry runs keep no change."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from proeftuin import jobs
from proeftuin.db import (
    Database,
    connect,
    lock_name,
    read,
    rehearse,
    transact,
    transact_deferred,
    transact_locking,
    utcnow,
)
from proeftuin.models import RateLimit
from proeftuin.web.ops import readiness_problem
from tests.conftest import (
    create_postgres_database,
    drop_postgres_database,
    need_postgres,
    postgres_admin_url,
)


def counter_db(tmp_path: Path) -> Database:
    database = connect(f"sqlite:///{tmp_path / 'counter.db'}")
    with database.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(sa.text("INSERT INTO counter VALUES (0)"))
    return database


def test_a_writer_waits_for_its_turn_in_the_queue_shared_by_processes(tmp_path: Path) -> None:
    """Two ``connect``s stand for two worker processes: each opens the queue's lock file itself,
    and ``flock`` excludes separate opens of a file as it excludes separate processes."""
    first, second = counter_db(tmp_path), connect(f"sqlite:///{tmp_path / 'counter.db'}")
    holding = threading.Event()
    events: list[str] = []

    def hold_the_turn() -> None:
        with first.write_turn():  # no SQLite lock at all: only the queue is held
            holding.set()
            time.sleep(0.2)  # time for the second writer to get to the queue
            events.append("released")

    holder = threading.Thread(target=hold_the_turn)
    holder.start()
    assert holding.wait(timeout=10)
    transact(second, lambda session: events.append("second writer in"))
    holder.join()
    assert events == ["released", "second writer in"]
    first.dispose()
    second.dispose()


def test_a_deferred_transaction_that_read_a_stale_value_runs_again(tmp_path: Path) -> None:
    database = counter_db(tmp_path)
    both_read = threading.Barrier(2)
    runs: list[int] = []

    def read_then_increment(session: Session) -> None:
        n = session.execute(sa.text("SELECT n FROM counter")).scalar_one()
        runs.append(n)
        if len(runs) <= 2:
            both_read.wait(timeout=10)  # the first two runs both read before either writes
        session.execute(sa.text("UPDATE counter SET n = :n"), {"n": n + 1})

    threads = [
        threading.Thread(target=transact_deferred, args=(database, read_then_increment))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT n FROM counter")).scalar_one() == 2  # none lost
    assert sorted(runs) == [0, 0, 1]  # the one that lost the race read again
    database.dispose()


def test_transactions_that_lock_one_name_run_one_after_another(db: Database) -> None:
    """``transact_locking`` runs at READ COMMITTED on PostgreSQL, where two read-then-write
    transactions would both read 0 and both write 1; ``lock_name`` makes the second wait for
    the first and read its 1 (SQLite has one writer at a time anyway)."""
    row_id = transact(db, _new_counter)
    together = not db.is_sqlite  # on SQLite the second cannot even begin before the first ends
    both_started, both_read = threading.Barrier(2), threading.Barrier(2)

    def increment(session: Session, locked: bool) -> None:
        session.execute(sa.select(1))  # the transaction has begun
        if together:
            both_started.wait(timeout=10)
        if locked:
            lock_name(session, f"counter:{row_id}")
        counter = session.get(RateLimit, row_id)
        assert counter is not None
        if together and not locked:
            both_read.wait(timeout=10)
        counter.count += 1

    def run_both(locked: bool) -> None:
        threads = [
            threading.Thread(target=transact_locking, args=(db, increment, locked))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def count(session: Session) -> int:
        counter = session.get(RateLimit, row_id)
        assert counter is not None
        return counter.count

    run_both(locked=True)
    assert read(db, count) == 2
    if together:  # the lock is what kept the update: without it, one is lost
        run_both(locked=False)
        assert read(db, count) == 3


def test_a_read_keeps_no_change_and_a_rehearsal_keeps_nothing(db: Database) -> None:
    """``read`` commits on PostgreSQL (see read), where the server refuses writes in it; on
    SQLite it rolls back. ``rehearse`` (a dry run) sees its own changes and keeps none."""
    row_id = transact(db, _new_counter)

    def bump(session: Session) -> int:
        counter = session.get(RateLimit, row_id)
        assert counter is not None
        counter.count += 1
        session.flush()
        return counter.count

    def stored(session: Session) -> int:
        counter = session.get(RateLimit, row_id)
        assert counter is not None
        return counter.count

    if db.is_sqlite:
        assert read(db, bump) == 1  # rolled back when the session closes
    else:
        with pytest.raises(DBAPIError, match="read-only transaction"):
            read(db, bump)
    assert read(db, stored) == 0
    assert rehearse(db, bump) == 1
    assert read(db, stored) == 0


def test_reads_keep_the_prepared_statements_of_their_connection(
    counter_pg: tuple[str, Database],
) -> None:
    """psycopg prepares a statement on its sixth run and forgets every prepared statement at a
    ROLLBACK; reads end with COMMIT, also those that refuse (a page not found), so the server
    need not parse and plan each query again."""
    url, _database = counter_pg
    database = connect(url, pool_size=1)  # every read on the one connection

    def prepared(session: Session, refuse: bool) -> int:
        count(session)
        statement = sa.text("SELECT count(*) FROM pg_prepared_statements")
        found = int(session.scalar(statement) or 0)
        if refuse:
            raise LookupError(found)
        return found

    try:
        seen = [read(database, prepared, False) for _ in range(8)]
        with pytest.raises(LookupError):
            read(database, prepared, True)
        after_refusal = read(database, prepared, False)
    finally:
        database.dispose()
    assert seen[0] == 0
    assert seen[-1] >= 2  # this count's statement and the query for it
    assert after_refusal >= seen[-1]


def _new_counter(session: Session) -> int:
    counter = RateLimit(bucket="test", key="counter", window_start=utcnow(), count=0)
    session.add(counter)
    session.flush()
    return counter.id


@pytest.fixture
def counter_pg() -> Iterator[tuple[str, Database]]:
    """A new PostgreSQL database with a counter table, and its ``Database``."""
    need_postgres()
    url = create_postgres_database("proeftuin_restart")
    database = connect(url)
    with database.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        conn.execute(sa.text("INSERT INTO counter VALUES (0)"))
    yield url, database
    database.dispose()
    drop_postgres_database(url)


def count(session: Session) -> int:
    return int(session.scalar(sa.text("SELECT n FROM counter")) or 0)


def add_one(session: Session) -> int:
    session.execute(sa.text("UPDATE counter SET n = n + 1"))
    return count(session)


def test_work_survives_a_postgresql_restart_that_closed_the_pooled_connections(
    counter_pg: tuple[str, Database],
) -> None:
    """No ping before each use: a connection the server has closed fails at its first statement,
    and the work runs again on a new one. Terminating the backends is what a restart does to
    them."""
    url, database = counter_pg
    held = [database.engine.connect() for _ in range(3)]  # several connections in the pool
    for conn in held:
        conn.execute(sa.text("SELECT 1"))
    for conn in held:
        conn.close()
    for step in range(1, 4):
        assert _terminate_backends(url) >= 1
        assert transact(database, add_one) == step  # ran exactly once more
        _terminate_backends(url)
        assert read(database, count) == step
        _terminate_backends(url)
        assert transact_locking(database, count) == step


def test_work_lost_halfway_runs_again_and_counts_once(counter_pg: tuple[str, Database]) -> None:
    url, database = counter_pg
    for run in (transact, transact_locking):
        calls: list[int] = []

        def work(session: Session) -> int:
            calls.append(1)
            session.execute(sa.text("UPDATE counter SET n = n + 1"))
            if len(calls) == 1:
                _terminate_backends(url)
            return count(session)

        before = read(database, count)
        assert run(database, work) == before + 1
        assert len(calls) == 2
        assert read(database, count) == before + 1


def test_work_lost_during_the_commit_is_not_run_again(counter_pg: tuple[str, Database]) -> None:
    """Whether that commit happened, no one knows: running the work again could do it twice."""
    url, database = counter_pg
    calls: list[int] = []

    @sa.event.listens_for(database.engine, "commit")
    def lose_the_connection(conn: sa.Connection) -> None:
        _terminate_backends(url)

    def work(session: Session) -> int:
        calls.append(1)
        return add_one(session)

    with pytest.raises(DBAPIError) as lost:
        transact(database, work)
    assert lost.value.connection_invalidated
    assert calls == [1]
    sa.event.remove(database.engine, "commit", lose_the_connection)
    assert read(database, count) == 0


def test_the_jobs_lock_and_readiness_survive_a_postgresql_restart(
    counter_pg: tuple[str, Database],
) -> None:
    url, database = counter_pg
    with database.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    _terminate_backends(url)
    with jobs.exclusive(database) as acquired:
        assert acquired
    _terminate_backends(url)
    # Not migrated, so not ready: but because of the schema, not an unanswered database.
    assert readiness_problem(database) == "database schema is not at the migrations' head"


def _terminate_backends(url: str) -> int:
    admin = sa.create_engine(postgres_admin_url(), poolclass=sa.NullPool)
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": sa.make_url(url).database},
                ).all()
            )
    finally:
        admin.dispose()
