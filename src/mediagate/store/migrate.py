"""Brings a database to the newest schema with Alembic, over mediagate's own engine."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config

from mediagate.store.db import Database


def _config(connection: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "mediagate.store:migrations")
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database) -> None:
    async with db.write() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), "head"))
