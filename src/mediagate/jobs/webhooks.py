"""The webhook sender: a loop of its own, so deliveries never hold up task processing. It
claims due deliveries, POSTs each on its own through the same SSRF guard as image inputs,
and records every attempt; failures retry with backoff and jitter for up to a day.

Fair to every key: at most PER_KEY deliveries of one key are in flight at once (its other
deliveries are not even claimed), out of MAX_IN_FLIGHT in all, so a key whose receivers hang
holds PER_KEY slots for at most the timeout and never delays another key's deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable

import aiohttp
import structlog

from mediagate.core.ports import NullObserver, Observer, TaskStore, WebhookSecrets, WebhookStore
from mediagate.core.tasks import Task
from mediagate.core.webhooks import WINDOW_S, Attempt, Delivery, new_secret, retry_delay, sign
from mediagate.jobs.netguard import (
    AddressPolicy,
    blocked_cause,
    guarded_connector,
    spells_blocked_address,
)

log = structlog.get_logger("mediagate.webhooks")
Renderer = Callable[[Task], bytes]
LEASE_S = 60.0
MAX_IN_FLIGHT = 64
PER_KEY = 4
TIMEOUT = aiohttp.ClientTimeout(total=15, sock_connect=5)
REFUSED = "refused: the callback URL is not a public address"


class WebhookSender:
    def __init__(
        self,
        repo: WebhookStore,
        tasks: TaskStore,
        keys: WebhookSecrets,
        clock: Callable[[], float],
        allow: AddressPolicy,
        idle_s: float = 30.0,
        rng: random.Random | None = None,
        first_retry_s: float = 5.0,
        observer: Observer | None = None,
    ) -> None:
        self._observer: Observer = observer or NullObserver()
        self._first_retry_s = first_retry_s
        self._repo = repo
        self._tasks = tasks
        self._keys = keys
        self._clock = clock
        self._allow = allow
        self._idle_s = idle_s
        self._rng = rng or random.Random()
        self.render: Renderer | None = None  # set by the API layer: bodies are in a dialect
        self._session: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._in_flight: dict[str, int] = {}  # key id -> deliveries being sent
        self._sends: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        connector = guarded_connector(self._allow, limit=MAX_IN_FLIGHT)
        self._session = aiohttp.ClientSession(connector=connector, timeout=TIMEOUT)
        self._loop_task = asyncio.create_task(self._run(), name="mediagate-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._sends) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.run_due()
            except Exception:
                log.exception("webhook round failed")
                sent = 0
            if not sent:
                await self._sleep()

    async def _sleep(self) -> None:
        """Until a delivery is queued here (wake), the next retry is due, or ``idle_s`` has
        passed (the look for deliveries queued by other processes where no NOTIFY exists)."""
        self._wake.clear()
        wait = self._idle_s
        try:
            due = await self._repo.next_due(self._clock(), self._full_keys())
        except Exception:
            log.exception("webhook look-ahead failed")
            due = None
        if due is not None:
            wait = min(wait, max(0.0, due - self._clock()) + 0.01)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait)

    def _full_keys(self) -> list[str]:
        return [key for key, n in self._in_flight.items() if n >= PER_KEY]

    async def run_due(self) -> int:
        """Start sending what is due, as far as the in-flight caps allow; how many started."""
        free = MAX_IN_FLIGHT - len(self._sends)
        if free <= 0:
            return 0
        due = await self._repo.claim_due(self._clock(), LEASE_S, free, self._full_keys())
        spare = []
        for delivery in due:
            if self._in_flight.get(delivery.key_id, 0) >= PER_KEY:
                spare.append(delivery.id)  # claimed in the same round as its key's others
                continue
            self._in_flight[delivery.key_id] = self._in_flight.get(delivery.key_id, 0) + 1
            send = asyncio.create_task(self._send_one(delivery), name=f"webhook-{delivery.id}")
            self._sends.add(send)
            send.add_done_callback(self._sends.discard)
        if spare:
            await self._repo.release(spare)
        return len(due) - len(spare)

    async def _send_one(self, delivery: Delivery) -> None:
        try:
            await self._send(delivery)
        except Exception:
            log.exception("webhook send failed", delivery=delivery.id)  # the lease runs out
        finally:
            left = self._in_flight.get(delivery.key_id, 1) - 1
            if left:
                self._in_flight[delivery.key_id] = left
            else:
                self._in_flight.pop(delivery.key_id, None)
            self._wake.set()  # a slot is free

    async def _send(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        status, error = await self._post(delivery)
        now = self._clock()
        attempt = Attempt(now, status, error, round((time.perf_counter() - started) * 1000, 1))
        delivered = status is not None and 200 <= status < 300
        self._observer.webhook_sent(delivered, time.perf_counter() - started)
        next_at = None
        if not delivered and error != REFUSED:  # a refused address never becomes allowed
            candidate = now + retry_delay(delivery.attempts, self._rng, self._first_retry_s)
            if candidate < delivery.created_at + WINDOW_S:
                next_at = candidate
        await self._repo.record(delivery, attempt, delivered, next_at)
        log.info(
            "webhook",
            delivery=delivery.id,
            task_id=delivery.task_id,
            status=status,
            error=error,
            delivered=delivered,
            retry_at=next_at,
        )

    async def _post(self, delivery: Delivery) -> tuple[int | None, str | None]:
        assert self._session is not None and self.render is not None
        if spells_blocked_address(delivery.url, self._allow):
            return None, REFUSED
        task = await self._tasks.get(delivery.task_id)
        if task is None:
            return None, "the task was deleted"
        body = self.render(task)
        secret = await self._keys.webhook_secret(delivery.key_id)
        if secret is None:  # a key from before webhooks existed
            secret = new_secret()
            await self._keys.set_webhook_secret(delivery.key_id, secret)
        stamp = int(self._clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "mediagate-webhooks",
            "webhook-id": delivery.id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(secret, delivery.id, stamp, body),
        }
        try:
            async with self._session.post(
                delivery.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                await resp.content.read(64 * 1024)
                return resp.status, None if resp.status < 300 else f"HTTP {resp.status}"
        except TimeoutError:
            return None, "timed out"
        except (aiohttp.ClientError, OSError) as exc:
            if blocked_cause(exc) is not None:
                return None, REFUSED
            return None, f"{type(exc).__name__}: {exc}"[:500]
