"""In-memory fakes of mediagate's ports, for millisecond tests of the services and the engine
(procrastinate's model: the same contracts as the SQL stores in ``store/``, no database).

    from mediagate.testing import FakeClock, InMemoryStores

    clock = FakeClock()
    stores = InMemoryStores(clock)
    tasks = stores.task_service(catalogue)     # a TaskService on the fakes
    pool = WorkerPool(stores.tasks, runner, clock)

They keep the rules that matter to callers: leases (one owner, expiry), the guarded commit
(only the lease holder, only from the status it leased), idempotency windows, holds settled
exactly once, balances that never go below zero. They do not model SQL concurrency."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgspec

from mediagate.core.accounts import Account, Entry, Hold, LedgerProblem, LimitsUpdate, UsageRow
from mediagate.core.billing import AccountService
from mediagate.core.catalogue import Catalogue, GenerationParams, ModelSpec
from mediagate.core.errors import InsufficientBalanceError, NotFoundError
from mediagate.core.key_service import KeyService
from mediagate.core.keys import DEFAULT_ACCOUNT, KeyRecord
from mediagate.core.ports import IdempotencyHit, TaskPage, TaskQuery
from mediagate.core.services import TaskService
from mediagate.core.tasks import (
    TERMINAL,
    Advance,
    Advanced,
    Charge,
    Mode,
    Status,
    Step,
    Task,
    applied,
    can_move,
)

__all__ = [
    "FakeClock",
    "InMemoryAccounts",
    "InMemoryKeys",
    "InMemoryMedia",
    "InMemoryStores",
    "InMemoryTasks",
    "SandboxRoutes",
]


class FakeClock:
    """Wall-clock seconds that move only when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class _Row(msgspec.Struct):
    task: Task
    next_run_at: float | None
    lease_owner: str | None = None
    lease_until: float | None = None
    deleted: bool = False


class InMemoryAccounts:
    """AccountStore: balances and holds (no limits, usage or ledger rows)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.accounts: dict[str, Account] = {}
        self.held: dict[str, int] = {}  # account id -> micros held by unfinished tasks
        self.entries: list[tuple[str, Entry, int]] = []
        self.accounts[DEFAULT_ACCOUNT] = Account(DEFAULT_ACCOUNT, "default", 0, clock())

    async def insert(self, account: Account) -> None:
        self.accounts[account.id] = account

    async def get(self, account_id: str, with_held: bool = True) -> Account | None:
        found = self.accounts.get(account_id)
        if found is None or not with_held:
            return found
        return msgspec.structs.replace(found, held_micros=self.held.get(account_id, 0))

    async def list_accounts(self) -> list[Account]:
        return list(self.accounts.values())

    async def update(self, account_id: str, change: LimitsUpdate, now: float) -> None:
        if account_id not in self.accounts:
            raise NotFoundError(f"account {account_id!r} not found")

    async def credit(
        self, account_id: str, amount: int, kind: Entry, note: str, now: float
    ) -> None:
        account = self.accounts.get(account_id)
        if account is None:
            raise NotFoundError(f"account {account_id!r} not found")
        if account.balance_micros + amount < 0:
            raise InsufficientBalanceError("the balance cannot go below zero")
        self.accounts[account_id] = msgspec.structs.replace(
            account, balance_micros=account.balance_micros + amount
        )
        self.entries.append((account_id, kind, amount))

    async def check(self) -> list[LedgerProblem]:
        return []

    async def usage(
        self, account_id: str | None, start: float, end: float, group_by: str, key_id: str | None
    ) -> list[UsageRow]:
        return []

    async def charged(self, account_id: str) -> int:
        return -sum(
            a for acct, kind, a in self.entries if acct == account_id and kind is Entry.CHARGE
        )

    def hold(self, hold: Hold) -> None:
        account = self.accounts[hold.account_id]
        free = account.balance_micros - self.held.get(hold.account_id, 0)
        if free < hold.amount_micros:
            raise InsufficientBalanceError(
                f"the balance cannot cover {hold.amount_micros} micros; {free} are free"
            )
        self.held[hold.account_id] = self.held.get(hold.account_id, 0) + hold.amount_micros

    def settle(self, task: Task, status: Status) -> None:
        """A held price becomes a charge on success and is released otherwise, once."""
        if task.charge is not Charge.HELD or task.account_id is None:
            return
        self.held[task.account_id] -= task.price_micros
        if status is Status.DONE:
            account = self.accounts[task.account_id]
            self.accounts[task.account_id] = msgspec.structs.replace(
                account, balance_micros=account.balance_micros - task.price_micros
            )
            self.entries.append((task.account_id, Entry.CHARGE, -task.price_micros))


class InMemoryTasks:
    """TaskStore and EngineStore in one, like ``store.tasks.TaskRepository``."""

    def __init__(self, accounts: InMemoryAccounts) -> None:
        self._accounts = accounts
        self.rows: dict[str, _Row] = {}
        self._idempotency: dict[str, tuple[str, str, float]] = {}  # key -> (task, print, at)
        self.commits = 0  # transactions, as a group commit would count them
        self.written = 0  # step results committed

    # -- TaskStore ---------------------------------------------------------------------------

    async def insert(
        self,
        task: Task,
        next_run_at: float | None,
        idempotency: tuple[str, str, float] | None = None,
        hold: Hold | None = None,
    ) -> IdempotencyHit | None:
        if idempotency is not None:
            key, _, since = idempotency
            earlier = self._idempotency.get(key)
            if earlier is not None and earlier[2] >= since:
                return IdempotencyHit(task_id=earlier[0], fingerprint=earlier[1])
        if hold is not None:
            self._accounts.hold(hold)
        self.rows[task.id] = _Row(task, next_run_at)
        if idempotency is not None:
            self._idempotency[idempotency[0]] = (task.id, idempotency[1], task.created_at)
        self.commits += 1
        return None

    async def idempotent(self, scope: str, since: float) -> IdempotencyHit | None:
        earlier = self._idempotency.get(scope)
        if earlier is None or earlier[2] < since:
            return None
        return IdempotencyHit(task_id=earlier[0], fingerprint=earlier[1])

    async def get(self, task_id: str) -> Task | None:
        row = self.rows.get(task_id)
        return None if row is None else row.task

    async def page(
        self, key_id: str, models: list[str], after: str | None, limit: int, newest_first: bool
    ) -> TaskPage | None:
        mine = [
            r.task
            for r in self.rows.values()
            if r.task.key_id == key_id and not r.deleted and r.task.model in models
        ]
        mine.sort(key=lambda t: (t.created_at, t.id), reverse=newest_first)
        if after is not None:
            ids = [t.id for t in mine]
            cursor = self.rows.get(after)
            if cursor is None or cursor.task.key_id != key_id:
                return None
            mine = mine[ids.index(after) + 1 :] if after in ids else []
        return TaskPage(tasks=mine[:limit], has_more=len(mine) > limit)

    async def cancel(self, task_id: str, now: float, detail: str) -> Task | None:
        row = self.rows.get(task_id)
        if row is None or row.task.status in TERMINAL:
            return None
        step = Step.CANCEL if row.task.upstream_id else None
        self._accounts.settle(row.task, Status.CANCELLED)
        row.task = msgspec.structs.replace(
            row.task, status=Status.CANCELLED, step=step, updated_at=now, finished_at=now
        )
        row.next_run_at = now if step else None
        row.lease_owner = row.lease_until = None
        return row.task

    async def mark_deleted(self, task_id: str, now: float) -> None:
        if task_id in self.rows:
            self.rows[task_id].deleted = True

    async def unfinished_count(self, key_id: str) -> int:
        return sum(
            1
            for r in self.rows.values()
            if r.task.key_id == key_id and r.task.status not in TERMINAL
        )

    async def search(self, key_id: str | None, query: TaskQuery) -> list[Task]:
        found = [
            r.task
            for r in self.rows.values()
            if not r.deleted
            and (key_id is None or r.task.key_id == key_id)
            and (not query.model or r.task.model == query.model)
            and (not query.status or r.task.status.value == query.status)
            and (not query.text or query.text == r.task.id or query.text in r.task.prompt)
        ]
        return sorted(found, key=lambda t: -t.created_at)[: query.limit]

    async def get_many(self, key_id: str, task_ids: list[str]) -> list[Task]:
        wanted = set(task_ids)
        found = [
            r.task
            for r in self.rows.values()
            if r.task.id in wanted and r.task.key_id == key_id and not r.deleted
        ]
        return sorted(found, key=lambda t: t.id)

    async def resume(
        self, task: Task, params_json: str, now: float, hold: Hold | None = None
    ) -> Task | None:
        row = self.rows.get(task.id)
        if row is None or row.task.status is not Status.WAITING:
            return None
        if hold is not None:
            self._accounts.hold(hold)
        params = msgspec.json.decode(params_json, type=GenerationParams)
        row.task = msgspec.structs.replace(
            row.task,
            status=Status.QUEUED,
            step=Step.SUBMIT,
            params=params,
            price_micros=hold.amount_micros if hold else 0,
            charge=Charge.HELD if hold else Charge.NONE,
            updated_at=now,
        )
        row.next_run_at = now
        self.commits += 1
        return row.task

    # -- EngineStore -------------------------------------------------------------------------

    writers = 1

    async def claim_due(self, owner: str, now: float, lease_s: float, limit: int) -> list[Task]:
        due = [
            r
            for r in self.rows.values()
            if r.task.step is not None
            and r.next_run_at is not None
            and r.next_run_at <= now
            and (r.lease_until is None or r.lease_until < now)
        ]
        due.sort(key=lambda r: r.next_run_at or 0.0)
        for row in due[:limit]:
            row.lease_owner, row.lease_until = owner, now + lease_s
        self.commits += 1
        return [r.task for r in due[:limit]]

    async def advance_many(
        self, items: list[Advance], owner: str, now: float, keep_until: float | None = None
    ) -> list[Advanced]:
        results = []
        for item in items:
            row = self.rows.get(item.task.id)
            task, update = item.task, item.update
            if (
                row is None
                or row.lease_owner != owner
                or row.task.status is not task.status
                or not can_move(task.status, update.status)
            ):
                results.append(Advanced(committed=False))
                continue
            if update.status in TERMINAL and task.status not in TERMINAL:
                self._accounts.settle(row.task, update.status)
                charge = Charge.SETTLED if update.status is Status.DONE else Charge.RELEASED
                if row.task.charge is Charge.HELD:
                    row.task = msgspec.structs.replace(row.task, charge=charge)
            row.task = applied(row.task, update, now)
            row.next_run_at = update.next_run_at
            keep = keep_until is not None and update.step is not None
            row.lease_owner = owner if keep else None
            row.lease_until = keep_until if keep else None
            results.append(Advanced(committed=True, webhook_queued=bool(row.task.callback_url)))
            self.written += 1
        self.commits += 1
        return results

    async def renew_leases(self, owner: str, until: float) -> set[str]:
        mine = {tid for tid, r in self.rows.items() if r.lease_owner == owner}
        for tid in mine:
            self.rows[tid].lease_until = until
        return mine

    async def release_tasks(self, owner: str, task_ids: list[str]) -> None:
        for tid in task_ids:
            row = self.rows.get(tid)
            if row is not None and row.lease_owner == owner:
                row.lease_owner = row.lease_until = None

    async def lease_owners(self) -> list[str]:
        return sorted({r.lease_owner for r in self.rows.values() if r.lease_owner})

    async def release_leases(self, owners: list[str]) -> int:
        count = 0
        for row in self.rows.values():
            if row.lease_owner in owners:
                row.lease_owner = row.lease_until = None
                count += 1
        return count


class InMemoryKeys:
    """KeyStore."""

    def __init__(self) -> None:
        self.by_id: dict[str, tuple[KeyRecord, str, str]] = {}  # id -> (record, hash, secret)

    async def insert(self, record: KeyRecord, key_hash: str, webhook_secret: str) -> None:
        self.by_id[record.id] = (record, key_hash, webhook_secret)

    async def by_hash(self, key_hash: str) -> KeyRecord | None:
        for record, found, _ in self.by_id.values():
            if found == key_hash and record.revoked_at is None:
                return record
        return None

    async def get(self, key_id: str) -> KeyRecord | None:
        found = self.by_id.get(key_id)
        return found[0] if found else None

    async def list(self) -> list[KeyRecord]:
        return [record for record, _, _ in self.by_id.values()]

    async def revoke(self, key_id_or_prefix: str, now: float) -> bool:
        for kid, (record, key_hash, secret) in self.by_id.items():
            if key_id_or_prefix in (kid, record.prefix) and record.revoked_at is None:
                revoked = msgspec.structs.replace(record, revoked_at=now)
                self.by_id[kid] = (revoked, key_hash, secret)
                return True
        return False

    async def set_webhook_secret(self, key_id: str, secret: str) -> bool:
        if key_id not in self.by_id:
            return False
        record, key_hash, _ = self.by_id[key_id]
        self.by_id[key_id] = (record, key_hash, secret)
        return True


class InMemoryMedia:
    """MediaStore."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes) -> int:
        self.blobs[key] = bytes(data)
        return len(data)

    async def read(self, key: str) -> bytes:
        return self.blobs[key]

    async def delete(self, keys: list[str]) -> None:
        for key in keys:
            self.blobs.pop(key, None)


class SandboxRoutes:
    """RouteChooser: every model to the sandbox (test keys) or ``live`` (live keys)."""

    def __init__(self, live: str = "live") -> None:
        self._live = live

    def route(self, spec: ModelSpec, mode: Mode) -> tuple[str, int]:
        return ("sandbox", -1) if mode is Mode.TEST else (self._live, 0)

    def name_of(self, model: str, index: int) -> str:
        return "" if index < 0 else f"{self._live}/{model}"


class InMemoryStores:
    """Every port's fake on one clock, and services wired to them."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock or time.time
        self.accounts = InMemoryAccounts(self.clock)
        self.tasks = InMemoryTasks(self.accounts)
        self.keys = InMemoryKeys()
        self.media = InMemoryMedia()
        self.queued: list[tuple[str, float]] = []  # what the service announced

    def task_service(self, catalogue: Catalogue, **kwargs: object) -> TaskService:
        accounts = AccountService(self.accounts, catalogue, self.clock)
        return TaskService(
            catalogue,
            self.tasks,
            lambda task_id, due: self.queued.append((task_id, due)),
            SandboxRoutes(),
            self.clock,
            self.media,
            accounts,
            **kwargs,  # type: ignore[arg-type]
        )

    def key_service(self) -> KeyService:
        return KeyService(self.keys, self.clock, self.accounts)
