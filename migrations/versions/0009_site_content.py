"""the gemeente's own site: contact details, its look (colours, logo) and its content pages

``site_profile`` holds one row at most (the contact details and the look); ``site_page`` holds an
admin's own text of a content page, where the generated default is not wanted.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 01:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLOURS = ("button", "button_text", "link", "footer", "footer_text")


def upgrade() -> None:
    op.create_table(
        "site_profile",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gemeente_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("opening_hours", sa.String(length=1000), nullable=False),
        *(sa.Column(f"colour_{c}", sa.String(length=7), nullable=False) for c in COLOURS),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sa.String(length=20), nullable=False),
        sa.Column("logo_sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_site_profile_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_profile")),
    )
    op.create_table(
        "site_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=30), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "page IN ('privacy', 'accessibility', 'how_it_works')",
            name=op.f("ck_site_page_page_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["staff_user.id"],
            name=op.f("fk_site_page_updated_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_page")),
        sa.UniqueConstraint("page", name=op.f("uq_site_page_page")),
    )


def downgrade() -> None:
    op.drop_table("site_page")
    op.drop_table("site_profile")
