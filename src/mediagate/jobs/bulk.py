"""Bulk polling: poll steps that come due together for a provider that can report on many
jobs at once (``BulkPoller``) are answered by one upstream call instead of one call each.

A poll step awaits ``BulkPolls.poll``; requests arriving within ``window_s`` of each other
are sent as one ``poll_many`` of at most ``batch`` ids (a poll may so wait up to a
quarter of a second: nothing next to intervals of seconds). A job the answer leaves out is
polled on its own; a failed call fails each step in it, so each retries as it would have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from mediagate.core.errors import ProviderError
from mediagate.core.provider import BulkPoller, Pending, Ready

Single = Callable[[], Awaitable[Pending | Ready]]


class _Batch:
    def __init__(self) -> None:
        self.waiters: dict[str, list[asyncio.Future[Pending | Ready | ProviderError | None]]] = {}


class BulkPolls:
    def __init__(self, batch: int = 100, window_s: float = 0.25, calls: int = 16) -> None:
        self._batch = batch
        # Bulk calls in flight at once, per provider: 16 of 100 ids keep 10,000 tasks polled
        # every 5 s on time even while a wave of them finishes and downloads at once.
        self._calls = calls
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._window_s = window_s
        self._open: dict[str, _Batch] = {}
        self.calls = 0
        self._sending: set[asyncio.Future[None]] = set()

    async def poll(self, provider: BulkPoller, upstream_id: str, single: Single) -> Pending | Ready:
        batch = self._open.get(provider.name)
        if batch is None or len(batch.waiters) >= self._batch:
            batch = self._open[provider.name] = _Batch()
            asyncio.get_running_loop().call_later(self._window_s, self._start, provider, batch)
        future: asyncio.Future[Pending | Ready | ProviderError | None] = (
            asyncio.get_running_loop().create_future()
        )
        batch.waiters.setdefault(upstream_id, []).append(future)
        state = await future
        if state is None:
            return await single()
        if isinstance(state, ProviderError):
            raise state
        return state

    def _start(self, provider: BulkPoller, batch: _Batch) -> None:
        task = asyncio.ensure_future(self._send(provider, batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, provider: BulkPoller, batch: _Batch) -> None:
        if self._open.get(provider.name) is batch:
            del self._open[provider.name]
        self.calls += 1
        sem = self._sems.setdefault(provider.name, asyncio.Semaphore(self._calls))
        try:
            async with sem:
                states = await provider.poll_many(list(batch.waiters))
        except Exception as exc:
            for futures in batch.waiters.values():
                for f in futures:
                    if not f.done():
                        f.set_exception(exc)
            return
        for upstream_id, futures in batch.waiters.items():
            for f in futures:
                if not f.done():
                    f.set_result(states.get(upstream_id))
