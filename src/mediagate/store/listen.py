"""PostgreSQL LISTEN: wakes this process when another commits new work, queues a webhook or
revokes a key. One dedicated asyncpg connection, reconnected on loss; every handler also
runs after each (re)connect, since a signal may have been missed in between. A handler gets
the notification's payload ("" after a reconnect)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy.engine import make_url

log = structlog.get_logger("mediagate.listen")


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy ``postgresql+asyncpg://`` URL as a plain libpq DSN for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Listener:
    def __init__(self, url: str, handlers: dict[str, Callable[[str], None]]) -> None:
        self._dsn = asyncpg_dsn(url)
        self._handlers = handlers
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mediagate-listen")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _fire(self, channel: str, payload: str = "") -> None:
        with contextlib.suppress(Exception):
            self._handlers[channel](payload)

    async def _run(self) -> None:
        import asyncpg

        while True:
            conn: Any = None
            try:
                conn = await asyncpg.connect(self._dsn)
                for channel in self._handlers:
                    # asyncpg calls back with (connection, pid, channel, payload)
                    await conn.add_listener(channel, lambda *a: self._fire(a[2], a[3]))
                for channel in self._handlers:
                    self._fire(channel)
                self.connected.set()
                while not conn.is_closed():
                    await asyncio.sleep(5)
                    await conn.execute("SELECT 1")  # notice a dead connection
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("listen connection lost; reconnecting", error=str(exc))
            finally:
                self.connected.clear()
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
            await asyncio.sleep(1)
