"""Prices an admin set in the console (``price_overrides``): one a model, or ``model:action``."""

from __future__ import annotations

import sqlalchemy as sa

from mediagate.store.db import Database
from mediagate.store.schema import price_overrides


class PriceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> dict[str, str]:
        async with self._db.read() as conn:
            rows = (await conn.execute(sa.select(price_overrides))).mappings()
            return {r["model"]: r["price"] for r in rows}

    async def set(self, model: str, price: str | None, now: float) -> None:
        """Set a model's price (None: back to the catalogue's)."""
        async with self._db.write() as conn:
            await conn.execute(price_overrides.delete().where(price_overrides.c.model == model))
            if price is not None:
                await conn.execute(
                    price_overrides.insert().values(model=model, price=price, updated_at=now)
                )
