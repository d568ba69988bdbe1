"""The request log of relayed calls, written in batches: each batch is one transaction that
inserts the rows, charges each priced one with a single ledger row, and moves each
account's balance once by the batch's sum."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from mediagate.core.accounts import Entry
from mediagate.core.text import Ending, RequestRecord, Usage
from mediagate.store.db import Database
from mediagate.store.schema import accounts, ledger, requests_log


def _row(r: RequestRecord) -> dict[str, Any]:
    return {
        "id": r.id, "key_id": r.key_id, "account_id": r.account_id, "mode": r.mode,
        "route": r.route, "model": r.model, "provider": r.provider,
        "upstream_model": r.upstream_model, "stream": r.stream, "status": r.status,
        "ending": r.ending.value, "prompt_tokens": r.usage.prompt,
        "cached_tokens": r.usage.cached, "completion_tokens": r.usage.completion,
        "counted": r.usage.counted, "characters": r.usage.characters,
        "audio_ms": r.usage.audio_ms, "cost_micros": r.cost_micros, "ttft_ms": r.ttft_ms,
        "total_ms": r.total_ms, "overhead_ms": r.overhead_ms, "error": r.error[:500],
        "created_at": r.created_at,
    }  # fmt: skip


def _record(m: Any) -> RequestRecord:
    usage = Usage(
        m["prompt_tokens"], m["completion_tokens"], m["cached_tokens"], m["counted"],
        m["characters"], m["audio_ms"],
    )  # fmt: skip
    return RequestRecord(
        id=m["id"], key_id=m["key_id"], account_id=m["account_id"], mode=m["mode"],
        route=m["route"], model=m["model"], provider=m["provider"],
        upstream_model=m["upstream_model"], stream=bool(m["stream"]), status=m["status"],
        ending=Ending(m["ending"]), usage=usage, cost_micros=m["cost_micros"],
        ttft_ms=m["ttft_ms"], total_ms=m["total_ms"], overhead_ms=m["overhead_ms"],
        created_at=m["created_at"], error=m["error"],
    )  # fmt: skip


class RequestRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def write(self, batch: list[RequestRecord]) -> None:
        """The batch's log rows, charges and balance moves, all or nothing."""
        if not batch:
            return
        charges = [r for r in batch if r.cost_micros]
        per_account: dict[str, int] = defaultdict(int)
        for r in charges:
            per_account[r.account_id] += r.cost_micros
        async with self._db.write() as conn:
            await conn.execute(requests_log.insert(), [_row(r) for r in batch])
            if charges:
                entries = [
                    {
                        "account_id": r.account_id, "key_id": r.key_id, "task_id": None,
                        "request_id": r.id, "model": r.model, "kind": Entry.CHARGE.value,
                        "amount_micros": -r.cost_micros, "at": r.created_at,
                        "note": r.ending.value,
                    }
                    for r in charges
                ]  # fmt: skip
                await conn.execute(ledger.insert(), entries)
            for account_id in sorted(per_account):  # one order: no deadlock on PostgreSQL
                await conn.execute(
                    accounts.update()
                    .where(accounts.c.id == account_id)
                    .values(balance_micros=accounts.c.balance_micros - per_account[account_id])
                )

    async def of_key(self, key_id: str, limit: int = 50) -> list[RequestRecord]:
        return await self.search(key_id, None, limit)

    async def search(
        self, key_id: str | None, account_id: str | None, limit: int = 50
    ) -> list[RequestRecord]:
        """Newest first; of one key, one account, or (both None) of everyone."""
        query = sa.select(requests_log).order_by(requests_log.c.created_at.desc()).limit(limit)
        if key_id is not None:
            query = query.where(requests_log.c.key_id == key_id)
        if account_id is not None:
            query = query.where(requests_log.c.account_id == account_id)
        async with self._db.read() as conn:
            return [_record(r._mapping) for r in (await conn.execute(query)).all()]

    async def prune(self, before: float) -> int:
        """Forget log rows older than ``before`` (their ledger rows stay: the books hold)."""
        async with self._db.write() as conn:
            res = await conn.execute(
                requests_log.delete().where(requests_log.c.created_at < before)
            )
        return int(res.rowcount or 0)
