"""the conversation on plans: comments, replies, arguments for and against, reports

Two round settings: ``comments_off`` (false: residents may comment during indienen, beoordelen
and stemmen) and ``comments_premoderated`` (false: a comment appears at once).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("comments_off", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "comments_premoderated", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("hidden_reason", sa.Text(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("reviewed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('reactie', 'vraag', 'voor', 'tegen')", name=op.f("ck_comment_kind_valid")
        ),
        sa.CheckConstraint(
            "status IN ('wacht', 'zichtbaar', 'verborgen', 'verwijderd')",
            name=op.f("ck_comment_status_valid"),
        ),
        sa.CheckConstraint(
            "role IN ('bewoner', 'indiener', 'wijkraad')", name=op.f("ck_comment_role_valid")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["comment.id"],
            name=op.f("fk_comment_parent_id_comment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_comment_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["resident.id"],
            name=op.f("fk_comment_resident_id_resident"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_comment_staff_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment")),
    )
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_comment_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comment_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_comment_resident_id"), ["resident_id"], unique=False)
    op.create_table(
        "comment_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("handled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comment.id"],
            name=op.f("fk_comment_report_comment_id_comment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["resident.id"],
            name=op.f("fk_comment_report_resident_id_resident"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_report")),
        sa.UniqueConstraint(
            "comment_id", "resident_id", name=op.f("uq_comment_report_comment_id_resident_id")
        ),
    )
    with op.batch_alter_table("comment_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comment_report_comment_id"), ["comment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_comment_report_resident_id"), ["resident_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("comment_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_report_resident_id"))
        batch_op.drop_index(batch_op.f("ix_comment_report_comment_id"))
    op.drop_table("comment_report")
    with op.batch_alter_table("comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_resident_id"))
        batch_op.drop_index(batch_op.f("ix_comment_plan_id"))
        batch_op.drop_index(batch_op.f("ix_comment_parent_id"))
        batch_op.drop_index(batch_op.f("ix_comment_created_at"))
    op.drop_table("comment")
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_column("comments_premoderated")
        batch_op.drop_column("comments_off")
