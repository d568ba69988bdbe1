"""Hardening round 3: webhook secrets are sealed (longer than 80 characters), Midjourney
uploads are counted per key, and console sessions can be ended server-side.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column(
            "webhook_secret", type_=sa.Text, existing_type=sa.String(80), existing_nullable=True
        )
    op.create_table(
        "uploads",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("key_id", sa.String(24), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_uploads_key_time", "uploads", ["key_id", "created_at"])
    op.create_table(
        "ended_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("until", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ended_sessions")
    op.drop_index("ix_uploads_key_time", table_name="uploads")
    op.drop_table("uploads")
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column(
            "webhook_secret", type_=sa.String(80), existing_type=sa.Text, existing_nullable=True
        )
