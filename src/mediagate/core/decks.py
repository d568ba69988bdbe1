"""A key's presentations (docmee's "PPT list"): each a stable id pointing at the ``ppt`` task
that holds its current version. A save renders a new task and moves the pointer, so a deck's
id outlives its edits while every version stays a task of its own (billed as one). No HTTP
and no SQL here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import msgspec

from mediagate.core.errors import NotFoundError
from mediagate.core.keys import KeyRecord


class Deck(msgspec.Struct, frozen=True):
    id: str
    key_id: str
    task_id: str
    subject: str
    template: str
    created_at: float
    updated_at: float


class DeckStore(Protocol):
    async def add(self, deck: Deck) -> None: ...

    async def get(self, key_id: str, deck_id: str) -> Deck | None: ...

    async def page(self, key_id: str, offset: int, limit: int) -> tuple[list[Deck], int]: ...

    async def point(self, key_id: str, deck_id: str, task_id: str, subject: str,
                    template: str, now: float) -> None: ...  # fmt: skip


class DeckNotFound(NotFoundError):
    code = "ppt_not_found"


class DeckService:
    def __init__(self, store: DeckStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def keep(self, key: KeyRecord, task_id: str, subject: str, template: str) -> Deck:
        """A new deck whose first version is ``task_id`` (its id is the task's)."""
        now = self._clock()
        deck = Deck(task_id, key.id, task_id, subject, template, now, now)
        await self._store.add(deck)
        return deck

    async def get(self, key: KeyRecord, deck_id: str) -> Deck:
        """The key's deck; another key's is as absent as one there never was."""
        found = await self._store.get(key.id, deck_id)
        if found is None:
            raise DeckNotFound(f"no presentation {deck_id!r} for this key")
        return found

    async def page(self, key: KeyRecord, page: int, size: int) -> tuple[list[Deck], int]:
        size = max(1, min(size, 100))
        return await self._store.page(key.id, (max(1, page) - 1) * size, size)

    async def update(
        self, key: KeyRecord, deck: Deck, task_id: str, subject: str, template: str
    ) -> Deck:
        """The deck's current version is now ``task_id``."""
        now = self._clock()
        await self._store.point(key.id, deck.id, task_id, subject, template, now)
        return msgspec.structs.replace(
            deck, task_id=task_id, subject=subject, template=template, updated_at=now
        )
