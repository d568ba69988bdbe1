"""Queries on tasks for the API: insert (with idempotency and the price hold), read, page,
cancel, running slots. The engine's claims and commits are in ``store.leases``."""

from __future__ import annotations

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from mediagate.core.accounts import Hold
from mediagate.core.ports import IdempotencyHit, TaskPage, TaskQuery
from mediagate.core.tasks import (
    TERMINAL,
    Charge,
    Status,
    Step,
    Task,
)
from mediagate.store import accounts as ledger_ops
from mediagate.store import webhooks as webhook_ops
from mediagate.store.db import TASKS_CHANNEL, Database, notify
from mediagate.store.leases import (
    INSERT_EVENT,
    LeaseQueries,
    task_from,
    task_of,
)
from mediagate.store.schema import idempotency_keys, task_events, tasks

_TERMINAL_VALUES = [s.value for s in TERMINAL]


async def _lock(conn: AsyncConnection, name: str) -> None:
    """On PostgreSQL, a transaction-scoped advisory lock on ``name`` (SQLite's writes are
    serialized already)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:n))"), {"n": name})


class _NotWaiting(Exception):
    """Rolls a resume back: the task was no longer waiting."""


_INSERT_TASK = tasks.insert()  # built once; each insert only binds its parameters
_GET_SQL = "SELECT * FROM tasks WHERE id = ? AND deleted_at IS NULL"


class TaskRepository(LeaseQueries):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def idempotent(self, scope: str, since: float) -> IdempotencyHit | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(idempotency_keys).where(
                        idempotency_keys.c.scope == scope, idempotency_keys.c.created_at >= since
                    )
                )
            ).first()
        return IdempotencyHit(task_id=row.task_id, fingerprint=row.fingerprint) if row else None

    async def insert(
        self,
        task: Task,
        next_run_at: float | None,
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
                    upstream_id=task.upstream_id,
                    seed=task.seed,
                    account_id=task.account_id,
                    price_micros=task.price_micros,
                    charge=(Charge.HELD if hold is not None else Charge.NONE).value,
                    route=task.route,
                    route_name=task.route_name,
                    callback_url=task.callback_url,
                    dialect=task.dialect,
                    public_base=task.public_base,
                    created_at=task.created_at,
                    updated_at=task.updated_at,
                    next_run_at=next_run_at,
                ),
            )
            await conn.execute(
                INSERT_EVENT,
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
            return task_from(found[0]) if found else None
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(tasks).where(tasks.c.id == task_id, tasks.c.deleted_at.is_(None))
                )
            ).first()
        return None if row is None else task_of(row)

    async def get_many(self, key_id: str, task_ids: list[str]) -> list[Task]:
        """The key's tasks among ``task_ids`` (others' and unknown ids are left out), in
        creation order."""
        if not task_ids:
            return []
        query = (
            sa.select(tasks)
            .where(
                tasks.c.key_id == key_id,
                tasks.c.deleted_at.is_(None),
                tasks.c.id.in_(task_ids[:1000]),
            )
            .order_by(tasks.c.id)
        )
        async with self._db.read() as conn:
            return [task_of(r) for r in (await conn.execute(query)).all()]

    async def search(self, key_id: str | None, query: TaskQuery) -> list[Task]:
        """Tasks (the key's own, or every key's for ``None``) matching ``query``, newest
        first: the console's gallery and task log."""
        conds: list[sa.ColumnElement[bool]] = [tasks.c.deleted_at.is_(None)]
        if key_id is not None:
            conds.append(tasks.c.key_id == key_id)
        for column, value in (
            (tasks.c.model, query.model),
            (tasks.c.status, query.status),
            (tasks.c.dialect, query.dialect),
            (tasks.c.provider, query.provider),
        ):
            if value:
                conds.append(column == value)
        if query.since is not None:
            conds.append(tasks.c.created_at >= query.since)
        if query.until is not None:
            conds.append(tasks.c.created_at < query.until)
        if query.text:
            like = "%" + query.text.replace("\\", "").replace("%", "").replace("_", "") + "%"
            conds.append(sa.or_(tasks.c.id == query.text, tasks.c.prompt.ilike(like)))
        sql = sa.select(tasks).where(*conds).order_by(tasks.c.created_at.desc()).limit(query.limit)
        async with self._db.read() as conn:
            return [task_of(r) for r in (await conn.execute(sql)).all()]

    async def resume(
        self, task: Task, params_json: str, now: float, hold: Hold | None = None
    ) -> Task | None:
        """A waiting task (a modal) gets the caller's input and is queued, its price held in
        the same transaction. None if it is no longer waiting."""
        try:
            return await self._resume(task, params_json, now, hold)
        except _NotWaiting:  # rolled back: nothing held for a task that is not waiting
            return None

    async def _resume(self, task: Task, params_json: str, now: float, hold: Hold | None) -> Task:
        async with self._db.write() as conn:
            if hold is not None:
                await ledger_ops.hold(conn, hold, task.id, now)
            row = (
                await conn.execute(
                    tasks.update()
                    .where(tasks.c.id == task.id, tasks.c.status == Status.WAITING.value)
                    .values(
                        status=Status.QUEUED.value,
                        step=Step.SUBMIT.value,
                        params=params_json,
                        price_micros=hold.amount_micros if hold else 0,
                        charge=(Charge.HELD if hold else Charge.NONE).value,
                        next_run_at=now,
                        updated_at=now,
                    )
                    .returning(*tasks.c)
                )
            ).first()
            if row is None:
                raise _NotWaiting
            await conn.execute(
                INSERT_EVENT,
                dict(task_id=task.id, at=now, status=Status.QUEUED.value, detail="input given"),
            )
            await notify(conn, TASKS_CHANNEL)
        return task_of(row)

    async def page(
        self, key_id: str, models: list[str], after: str | None, limit: int, newest_first: bool
    ) -> TaskPage | None:
        """A key's tasks of the given models in creation order, after the cursor task; None
        when the cursor is not one of the key's tasks."""
        query = sa.select(tasks).where(
            tasks.c.key_id == key_id, tasks.c.deleted_at.is_(None), tasks.c.model.in_(models)
        )
        async with self._db.read() as conn:
            if after is not None:
                # The cursor is looked up among this key's tasks only: another tenant's id
                # reads exactly as an id that does not exist.
                at = (
                    await conn.execute(
                        sa.select(tasks.c.created_at).where(
                            tasks.c.id == after, tasks.c.key_id == key_id
                        )
                    )
                ).scalar()
                if at is None:
                    return None
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
        return TaskPage(tasks=[task_of(r) for r in rows[:limit]], has_more=len(rows) > limit)

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
        return None if row is None else task_of(row)

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
