"""Models and migrations agree, on SQLite and PostgreSQL, and the way down works too."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session

from proeftuin import migrate
from proeftuin.db import Base, connect, read, transact
from proeftuin.models import Area, AuditEvent, Phase, Plan, PlanStatus, Result, Round
from proeftuin.services import audit, open_data, result_record
from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database, need_postgres
from tests.factories import make_staff


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


# -- 0002: the result record ----------------------------------------------------------------------

RESULTS = Path(__file__).resolve().parent / "data" / "results"
SIGNED_OFF = dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)


def _insert_as_at(session: Session, model: type[Base], **values: object) -> int:
    """A row of ``model`` with only the columns the database has now: a later migration's
    columns are not there yet at an older revision."""
    present = {c["name"] for c in sa.inspect(session.connection()).get_columns(model.__tablename__)}
    table = sa.Table(
        model.__tablename__,
        sa.MetaData(),
        *(column._copy() for column in model.__table__.columns if column.name in present),
    )
    inserted = session.execute(sa.insert(table).values(**values).returning(table.c.id))
    return int(inserted.scalar_one())


def _round_at_0001(session: Session, slug: str, phase: Phase, plan_prefix: str) -> int:
    area_id = _insert_as_at(session, Area, slug=f"wijk-{slug}", name="Noord", kind="wijk")
    round_id = _insert_as_at(
        session,
        Round,
        area_id=area_id,
        slug=slug,
        title="Buurtbudget Noord",
        budget=10_000,
        phase=phase.value,
        ballot_kind="knapsack",
        tie_break_seed="seed",
    )
    for i, cost in enumerate((4_000, 3_000, 5_000)):
        _insert_as_at(
            session,
            Plan,
            round_id=round_id,
            public_id=f"{plan_prefix}{i}",
            title=f"Plan {i}",
            estimated_cost=cost,
            official_cost=cost,
            status=PlanStatus.OP_STEMBILJET.value,
        )
    return round_id


def _store_version_1_results(session: Session) -> None:
    """At 0001: a published result whose decision is only in the audit log, and a concept."""
    data = (RESULTS / "version1.json").read_text(encoding="utf-8").strip()
    published = _round_at_0001(session, "buurtbudget-noord-2026", Phase.GEPUBLICEERD, "plan")
    concept = _round_at_0001(session, "ronde-concept", Phase.GESLOTEN, "concept")
    area_id = session.scalar(
        sa.select(Round.__table__.c.area_id).where(Round.__table__.c.id == published)
    )
    staff = make_staff(session, area_ids=[int(area_id or 0)])
    result = Result.__table__
    common = {"rule": "equal_shares", "tie_break_seed": "seed", "data": data}
    session.execute(
        sa.insert(result).values(
            round_id=published,
            status="gepubliceerd",
            ballots_sha256=json.loads(data)["export"]["sha256"],
            computed_at=SIGNED_OFF,
            signed_off_by_id=staff.staff_id,
            signed_off_at=SIGNED_OFF,
            published_at=SIGNED_OFF + dt.timedelta(days=1),
            **common,
        )
    )
    session.execute(
        sa.insert(result).values(
            round_id=concept,
            status="concept",
            ballots_sha256="0" * 64,
            computed_at=SIGNED_OFF,
            **common,
        )
    )
    for round_id, decision in [
        (published, "Eerder besluit"),
        (published, "Wijkraad Noord, 12 maart 2027, besluit 4"),
        (concept, "Niet van deze uitslag"),
    ]:
        # The audit log as 0001 has it: no hash chain yet.
        session.execute(
            sa.text(
                "INSERT INTO audit_event (at, actor_id, action, target_type, target_id, details) "
                "VALUES (:at, :actor, 'result.sign_off', 'round', :round_id, :details)"
            ),
            {
                "at": SIGNED_OFF,
                "actor": staff.staff_id,
                "round_id": round_id,
                "details": json.dumps({"decision": decision}),
            },
        )


def _results_at_0001(url: str) -> list[tuple[int, str]]:
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT round_id, data FROM result ORDER BY round_id")).all()
    engine.dispose()
    return [(row[0], row[1]) for row in rows]


def test_results_stored_at_0001_are_read_by_the_new_code_after_the_upgrade(
    empty_url: str,
) -> None:
    migrate.upgrade(empty_url, "0001")
    database = connect(empty_url)
    transact(database, _store_version_1_results)
    database.dispose()
    before = _results_at_0001(empty_url)

    migrate.upgrade(empty_url)
    assert _differences(empty_url) == []
    database = connect(empty_url)

    def check(session: Session) -> None:
        rows = session.scalars(sa.select(Result).order_by(Result.round_id)).all()
        published, concept = rows
        assert published.decision == "Wijkraad Noord, 12 maart 2027, besluit 4"
        assert concept.decision is None
        for row in rows:
            record = result_record.read(row)
            assert record.snapshot.slug == "buurtbudget-noord-2026"
            assert record.own.report.selected == ("plan1", "plan3", "plan2")  # funding order
        served = open_data.result_json(session, "buurtbudget-noord-2026").content
        assert served == (RESULTS / "version1-open-data.json").read_bytes()

    read(database, check)
    database.dispose()

    migrate.downgrade(empty_url, "0001")
    assert _results_at_0001(empty_url) == before


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
