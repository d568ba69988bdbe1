"""The engine's side of the tasks table: bulk claims, lease renewal and guarded group
commits of step results (what ``core.ports.EngineStore`` asks for)."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from mediagate.core.catalogue import GenerationParams
from mediagate.core.tasks import (
    PLAIN_CHANGES,
    TERMINAL,
    Advance,
    Advanced,
    Charge,
    Mode,
    Output,
    Status,
    Step,
    Task,
    TaskError,
    TaskUpdate,
    can_move,
)
from mediagate.core.webhooks import EVERY_CHANGE
from mediagate.store import accounts as ledger_ops
from mediagate.store import webhooks as webhook_ops
from mediagate.store.db import Database
from mediagate.store.schema import task_events, tasks

_outputs_decoder = msgspec.json.Decoder(tuple[Output, ...])
_params_decoder = msgspec.json.Decoder(GenerationParams)
log = structlog.get_logger("mediagate.store")


class TransitionError(RuntimeError):
    """A step asked for a move the state machine forbids; a bug, never user input."""


def task_of(row: Any) -> Task:
    return task_from(row._mapping)


def task_from(m: Any) -> Task:
    """A Task from a row mapping (SQLAlchemy's, or a sqlite3.Row)."""
    error = None
    if m["error_code"]:
        error = TaskError(code=m["error_code"], message=m["error_message"] or "")
    return Task(
        id=m["id"],
        key_id=m["key_id"],
        model=m["model"],
        prompt=m["prompt"],
        params=_params_decoder.decode(m["params"]),
        mode=Mode(m["mode"]),
        provider=m["provider"],
        status=Status(m["status"]),
        step=Step(m["step"]) if m["step"] else None,
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        progress=m["progress"],
        attempts=m["attempts"],
        upstream_id=m["upstream_id"],
        outputs=_outputs_decoder.decode(m["outputs"]),
        error=error,
        finished_at=m["finished_at"],
        seed=m["seed"],
        account_id=m["account_id"],
        price_micros=m["price_micros"],
        charge=Charge(m["charge"]),
        route=m["route"],
        route_name=m["route_name"],
        cost_micros=m["cost_micros"],
        callback_url=m["callback_url"],
        dialect=m["dialect"],
        public_base=m["public_base"],
    )


# Statements built once; each execution only binds its parameters (building a statement
# with .values() per call costs more than running it on SQLite).
INSERT_EVENT = task_events.insert()
POSTGRES_WRITERS = 4  # group commits at once per process (each holds a pooled connection)


def DUE(now: float) -> sa.ColumnElement[bool]:
    """A task with work whose time has come and whose lease, if any, has run out."""
    return sa.and_(
        tasks.c.step.isnot(None),
        tasks.c.next_run_at <= now,
        sa.or_(tasks.c.lease_until.is_(None), tasks.c.lease_until < now),
    )


def _update_values(task: Task, update: TaskUpdate, now: float) -> dict[str, object]:
    values: dict[str, object] = {
        "status": update.status.value,
        "step": update.step.value if update.step else None,
        "next_run_at": update.next_run_at,
        "updated_at": now,
    }
    for name in PLAIN_CHANGES:
        value = getattr(update, name)
        if value is not None:
            values[name] = value
    if update.clear_upstream:
        values["upstream_id"] = None
    if update.status is Status.QUEUED and update.step is Step.SUBMIT:
        values["slot"] = 0  # back to waiting (a retry or a failover): the slot is freed
    if update.outputs is not None:
        values["outputs"] = msgspec.json.encode(update.outputs).decode()
    if update.error is not None:
        values["error_code"] = update.error.code
        values["error_message"] = update.error.message
    if update.status in TERMINAL and task.status not in TERMINAL:
        values["finished_at"] = now
    return values


async def _advance_in(
    conn: AsyncConnection, item: Advance, owner: str, now: float, keep_until: float | None
) -> Advanced:
    task, update = item.task, item.update
    values = _update_values(task, update, now)
    keep = keep_until is not None and update.step is not None
    values["lease_owner"] = owner if keep else None
    values["lease_until"] = keep_until if keep else None
    res = await conn.execute(
        tasks.update()
        .where(
            tasks.c.id == task.id,
            tasks.c.lease_owner == owner,
            tasks.c.status == task.status.value,
        )
        .values(**values)
    )
    if not res.rowcount:
        return Advanced(committed=False)
    queued = False
    if update.status in TERMINAL and task.status not in TERMINAL:
        await ledger_ops.settle(conn, task.id, update.status, now)
        queued = await webhook_ops.enqueue(conn, task.id, update.status, now)
    elif update.status != task.status and task.callback_url and task.dialect in EVERY_CHANGE:
        queued = await webhook_ops.enqueue(conn, task.id, update.status, now)
    if update.status != task.status or update.detail:
        await conn.execute(
            INSERT_EVENT,
            dict(task_id=task.id, at=now, status=update.status.value, detail=update.detail),
        )
    return Advanced(committed=True, webhook_queued=queued)


class LeaseQueries:
    """Claims, commits and leases; ``TaskRepository`` adds the API's queries."""

    _db: Database

    @property
    def writers(self) -> int:
        """SQLite has one writer. On PostgreSQL a few group commits run side by side, so a
        process's steps are not held to the round trips of one transaction at a time."""
        return 1 if self._db.is_sqlite else POSTGRES_WRITERS

    async def claim(self, task_id: str, owner: str, now: float, lease_s: float) -> Task | None:
        """Take the lease on a due, unfinished task; None if it is not due, done or leased."""
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    tasks.update()
                    .where(tasks.c.id == task_id, DUE(now))
                    .values(lease_owner=owner, lease_until=now + lease_s)
                    .returning(*tasks.c)
                )
            ).first()
        return None if row is None else task_of(row)

    async def claim_due(self, owner: str, now: float, lease_s: float, limit: int) -> list[Task]:
        """Take the lease on up to ``limit`` due tasks, soonest first, in one statement. On
        PostgreSQL rows another process is claiming are skipped (FOR UPDATE SKIP LOCKED)."""
        due = sa.select(tasks.c.id).where(DUE(now)).order_by(tasks.c.next_run_at).limit(limit)
        if self._db.is_postgres:
            due = due.with_for_update(skip_locked=True)
        async with self._db.write() as conn:
            rows = (
                await conn.execute(
                    tasks.update()
                    .where(tasks.c.id.in_(due.scalar_subquery()))
                    .values(lease_owner=owner, lease_until=now + lease_s)
                    .returning(*tasks.c)
                )
            ).all()
        return [task_of(r) for r in rows]

    async def advance(self, task: Task, owner: str, update: TaskUpdate, now: float) -> bool:
        """Apply ``update`` if ``owner`` still holds the lease; release it. False if lost."""
        if not can_move(task.status, update.status):
            raise TransitionError(f"{task.id}: {task.status} -> {update.status} is not allowed")
        return (await self.advance_many([Advance(task, update)], owner, now))[0].committed

    async def advance_many(
        self, items: list[Advance], owner: str, now: float, keep_until: float | None = None
    ) -> list[Advanced]:
        """Apply each update whose task ``owner`` still leases, all in one transaction (a
        group commit). A task with more work keeps its lease until ``keep_until`` when that
        is given; otherwise, and once a task has no step, the lease is released."""
        results: list[Advanced] = []
        async with self._db.write() as conn:
            for item in items:
                if not can_move(item.task.status, item.update.status):
                    # A bug in a step; the others in the group still commit.
                    log.error(
                        "illegal move refused",
                        task_id=item.task.id,
                        src=item.task.status,
                        dst=item.update.status,
                    )
                    results.append(Advanced(committed=False))
                    continue
                results.append(await _advance_in(conn, item, owner, now, keep_until))
        return results

    async def renew_leases(self, owner: str, until: float) -> set[str]:
        """Extend every lease ``owner`` holds, in one statement; the ids it still holds."""
        async with self._db.write() as conn:
            rows = (
                await conn.execute(
                    tasks.update()
                    .where(tasks.c.lease_owner == owner)
                    .values(lease_until=until)
                    .returning(tasks.c.id)
                )
            ).all()
        return {r[0] for r in rows}

    async def lease_owners(self) -> list[str]:
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(tasks.c.lease_owner).where(tasks.c.lease_owner.isnot(None)).distinct()
                )
            ).all()
        return [r[0] for r in rows]

    async def release_tasks(self, owner: str, task_ids: list[str]) -> None:
        """Give back ``owner``'s leases on these tasks (ones it no longer tracks)."""
        async with self._db.write() as conn:
            for start in range(0, len(task_ids), 500):
                await conn.execute(
                    tasks.update()
                    .where(
                        tasks.c.lease_owner == owner, tasks.c.id.in_(task_ids[start : start + 500])
                    )
                    .values(lease_owner=None, lease_until=None)
                )

    async def release_leases(self, owners: list[str]) -> int:
        """Drop the leases of owners known to be dead, so their tasks run again at once."""
        if not owners:
            return 0
        async with self._db.write() as conn:
            res = await conn.execute(
                tasks.update()
                .where(tasks.c.lease_owner.in_(owners))
                .values(lease_owner=None, lease_until=None)
            )
        return int(res.rowcount)
