"""Accounts, the ledger, and each task's price and charge state.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    accounts = op.create_table(
        "accounts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("balance_micros", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("daily_limit_micros", sa.BigInteger, nullable=True),
        sa.Column("monthly_limit_micros", sa.BigInteger, nullable=True),
        sa.Column("allowed_models", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("disabled_at", sa.Float, nullable=True),
    )
    op.bulk_insert(accounts, [{"id": "acct_default", "name": "default", "created_at": time.time()}])
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(24), nullable=True),
        sa.Column("task_id", sa.String(24), nullable=True),
        sa.Column("model", sa.String(100), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_micros", sa.BigInteger, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_ledger_account_at", "ledger", ["account_id", "at"])
    op.create_index("ix_ledger_task_id", "ledger", ["task_id"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("account_id", sa.String(40), nullable=False, server_default="acct_default")
        )
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(
            sa.Column("account_id", sa.String(40), nullable=False, server_default="acct_default")
        )
        batch.add_column(
            sa.Column("price_micros", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("charge", sa.String(10), nullable=False, server_default="none"))
    op.create_index("ix_tasks_account_created", "tasks", ["account_id", "created_at"])
    held = sa.text("charge = 'held'")
    op.create_index(
        "ix_tasks_held", "tasks", ["account_id"], sqlite_where=held, postgresql_where=held
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_held", "tasks")
    op.drop_index("ix_tasks_account_created", "tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("charge")
        batch.drop_column("price_micros")
        batch.drop_column("account_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("account_id")
    op.drop_table("ledger")
    op.drop_table("accounts")
