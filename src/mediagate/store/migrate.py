"""Brings a database to the newest schema with Alembic, over mediagate's own engine.

A database already at ``HEAD`` is left alone without importing Alembic at all (that import
alone took 0.6 s of every start); ``tests/unit/test_units.py`` checks ``HEAD`` against the
newest migration file.

A new, empty SQLite database is made from ``sqlite_head.sql`` instead: the schema that
Alembic's migrations leave, as SQLite itself records it, and their seed rows (the way
Rails loads ``schema.rb`` rather than replaying every migration). Loading it takes a few
milliseconds; importing Alembic and running the migrations took 0.3-0.4 s of a first
start. ``dump_sqlite_head`` writes it from a run of the migrations, and a test checks that
the file is what they make now.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediagate.store.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

HEAD = "0014"
SQLITE_HEAD = "sqlite_head.sql"
NOW = "(:now)"  # stands for a seed row's time of creation in sqlite_head.sql

# The standard library's logger, as Alembic's: a server shows it in its one log format, and
# a CLI command (whose output may be a key alone) stays quiet.
log = logging.getLogger("mediagate.store")


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


async def upgrade(db: Database, *, replay: bool = False, target: str = "head") -> str | None:
    """Bring ``db`` to HEAD (or to revision ``target``); the revision it was at (None: a new
    database). ``replay``: run the migrations even on a new SQLite database (what
    ``dump_sqlite_head`` records)."""
    revision = await current(db)
    if revision == HEAD:
        return revision
    replay = replay or target != "head"
    if revision is None and db.is_sqlite and not replay and await _load_head(db):
        return revision
    async with db.write() as conn:
        from alembic import command

        if conn.dialect.name == "postgresql":  # processes starting together upgrade in turn
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7316551)")

        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), target))
    return revision


def _statements() -> list[str]:
    text = (resources.files("mediagate.store") / SQLITE_HEAD).read_text()
    lines = [line for line in text.splitlines(keepends=True) if not line.startswith("--")]
    return [s.strip() for s in "".join(lines).split(";\n") if s.strip()]


async def _load_head(db: Database) -> bool:
    """Make a new SQLite database from ``sqlite_head.sql``, in one write transaction; False
    when it turns out not to be empty (then Alembic looks at it). A process that finds
    another has just made it has nothing left to do."""
    async with db.write() as conn:
        found = await conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        names = {row[0] for row in found}
        if "alembic_version" in names:
            version = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
            return bool(version.scalar() == HEAD)
        if names:
            return False
        now = time.time()
        for statement in _statements():
            await conn.exec_driver_sql(statement.replace(NOW, repr(now)))
    log.info("new database made at revision %s from %s", HEAD, SQLITE_HEAD)
    return True


def dump_sqlite_head() -> str:
    """``sqlite_head.sql`` as the migrations make it now: run them all on a new SQLite
    file, then write out its schema (in the order it was made) and its rows, a seed row's
    ``created_at`` standing for the time it is loaded."""
    import asyncio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "head.db"
        db = Database(f"sqlite+aiosqlite:///{path}")

        async def replay() -> None:
            try:
                await upgrade(db, replay=True)
            finally:
                await db.dispose()

        asyncio.run(replay())
        out: list[str] = []
        with sqlite3.connect(path) as conn:
            schema = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            ).fetchall()
            out += [sql for _, sql in schema]
            for table in [name for name, sql in schema if sql.startswith("CREATE TABLE")]:
                cursor = conn.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (our own names)
                columns = [c[0] for c in cursor.description]
                for row in cursor.fetchall():
                    values = [
                        NOW if col == "created_at" else _literal(v)
                        for col, v in zip(columns, row, strict=True)
                    ]
                    names, listed = ", ".join(columns), ", ".join(values)
                    out.append(f'INSERT INTO "{table}" ({names}) VALUES ({listed})')  # noqa: S608
    header = (
        f"-- A new SQLite database at migration {HEAD}: its schema as the migrations leave it,\n"
        "-- and their seed rows. Made by `python -m mediagate.store.migrate`; do not edit.\n"
    )
    return header + ";\n".join(out) + ";\n"


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


if __name__ == "__main__":  # > src/mediagate/store/sqlite_head.sql
    print(dump_sqlite_head(), end="")
