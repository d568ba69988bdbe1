"""Files clients upload ahead of a task (Midjourney's upload-discord-images): each recorded
with its size, so a key's uploads count against its quota."""

from __future__ import annotations

import sqlalchemy as sa

from mediagate.store.db import Database
from mediagate.store.schema import uploads


class UploadRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def used(self, key_id: str, since: float) -> int:
        """Bytes the key uploaded since ``since`` (the same file twice counts once)."""
        async with self._db.read() as conn:
            total = await conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(uploads.c.bytes), 0)).where(
                    uploads.c.key_id == key_id, uploads.c.created_at >= since
                )
            )
            return int(total.scalar() or 0)

    async def record(self, key: str, key_id: str, size: int, now: float) -> None:
        async with self._db.write() as conn:
            await conn.execute(uploads.delete().where(uploads.c.key == key))
            await conn.execute(
                uploads.insert().values(key=key, key_id=key_id, bytes=size, created_at=now)
            )
