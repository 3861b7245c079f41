"""Backup and restore: export, throw the database away, migrate a new one, import, and every row
(every ballot above all) is back, on SQLite and on PostgreSQL, and from one to the other."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin import backup, demo, migrate
from proeftuin.cli import main
from proeftuin.db import Database, connect, read, transact, utcnow
from proeftuin.models import Ballot, Channel, Plan, PlanStatus, Role, Round, VotingCode
from proeftuin.services import accounts, outbox, voting
from tests.conftest import create_postgres_database, drop_postgres_database, need_postgres

PEPPER = "backup-test-pepper-" + "p" * 32
BACKENDS = ("sqlite", "postgresql")


class Backend:
    """Makes, throws away and remakes databases on one backend."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.urls: list[str] = []

    def new(self) -> str:
        """A new, migrated, empty database."""
        if self.kind == "sqlite":
            url = f"sqlite:///{self.tmp_path / f'db{len(self.urls)}.sqlite'}"
        else:
            url = create_postgres_database("proeftuin_backup")
        self.urls.append(url)
        migrate.upgrade(url)
        return url

    def delete(self, url: str) -> None:
        if self.kind == "sqlite":
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            drop_postgres_database(url)

    def cleanup(self) -> None:
        if self.kind == "postgresql":
            for url in self.urls:
                drop_postgres_database(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "postgresql":
        need_postgres()
    made = Backend(request.param, tmp_path)
    yield made
    made.cleanup()


@pytest.fixture
def make_backend(tmp_path: Path) -> Iterator[Callable[[str], Backend]]:
    made: list[Backend] = []

    def make(kind: str) -> Backend:
        if kind == "postgresql":
            need_postgres()
        made.append(Backend(kind, tmp_path / kind))
        (tmp_path / kind).mkdir(exist_ok=True)
        return made[-1]

    yield make
    for one in made:
        one.cleanup()


# -- A database worth restoring --------------------------------------------------------------


def fill(database: Database) -> list[str]:
    """The demo, ten ballots (one replaced), a paper ballot, a merged plan, a staff account,
    a queued mail. Returns the codes not used yet."""
    summary = transact(database, demo.seed_demo, PEPPER)
    codes = summary.codes
    plans = read(
        database,
        lambda s: list(
            s.scalars(
                select(Plan.public_id)
                .join(Round)
                .where(Round.slug == summary.voting_round_slug)
                .where(Plan.status == PlanStatus.OP_STEMBILJET)
                .order_by(Plan.id)
            )
        ),
    )
    for i, code in enumerate(codes[:10]):
        chosen = {plans[i % len(plans)]: 1, plans[(i + 3) % len(plans)]: 1}
        cast(database, code, chosen)
    cast(database, codes[0], {plans[5]: 1})  # changed their mind: replaces the first ballot
    cast(database, codes[10], {plans[1]: 1}, channel=Channel.PAPER)

    def merge_into_a_later_plan(session: Session) -> None:
        plans = session.scalars(select(Plan).order_by(Plan.id)).all()
        plans[0].status = PlanStatus.SAMENGEVOEGD.value
        plans[0].merged_into_id = plans[-1].id

    transact(database, merge_into_a_later_plan)
    transact(
        database,
        accounts.create_staff,
        "beheer@gemeente.example",
        "Beheer",
        "lang genoeg wachtwoord 123",
        Role.ADMIN,
    )
    transact(database, outbox.queue, "bewoner@example.nl", "Uw inloglink", "Klik op de link.")
    return codes[11:]


def cast(
    database: Database, code: str, chosen: dict[str, int], channel: Channel = Channel.ONLINE
) -> str:
    def do(session: Session) -> str:
        _, credential = voting.check_code(session, PEPPER, code)
        return voting.cast(
            session, credential, chosen, channel=channel, today=utcnow().date()
        ).receipt

    return transact(database, do)


def every_row(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    def dump(session: Session) -> dict[str, list[tuple[Any, ...]]]:
        return {
            table.name: [
                tuple(row)
                for row in session.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in backup.tables()
        }

    return read(database, dump)


def demo_round_ballots(session: Session) -> int:
    """Ballots in the demo's voting round (the demo's published round has ballots of its own)."""
    in_round = select(Round.id).where(Round.slug == demo.VOTING_ROUND_SLUG).scalar_subquery()
    return len(session.scalars(select(Ballot.id).where(Ballot.round_id == in_round)).all())


def export_text(database: Database, pepper: str = PEPPER) -> str:
    out = io.StringIO()
    backup.export_db(database, out, pepper)
    return out.getvalue()


# -- Restore ---------------------------------------------------------------------------------


def test_back_up_delete_restore_and_every_ballot_is_back(backend: Backend) -> None:
    url = backend.new()
    database = connect(url)
    unused = fill(database)
    before = every_row(database)
    assert read(database, demo_round_ballots) == 11 and len(before["ballot_choice"]) >= 19
    assert len(before["plan_photo"]) >= 12  # the photos (their bytes) go along
    text = export_text(database)
    database.dispose()

    backend.delete(url)
    restored_url = backend.new()
    restored = connect(restored_url)
    summary = backup.import_db(restored, io.StringIO(text), PEPPER)

    after = every_row(restored)
    assert summary.counts == {name: len(rows) for name, rows in before.items()}
    for name in before:
        assert after[name] == before[name], f"{name} differs after the restore"

    # The restored database is in working order: new rows get new ids (sequences were moved on),
    # a code used before is still known (same pepper), and one new ballot is one more.
    cast(restored, unused[0], {})
    assert read(restored, demo_round_ballots) == 12
    transact(restored, outbox.queue, "ander@example.nl", "Onderwerp", "Tekst")
    restored.dispose()


def test_an_export_from_sqlite_restores_into_postgresql(
    make_backend: Callable[[str], Backend],
) -> None:
    sqlite, postgres = make_backend("sqlite"), make_backend("postgresql")
    source = connect(sqlite.new())
    fill(source)
    before = every_row(source)
    text = export_text(source)
    source.dispose()

    target = connect(postgres.new())
    backup.import_db(target, io.StringIO(text), PEPPER)
    assert every_row(target) == before
    target.dispose()


def test_the_commands_export_and_import_a_compressed_file(backend: Backend, tmp_path: Path) -> None:
    url = backend.new()
    database = connect(url)
    fill(database)
    before = every_row(database)
    database.dispose()
    env = {
        "PROEFTUIN_DATABASE_URL": url,
        "PROEFTUIN_CODE_PEPPER": PEPPER,
        "PROEFTUIN_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    file = tmp_path / "backup.jsonl.gz"
    exported = CliRunner().invoke(main, ["export-db", str(file)], env=env)
    assert exported.exit_code == 0, exported.output
    assert "Exported" in exported.output
    assert file.stat().st_mode & 0o077 == 0  # personal data: readable by the owner only
    assert not Path(f"{file}.partial").exists()
    with gzip.open(file, "rt") as compressed:
        header = json.loads(compressed.readline())
    assert header["format"] == "proeftuin-export"

    backend.delete(url)
    env["PROEFTUIN_DATABASE_URL"] = backend.new()
    imported = CliRunner().invoke(main, ["import-db", str(file)], env=env)
    assert imported.exit_code == 0, imported.output
    restored = connect(env["PROEFTUIN_DATABASE_URL"])
    assert every_row(restored) == before
    restored.dispose()

    again = CliRunner().invoke(main, ["import-db", str(file)], env=env)
    assert again.exit_code == 2
    assert "not empty" in again.output


# -- Refusals: nothing is restored -----------------------------------------------------------


@pytest.fixture
def exported(backend: Backend) -> tuple[str, Backend]:
    database = connect(backend.new())
    fill(database)
    text = export_text(database)
    database.dispose()
    return text, backend


def nothing_restored(database: Database) -> bool:
    return all(rows == [] for rows in every_row(database).values())


def test_a_cut_off_export_restores_nothing(exported: tuple[str, Backend]) -> None:
    text, backend = exported
    target = connect(backend.new())
    lines = text.splitlines(keepends=True)
    for cut in (len(lines) - 1, len(lines) // 2):
        with pytest.raises(backup.BackupError, match=r"cut off|missing"):
            backup.import_db(target, io.StringIO("".join(lines[:cut])), PEPPER)
        assert nothing_restored(target)
    target.dispose()


def test_another_pepper_is_refused_unless_allowed(exported: tuple[str, Backend]) -> None:
    text, backend = exported
    target = connect(backend.new())
    with pytest.raises(backup.BackupError, match="PROEFTUIN_CODE_PEPPER"):
        backup.import_db(target, io.StringIO(text), "another-pepper-" + "q" * 32)
    assert nothing_restored(target)
    backup.import_db(
        target, io.StringIO(text), "another-pepper-" + "q" * 32, allow_other_pepper=True
    )
    assert not nothing_restored(target)
    target.dispose()


def test_another_schema_revision_is_refused(exported: tuple[str, Backend]) -> None:
    text, backend = exported
    target = connect(backend.new())
    lines = text.splitlines(keepends=True)
    header = json.loads(lines[0]) | {"revision": "9999_future"}
    changed = json.dumps(header) + "\n" + "".join(lines[1:])
    with pytest.raises(backup.BackupError, match="9999_future"):
        backup.import_db(target, io.StringIO(changed), PEPPER)
    assert nothing_restored(target)
    target.dispose()


def test_something_else_is_not_taken_for_an_export(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate.upgrade(url)
    target = connect(url)
    for text in ("", "hello\n", '{"format": "pg_dump"}\n'):
        with pytest.raises(backup.BackupError):
            backup.import_db(target, io.StringIO(text), PEPPER)
    target.dispose()


def test_codes_are_only_stored_as_hashes_in_the_export(backend: Backend) -> None:
    database = connect(backend.new())
    unused = fill(database)
    text = export_text(database)
    hashes = read(database, lambda s: list(s.scalars(select(VotingCode.code_hash))))
    database.dispose()
    assert PEPPER not in text
    assert not any(code in text for code in unused)
    assert all(h in text for h in hashes)
