"""photos and places: a plan's photos (re-encoded, in the database), its point on the map, and
an area's boundary

Existing plans get no photos and no point; existing areas no boundary.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("alt", sa.String(length=300), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("thumb", sa.LargeBinary(), nullable=False),
        sa.Column("small", sa.LargeBinary(), nullable=False),
        sa.Column("large", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("width >= 1 AND height >= 1", name=op.f("ck_plan_photo_size_positive")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_photo_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_photo")),
        sa.UniqueConstraint("public_id", name=op.f("uq_plan_photo_public_id")),
    )
    with op.batch_alter_table("plan_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_photo_plan_id"), ["plan_id"], unique=False)
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude_e6", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("longitude_e6", sa.Integer(), nullable=True))
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.add_column(sa.Column("boundary", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.drop_column("boundary")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_column("longitude_e6")
        batch_op.drop_column("latitude_e6")
    with op.batch_alter_table("plan_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_photo_plan_id"))
    op.drop_table("plan_photo")
