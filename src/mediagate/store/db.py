"""Engine set-up: SQLite (WAL, one writer connection, BEGIN IMMEDIATE) or PostgreSQL (asyncpg).

SQLite has one writer. Writes go through a pool of exactly one connection of their own that
runs inline on the event loop's thread (``sqlite_inline``): a transaction never waits for
the loop to come round between statements, and a writer never waits for a connection a
reader holds, nor spins in SQLite's busy handler. WAL checkpoints run off the loop
(``checkpoint``). Reads use a separate pool, or a point-read connection, and never take
the write lock. Several processes on one SQLite file work, but their writes then wait for
each other in SQLite's lock; PostgreSQL is the store for scaling out.

``synchronous``: with WAL, NORMAL (the default here) syncs the WAL at checkpoints, not at each
commit. A commit is in the WAL file, and so in the OS's page cache, before it returns: a
``kill -9`` of mediagate loses nothing that was acknowledged. Only a power cut or a kernel
crash can lose the last commits. FULL (``MEDIAGATE_SQLITE_SYNCHRONOUS=FULL``) fsyncs every
commit and survives those too, at about one fsync per write transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from mediagate.store.sqlite_inline import inline_creator

BUSY_TIMEOUT_MS = 30_000
# PostgreSQL LISTEN/NOTIFY channels: new due work, queued webhooks, revoked keys.
TASKS_CHANNEL = "mediagate_tasks"
WEBHOOKS_CHANNEL = "mediagate_webhooks"
KEYS_CHANNEL = "mediagate_keys"
SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


class Database:
    """Owns the engines; hands out read and write transactions."""

    def __init__(self, url: str, synchronous: str = "NORMAL", pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.is_postgres = url.startswith("postgresql")
        self._point: sqlite3.Connection | None = None
        self._writer: AsyncConnection | None = None
        self._write_lock = asyncio.Lock()
        if synchronous.upper() not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
        if self.is_sqlite:
            args = {"timeout": BUSY_TIMEOUT_MS / 1000}
            # A fixed pool: an overflow connection closed after each use costs a thread and
            # the pragmas every time it is opened again.
            self.engine: AsyncEngine = create_async_engine(
                url, connect_args=args, pool_size=16, max_overflow=0, pool_timeout=600
            )
            # The single writer: a pool of one, so writers queue for it in order, and run
            # inline on the loop's thread (see sqlite_inline).
            path = make_url(url).database or ""
            self.write_engine = create_async_engine(
                url,
                async_creator=inline_creator(path, BUSY_TIMEOUT_MS / 1000),
                pool_size=1,
                max_overflow=0,
                pool_timeout=600,
            )
            _tune_sqlite(self.engine, synchronous.upper())
            _tune_sqlite(self.write_engine, synchronous.upper(), writer=True)
        else:
            self.engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
            self.write_engine = self.engine

    async def ping(self) -> None:
        """Raises if the database cannot answer a trivial query."""
        async with self.read() as conn:
            await conn.exec_driver_sql("SELECT 1")

    def time_statements(self, report: Callable[[bool, float], None]) -> None:
        """Call ``report(is_write, seconds)`` after every statement (metrics)."""

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            conn.info["mg_started"] = time.perf_counter()

        def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            started = conn.info.pop("mg_started", None)
            if started is not None:
                is_write = not statement.lstrip()[:6].upper().startswith(("SELECT", "PRAGMA"))
                report(is_write, time.perf_counter() - started)

        for engine in {id(e): e for e in (self.engine, self.write_engine)}.values():
            event.listen(engine.sync_engine, "before_cursor_execute", before)
            event.listen(engine.sync_engine, "after_cursor_execute", after)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads. On SQLite no BEGIN is sent: each SELECT is its own
        snapshot, which saves two aiosqlite thread hops per read."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(mediagate_read=True)
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction. On SQLite: BEGIN IMMEDIATE on the one writer connection, kept
        open for the life of the process and taken under a lock, and committed with a plain
        ``commit()``: SQLAlchemy's ``async with`` exits commit and close in a task of their
        own, a loop turn later, and the write lock would be held across it."""
        if not self.is_sqlite:
            async with self.write_engine.connect() as conn:
                conn = await conn.execution_options(mediagate_write=True)
                async with conn.begin():
                    yield conn
            return
        async with self._write_lock:
            if self._writer is None:
                conn = await self.write_engine.connect()
                self._writer = await conn.execution_options(mediagate_write=True)
            conn = self._writer
            try:
                await conn.begin()
                yield conn
            except BaseException:
                await self._rollback(conn)
                raise
            try:
                await conn.commit()
            except BaseException:
                await self._rollback(conn)
                raise

    async def _rollback(self, conn: AsyncConnection) -> None:
        try:
            await conn.rollback()
        except Exception:  # a broken connection: open a new one next time
            self._writer = None
            with contextlib.suppress(Exception):
                await conn.close()

    async def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database file (PASSIVE: never waits for readers or
        the writer), on a pool connection's thread, so the inline writer never pays for it."""
        if self.is_sqlite:
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(mediagate_read=True)  # no BEGIN
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def point_read(self) -> sqlite3.Connection | None:
        """SQLite only: a plain connection for point reads (one row by key) made on the
        event loop's thread. Such a read takes tens of microseconds in WAL mode, where
        readers never wait for the writer; going through a thread pool costs far more
        (thread hops on every call). None on other databases."""
        if not self.is_sqlite:
            return None
        if self._point is None:
            path = make_url(self.url).database or ""
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA query_only=1")
            self._point = conn
        return self._point

    async def dispose(self) -> None:
        if self._point is not None:
            self._point.close()
            self._point = None
        await self.engine.dispose()
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer.close()
            self._writer = None
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()


def _tune_sqlite(engine: AsyncEngine, synchronous: str, writer: bool = False) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below instead of pysqlite's own.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        if writer:  # checkpoints run off the loop (Database.checkpoint), not in a commit
            cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.execute(f"PRAGMA journal_size_limit={16 * 1024 * 1024}")  # WAL file, once reset
        cur.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("mediagate_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get("mediagate_read"):
            conn.exec_driver_sql("BEGIN")


async def notify(conn: AsyncConnection, channel: str, payload: str = "") -> None:
    """On PostgreSQL, wake the listeners of ``channel`` when this transaction commits; other
    databases have no such signal (their processes look on a timer)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})
