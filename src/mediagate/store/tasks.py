"""Queries on tasks: insert, read, lease-based claiming and guarded state transitions."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from mediagate.core.accounts import Hold
from mediagate.core.catalogue import GenerationParams
from mediagate.core.ports import IdempotencyHit, TaskPage
from mediagate.core.tasks import (
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
from mediagate.store import accounts as ledger_ops
from mediagate.store import webhooks as webhook_ops
from mediagate.store.db import TASKS_CHANNEL, Database, notify
from mediagate.store.schema import idempotency_keys, task_events, tasks

_outputs_decoder = msgspec.json.Decoder(tuple[Output, ...])
_params_decoder = msgspec.json.Decoder(GenerationParams)
_TERMINAL_VALUES = [s.value for s in TERMINAL]
log = structlog.get_logger("mediagate.store")


class TransitionError(RuntimeError):
    """A step asked for a move the state machine forbids; a bug, never user input."""


def _task(row: Any) -> Task:
    return _task_from(row._mapping)


def _task_from(m: Any) -> Task:
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
        cost_micros=m["cost_micros"],
        callback_url=m["callback_url"],
        dialect=m["dialect"],
        public_base=m["public_base"],
    )


# Statements built once; each execution only binds its parameters (building a statement
# with .values() per call costs more than running it on SQLite).
_INSERT_TASK = tasks.insert()
_INSERT_EVENT = task_events.insert()


def _DUE(now: float) -> sa.ColumnElement[bool]:
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
    if update.progress is not None:
        values["progress"] = update.progress
    if update.attempts is not None:
        values["attempts"] = update.attempts
    if update.upstream_id is not None:
        values["upstream_id"] = update.upstream_id
    if update.clear_upstream:
        values["upstream_id"] = None
    if update.provider is not None:
        values["provider"] = update.provider
    if update.route is not None:
        values["route"] = update.route
    if update.status is Status.QUEUED and update.step is Step.SUBMIT:
        values["slot"] = 0  # back to waiting (a retry or a failover): the slot is freed
    if update.cost_micros is not None:
        values["cost_micros"] = update.cost_micros
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
    if update.status != task.status or update.detail:
        await conn.execute(
            _INSERT_EVENT,
            dict(task_id=task.id, at=now, status=update.status.value, detail=update.detail),
        )
    return Advanced(committed=True, webhook_queued=queued)


async def _lock(conn: AsyncConnection, name: str) -> None:
    """On PostgreSQL, a transaction-scoped advisory lock on ``name`` (SQLite's writes are
    serialized already)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": name})


_GET_SQL = "SELECT * FROM tasks WHERE id = ? AND deleted_at IS NULL"


class TaskRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(
        self,
        task: Task,
        next_run_at: float,
        idempotency: tuple[str, str, float] | None = None,
        hold: Hold | None = None,
    ) -> IdempotencyHit | None:
        """Insert the task and its first event in one transaction. With ``idempotency``
        (scope, fingerprint, since), an earlier task under that scope wins instead. With
        ``hold``, the price is held on the account in the same transaction (or nothing is
        written and InsufficientBalanceError is raised)."""
        async with self._db.write() as conn:
            if idempotency is not None:
                scope, print_, since = idempotency
                await _lock(conn, f"idem:{scope}")
                row = (
                    await conn.execute(
                        sa.select(idempotency_keys).where(idempotency_keys.c.scope == scope)
                    )
                ).first()
                if row is not None and row.created_at >= since:
                    return IdempotencyHit(task_id=row.task_id, fingerprint=row.fingerprint)
                if row is not None:
                    await conn.execute(
                        idempotency_keys.delete().where(idempotency_keys.c.scope == scope)
                    )
                await conn.execute(
                    idempotency_keys.insert().values(
                        scope=scope, fingerprint=print_, task_id=task.id, created_at=task.created_at
                    )
                )
            if hold is not None:
                await ledger_ops.hold(conn, hold, task.id, task.created_at)
            await conn.execute(
                _INSERT_TASK,
                dict(
                    id=task.id,
                    key_id=task.key_id,
                    model=task.model,
                    prompt=task.prompt,
                    params=msgspec.json.encode(task.params).decode(),
                    mode=task.mode.value,
                    provider=task.provider,
                    status=task.status.value,
                    step=task.step.value if task.step else None,
                    seed=task.seed,
                    account_id=task.account_id,
                    price_micros=task.price_micros,
                    charge=(Charge.HELD if hold is not None else Charge.NONE).value,
                    route=task.route,
                    callback_url=task.callback_url,
                    dialect=task.dialect,
                    public_base=task.public_base,
                    created_at=task.created_at,
                    updated_at=task.updated_at,
                    next_run_at=next_run_at,
                ),
            )
            await conn.execute(
                _INSERT_EVENT,
                dict(
                    task_id=task.id, at=task.created_at, status=task.status.value, detail="created"
                ),
            )
            await notify(conn, TASKS_CHANNEL)
        return None

    async def get(self, task_id: str) -> Task | None:
        """The task, unless it does not exist or was deleted. One point read: on SQLite
        straight on the event loop's thread (see ``Database.point_read``)."""
        point = self._db.point_read()
        if point is not None:
            found = point.execute(_GET_SQL, (task_id,)).fetchall()  # to the end: no open read
            return _task_from(found[0]) if found else None
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(tasks).where(tasks.c.id == task_id, tasks.c.deleted_at.is_(None))
                )
            ).first()
        return None if row is None else _task(row)

    async def page(
        self, key_id: str, models: list[str], after: str | None, limit: int, newest_first: bool
    ) -> TaskPage:
        """A key's tasks of the given models in creation order, after the cursor task."""
        query = sa.select(tasks).where(
            tasks.c.key_id == key_id, tasks.c.deleted_at.is_(None), tasks.c.model.in_(models)
        )
        async with self._db.read() as conn:
            if after is not None:
                at = (
                    await conn.execute(sa.select(tasks.c.created_at).where(tasks.c.id == after))
                ).scalar()
                if at is None:
                    return TaskPage(tasks=[], has_more=False)
                if newest_first:
                    query = query.where(
                        sa.or_(
                            tasks.c.created_at < at,
                            sa.and_(tasks.c.created_at == at, tasks.c.id < after),
                        )
                    )
                else:
                    query = query.where(
                        sa.or_(
                            tasks.c.created_at > at,
                            sa.and_(tasks.c.created_at == at, tasks.c.id > after),
                        )
                    )
            order = (
                (tasks.c.created_at.desc(), tasks.c.id.desc())
                if newest_first
                else (tasks.c.created_at.asc(), tasks.c.id.asc())
            )
            rows = (await conn.execute(query.order_by(*order).limit(limit + 1))).all()
        return TaskPage(tasks=[_task(r) for r in rows[:limit]], has_more=len(rows) > limit)

    async def cancel(self, task_id: str, now: float, detail: str) -> Task | None:
        """Move an unfinished task to cancelled whoever holds its lease (the holder's commit
        is then refused). A task that reached the upstream keeps a CANCEL step to stop it
        there. None if the task was already terminal."""
        step = sa.case((tasks.c.upstream_id.isnot(None), Step.CANCEL.value), else_=None)
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    tasks.update()
                    .where(tasks.c.id == task_id, tasks.c.status.notin_(_TERMINAL_VALUES))
                    .values(
                        status=Status.CANCELLED.value,
                        step=step,
                        next_run_at=now,
                        updated_at=now,
                        finished_at=now,
                        lease_owner=None,
                        lease_until=None,
                        error_code="cancelled",
                        error_message=detail,
                    )
                    .returning(*tasks.c)
                )
            ).first()
            if row is not None:
                await ledger_ops.settle(conn, task_id, Status.CANCELLED, now)
                await webhook_ops.enqueue(conn, task_id, Status.CANCELLED, now)
                await conn.execute(
                    task_events.insert().values(
                        task_id=task_id, at=now, status=Status.CANCELLED.value, detail=detail
                    )
                )
                await notify(conn, TASKS_CHANNEL, task_id)  # holders drop their copy
        return None if row is None else _task(row)

    async def take_slot(self, task: Task, per_key: int, per_provider: int) -> bool:
        """Let ``task`` run upstream if its key and its provider are under their caps of tasks
        running at once, sharing the provider fairly: while other keys wait for it, a key
        running more there than the least-served waiting key gets no new slot. Atomic (one
        write transaction), so caps hold exactly."""
        running = sa.or_(
            tasks.c.status == Status.PROCESSING.value,
            sa.and_(tasks.c.status == Status.QUEUED.value, tasks.c.slot == 1),
        )
        async with self._db.write() as conn:
            await _lock(conn, "slots")  # PostgreSQL: one slot decision at a time
            if per_key:
                mine = (
                    await conn.execute(
                        sa.select(sa.func.count()).where(tasks.c.key_id == task.key_id, running)
                    )
                ).scalar() or 0
                if mine >= per_key:
                    return False
            if per_provider:
                by_key: dict[str, int] = dict(
                    (
                        await conn.execute(
                            sa.select(tasks.c.key_id, sa.func.count())
                            .where(tasks.c.provider == task.provider, running)
                            .group_by(tasks.c.key_id)
                        )
                    ).all()
                )
                if sum(by_key.values()) >= per_provider:
                    return False
                waiting = (
                    await conn.execute(
                        sa.select(tasks.c.key_id)
                        .where(
                            tasks.c.provider == task.provider,
                            tasks.c.status == Status.QUEUED.value,
                            tasks.c.step == Step.SUBMIT.value,
                            tasks.c.slot == 0,
                        )
                        .distinct()
                    )
                ).scalars()
                least = min((by_key.get(k, 0) for k in waiting), default=0)
                if by_key.get(task.key_id, 0) > least:
                    return False
            await conn.execute(tasks.update().where(tasks.c.id == task.id).values(slot=1))
        return True

    async def unfinished_count(self, key_id: str) -> int:
        """How many of the key's tasks are queued or running (the queue-depth cap)."""
        point = self._db.point_read()
        if point is not None:
            sql = "SELECT count(*) FROM tasks WHERE key_id = ? AND status IN (?, ?)"
            args = (key_id, Status.QUEUED.value, Status.PROCESSING.value)
            return int(point.execute(sql, args).fetchall()[0][0])
        query = sa.select(sa.func.count()).where(
            tasks.c.key_id == key_id, tasks.c.status.in_([Status.QUEUED, Status.PROCESSING])
        )
        async with self._db.read() as conn:
            return int((await conn.execute(query)).scalar() or 0)

    async def mark_deleted(self, task_id: str, now: float) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                tasks.update().where(tasks.c.id == task_id).values(deleted_at=now, outputs="[]")
            )

    async def claim(self, task_id: str, owner: str, now: float, lease_s: float) -> Task | None:
        """Take the lease on a due, unfinished task; None if it is not due, done or leased."""
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    tasks.update()
                    .where(tasks.c.id == task_id, _DUE(now))
                    .values(lease_owner=owner, lease_until=now + lease_s)
                    .returning(*tasks.c)
                )
            ).first()
        return None if row is None else _task(row)

    async def claim_due(self, owner: str, now: float, lease_s: float, limit: int) -> list[Task]:
        """Take the lease on up to ``limit`` due tasks, soonest first, in one statement. On
        PostgreSQL rows another process is claiming are skipped (FOR UPDATE SKIP LOCKED)."""
        due = sa.select(tasks.c.id).where(_DUE(now)).order_by(tasks.c.next_run_at).limit(limit)
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
        return [_task(r) for r in rows]

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

    async def unfinished(self) -> list[tuple[str, float]]:
        """(id, next_run_at) of every task that still has work: the reconciler's input."""
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(tasks.c.id, tasks.c.next_run_at).where(
                        tasks.c.step.isnot(None),
                        sa.or_(
                            tasks.c.status.notin_(_TERMINAL_VALUES),
                            tasks.c.step == Step.CANCEL.value,
                        ),
                    )
                )
            ).all()
        return [(r[0], r[1] or 0.0) for r in rows]

    async def events(self, task_id: str) -> list[tuple[float, str, str]]:
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(task_events.c.at, task_events.c.status, task_events.c.detail)
                    .where(task_events.c.task_id == task_id)
                    .order_by(task_events.c.id)
                )
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]
