"""Webhook deliveries: queued in the same transaction as a task's terminal move, claimed
with a lease by the sender, every attempt recorded, replayable."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from mediagate.core.tasks import Status
from mediagate.core.webhooks import EVERY_CHANGE, Attempt, Delivery
from mediagate.store.db import WEBHOOKS_CHANNEL, Database, notify
from mediagate.store.schema import tasks, webhook_attempts, webhook_deliveries

EVENTS = {
    Status.DONE: "task.succeeded",
    Status.FAILED: "task.failed",
    Status.CANCELLED: "task.cancelled",
}
CHANGE_EVENTS = {Status.QUEUED: "task.queued", Status.PROCESSING: "task.processing"}
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def _delivery(row: Any) -> Delivery:
    m = row._mapping
    return Delivery(
        id=m["id"],
        task_id=m["task_id"],
        key_id=m["key_id"],
        url=m["url"],
        event=m["event"],
        status=m["status"],
        attempts=m["attempts"],
        created_at=m["created_at"],
        next_attempt_at=m["next_attempt_at"],
        last_status=m["last_status"],
        last_error=m["last_error"],
        delivered_at=m["delivered_at"],
    )


async def enqueue(conn: AsyncConnection, task_id: str, status: Status, now: float) -> bool:
    """Inside the terminal move's transaction: one delivery if the task has a callback.
    True if one was queued."""
    row = (
        await conn.execute(
            sa.select(tasks.c.key_id, tasks.c.callback_url, tasks.c.dialect).where(
                tasks.c.id == task_id
            )
        )
    ).first()
    if row is None or not row.callback_url:
        return False
    event = EVENTS.get(status)
    if event is None and row.dialect in EVERY_CHANGE:
        event = CHANGE_EVENTS.get(status)
    if event is None:
        return False
    await conn.execute(
        webhook_deliveries.insert().values(
            id=f"msg_{secrets.token_hex(12)}",
            task_id=task_id,
            key_id=row.key_id,
            url=row.callback_url,
            event=event,
            status=PENDING,
            created_at=now,
            next_attempt_at=now,
        )
    )
    await notify(conn, WEBHOOKS_CHANNEL)
    return True


class WebhookRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim_due(
        self, now: float, lease_s: float, limit: int, skip_keys: Collection[str] = ()
    ) -> list[Delivery]:
        """Take a lease on up to ``limit`` due deliveries, none of the keys in ``skip_keys``
        (those the sender has its fill of in flight)."""
        due = (
            sa.select(webhook_deliveries.c.id)
            .where(*_claimable(now, skip_keys), webhook_deliveries.c.next_attempt_at <= now)
            .order_by(webhook_deliveries.c.next_attempt_at)
            .limit(limit)
        )
        if self._db.is_postgres:
            due = due.with_for_update(skip_locked=True)
        async with self._db.write() as conn:
            rows = (
                await conn.execute(
                    webhook_deliveries.update()
                    .where(webhook_deliveries.c.id.in_(due.scalar_subquery()))
                    .values(lease_until=now + lease_s)
                    .returning(*webhook_deliveries.c)
                )
            ).all()
        return [_delivery(r) for r in rows]

    async def record(
        self,
        delivery: Delivery,
        attempt: Attempt,
        delivered: bool,
        next_at: float | None,
    ) -> None:
        """One attempt; the delivery is delivered, retried at ``next_at``, or failed."""
        status = DELIVERED if delivered else (PENDING if next_at is not None else FAILED)
        async with self._db.write() as conn:
            await conn.execute(
                webhook_attempts.insert().values(
                    delivery_id=delivery.id,
                    at=attempt.at,
                    status_code=attempt.status_code,
                    error=attempt.error,
                    ms=attempt.ms,
                )
            )
            await conn.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.id == delivery.id)
                .values(
                    status=status,
                    attempts=webhook_deliveries.c.attempts + 1,
                    next_attempt_at=None if delivered else next_at,
                    lease_until=None,
                    last_status=attempt.status_code,
                    last_error=attempt.error,
                    delivered_at=attempt.at if delivered else None,
                )
            )

    async def list_for(self, key_id: str | None, task_id: str | None) -> list[Delivery]:
        query = sa.select(webhook_deliveries).order_by(webhook_deliveries.c.created_at)
        if key_id is not None:
            query = query.where(webhook_deliveries.c.key_id == key_id)
        if task_id is not None:
            query = query.where(webhook_deliveries.c.task_id == task_id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query.limit(500))).all()
        return [_delivery(r) for r in rows]

    async def attempts(self, delivery_id: str) -> list[Attempt]:
        query = (
            sa.select(webhook_attempts)
            .where(webhook_attempts.c.delivery_id == delivery_id)
            .order_by(webhook_attempts.c.id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [Attempt(r.at, r.status_code, r.error, r.ms) for r in rows]

    async def replay(self, delivery_id: str, key_id: str | None, now: float) -> Delivery | None:
        """Send a delivery again now (whatever its state); None if not this key's."""
        cond = [webhook_deliveries.c.id == delivery_id]
        if key_id is not None:
            cond.append(webhook_deliveries.c.key_id == key_id)
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    webhook_deliveries.update()
                    .where(*cond)
                    .values(status=PENDING, next_attempt_at=now, lease_until=None, created_at=now)
                    .returning(*webhook_deliveries.c)
                )
            ).first()
            await notify(conn, WEBHOOKS_CHANNEL)
        return None if row is None else _delivery(row)

    async def release(self, ids: list[str]) -> None:
        """Give back leases taken but not used: the deliveries are claimable again at once."""
        async with self._db.write() as conn:
            await conn.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.id.in_(ids))
                .values(lease_until=None)
            )

    async def next_due(self, now: float, skip_keys: Collection[str] = ()) -> float | None:
        """When the soonest claimable delivery is due (None: nothing is)."""
        query = sa.select(sa.func.min(webhook_deliveries.c.next_attempt_at)).where(
            *_claimable(now, skip_keys)
        )
        async with self._db.read() as conn:
            value = (await conn.execute(query)).scalar()
        return None if value is None else float(value)


def _claimable(now: float, skip_keys: Collection[str]) -> list[Any]:
    """Pending, not leased by a live sender, and not of a key in ``skip_keys``."""
    where: list[Any] = [
        webhook_deliveries.c.status == PENDING,
        sa.or_(webhook_deliveries.c.lease_until.is_(None), webhook_deliveries.c.lease_until < now),
    ]
    if skip_keys:
        where.append(webhook_deliveries.c.key_id.not_in(list(skip_keys)))
    return where
