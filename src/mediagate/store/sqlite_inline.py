"""aiosqlite's connection API run on the caller's own thread: no worker thread, no hand-off.

SQLAlchemy's async SQLite dialect drives an aiosqlite connection, which sends every call
(cursor, execute, fetch, commit) to a thread of its own and waits for the event loop to
come round for the answer. A write transaction of a dozen statements so waits a dozen
times for a loop that is busy serving requests, and for the GIL after each. SQLite writes
in WAL mode take microseconds, so mediagate's one writer runs them inline instead: the
whole transaction happens without yielding, and nothing queues behind it in between.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite


class _RunNow:
    """Stands in for aiosqlite's queue to its worker thread (SQLAlchemy puts work there
    directly, e.g. to set the isolation level): runs the work at once."""

    def put_nowait(self, item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An ``aiosqlite.Connection`` whose calls run synchronously where they are awaited."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _connect(self) -> InlineConnection:
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Any:  # no worker thread to start
        return self._connect().__await__()

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()

    def __del__(self) -> None:
        self.stop()


def inline_creator(path: str, timeout_s: float) -> Callable[[], Any]:
    """An ``async_creator`` for SQLAlchemy's aiosqlite dialect."""

    async def create() -> InlineConnection:
        def connect() -> sqlite3.Connection:
            return sqlite3.connect(path, timeout=timeout_s, check_same_thread=False)

        conn = InlineConnection(connect)
        await conn._connect()
        return conn

    return create
