"""after the vote: how funded plans are carried out, their updates, subscriptions and notices

Also the outbox's one-click unsubscribe address (empty for the mail already queued).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unsubscribe_url", sa.String(500), nullable=False, server_default="")
        )
    op.create_table(
        "plan_execution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expected", sa.String(7), nullable=False),
        sa.Column("spent", sa.Integer(), nullable=False),
        sa.Column("spent_explanation", sa.Text(), nullable=False),
        sa.Column("co_executors", sa.String(300), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('voorbereiding', 'uitvoering', 'klaar', 'vervallen', 'vertraagd')",
            name=op.f("ck_plan_execution_status_valid"),
        ),
        sa.CheckConstraint("spent >= 0", name=op.f("ck_plan_execution_spent_non_negative")),
        sa.CheckConstraint(
            "status NOT IN ('vervallen', 'vertraagd') OR reason <> ''",
            name=op.f("ck_plan_execution_status_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan.id"],
            name=op.f("fk_plan_execution_plan_id_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_execution")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_plan_execution_plan_id")),
    )
    op.create_table(
        "execution_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan.id"],
            name=op.f("fk_execution_update_plan_id_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_execution_update")),
    )
    op.create_index(
        op.f("ix_execution_update_plan_id"), "execution_update", ["plan_id"], unique=False
    )
    op.create_index(
        op.f("ix_execution_update_created_at"), "execution_update", ["created_at"], unique=False
    )
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirm_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_notice_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN round_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN area_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN plan_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_subscription_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
            name=op.f("fk_subscription_round_id_round"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_subscription_area_id_area"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_subscription_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("token", name=op.f("uq_subscription_token")),
    )
    for column in ("email", "round_id", "area_id", "plan_id"):
        op.create_index(op.f(f"ix_subscription_{column}"), "subscription", [column], unique=False)
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_notice_round_id_round"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_notice_area_id_area"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_notice_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
        sa.UniqueConstraint("round_id", "kind", name=op.f("uq_notice_round_id_kind")),
    )
    op.create_index(op.f("ix_notice_area_id"), "notice", ["area_id"], unique=False)
    op.create_index(op.f("ix_notice_plan_id"), "notice", ["plan_id"], unique=False)


def downgrade() -> None:
    op.drop_table("notice")
    op.drop_table("subscription")
    op.drop_table("execution_update")
    op.drop_table("plan_execution")
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.drop_column("unsubscribe_url")
