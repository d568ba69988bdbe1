"""Each task's route (the index in its model's routes list, -1 on the sandbox) and what
the route's vendor cost for it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("route", sa.Integer, nullable=False, server_default="-1"))
        batch.add_column(
            sa.Column("cost_micros", sa.BigInteger, nullable=False, server_default="0")
        )
    op.create_index("ix_tasks_key_status", "tasks", ["key_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_tasks_key_status", "tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("cost_micros")
        batch.drop_column("route")
