"""Prices an admin sets in the console (the models page), over the catalogue's and
MEDIAGATE_PRICES: one row a model (or ``model:action``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_overrides",
        sa.Column("model", sa.String(120), primary_key=True),
        sa.Column("price", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("price_overrides")
