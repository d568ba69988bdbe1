"""The asset library's rows (``core.assets``): one per file a key keeps, by id."""

from __future__ import annotations

import sqlalchemy as sa

from mediagate.core.assets import Asset
from mediagate.store.db import Database
from mediagate.store.schema import assets


def _asset(m: sa.RowMapping) -> Asset:
    return Asset(**{name: m[name] for name in Asset.__struct_fields__})


class AssetRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, asset: Asset) -> None:
        row = {name: getattr(asset, name) for name in Asset.__struct_fields__}
        async with self._db.write() as conn:
            await conn.execute(assets.insert().values(**row))

    async def list(self, key_id: str, kind: str | None, limit: int) -> list[Asset]:
        query = (
            sa.select(assets).where(assets.c.key_id == key_id)
            .order_by(assets.c.created_at.desc()).limit(limit)
        )  # fmt: skip
        if kind is not None:
            query = query.where(assets.c.kind == kind)
        async with self._db.read() as conn:
            return [_asset(m) for m in (await conn.execute(query)).mappings()]

    async def get(self, key_id: str, asset_id: str) -> Asset | None:
        query = sa.select(assets).where(assets.c.id == asset_id, assets.c.key_id == key_id)
        async with self._db.read() as conn:
            found = (await conn.execute(query)).mappings().first()
        return _asset(found) if found is not None else None

    async def delete(self, key_id: str, asset_id: str) -> bool:
        async with self._db.write() as conn:
            done = await conn.execute(
                assets.delete().where(assets.c.id == asset_id, assets.c.key_id == key_id)
            )
        return bool(done.rowcount)
