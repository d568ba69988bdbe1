"""Channels: several credentials for one provider, each with its weight, priority, cap, base
URL and enabled flag, and the record of every change to them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channels",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("api_key", sa.Text, nullable=False),
        sa.Column("base_url", sa.Text, nullable=False, server_default=""),
        sa.Column("secrets", sa.Text, nullable=False, server_default="{}"),
        sa.Column("weight", sa.Integer, nullable=False, server_default="1"),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_running", sa.Integer, nullable=False, server_default="0"),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("auto_disabled_at", sa.Float, nullable=True),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "channel_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel_id", sa.String(40), nullable=False, index=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("event", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_table("channel_events")
    op.drop_table("channels")
