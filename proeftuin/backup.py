"""A portable copy of the whole database: ``proeftuin export-db`` and ``proeftuin import-db``.

JSON lines, one table after another in the order their foreign keys need, rows by primary key.
The same file restores into an empty, migrated database on SQLite or PostgreSQL (so it also moves
a gemeente from one to the other). ``pg_dump`` or SQLite's ``.backup`` are the faster native
alternatives (deploy/README.md); this one is what works everywhere and can be checked by reading.

The file::

    {"format": "proeftuin-export", "version": 1, "revision": ..., "pepper_check": ..., ...}
    {"table": "area", "columns": ["id", ...], "rows": 4}
    [1, "centrum-oost", ...]                     one line per row, values in column order
    ...
    {"end": true, "counts": {"area": 4, ...}}    a cut-off file fails instead of restoring half

Dates and times are tagged (``{"$datetime": "2027-03-01T09:00:00+00:00"}``). The code pepper is
not in it; ``pepper_check`` (an HMAC of a fixed text) tells on import whether the server that
restores has the same pepper, without which no letter code can be checked.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Table, bindparam, cast, func, literal, select, text
from sqlalchemy.dialects.postgresql import REGCLASS
from sqlalchemy.engine import Connection

from proeftuin import models  # noqa: F401  (registers every table on the metadata)
from proeftuin.db import Base, Database, utcnow

FORMAT = "proeftuin-export"
VERSION = 1
BATCH = 1000


class BackupError(Exception):
    """The export cannot be made or restored; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    revision: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def pepper_check(pepper: str) -> str:
    return hmac.new(pepper.encode(), b"proeftuin export pepper check", hashlib.sha256).hexdigest()


def tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


# -- Export ----------------------------------------------------------------------------------


def export_db(database: Database, out: IO[str], pepper: str) -> Summary:
    """Write every table to ``out``, from one consistent snapshot of the database."""
    engine = database.engine
    if not database.is_sqlite:
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as conn, conn.begin():
        if not database.is_sqlite:
            conn.execute(text("SET TRANSACTION READ ONLY"))
        revision = _revision(conn)
        _write(
            out,
            {
                "format": FORMAT,
                "version": VERSION,
                "revision": revision,
                "dialect": conn.dialect.name,
                "created_at": utcnow().isoformat(),
                "pepper_check": pepper_check(pepper),
            },
        )
        counts: dict[str, int] = {}
        for table in tables():
            columns = [c.name for c in table.columns]
            rows = conn.scalar(select(func.count()).select_from(table)) or 0
            _write(out, {"table": table.name, "columns": columns, "rows": rows})
            written = 0
            query = select(table).order_by(*table.primary_key.columns)
            for row in conn.execution_options(yield_per=BATCH).execute(query):
                _write(out, [_encode(value) for value in row])
                written += 1
            if written != rows:  # cannot happen in a snapshot; guard the file anyway
                raise BackupError(f"{table.name}: counted {rows} rows but read {written}")
            counts[table.name] = written
        _write(out, {"end": True, "counts": counts})
    return Summary(revision, counts)


def _write(out: IO[str], value: object) -> None:
    out.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    out.write("\n")


def _encode(value: object) -> object:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    raise BackupError(f"cannot export a value of type {type(value).__name__}")


def _decode(value: Any) -> object:
    if not isinstance(value, dict):
        return value
    [(tag, raw)] = value.items()
    if tag == "$datetime":
        return dt.datetime.fromisoformat(raw)
    if tag == "$date":
        return dt.date.fromisoformat(raw)
    if tag == "$bytes":
        return base64.b64decode(raw)
    if tag == "$decimal":
        return decimal.Decimal(raw)
    raise BackupError(f"unknown value {tag!r} in the export")


# -- Import ----------------------------------------------------------------------------------


def import_db(
    database: Database, source: IO[str], pepper: str, *, allow_other_pepper: bool = False
) -> Summary:
    """Restore an export into this database, which must be migrated to the export's revision and
    empty. One transaction: on any problem nothing is restored."""
    lines = _lines(source)
    header = _header(next(lines, None))
    if header.get("pepper_check") != pepper_check(pepper) and not allow_other_pepper:
        raise BackupError(
            "this server's PROEFTUIN_CODE_PEPPER is not the one the export was made with: no "
            "letter code and no voter key would match. Set the original pepper (from your secret "
            "store) and try again, or pass --allow-other-pepper if you know why."
        )
    known = {table.name: table for table in tables()}
    counts: dict[str, int] = {}
    with database.writer() as session, session.begin():
        conn = session.connection()
        revision = _revision(conn)
        if revision != header["revision"]:
            raise BackupError(
                f"the export has schema revision {header['revision']}, this database "
                f"{revision or 'none'}: migrate an empty database with `proeftuin db upgrade "
                f"--revision {header['revision']}`, import, then upgrade to the latest."
            )
        _require_empty(conn)
        ended = False
        for item in lines:
            if isinstance(item, dict) and item.get("end") is True:
                if item.get("counts") != counts:
                    raise BackupError("the export's closing line does not match its contents")
                ended = True
                break
            if not isinstance(item, dict) or "table" not in item:
                raise BackupError("expected a table's header line in the export")
            table = known.get(str(item["table"]))
            if table is None:
                raise BackupError(f"the export has a table this version does not know: {item}")
            columns = [str(c) for c in item["columns"]]
            if columns != [c.name for c in table.columns]:
                raise BackupError(f"{table.name}: the export's columns differ from this schema")
            counts[table.name] = _restore_table(conn, table, columns, int(item["rows"]), lines)
        if not ended:
            raise BackupError("the export is incomplete (no closing line): it was cut off")
        if set(counts) != set(known):
            missing = ", ".join(sorted(set(known) - set(counts)))
            raise BackupError(f"the export lacks tables: {missing}")
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return Summary(str(header["revision"]), counts)


def _lines(source: IO[str]) -> Iterator[Any]:
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            raise BackupError(f"line {number} of the export is not JSON") from None


def _header(first: Any) -> dict[str, Any]:
    if not isinstance(first, dict) or first.get("format") != FORMAT:
        raise BackupError("this is not a Proeftuin export (made by `proeftuin export-db`)")
    if first.get("version") != VERSION:
        raise BackupError(f"export format version {first.get('version')} is not supported")
    return first


def _revision(conn: Connection) -> str:
    heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads))


def _require_empty(conn: Connection) -> None:
    filled = [
        table.name
        for table in tables()
        if conn.scalar(select(func.count()).select_from(table)) or 0
    ]
    if filled:
        raise BackupError(
            "the database is not empty (rows in " + ", ".join(filled) + "): restore into a new, "
            "migrated database"
        )


def _restore_table(
    conn: Connection, table: Table, columns: list[str], rows: int, lines: Iterator[Any]
) -> int:
    # A column that points into its own table (a plan merged into another) is filled in after
    # all of the table's rows are there: the row it points to may come later.
    self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    later: list[dict[str, object]] = []
    batch: list[dict[str, object]] = []
    for _ in range(rows):
        values = next(lines, None)
        if not isinstance(values, list) or len(values) != len(columns):
            raise BackupError(f"{table.name}: a row is missing or has the wrong number of values")
        row = {name: _decode(value) for name, value in zip(columns, values, strict=True)}
        if any(row[name] is not None for name in self_refs):
            later.append(row)
            row = {**row, **dict.fromkeys(self_refs)}
        batch.append(row)
        if len(batch) >= BATCH:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
    if later:
        _fill_in(conn, table, self_refs, later)
    return rows


def _fill_in(
    conn: Connection, table: Table, names: list[str], rows: list[dict[str, object]]
) -> None:
    # Columns updated automatically on UPDATE (updated_at) are set too, to their exported value.
    automatic = [c.name for c in table.columns if c.onupdate is not None]
    keys = [c.name for c in table.primary_key.columns]
    statement = (
        table.update()
        .where(*(table.c[k] == bindparam(f"old_{k}") for k in keys))
        .values({name: bindparam(f"new_{name}") for name in [*names, *automatic]})
    )
    conn.execute(
        statement,
        [
            {
                **{f"old_{k}": row[k] for k in keys},
                **{f"new_{name}": row[name] for name in [*names, *automatic]},
            }
            for row in rows
        ],
    )


def _reset_sequences(conn: Connection) -> None:
    # Rows came with their ids; the next id a sequence hands out must come after them.
    for table in tables():
        for column in table.primary_key.columns:
            sequence = conn.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": f'"{table.name}"', "column": column.name},
            )
            if sequence is None:
                continue
            highest = func.max(column)
            conn.execute(
                select(
                    func.setval(
                        cast(literal(sequence), REGCLASS),
                        func.coalesce(highest, 1),
                        highest.is_not(None),
                    )
                ).select_from(table)
            )
