"""A key's asset library (Viggle's character images and driving videos): each file stored as a
blob, listed and deleted by its id.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("key_id", sa.String(24), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("blob", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("width", sa.Integer, nullable=False, server_default="0"),
        sa.Column("height", sa.Integer, nullable=False, server_default="0"),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_assets_key_time", "assets", ["key_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_assets_key_time", table_name="assets")
    op.drop_table("assets")
