"""options of the rule greedy on a round: no skipping, a minimum share of the votes

Existing rounds get the plain rule: ``greedy_no_skip`` false and ``min_vote_percent`` 0.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-07 00:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("greedy_no_skip", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("min_vote_percent", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint(
            op.f("ck_round_min_vote_percent_range"),
            "min_vote_percent >= 0 AND min_vote_percent <= 100",
        )


def downgrade() -> None:
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_round_min_vote_percent_range"), type_="check")
        batch_op.drop_column("min_vote_percent")
        batch_op.drop_column("greedy_no_skip")
