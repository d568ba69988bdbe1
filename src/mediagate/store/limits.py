"""A request-rate limiter shared by every process: one token bucket row per key, refilled
and taken from in a single atomic upsert (PostgreSQL)."""

from __future__ import annotations

import math
from collections.abc import Callable

import sqlalchemy as sa

from mediagate.core.limits import over_limit
from mediagate.store.db import Database
from mediagate.store.schema import rate_buckets


class SharedRateLimiter:
    """``per_minute`` requests per key across all processes, bursting up to that many."""

    def __init__(self, db: Database, per_minute: int, clock: Callable[[], float]) -> None:
        self._db = db
        self._rate = per_minute / 60.0
        self._burst = float(per_minute)
        self._clock = clock
        # Imported when one is made (on PostgreSQL only): the dialect costs 0.1 s at import,
        # which an embedded (SQLite) `mediagate serve` never needs.
        from sqlalchemy.dialects.postgresql import insert

        self._insert = insert

    async def check(self, key_id: str) -> None:
        if self._rate <= 0:
            return
        now = self._clock()
        b = rate_buckets.c
        refilled = sa.func.least(self._burst, b.tokens + (now - b.at) * self._rate)
        fresh = self._insert(rate_buckets).values(
            key_id=key_id, tokens=self._burst - 1.0, at=now, granted=True
        )
        stmt = fresh.on_conflict_do_update(
            index_elements=[b.key_id],
            set_={
                "tokens": sa.case((refilled >= 1.0, refilled - 1.0), else_=refilled),
                "at": now,
                "granted": refilled >= 1.0,
            },
        ).returning(rate_buckets.c.granted, rate_buckets.c.tokens)
        async with self._db.write() as conn:
            granted, tokens = (await conn.execute(stmt)).one()
        if not granted:
            raise over_limit(self._burst, math.ceil((1.0 - tokens) / self._rate))
