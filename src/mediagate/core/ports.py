"""The ports the services depend on: task and key stores and the job queue (no SQL here)."""

from __future__ import annotations

from typing import Protocol

from mediagate.core.catalogue import ModelSpec
from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Mode, Task


class TaskStore(Protocol):
    async def insert(self, task: Task, next_run_at: float) -> None: ...

    async def get(self, task_id: str) -> Task | None: ...


class KeyStore(Protocol):
    async def insert(self, record: KeyRecord, key_hash: str) -> None: ...

    async def by_hash(self, key_hash: str) -> KeyRecord | None: ...

    async def list(self) -> list[KeyRecord]: ...

    async def revoke(self, key_id_or_prefix: str, now: float) -> bool: ...


class Queue(Protocol):
    """Where accepted work is announced; the tasks table stays the source of truth."""

    def push(self, task_id: str, due: float) -> None: ...


class RouteChooser(Protocol):
    """Picks the provider for a new task (ProviderRegistry implements it)."""

    def route(self, spec: ModelSpec, mode: Mode) -> str: ...
