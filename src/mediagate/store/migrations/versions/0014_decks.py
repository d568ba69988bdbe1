"""Presentations a key keeps (docmee's PPT list): a stable id that points at the ppt task
holding the deck's current version; saving an edit renders a new task and moves the pointer.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(40), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("template", sa.String(40), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_decks_key", "decks", ["key_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_decks_key", "decks")
    op.drop_table("decks")
