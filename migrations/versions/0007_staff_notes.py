"""staff work on plans: merges that can be undone, internal notes, the cost check

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _plan_fk(table: str, column: str = "plan_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["plan.id"], name=op.f(f"fk_{table}_{column}_plan"), ondelete="CASCADE"
    )


def _staff_fk(table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["staff_id"],
        ["staff_user.id"],
        name=op.f(f"fk_{table}_staff_id_staff_user"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "plan_merge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("into_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_status", sa.String(length=20), nullable=False),
        sa.Column("previous_reason", sa.Text(), nullable=False),
        sa.Column("supporters", sa.Text(), nullable=False),
        sa.Column("moved", sa.Text(), nullable=False),
        sa.Column("followers", sa.Text(), nullable=False),
        sa.Column("mail_to", sa.String(length=320), nullable=False),
        sa.Column("mail_subject", sa.String(length=200), nullable=False),
        sa.Column("mail_body", sa.Text(), nullable=False),
        sa.Column("mail_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        _plan_fk("plan_merge"),
        _plan_fk("plan_merge", "into_id"),
        _staff_fk("plan_merge", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_merge")),
    )
    with op.batch_alter_table("plan_merge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_merge_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_plan_merge_mail_due_at"), ["mail_due_at"], unique=False
        )
    op.create_table(
        "plan_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _plan_fk("plan_note"),
        _staff_fk("plan_note", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_note")),
    )
    with op.batch_alter_table("plan_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_note_plan_id"), ["plan_id"], unique=False)
    op.create_table(
        "cost_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        _plan_fk("cost_check"),
        _staff_fk("cost_check", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_check")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_cost_check_plan_id")),
    )


def downgrade() -> None:
    op.drop_table("cost_check")
    with op.batch_alter_table("plan_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_note_plan_id"))
    op.drop_table("plan_note")
    with op.batch_alter_table("plan_merge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_merge_mail_due_at"))
        batch_op.drop_index(batch_op.f("ix_plan_merge_plan_id"))
    op.drop_table("plan_merge")
