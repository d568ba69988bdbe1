"""Idempotency keys, and deleted tasks (OpenAI's DELETE /v1/videos/{id}).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("deleted_at", sa.Float, nullable=True))
    op.create_index("ix_tasks_key_created", "tasks", ["key_id", "created_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(300), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(24), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_index("ix_tasks_key_created", "tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("deleted_at")
