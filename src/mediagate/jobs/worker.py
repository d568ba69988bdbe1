"""The engine: claims due tasks in bulk, runs their steps concurrently, commits in groups.

How a task moves through one process:
- **Claim.** One statement leases up to ``CLAIM_BATCH`` due tasks (on PostgreSQL with
  ``FOR UPDATE SKIP LOCKED``, so any number of processes share the table), and never more
  than the process has free step slots for, so a backlog is shared between processes. It
  runs when work is announced (a create here, a NOTIFY from elsewhere), when a slot frees
  after a claim that ran out of them, and every ``claim_every_s``.
- **Hold.** A claimed task stays leased to this process until it has no step left. Its next
  step is scheduled in memory; one statement renews every lease this process holds.
- **Run.** Steps are I/O: many run at once, at most ``concurrency`` in all and at most
  ``per_provider`` against one provider. Polls answered in bulk (one upstream call for
  many tasks) are bounded by that call instead, and take those slots only to store the
  files of a job they find done. CPU work (renders) is in the process pool.
- **Commit.** A step that changed nothing (a poll that says "still running") writes
  nothing. The others are committed together, many per transaction, each guarded by the
  lease and the state machine; as many transactions at once as the store has writers.

A ``kill -9`` loses only unwritten "still running" polls: the tasks' leases run out (or are
freed at once when the process restarts on the same host) and they are claimed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import os
import random
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from functools import partial

import structlog

from mediagate.core.ports import EngineStore, NullObserver, Observer
from mediagate.core.tasks import (
    Advance,
    Advanced,
    Status,
    Task,
    TaskError,
    TaskUpdate,
    applied,
    changes_nothing,
)
from mediagate.jobs.steps import MAX_ATTEMPTS, StepRunner, backoff

log = structlog.get_logger("mediagate.worker")

LEASE_S = 60.0  # a process that stops renewing its leases this long loses its tasks
RENEW_S = LEASE_S / 3
CLAIM_BATCH = 500
_NO_LIMIT = contextlib.nullcontext()


def _host() -> str:
    return socket.gethostname()


def _is_dead_local_owner(owner: str) -> bool:
    """True if ``owner`` (host:pid:nonce) was a process on this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _host() or not (pid_text.isascii() and pid_text.isdigit() and len(pid_text) <= 9):
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class _Pending:
    __slots__ = ("done", "item", "result")

    def __init__(self, item: Advance) -> None:
        self.item = item
        self.done = asyncio.Event()
        self.result = Advanced(committed=False)


class WorkerPool:
    """The engine of one process (see the module docstring). ``push`` is the Queue port."""

    def __init__(
        self,
        repo: EngineStore,
        runner: StepRunner,
        clock: Callable[[], float],
        concurrency: int = 256,
        per_provider: dict[str, int] | None = None,
        default_per_provider: int = 64,
        sweep_s: float = 15.0,
        claim_every_s: float = 1.0,
        max_held: int = 50_000,
        on_commit: Callable[[str, bool], None] | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._repo = repo
        self._runner = runner
        self._clock = clock
        self._sweep_s = sweep_s
        self._claim_every_s = claim_every_s
        self._max_held = max_held
        self._on_commit = on_commit
        self._observer: Observer = observer or NullObserver()
        self._concurrency = asyncio.Semaphore(concurrency)
        self._limit = concurrency
        self._busy = 0  # steps holding or awaiting one of the ``concurrency`` slots
        self._fresh: set[str] = set()  # claimed, not yet started: each will want a slot
        self._per_provider = dict(per_provider or {})
        self._default_per_provider = default_per_provider
        self._provider_sems: dict[str, asyncio.Semaphore] = {}
        self.owner = f"{_host()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.held: dict[str, Task] = {}
        self._running: set[str] = set()
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._claim_wake = asyncio.Event()
        self._claim_full = False  # the last claim stopped for want of free step slots
        self._claim_step = max(1, concurrency // 8)  # then claim again once this many free
        self._due_wake = asyncio.Event()
        self._commit_wake = asyncio.Event()
        self._commits: list[_Pending] = []
        self._loops: list[asyncio.Task[None]] = []
        self._steps: set[asyncio.Task[None]] = set()  # steps, and group commits under way
        self._rng = random.Random()
        self.stats = {"claims": 0, "claimed": 0, "steps": 0, "skipped_writes": 0, "commits": 0}

    # -- the Queue port -------------------------------------------------------------------

    def push(self, task_id: str, due: float) -> None:
        """Work was announced for ``task_id`` (created, or changed by someone else, such as
        a cancel). A copy held here is dropped, and the task is claimed afresh."""
        if task_id in self.held:
            self.held.pop(task_id, None)  # a running step's result is then not kept
        self._claim_wake.set()

    def wake(self) -> None:
        """Look for due work now (a NOTIFY from another process)."""
        self._claim_wake.set()

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> int:
        """Free the leases of crashed local processes, then start the loops."""
        released = await self.reconcile()
        loops = {
            "claim": self._claim_loop,
            "dispatch": self._dispatch_loop,
            "commit": self._commit_loop,
            "renew": self._renew_loop,
            "sweep": self._sweep_loop,
        }
        for name, loop in loops.items():
            self._loops.append(asyncio.create_task(loop(), name=f"mediagate-{name}"))
        log.info("engine started", released=released, owner=self.owner)
        return released

    async def stop(self) -> None:
        for t in [*self._loops, *self._steps]:
            t.cancel()
        for t in [*self._loops, *self._steps]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._loops.clear()
        self._steps.clear()
        if self.held:  # hand held tasks back, so the next process takes them at once
            with contextlib.suppress(Exception):
                await self._repo.release_leases([self.owner])
        self.held.clear()
        self._fresh.clear()

    async def reconcile(self) -> int:
        """Free the leases of crashed local processes; their tasks are claimed again."""
        owners = await self._repo.lease_owners()
        dead = [o for o in owners if _is_dead_local_owner(o)]
        released = await self._repo.release_leases(dead)
        if released:
            log.info("released leases of dead workers", tasks=released)
        return released

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_s)
            try:
                if await self.reconcile():
                    self._claim_wake.set()
            except Exception:
                log.exception("reconcile failed")

    # -- claiming -------------------------------------------------------------------------

    async def claim_now(self) -> int:
        """Lease due tasks while there are any and room to hold them; how many."""
        total = 0
        while True:
            # Claimed tasks are due now, so a process takes no more than it has free step
            # slots for: a backlog is shared by every process rather than taken whole by
            # the first to wake. (Tasks it holds between polls use no slot.) A process that
            # stopped for want of room claims again once an eighth of its slots are free.
            room = min(CLAIM_BATCH, self._max_held - len(self.held), self._free())
            if room <= 0:
                self._claim_full = True
                return total
            now = self._clock()
            tasks = await self._repo.claim_due(self.owner, now, LEASE_S, room)
            self.stats["claims"] += 1
            self.stats["claimed"] += len(tasks)
            for task in tasks:
                self.held[task.id] = task
                self._fresh.add(task.id)
                self._schedule(task.id, now)
            total += len(tasks)
            if len(tasks) < room:
                self._claim_full = False
                return total

    def _free(self) -> int:
        """Step slots that no running step holds or awaits and no claimed task will want."""
        return self._limit - self._busy - len(self._fresh)

    async def _claim_loop(self) -> None:
        while True:
            self._claim_wake.clear()
            try:
                await self.claim_now()
            except Exception:
                log.exception("claim failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._claim_wake.wait(), self._claim_every_s)

    # -- running steps --------------------------------------------------------------------

    def _schedule(self, task_id: str, due: float) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), task_id))
        self._due_wake.set()

    def _provider_sem(self, provider: str) -> asyncio.Semaphore:
        sem = self._provider_sems.get(provider)
        if sem is None:
            size = self._per_provider.get(provider, self._default_per_provider)
            sem = self._provider_sems[provider] = asyncio.Semaphore(max(1, size))
        return sem

    async def _dispatch_loop(self) -> None:
        while True:
            self._due_wake.clear()
            now = self._clock()
            while self._heap and self._heap[0][0] <= now:
                _, _, task_id = heapq.heappop(self._heap)
                self._fresh.discard(task_id)
                task = self.held.get(task_id)
                if task is None or task_id in self._running:
                    continue  # dropped, or a stale schedule of a running task
                # A step that needs a slot waits for it in its own task, not here: a full
                # house of downloads must not hold up the polls behind it (which need none).
                bounded = not self._runner.coalesced(task)
                if bounded:
                    self._busy += 1
                self._running.add(task_id)
                step = asyncio.create_task(self._run(task, bounded), name=f"step-{task_id}")
                self._steps.add(step)
                step.add_done_callback(self._steps.discard)
            wait = (self._heap[0][0] - now) if self._heap else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due_wake.wait(), wait)

    async def _run(self, task: Task, bounded: bool) -> None:
        acquired = False
        try:
            if bounded:
                await self._concurrency.acquire()
                acquired = True
            started = time.perf_counter()
            try:
                # Inputs download outside the provider's slots, in their own bounded pool.
                update = await self._runner.prepare(task)
                if update is None:
                    async with self._provider_sem(task.provider) if bounded else _NO_LIMIT:
                        slot = contextlib.nullcontext if bounded else partial(self._slot, task)
                        update = await self._runner.run(task, slot)
            except Exception as exc:
                log.exception("step raised", task_id=task.id, step=task.step)
                update = self._after_crash(task, exc)
            self.stats["steps"] += 1
            await self._settle(task, update, time.perf_counter() - started)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The lease runs out and the task is claimed again.
            log.exception("step crashed", task_id=task.id)
            self.held.pop(task.id, None)
        finally:
            self._running.discard(task.id)
            if bounded:
                self._busy -= 1
            if acquired:
                self._concurrency.release()
            if self._claim_full and self._free() >= self._claim_step:
                self._claim_wake.set()  # slots are free and work may be waiting for them

    @contextlib.asynccontextmanager
    async def _slot(self, task: Task) -> AsyncIterator[None]:
        """The slots of a step that started without any: a bulk-answered poll whose job is
        done, storing its files."""
        self._busy += 1
        try:
            async with self._concurrency, self._provider_sem(task.provider):
                yield
        finally:
            self._busy -= 1

    async def _settle(self, task: Task, update: TaskUpdate, seconds: float) -> None:
        if self.held.get(task.id) is not task:
            return  # dropped while running (a cancel): the new state is claimed afresh
        if changes_nothing(task, update) and update.next_run_at is not None:
            self._observer.step_done(task, update, seconds)
            self.stats["skipped_writes"] += 1
            self._schedule(task.id, update.next_run_at)
            return
        pending = _Pending(Advance(task, update))
        self._commits.append(pending)
        self._commit_wake.set()
        await pending.done.wait()
        now = self._clock()
        if not pending.result.committed:
            self.held.pop(task.id, None)
            return
        self._observer.step_done(task, update, seconds)
        if self._on_commit is not None:
            self._on_commit(task.id, pending.result.webhook_queued)
        if update.step is None or update.next_run_at is None:
            self.held.pop(task.id, None)
            return
        self.held[task.id] = applied(task, update, now)
        self._schedule(task.id, update.next_run_at)
        log.debug("step", task_id=task.id, step=task.step, status=update.status)

    def _after_crash(self, task: Task, exc: Exception) -> TaskUpdate:
        """A bug or an unexpected failure: retry the step a few times, then fail clearly."""
        if task.attempts + 1 >= MAX_ATTEMPTS:
            return TaskUpdate(
                status=Status.FAILED,
                step=None,
                next_run_at=None,
                error=TaskError("internal_error", f"mediagate could not run the task: {exc}"),
                detail="failed: internal_error",
            )
        return TaskUpdate(
            status=task.status,
            step=task.step,
            next_run_at=self._clock() + backoff(task.attempts, None, self._rng),
            attempts=task.attempts + 1,
            detail=f"retry after internal error: {exc}",
        )

    # -- group commit and leases ----------------------------------------------------------

    async def _commit_loop(self) -> None:
        """Results waiting while the store's writers are busy join the next group."""
        writers = asyncio.Semaphore(max(1, self._repo.writers))
        while True:
            await self._commit_wake.wait()
            self._commit_wake.clear()
            if not self._commits:
                continue
            await writers.acquire()
            batch, self._commits = self._commits, []
            commit = asyncio.create_task(self._commit(batch, writers), name="mediagate-commit")
            self._steps.add(commit)  # cancelled with the steps at stop
            commit.add_done_callback(self._steps.discard)

    async def _commit(self, batch: list[_Pending], writers: asyncio.Semaphore) -> None:
        # One order of accounts in every group: side-by-side commits that settle tasks of
        # the same accounts then lock their rows in the same order (no deadlock).
        batch.sort(key=lambda p: p.item.task.account_id)
        now = self._clock()
        try:
            results = await self._repo.advance_many(
                [p.item for p in batch], self.owner, now, keep_until=now + LEASE_S
            )
        except Exception:
            log.exception("commit failed", tasks=len(batch))
            results = [Advanced(committed=False)] * len(batch)
        finally:
            writers.release()
        self.stats["commits"] += 1
        for pending, result in zip(batch, results, strict=True):
            pending.result = result
            pending.done.set()

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(RENEW_S)
            if not self.held:
                continue
            try:
                mine = await self._repo.renew_leases(self.owner, self._clock() + LEASE_S)
            except Exception:
                log.exception("lease renewal failed")
                continue
            for task_id in [t for t in self.held if t not in mine]:
                self.held.pop(task_id, None)  # taken from us (a cancel, or an expiry)
            stray = [t for t in mine if t not in self.held and t not in self._running]
            if stray:  # a commit that failed: let the lease go, so the task runs again
                with contextlib.suppress(Exception):
                    await self._repo.release_tasks(self.owner, stray)
