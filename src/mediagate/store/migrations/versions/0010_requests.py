"""Relayed requests (chat, completions, embeddings): one row each, written in batches, with
its tokens, cost and how it ended; a ledger row may now name a request instead of a task.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key_id", sa.String(24), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("provider", sa.String(100), nullable=False, server_default=""),
        sa.Column("upstream_model", sa.String(200), nullable=False, server_default=""),
        sa.Column("stream", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("ending", sa.String(32), nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cached_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("completion_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("counted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cost_micros", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("ttft_ms", sa.Float, nullable=True),
        sa.Column("total_ms", sa.Float, nullable=False),
        sa.Column("overhead_ms", sa.Float, nullable=False),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_requests_key_time", "requests", ["key_id", "created_at"])
    op.create_index("ix_requests_account_time", "requests", ["account_id", "created_at"])
    with op.batch_alter_table("ledger") as batch:
        batch.add_column(sa.Column("request_id", sa.String(32), nullable=True))
    op.create_index("ix_ledger_request_id", "ledger", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_request_id", table_name="ledger")
    with op.batch_alter_table("ledger") as batch:
        batch.drop_column("request_id")
    op.drop_index("ix_requests_account_time", table_name="requests")
    op.drop_index("ix_requests_key_time", table_name="requests")
    op.drop_table("requests")
