"""Models and migrations agree, on SQLite and PostgreSQL, and the way down works too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from proeftuin import migrate
from proeftuin.db import Base, connect, read
from proeftuin.models import AuditEvent
from proeftuin.services import audit
from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database, need_postgres


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    need_postgres()
    url = create_postgres_database("proeftuin_migrations")
    yield url
    drop_postgres_database(url)


def _differences(url: str, metadata: sa.MetaData = Base.metadata) -> list[object]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    return list(diff)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    names = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_upgrade_to_head_yields_exactly_the_models(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    assert _differences(empty_url) == []
    assert _tables(empty_url) == set(Base.metadata.tables) | {"alembic_version"}


def test_upgrade_twice_is_a_no_op(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    engine = sa.create_engine(empty_url, poolclass=sa.NullPool)
    before = sa.inspect(engine).get_table_names()
    migrate.upgrade(empty_url)
    assert sa.inspect(engine).get_table_names() == before
    assert migrate.is_at_head(engine)
    engine.dispose()


def test_downgrade_to_base_removes_everything(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    assert _tables(empty_url) <= {"alembic_version"}
    migrate.upgrade(empty_url)
    assert _differences(empty_url) == []


def test_an_unmigrated_model_change_is_detected(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    changed = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["area"].append_column(sa.Column("not_in_any_migration", sa.Integer))
    assert _differences(empty_url, changed) != []


def test_events_written_before_the_chain_are_chained_by_the_migration(empty_url: str) -> None:
    migrate.upgrade(empty_url, "0001")
    engine = sa.create_engine(empty_url, poolclass=sa.NullPool)
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(
                sa.text(
                    "INSERT INTO audit_event (at, action, target_type, target_id, details) "
                    "VALUES (:at, 'round.update', 'round', :n, '{\"n\": 1}')"
                ),
                {"at": dt.datetime(2026, 5, n + 1, 9, 30, 15, 123456, tzinfo=dt.UTC), "n": n},
            )
    engine.dispose()
    migrate.upgrade(empty_url)
    database = connect(empty_url)
    check = read(database, audit.verify_chain)
    first = read(database, lambda s: s.scalar(sa.select(AuditEvent).order_by(AuditEvent.id)))
    database.dispose()
    assert (check.ok, check.events) == (True, 3)
    assert first.prev_hash == audit.GENESIS
