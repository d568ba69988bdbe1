"""Brings a database to the newest schema with Alembic, over mediagate's own engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mediagate.store.db import Database

if TYPE_CHECKING:
    from alembic.config import Config


def _config(connection: Any) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "mediagate.store:migrations")
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database) -> None:
    async with db.write() as conn:
        from alembic import command

        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), "head"))
