"""The figures /metrics reads from the database at each scrape, in one read: the same for
every process, so any of them can answer."""

from __future__ import annotations

import msgspec
import sqlalchemy as sa

from mediagate.core.accounts import Entry
from mediagate.core.tasks import Charge, Status
from mediagate.store.db import Database
from mediagate.store.leases import DUE
from mediagate.store.schema import ledger, tasks, webhook_deliveries
from mediagate.store.webhooks import PENDING


class Gauges(msgspec.Struct, frozen=True):
    unfinished: int
    due: int
    webhook_backlog: int
    held_micros: int
    charged_micros: int


async def read_gauges(db: Database, now: float) -> Gauges:
    count = sa.func.count()
    queries = (
        sa.select(count).where(tasks.c.status.in_([Status.QUEUED, Status.PROCESSING])),
        sa.select(count).where(DUE(now)),
        sa.select(count).where(webhook_deliveries.c.status == PENDING),
        sa.select(sa.func.coalesce(sa.func.sum(tasks.c.price_micros), 0)).where(
            tasks.c.charge == Charge.HELD.value
        ),
        sa.select(sa.func.coalesce(sa.func.sum(ledger.c.amount_micros), 0)).where(
            ledger.c.kind == Entry.CHARGE.value
        ),
    )
    async with db.read() as conn:
        values = [int((await conn.execute(q)).scalar() or 0) for q in queries]
    return Gauges(values[0], values[1], values[2], values[3], -values[4])
