"""Queries on API keys: only hashes are stored; the key itself is shown once at creation."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Mode
from mediagate.store.db import KEYS_CHANNEL, Database, notify
from mediagate.store.schema import api_keys
from mediagate.store.sealing import PREFIX, Sealer


def _record(row: Any) -> KeyRecord:
    return _from(row._mapping)


def _from(m: Any) -> KeyRecord:
    return KeyRecord(
        id=m["id"],
        prefix=m["prefix"],
        mode=Mode(m["mode"]),
        name=m["name"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
        account_id=m["account_id"],
    )


_COLS = (
    api_keys.c.id,
    api_keys.c.prefix,
    api_keys.c.mode,
    api_keys.c.name,
    api_keys.c.created_at,
    api_keys.c.revoked_at,
    api_keys.c.account_id,
)


_BY_HASH_SQL = (
    "SELECT id, prefix, mode, name, created_at, revoked_at, account_id FROM api_keys "
    "WHERE key_hash = ?"
)


def _where(key_id: str) -> str:
    return f"api_keys.webhook_secret:{key_id}"


class KeyRepository:
    """Keys by hash; each key's webhook secret sealed at rest (``store.sealing``)."""

    def __init__(self, db: Database, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer

    async def insert(self, record: KeyRecord, key_hash: str, webhook_secret: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                api_keys.insert().values(
                    id=record.id,
                    prefix=record.prefix,
                    key_hash=key_hash,
                    mode=record.mode.value,
                    name=record.name,
                    created_at=record.created_at,
                    account_id=record.account_id,
                    webhook_secret=self._sealer.seal(webhook_secret, _where(record.id)),
                )
            )

    async def by_hash(self, key_hash: str) -> KeyRecord | None:
        point = self._db.point_read()
        if point is not None:
            found = point.execute(_BY_HASH_SQL, (key_hash,)).fetchall()
            return _from(found[0]) if found else None
        async with self._db.read() as conn:
            row = (
                await conn.execute(sa.select(*_COLS).where(api_keys.c.key_hash == key_hash))
            ).first()
        return None if row is None else _record(row)

    async def get(self, key_id: str) -> KeyRecord | None:
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(*_COLS).where(api_keys.c.id == key_id))).first()
        return None if row is None else _record(row)

    async def list(self) -> list[KeyRecord]:
        async with self._db.read() as conn:
            rows = (await conn.execute(sa.select(*_COLS).order_by(api_keys.c.created_at))).all()
        return [_record(r) for r in rows]

    async def set_webhook_secret(self, key_id: str, secret: str) -> bool:
        async with self._db.write() as conn:
            res = await conn.execute(
                api_keys.update()
                .where(api_keys.c.id == key_id)
                .values(webhook_secret=self._sealer.seal(secret, _where(key_id)))
            )
        return bool(res.rowcount)

    async def webhook_secret(self, key_id: str) -> str | None:
        async with self._db.read() as conn:
            stored = (
                await conn.execute(
                    sa.select(api_keys.c.webhook_secret).where(api_keys.c.id == key_id)
                )
            ).scalar()
        return None if stored is None else self._sealer.open(stored, _where(key_id))

    async def seal_plain(self) -> int:
        """Seal the webhook secrets written before sealing existed; how many there were."""
        c = api_keys.c
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(c.id, c.webhook_secret).where(
                        c.webhook_secret.is_not(None), sa.not_(c.webhook_secret.startswith(PREFIX))
                    )
                )
            ).all()
        if rows:
            async with self._db.write() as conn:
                for key_id, plain in rows:
                    sealed = self._sealer.seal(plain, _where(key_id))
                    await conn.execute(
                        api_keys.update().where(c.id == key_id).values(webhook_secret=sealed)
                    )
        return len(rows)

    async def revoke(self, key_id_or_prefix: str, now: float) -> bool:
        cond = sa.or_(api_keys.c.id == key_id_or_prefix, api_keys.c.prefix == key_id_or_prefix)
        async with self._db.write() as conn:
            res = await conn.execute(
                api_keys.update()
                .where(cond, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            await notify(conn, KEYS_CHANNEL)
        return bool(res.rowcount)
