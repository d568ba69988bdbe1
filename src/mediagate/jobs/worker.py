"""The in-process worker pool and the reconciler that rebuilds the queue from the tasks table."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import socket
from collections.abc import Callable

import structlog

from mediagate.core.tasks import Status, Task, TaskError, TaskUpdate
from mediagate.jobs.queue import InProcessQueue
from mediagate.jobs.steps import MAX_ATTEMPTS, StepRunner, backoff
from mediagate.store.tasks import TaskRepository

log = structlog.get_logger("mediagate.worker")

LEASE_S = 60.0  # a step whose worker stops renewing its lease this long is taken over
HEARTBEAT_S = LEASE_S / 3


def _host() -> str:
    return socket.gethostname()


def _is_dead_local_owner(owner: str) -> bool:
    """True if ``owner`` (host:pid:nonce) was a process on this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _host() or not pid_text.isdigit():
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


class WorkerPool:
    """``size`` workers pop task ids, lease the task, run one step and commit the result."""

    def __init__(
        self,
        repo: TaskRepository,
        queue: InProcessQueue,
        runner: StepRunner,
        clock: Callable[[], float],
        size: int,
        sweep_s: float = 15.0,
        on_commit: Callable[[str], None] | None = None,
    ) -> None:
        self._repo = repo
        self._queue = queue
        self._runner = runner
        self._clock = clock
        self._size = size
        self._sweep_s = sweep_s
        self._on_commit = on_commit
        self.owner = f"{_host()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._tasks: list[asyncio.Task[None]] = []
        self._rng = random.Random()

    async def start(self) -> int:
        """Re-enqueue every unfinished task, then start the workers and the sweeper."""
        count = await self.reconcile()
        for i in range(self._size):
            self._tasks.append(asyncio.create_task(self._work(), name=f"mediagate-worker-{i}"))
        self._tasks.append(asyncio.create_task(self._sweep(), name="mediagate-sweeper"))
        log.info("workers started", workers=self._size, reconciled=count, owner=self.owner)
        return count

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()

    async def reconcile(self) -> int:
        """Free the leases of crashed local processes and queue every unfinished task."""
        owners = await self._repo.lease_owners()
        released = await self._repo.release_leases([o for o in owners if _is_dead_local_owner(o)])
        if released:
            log.info("released leases of dead workers", tasks=released)
        pending = await self._repo.unfinished()
        for task_id, due in pending:
            self._queue.push(task_id, due)
        return len(pending)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_s)
            try:
                await self.reconcile()
            except Exception:
                log.exception("reconcile failed")

    async def _work(self) -> None:
        while True:
            task_id = await self._queue.pop()
            try:
                await self.run_one(task_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The lease expires and the sweeper hands the task to a worker again.
                log.exception("step crashed", task_id=task_id)

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

    async def _heartbeat(self, task_id: str) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            await self._repo.extend_lease(task_id, self.owner, self._clock() + LEASE_S)

    async def run_one(self, task_id: str) -> None:
        now = self._clock()
        task = await self._repo.claim(task_id, self.owner, now, LEASE_S)
        if task is None:
            return
        heartbeat = asyncio.create_task(self._heartbeat(task_id))
        try:
            update = await self._runner.run(task)
        except Exception as exc:
            log.exception("step raised", task_id=task_id, step=task.step)
            update = self._after_crash(task, exc)
        finally:
            heartbeat.cancel()
        committed = await self._repo.advance(task, self.owner, update, self._clock())
        if committed and self._on_commit is not None:
            self._on_commit(task_id)
        if committed and update.step is not None and update.next_run_at is not None:
            self._queue.push(task_id, update.next_run_at)
        log.debug("step", task_id=task_id, step=task.step, status=update.status)
