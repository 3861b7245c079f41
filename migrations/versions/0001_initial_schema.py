"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29 06:28:59.258571
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("council_name", sa.String(length=200), nullable=False),
        sa.Column("postcodes", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('wijk', 'dorp', 'gebied')", name=op.f("ck_area_kind_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area")),
        sa.UniqueConstraint("slug", name=op.f("uq_area_slug")),
    )
    op.create_table(
        "outbox_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_mail")),
    )
    op.create_table(
        "rate_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit")),
        sa.UniqueConstraint(
            "bucket", "key", "window_start", name=op.f("uq_rate_limit_bucket_key_window_start")
        ),
    )
    op.create_table(
        "resident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("postcode", sa.String(length=7), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident")),
        sa.UniqueConstraint("email", name=op.f("uq_resident_email")),
    )
    op.create_table(
        "staff_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'moderator')", name=op.f("ck_staff_user_role_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_user")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_user_email")),
    )
    op.create_table(
        "used_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_used_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_used_token_token_hash")),
    )
    with op.batch_alter_table("used_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_used_token_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target_type", sa.String(length=30), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["staff_user.id"], name=op.f("fk_audit_event_actor_id_staff_user")
        ),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_audit_event_area_id_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_membership_area_id_area"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_membership_staff_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("staff_id", "area_id", name=op.f("uq_membership_staff_id_area_id")),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_area_id"), ["area_id"], unique=False)

    op.create_table(
        "round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("budget", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("submission_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ballot_kind", sa.String(length=20), nullable=False),
        sa.Column("min_choices", sa.Integer(), nullable=False),
        sa.Column("max_choices", sa.Integer(), nullable=True),
        sa.Column("min_spend_percent", sa.Integer(), nullable=False),
        sa.Column("points_total", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("eligibility", sa.String(length=20), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("support_threshold", sa.Integer(), nullable=False),
        sa.Column("paper_check", sa.Boolean(), nullable=False),
        sa.Column("tie_break_seed", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ballot_kind IN ('approval', 'k_approval', 'knapsack', 'points')",
            name=op.f("ck_round_ballot_kind_valid"),
        ),
        sa.CheckConstraint(
            "eligibility IN ('codes', 'email', 'codes_or_email')",
            name=op.f("ck_round_eligibility_valid"),
        ),
        sa.CheckConstraint(
            "phase IN ('concept', 'indienen', 'beoordelen', 'stemmen', 'gesloten', 'gepubliceerd')",
            name=op.f("ck_round_phase_valid"),
        ),
        sa.CheckConstraint(
            "rule IN ('optimal', 'greedy', 'equal_shares')", name=op.f("ck_round_rule_valid")
        ),
        sa.CheckConstraint("budget >= 0", name=op.f("ck_round_budget_non_negative")),
        sa.CheckConstraint(
            "max_choices IS NULL OR max_choices >= 1", name=op.f("ck_round_max_choices_positive")
        ),
        sa.CheckConstraint("min_choices >= 0", name=op.f("ck_round_min_choices_non_negative")),
        sa.CheckConstraint(
            "min_spend_percent >= 0 AND min_spend_percent <= 100",
            name=op.f("ck_round_min_spend_percent_range"),
        ),
        sa.CheckConstraint("points_total >= 0", name=op.f("ck_round_points_total_non_negative")),
        sa.CheckConstraint(
            "support_threshold >= 0", name=op.f("ck_round_support_threshold_non_negative")
        ),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_round_area_id_area")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round")),
        sa.UniqueConstraint("slug", name=op.f("uq_round_slug")),
    )
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_round_area_id"), ["area_id"], unique=False)

    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_session_staff_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_session_token_hash")),
    )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_session_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=64), nullable=False),
        sa.Column("receipt", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("cast_on", sa.Date(), nullable=False),
        sa.Column("submission_token", sa.String(length=64), nullable=True),
        sa.CheckConstraint("channel IN ('online', 'paper')", name=op.f("ck_ballot_channel_valid")),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], name=op.f("fk_ballot_round_id_round")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot")),
        sa.UniqueConstraint("receipt", name=op.f("uq_ballot_receipt")),
        sa.UniqueConstraint("round_id", "voter_key", name=op.f("uq_ballot_round_id_voter_key")),
    )
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("estimated_cost", sa.Integer(), nullable=False),
        sa.Column("official_cost", sa.Integer(), nullable=True),
        sa.Column("cost_explanation", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("theme", sa.String(length=40), nullable=False),
        sa.Column("self_executed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("public_reason", sa.Text(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'op_stembiljet' OR official_cost IS NOT NULL",
            name=op.f("ck_plan_on_ballot_has_official_cost"),
        ),
        sa.CheckConstraint(
            "status IN ('ingediend', 'aanpassen', 'op_stembiljet', 'afgewezen', 'ingetrokken', 'samengevoegd')",
            name=op.f("ck_plan_status_valid"),
        ),
        sa.CheckConstraint("estimated_cost >= 0", name=op.f("ck_plan_estimated_cost_non_negative")),
        sa.CheckConstraint(
            "official_cost IS NULL OR official_cost >= 0",
            name=op.f("ck_plan_official_cost_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["resident.id"],
            name=op.f("fk_plan_author_id_resident"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["plan.id"], name=op.f("fk_plan_merged_into_id_plan")
        ),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], name=op.f("fk_plan_round_id_round")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint("public_id", name=op.f("uq_plan_public_id")),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_round_id"), ["round_id"], unique=False)

    op.create_table(
        "result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("tie_break_seed", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("ballots_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_off_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "rule IN ('optimal', 'greedy', 'equal_shares')", name=op.f("ck_result_rule_valid")
        ),
        sa.CheckConstraint(
            "status IN ('concept', 'vastgesteld', 'gepubliceerd')",
            name=op.f("ck_result_status_valid"),
        ),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], name=op.f("fk_result_round_id_round")),
        sa.ForeignKeyConstraint(
            ["signed_off_by_id"],
            ["staff_user.id"],
            name=op.f("fk_result_signed_off_by_id_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result")),
        sa.UniqueConstraint("round_id", name=op.f("uq_result_round_id")),
    )
    op.create_table(
        "voting_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "status IN ('unused', 'used', 'revoked')", name=op.f("ck_voting_code_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_voting_code_round_id_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voting_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_voting_code_code_hash")),
    )
    with op.batch_alter_table("voting_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voting_code_round_id"), ["round_id"], unique=False)

    op.create_table(
        "ballot_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.CheckConstraint("points >= 1", name=op.f("ck_ballot_choice_points_positive")),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballot.id"],
            name=op.f("fk_ballot_choice_ballot_id_ballot"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_ballot_choice_plan_id_plan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot_choice")),
        sa.UniqueConstraint(
            "ballot_id", "plan_id", name=op.f("uq_ballot_choice_ballot_id_plan_id")
        ),
    )
    with op.batch_alter_table("ballot_choice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_choice_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_support_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["resident.id"],
            name=op.f("fk_support_resident_id_resident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support")),
        sa.UniqueConstraint("plan_id", "resident_id", name=op.f("uq_support_plan_id_resident_id")),
    )
    with op.batch_alter_table("support", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_resident_id"), ["resident_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("support", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_resident_id"))

    op.drop_table("support")
    with op.batch_alter_table("ballot_choice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_choice_plan_id"))

    op.drop_table("ballot_choice")
    with op.batch_alter_table("voting_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voting_code_round_id"))

    op.drop_table("voting_code")
    op.drop_table("result")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_round_id"))
        batch_op.drop_index(batch_op.f("ix_plan_author_id"))

    op.drop_table("plan")
    op.drop_table("ballot")
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_session_staff_id"))

    op.drop_table("staff_session")
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_round_area_id"))

    op.drop_table("round")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_area_id"))

    op.drop_table("membership")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
    with op.batch_alter_table("used_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_token_expires_at"))

    op.drop_table("used_token")
    op.drop_table("staff_user")
    op.drop_table("resident")
    op.drop_table("rate_limit")
    op.drop_table("outbox_mail")
    op.drop_table("area")
