"""Each task's route by stable name, so editing the routes file never re-points a task that
is running (the index stays, for tasks made before).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("route_name", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("route_name")
