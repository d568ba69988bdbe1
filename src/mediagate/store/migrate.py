"""Brings a database to the newest schema with Alembic, over mediagate's own engine.

A database already at ``HEAD`` is left alone without importing Alembic at all (that import
alone took 0.6 s of every start); ``tests/unit/test_units.py`` checks ``HEAD`` against the
newest migration file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mediagate.store.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0008"


def _config(connection: Any) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "mediagate.store:migrations")
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest revision among the migration files, as Alembic sees it."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None)).get_current_head()


async def current(db: Database) -> str | None:
    """The database's revision; None for a new, empty database."""
    try:
        async with db.read() as conn:
            return (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # no alembic_version table yet
        return None


async def upgrade(db: Database) -> None:
    if await current(db) == HEAD:
        return
    async with db.write() as conn:
        from alembic import command

        if conn.dialect.name == "postgresql":  # processes starting together upgrade in turn
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7316551)")

        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), "head"))
