"""A key's presentations (``decks``): stable ids pointing at their current ppt task."""

from __future__ import annotations

import sqlalchemy as sa

from mediagate.core.decks import Deck
from mediagate.store.db import Database
from mediagate.store.schema import decks


def _deck(m: sa.RowMapping) -> Deck:
    return Deck(**{k: m[k] for k in Deck.__struct_fields__})


class DeckRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, deck: Deck) -> None:
        async with self._db.write() as conn:
            await conn.execute(decks.insert().values(**{f: getattr(deck, f) for f in
                                                       Deck.__struct_fields__}))  # fmt: skip

    async def get(self, key_id: str, deck_id: str) -> Deck | None:
        async with self._db.read() as conn:
            row = (
                (
                    await conn.execute(
                        sa.select(decks).where(decks.c.key_id == key_id, decks.c.id == deck_id)
                    )
                )
                .mappings()
                .first()
            )
        return _deck(row) if row is not None else None

    async def page(self, key_id: str, offset: int, limit: int) -> tuple[list[Deck], int]:
        mine = decks.c.key_id == key_id
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(decks).where(mine).order_by(decks.c.created_at.desc())
                    .offset(offset).limit(limit)
                )
            ).mappings().all()  # fmt: skip
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(decks).where(mine))
            ).scalar_one()
        return [_deck(r) for r in rows], int(total)

    async def point(self, key_id: str, deck_id: str, task_id: str, subject: str,
                    template: str, now: float) -> None:  # fmt: skip
        async with self._db.write() as conn:
            await conn.execute(
                decks.update()
                .where(decks.c.key_id == key_id, decks.c.id == deck_id)
                .values(task_id=task_id, subject=subject, template=template, updated_at=now)
            )
