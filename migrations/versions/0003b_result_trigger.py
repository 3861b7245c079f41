"""a signed-off result is refused any change by the database itself

Revision ID: 0003b
Revises: 0003
Create Date: 2026-12-07 00:10:00.000000

services.results guards it in the ORM; these triggers also stop plain SQL. A result in concept
may change and be deleted (a recount, a reset). Once signed off only one change is allowed: from
vastgesteld to gepubliceerd, with its publication time, nothing else. On SQLite a later
migration that rebuilds the result table (batch mode) drops these triggers: create them again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003b"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every column but status and published_at: none may change once signed off.
FIXED = (
    "id",
    "round_id",
    "rule",
    "tie_break_seed",
    "data",
    "ballots_sha256",
    "computed_at",
    "signed_off_by_id",
    "signed_off_at",
)
MESSAGE = "a signed-off result cannot change (only vastgesteld to gepubliceerd)"


def _allowed(same: str) -> str:
    """The condition for an update of a row that was signed off, ``same`` comparing NULLs."""
    unchanged = " AND ".join(f"NEW.{c} {same} OLD.{c}" for c in FIXED)
    return (
        f"{unchanged} AND ((NEW.status = OLD.status AND NEW.published_at {same} OLD.published_at)"
        " OR (OLD.status = 'vastgesteld' AND NEW.status = 'gepubliceerd'))"
    )


POSTGRES_UP = f"""
CREATE FUNCTION result_signed_off_is_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'concept' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'UPDATE' AND {_allowed("IS NOT DISTINCT FROM")} THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER result_signed_off_is_final BEFORE UPDATE OR DELETE ON result
    FOR EACH ROW EXECUTE FUNCTION result_signed_off_is_final();
"""
POSTGRES_DOWN = """
DROP TRIGGER result_signed_off_is_final ON result;
DROP FUNCTION result_signed_off_is_final();
"""
SQLITE_UP = (
    f"""CREATE TRIGGER result_signed_off_no_update BEFORE UPDATE ON result
    WHEN OLD.status <> 'concept' AND NOT ({_allowed("IS")})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER result_signed_off_no_delete BEFORE DELETE ON result
    WHEN OLD.status <> 'concept'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
)
SQLITE_DOWN = (
    "DROP TRIGGER result_signed_off_no_update",
    "DROP TRIGGER result_signed_off_no_delete",
)


def upgrade() -> None:
    _run(POSTGRES_UP, SQLITE_UP)


def downgrade() -> None:
    _run(POSTGRES_DOWN, SQLITE_DOWN)


def _run(postgres: str, sqlite: tuple[str, ...]) -> None:
    for statement in (postgres,) if op.get_bind().dialect.name == "postgresql" else sqlite:
        op.execute(statement)
