"""What the console's overview reads across every account: how long tasks and requests took,
and what is waiting in the queue. Read-only; the overview's totals come from ``usage``."""

from __future__ import annotations

import sqlalchemy as sa

from mediagate.core.tasks import TERMINAL
from mediagate.store.db import Database
from mediagate.store.schema import requests_log, tasks

SAMPLE = 20_000  # the newest rows a percentile is taken over


class OverviewRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def durations(self, since: float) -> tuple[list[float], list[float]]:
        """Seconds each finished task took, and milliseconds each relayed request took,
        since ``since`` (the newest SAMPLE of each)."""
        took = (tasks.c.finished_at - tasks.c.created_at).label("took")
        task_q = (
            sa.select(took).where(tasks.c.created_at >= since, tasks.c.finished_at.is_not(None))
            .order_by(tasks.c.created_at.desc()).limit(SAMPLE)
        )  # fmt: skip
        request_q = (
            sa.select(requests_log.c.total_ms).where(requests_log.c.created_at >= since)
            .order_by(requests_log.c.created_at.desc()).limit(SAMPLE)
        )  # fmt: skip
        async with self._db.read() as conn:
            task_s = [float(r[0]) for r in (await conn.execute(task_q)).all()]
            request_ms = [float(r[0]) for r in (await conn.execute(request_q)).all()]
        return task_s, request_ms

    async def queue(self) -> dict[str, int]:
        """Unfinished tasks by status (waiting, queued, processing)."""
        query = (
            sa.select(tasks.c.status, sa.func.count())
            .where(tasks.c.status.not_in([s.value for s in TERMINAL]))
            .group_by(tasks.c.status)
        )
        async with self._db.read() as conn:
            return {str(s): int(n) for s, n in (await conn.execute(query)).all()}
