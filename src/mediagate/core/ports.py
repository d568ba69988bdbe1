"""The ports the services depend on: task and key stores and the job queue (no SQL here)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

import msgspec

from mediagate.core.accounts import Account, Entry, Hold, LedgerProblem, LimitsUpdate, UsageRow
from mediagate.core.catalogue import ModelSpec
from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Advance, Advanced, Mode, Status, Task, TaskUpdate
from mediagate.core.webhooks import Attempt, Delivery


class IdempotencyHit(msgspec.Struct, frozen=True):
    """An earlier create under the same Idempotency-Key: its task and request fingerprint."""

    task_id: str
    fingerprint: str


class TaskPage(msgspec.Struct, frozen=True):
    tasks: list[Task]
    has_more: bool


class TaskQuery(msgspec.Struct, frozen=True):
    """What the console's task log filters on; empty fields match everything."""

    model: str = ""
    status: str = ""
    dialect: str = ""
    provider: str = ""
    since: float | None = None
    until: float | None = None
    text: str = ""  # a task id, or words of the prompt
    limit: int = 50


class TaskStore(Protocol):
    async def insert(
        self,
        task: Task,
        next_run_at: float | None,
        idempotency: tuple[str, str, float] | None = None,
        hold: Hold | None = None,
    ) -> IdempotencyHit | None:
        """Insert, or return the earlier task under (Idempotency-Key, fingerprint, since)."""
        ...

    async def idempotent(self, scope: str, since: float) -> IdempotencyHit | None:
        """The task an Idempotency-Key made since ``since``, if any (a look, no lock)."""
        ...

    async def get(self, task_id: str) -> Task | None: ...

    async def page(
        self, key_id: str, models: list[str], after: str | None, limit: int, newest_first: bool
    ) -> TaskPage | None: ...

    async def cancel(self, task_id: str, now: float, detail: str) -> Task | None:
        """Cancel if unfinished; the task as it now is, or None if it was already terminal."""
        ...

    async def mark_deleted(self, task_id: str, now: float) -> None: ...

    async def unfinished_count(self, key_id: str) -> int: ...

    async def search(self, key_id: str | None, query: TaskQuery) -> list[Task]:
        """Tasks of the key (every key's for None) matching ``query``, newest first."""
        ...

    async def get_many(self, key_id: str, task_ids: list[str]) -> list[Task]:
        """The key's tasks among ``task_ids``, in creation order."""
        ...

    async def resume(
        self, task: Task, params_json: str, now: float, hold: Hold | None = None
    ) -> Task | None:
        """Queue a waiting task with its input, holding its price; None if not waiting."""
        ...


class EngineStore(Protocol):
    """What the engine needs of the tasks table: leases claimed in bulk, group commits."""

    @property
    def writers(self) -> int:
        """Group commits worth running at once (SQLite has one writer; PostgreSQL many)."""
        ...

    async def claim_due(self, owner: str, now: float, lease_s: float, limit: int) -> list[Task]:
        """Lease up to ``limit`` due tasks (none another process holds)."""
        ...

    async def advance_many(
        self, items: list[Advance], owner: str, now: float, keep_until: float | None = None
    ) -> list[Advanced]:
        """Commit step results in one transaction, each only if ``owner`` holds its lease."""
        ...

    async def renew_leases(self, owner: str, until: float) -> set[str]: ...

    async def release_tasks(self, owner: str, task_ids: list[str]) -> None: ...

    async def lease_owners(self) -> list[str]: ...

    async def release_leases(self, owners: list[str]) -> int: ...


class AccountStore(Protocol):
    async def insert(self, account: Account) -> None: ...

    async def get(self, account_id: str, with_held: bool = True) -> Account | None: ...

    async def list_accounts(self) -> list[Account]: ...

    async def update(self, account_id: str, change: LimitsUpdate, now: float) -> None: ...

    async def credit(
        self, account_id: str, amount: int, kind: Entry, note: str, now: float
    ) -> None: ...

    async def check(self) -> list[LedgerProblem]: ...

    async def usage(
        self, account_id: str | None, start: float, end: float, group_by: str, key_id: str | None
    ) -> list[UsageRow]: ...

    async def charged(self, account_id: str) -> int: ...


class MediaStore(Protocol):
    async def put(self, key: str, data: bytes) -> object: ...

    async def read(self, key: str) -> bytes: ...  # LookupError when there is none

    async def delete(self, keys: list[str]) -> None: ...


class KeyStore(Protocol):
    async def insert(self, record: KeyRecord, key_hash: str, webhook_secret: str) -> None: ...

    async def by_hash(self, key_hash: str) -> KeyRecord | None: ...

    async def get(self, key_id: str) -> KeyRecord | None: ...

    async def list(self) -> list[KeyRecord]: ...

    async def revoke(self, key_id_or_prefix: str, now: float) -> bool: ...

    async def set_webhook_secret(self, key_id: str, secret: str) -> bool: ...


class UploadStore(Protocol):
    async def used(self, key_id: str, since: float) -> int: ...

    async def record(self, key: str, key_id: str, size: int, now: float) -> None: ...


class WebhookStore(Protocol):
    """What the webhook sender needs of the deliveries table."""

    async def claim_due(
        self, now: float, lease_s: float, limit: int, skip_keys: Collection[str] = ()
    ) -> list[Delivery]: ...

    async def release(self, ids: list[str]) -> None: ...

    async def next_due(self, now: float, skip_keys: Collection[str] = ()) -> float | None: ...

    async def record(
        self, delivery: Delivery, attempt: Attempt, delivered: bool, next_at: float | None
    ) -> None: ...


class WebhookSecrets(Protocol):
    """Each key's signing secret."""

    async def webhook_secret(self, key_id: str) -> str | None: ...

    async def set_webhook_secret(self, key_id: str, secret: str) -> bool: ...


class RouteChooser(Protocol):
    """Picks the provider for a new task (ProviderRegistry implements it)."""

    def route(self, spec: ModelSpec, mode: Mode) -> tuple[str, int]:
        """(provider name, route index)."""
        ...

    def name_of(self, model: str, index: int) -> str:
        """The route's stable name ("" on the sandbox)."""
        ...


class Drafter(Protocol):
    """Writes a model's missing option from its prompt with a chat model (a presentation's
    outline from its topic): the text relay implements it, on the caller's key, billed as
    any chat request. Raises the relay's errors (no such model, no balance, upstream down)."""

    async def draft(self, key: KeyRecord, chat_model: str, option: str, prompt: str) -> str: ...


class Observer(Protocol):
    """What the services and the engine report as they work (metrics implement it)."""

    def task_created(self, task: Task) -> None: ...

    def task_finished(self, task: Task, status: Status) -> None: ...

    def step_done(self, task: Task, update: TaskUpdate, seconds: float) -> None:
        """A step's result, committed (or worth no write); counts the task's end if it is."""
        ...

    def upstream_error(self, provider: str, code: str) -> None: ...

    def webhook_sent(self, delivered: bool, seconds: float) -> None: ...


class NullObserver:
    """Reports to nobody: the default where no metrics are wanted (tests, the CLI)."""

    def task_created(self, task: Task) -> None:
        return None

    def task_finished(self, task: Task, status: Status) -> None:
        return None

    def step_done(self, task: Task, update: TaskUpdate, seconds: float) -> None:
        return None

    def upstream_error(self, provider: str, code: str) -> None:
        return None

    def webhook_sent(self, delivered: bool, seconds: float) -> None:
        return None
