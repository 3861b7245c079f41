"""result record version 2; the council's decision kept with the result

Version 1 of ``result.data`` marked itself ``"format": 1``; version 2 says ``"version": 2`` and
is otherwise the same. The council's decision, until now only in the audit log (the details of
the latest ``result.sign_off`` event of the round), moves to ``result.decision``: "" for a
signed-off result without one, NULL before sign-off.

The conversion is written out here rather than imported from the application: a migration must
keep doing what it did when the application has long moved on.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 23:30:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

result = sa.table(
    "result",
    sa.column("id", sa.Integer),
    sa.column("round_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("data", sa.Text),
    sa.column("decision", sa.Text),
)
audit_event = sa.table(
    "audit_event",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("target_type", sa.String),
    sa.column("target_id", sa.Integer),
    sa.column("details", sa.Text),
)


def upgrade_payload(text: str) -> str:
    """A version-1 ``result.data`` as version 2; a version-2 one unchanged."""
    payload: dict[str, Any] = json.loads(text)
    if payload.get("version") == 2:
        return text
    if payload.get("format") != 1 or "version" in payload:
        raise ValueError(f"result data of an unknown version: {_version(payload)!r}")
    del payload["format"]
    payload["version"] = 2
    return _dumps(payload)


def downgrade_payload(text: str) -> str:
    payload: dict[str, Any] = json.loads(text)
    if payload.get("format") == 1:
        return text
    if payload.get("version") != 2:
        raise ValueError(f"result data of an unknown version: {_version(payload)!r}")
    del payload["version"]
    payload["format"] = 1
    return _dumps(payload)


def decision_from_audit(details: str | None) -> str:
    """The decision in the details of a ``result.sign_off`` audit event ("" without one)."""
    if not details:
        return ""
    return str(json.loads(details).get("decision", ""))


def _version(payload: dict[str, Any]) -> object:
    return payload.get("version", payload.get("format"))


def _dumps(payload: dict[str, Any]) -> str:
    # As the application writes it.
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


def upgrade() -> None:
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision", sa.Text(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(result.c.id, result.c.round_id, result.c.status, result.c.data))
    for row_id, round_id, status, data in rows.all():
        decision = None if status == "concept" else decision_from_audit(_sign_off(conn, round_id))
        conn.execute(
            result.update()
            .where(result.c.id == row_id)
            .values(data=upgrade_payload(data), decision=decision)
        )


def _sign_off(conn: sa.Connection, round_id: int) -> str | None:
    return conn.scalar(
        sa.select(audit_event.c.details)
        .where(
            audit_event.c.action == "result.sign_off",
            audit_event.c.target_type == "round",
            audit_event.c.target_id == round_id,
        )
        .order_by(audit_event.c.id.desc())
        .limit(1)
    )


def downgrade() -> None:
    # The decision stays in the audit log, where version 1 reads it.
    conn = op.get_bind()
    rows = conn.execute(sa.select(result.c.id, result.c.data))
    for row_id, data in rows.all():
        conn.execute(
            result.update().where(result.c.id == row_id).values(data=downgrade_payload(data))
        )
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.drop_column("decision")
