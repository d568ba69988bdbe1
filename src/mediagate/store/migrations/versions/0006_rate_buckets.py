"""Shared request-rate buckets (one row per key), for deployments of several processes, and
an index for claiming due tasks on PostgreSQL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key_id", sa.String(24), primary_key=True),
        sa.Column("tokens", sa.Float, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False, server_default=sa.true()),
        # Losing the buckets in a crash only refills them: no WAL needed on PostgreSQL.
        prefixes=["UNLOGGED"] if op.get_bind().dialect.name == "postgresql" else [],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_tasks_lease_owner", "tasks", ["lease_owner"])


def downgrade() -> None:
    op.drop_table("rate_buckets")
