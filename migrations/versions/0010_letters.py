"""letters made from an address list, and paper ballots that are blank or invalid

``letter`` holds a letter's number, its code and the four digits of its postcode (never the
address); ``paper_void`` holds a blank or invalid paper ballot and why, for turnout and the
proces-verbaal.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "paper_void",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.CheckConstraint("kind IN ('blank', 'invalid')", name=op.f("ck_paper_void_kind_valid")),
        sa.ForeignKeyConstraint(
            ["round_id"], ["round.id"], name=op.f("fk_paper_void_round_id_round")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_void")),
        sa.UniqueConstraint("round_id", "voter_key", name=op.f("uq_paper_void_round_id_voter_key")),
    )
    op.create_index(op.f("ix_paper_void_round_id"), "paper_void", ["round_id"], unique=False)
    op.create_table(
        "letter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("pc4", sa.String(length=4), nullable=False),
        sa.Column("replaces", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["code_id"], ["voting_code.id"], name=op.f("fk_letter_code_id_voting_code")
        ),
        sa.ForeignKeyConstraint(["round_id"], ["round.id"], name=op.f("fk_letter_round_id_round")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter")),
        sa.UniqueConstraint("code_id", name=op.f("uq_letter_code_id")),
        sa.UniqueConstraint("round_id", "number", name=op.f("uq_letter_round_id_number")),
    )
    op.create_index(op.f("ix_letter_round_id"), "letter", ["round_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_letter_round_id"), table_name="letter")
    op.drop_table("letter")
    op.drop_index(op.f("ix_paper_void_round_id"), table_name="paper_void")
    op.drop_table("paper_void")
