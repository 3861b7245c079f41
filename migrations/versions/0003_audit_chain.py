"""audit chain: each audit event carries the hash of the one before it

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-06 23:40:00.000000

The events already written are chained in id order, as ``services.audit.record`` chains new
ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from proeftuin.services.audit import GENESIS, chain_hash

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer()),
    sa.column("action", sa.String()),
    sa.column("target_type", sa.String()),
    sa.column("target_id", sa.Integer()),
    sa.column("area_id", sa.Integer()),
    sa.column("details", sa.Text()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    previous = GENESIS
    for row in conn.execute(sa.select(EVENTS).order_by(EVENTS.c.id)).all():
        fields = (row.at, row.actor_id, row.action, row.target_type, row.target_id, row.area_id)
        own = chain_hash(previous, *fields, row.details)
        conn.execute(
            EVENTS.update().where(EVENTS.c.id == row.id).values(prev_hash=previous, hash=own)
        )
        previous = own
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_prev_hash"), ["prev_hash"])


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_prev_hash"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
