"""Audio requests (speech, transcription) on the request log: the characters spoken and the
minutes of audio heard, which is what they are priced on.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("characters", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("audio_ms", sa.BigInteger, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("audio_ms")
        batch.drop_column("characters")
