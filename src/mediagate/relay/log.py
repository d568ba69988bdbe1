"""Off the hot path: finished requests are written in batches (a log row each, and a ledger
charge each for the priced ones), every ``interval_s`` or ``batch`` rows, whichever first.

Money stays exact while a row waits: ``Reservations`` counts, per account, what requests in
flight hold (their estimates) and what finished ones will be charged (their costs), so the
next request sees the balance as it will be. (Per process: on PostgreSQL with several
processes, each sees the others' charges once they are written, a batch later.)"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from typing import Protocol

from mediagate.core.errors import InsufficientBalanceError
from mediagate.core.money import text
from mediagate.core.text import RequestRecord

log = logging.getLogger("mediagate.relay")
PRUNE_EVERY_S = 3600.0


class RequestStore(Protocol):
    async def write(self, batch: list[RequestRecord]) -> None: ...

    async def prune(self, before: float) -> int: ...


class Reservations:
    def __init__(self) -> None:
        self._held: dict[str, int] = defaultdict(int)
        self._pending: dict[str, int] = defaultdict(int)

    def take(self, account_id: str, balance: int, amount: int) -> None:
        """Hold ``amount`` if the balance, less what is held and pending, covers it."""
        free = balance - self._held[account_id] - self._pending[account_id]
        if amount > free:
            raise InsufficientBalanceError(
                f"insufficient balance: this request may cost up to {text(amount)} and the "
                f"account has {text(max(free, 0))} free; top it up, or ask for fewer tokens "
                "(max_tokens)"
            )
        self._held[account_id] += amount

    def in_flight(self, account_id: str) -> int:
        """What the account's running requests hold and its finished ones will be charged."""
        return self._held[account_id] + self._pending[account_id]

    def settle(self, account_id: str, held: int, cost: int) -> None:
        """The hold is gone; the cost waits to be written."""
        self._held[account_id] -= held
        self._pending[account_id] += cost

    def written(self, account_id: str, cost: int) -> None:
        self._pending[account_id] -= cost


class RequestLog:
    def __init__(
        self,
        store: RequestStore,
        reservations: Reservations,
        interval_s: float = 0.2,
        batch: int = 500,
        retention_s: float = 90 * 86400,
    ) -> None:
        self._store = store
        self.reservations = reservations
        self._retention = retention_s
        self._pruned_at = 0.0
        self._interval = interval_s
        self._batch = batch
        self._rows: list[RequestRecord] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, record: RequestRecord) -> None:
        self._rows.append(record)
        if len(self._rows) >= self._batch:
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="request-log")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.flush()
                if time.time() - self._pruned_at > PRUNE_EVERY_S:
                    self._pruned_at = time.time()
                    await self._store.prune(self._pruned_at - self._retention)
            except Exception:  # the rows stay queued and are tried again
                log.exception("writing the request log failed")

    async def flush(self) -> None:
        while self._rows:
            batch, self._rows = self._rows[: self._batch], self._rows[self._batch :]
            try:
                await self._store.write(batch)
            except BaseException:
                self._rows[:0] = batch
                raise
            for row in batch:
                if row.cost_micros:
                    self.reservations.written(row.account_id, row.cost_micros)
