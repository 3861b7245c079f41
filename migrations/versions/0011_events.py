"""voting events (stemmingen): rounds in one vote, and e-mail voters' declarations

Existing rounds belong to no event.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voting_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("citywide_area_id", sa.Integer(), nullable=True),
        sa.Column("area_choice", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["citywide_area_id"],
            ["area.id"],
            name=op.f("fk_voting_event_citywide_area_id_area"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voting_event")),
        sa.UniqueConstraint("slug", name=op.f("uq_voting_event_slug")),
    )
    op.create_table(
        "voter_declaration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=64), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_voter_declaration_round_id_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voter_declaration")),
        sa.UniqueConstraint(
            "round_id", "voter_key", name=op.f("uq_voter_declaration_round_id_voter_key")
        ),
    )
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_round_event_id"), ["event_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_round_event_id_voting_event"), "voting_event", ["event_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_round_event_id_voting_event"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_round_event_id"))
        batch_op.drop_column("event_id")
    op.drop_table("voter_declaration")
    op.drop_table("voting_event")
