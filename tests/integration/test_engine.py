"""The engine against a real store (SQLite and PostgreSQL), with scripted steps: bulk claims,
no write for a step that changed nothing, group commits, per-provider concurrency, a cancel
while held, and two engines (two processes' worth) sharing one table."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from mediagate.core.catalogue import default_catalogue
from mediagate.core.tasks import Mode, Status, Step, Task, TaskUpdate
from mediagate.jobs.steps import Slot
from mediagate.jobs.worker import WorkerPool
from mediagate.store import migrate
from mediagate.store.db import Database
from mediagate.store.leases import POSTGRES_WRITERS
from mediagate.store.schema import task_events, tasks
from mediagate.store.sealing import Sealer
from mediagate.store.tasks import TaskRepository

POLLS = 3


def _task(n: int, provider: str = "sandbox") -> Task:
    _, params = default_catalogue().validate("seedream-3", "p")
    now = time.time()
    return Task(
        id=f"{n:024x}",
        key_id="k" * 24,
        model="seedream-3",
        prompt="p",
        params=params,
        mode=Mode.TEST,
        provider=provider,
        status=Status.QUEUED,
        step=Step.SUBMIT,
        created_at=now,
        updated_at=now,
    )


class ScriptedRunner:
    """submit -> POLLS polls that report nothing new -> done. Records concurrency."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.running: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.polls: Counter[str] = Counter()

    def coalesced(self, task: Task) -> bool:
        return False

    async def prepare(self, task: Task) -> TaskUpdate | None:
        return None

    async def run(self, task: Task, slot: Slot = contextlib.nullcontext) -> TaskUpdate:
        self.calls[task.id] += 1
        self.running[task.provider] += 1
        self.peak[task.provider] = max(self.peak[task.provider], self.running[task.provider])
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.running[task.provider] -= 1
        now = time.time()
        if task.step is Step.SUBMIT:
            return TaskUpdate(Status.PROCESSING, Step.POLL, now + 0.01, progress=10, attempts=0)
        self.polls[task.id] += 1
        if self.polls[task.id] <= POLLS:  # "still running": nothing changed
            return TaskUpdate(Status.PROCESSING, Step.POLL, now + 0.01)
        return TaskUpdate(Status.DONE, None, None, progress=100, detail="done")


async def _setup(url: str, n: int, providers: tuple[str, ...] = ("sandbox",)) -> Database:
    db = Database(url)
    await migrate.upgrade(db)
    repo = TaskRepository(db)
    for i in range(n):
        await repo.insert(_task(i, providers[i % len(providers)]), next_run_at=0)
    return db


async def _wait_done(db: Database, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with db.read() as conn:
            done = (
                await conn.execute(
                    sa.select(sa.func.count()).where(tasks.c.status == Status.DONE.value)
                )
            ).scalar()
        if done == n:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {done} of {n} tasks done")


async def test_claims_in_bulk_skips_no_op_writes_and_commits_in_groups(db_url: str) -> None:
    n = 200
    db = await _setup(db_url, n)
    runner = ScriptedRunner()
    engine = WorkerPool(TaskRepository(db), runner, time.time, concurrency=64)  # type: ignore[arg-type]
    await engine.start()
    try:
        await _wait_done(db, n)
    finally:
        await engine.stop()
    stats = engine.stats
    # 200 tasks, each claim as many as there are free slots (64): a handful of statements.
    assert stats["claimed"] == n and stats["claims"] <= 2 * -(-n // 64), stats
    assert stats["steps"] == n * (POLLS + 2)
    assert stats["skipped_writes"] == n * POLLS  # "still running" polls wrote nothing
    assert stats["commits"] < n, stats  # 2n results committed in far fewer transactions
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(task_events.c.status))).scalars().all()
        leased = (
            await conn.execute(sa.select(sa.func.count()).where(tasks.c.lease_owner.isnot(None)))
        ).scalar()
    assert Counter(rows) == {"queued": n, "processing": n, "done": n}
    assert leased == 0  # finished tasks give their lease back
    await db.dispose()


class SlowCommits(TaskRepository):
    """Each group commit takes at least 20 ms; records how many ran at once."""

    running = 0
    peak = 0

    async def advance_many(self, *args: Any, **kwargs: Any) -> Any:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            await asyncio.sleep(0.02)
            return await super().advance_many(*args, **kwargs)
        finally:
            self.running -= 1


class JitteredRunner(ScriptedRunner):
    """Each step takes 0-10 ms, so results keep arriving while commits are under way."""

    async def run(self, task: Task, slot: Slot = contextlib.nullcontext) -> TaskUpdate:
        self.delay = (int(task.id, 16) * 7919 % 11) / 1000
        return await super().run(task, slot)


async def test_group_commits_run_side_by_side_as_the_store_has_writers(db_url: str) -> None:
    """SQLite has one writer: one group commit at a time. PostgreSQL's writers commit side
    by side (how many at once depends on how results arrive), never more at once than
    ``writers``, and every result is committed once."""
    n = 200
    db = await _setup(db_url, n)
    repo = SlowCommits(db)
    runner = JitteredRunner()  # results arrive all the time, not in waves
    engine = WorkerPool(repo, runner, time.time, concurrency=64)  # type: ignore[arg-type]
    await engine.start()
    try:
        await _wait_done(db, n)
    finally:
        await engine.stop()
    assert repo.writers == (1 if db.is_sqlite else POSTGRES_WRITERS)
    if db.is_sqlite:
        assert repo.peak == 1
    else:
        assert 1 < repo.peak <= repo.writers, (repo.peak, repo.writers)
    async with db.read() as conn:
        rows = (await conn.execute(sa.select(task_events.c.status))).scalars().all()
    assert Counter(rows) == {"queued": n, "processing": n, "done": n}
    await db.dispose()


async def test_steps_run_concurrently_within_each_providers_bound(db_url: str) -> None:
    db = await _setup(db_url, 60, providers=("ark", "google"))
    runner = ScriptedRunner(delay=0.05)
    engine = WorkerPool(
        TaskRepository(db),
        runner,  # type: ignore[arg-type]
        time.time,
        concurrency=100,
        per_provider={"ark": 4},
        default_per_provider=16,
    )
    await engine.start()
    try:
        await _wait_done(db, 60)
    finally:
        await engine.stop()
    assert runner.peak["ark"] == 4
    assert 8 < runner.peak["google"] <= 16
    await db.dispose()


async def test_a_cancel_takes_a_held_task_away(db_url: str) -> None:
    db = await _setup(db_url, 1)
    repo = TaskRepository(db)

    class Forever(ScriptedRunner):
        async def run(self, task: Task, slot: Slot = contextlib.nullcontext) -> TaskUpdate:
            self.calls[task.id] += 1
            if task.step is Step.CANCEL:
                return TaskUpdate(task.status, None, None, detail="cancelled upstream")
            if task.step is Step.SUBMIT:
                return TaskUpdate(Status.PROCESSING, Step.POLL, time.time(), upstream_id="u1")
            return TaskUpdate(Status.PROCESSING, Step.POLL, time.time() + 0.01)

    runner = Forever()
    engine = WorkerPool(repo, runner, time.time)  # type: ignore[arg-type]
    await engine.start()
    try:
        task_id = f"{0:024x}"
        deadline = time.monotonic() + 10
        while runner.calls[task_id] < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert task_id in engine.held
        cancelled = await repo.cancel(task_id, time.time(), "by the test")
        assert cancelled is not None and cancelled.step is Step.CANCEL
        engine.push(task_id, time.time())  # what TaskService.cancel announces
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            after = await repo.get(task_id)
            if after is not None and after.step is None:
                break
            await asyncio.sleep(0.02)
        # The engine reclaimed it in its cancelled state and ran the CANCEL step once.
        assert after is not None and after.status is Status.CANCELLED and after.step is None
        assert task_id not in engine.held
        calls = runner.calls[task_id]
        await asyncio.sleep(0.2)
        assert runner.calls[task_id] == calls  # and polls it no more
    finally:
        await engine.stop()
    await db.dispose()


async def test_two_engines_share_one_table_and_run_each_step_once(db_url: str) -> None:
    n = 300
    db = await _setup(db_url, n)
    dbs = [Database(db_url), Database(db_url)]  # two processes' worth of connections
    runners = [ScriptedRunner(delay=0.002), ScriptedRunner(delay=0.002)]
    engines = [
        WorkerPool(TaskRepository(d), r, time.time, concurrency=16)  # type: ignore[arg-type]
        for d, r in zip(dbs, runners, strict=True)
    ]
    for e in engines:
        await e.start()
    try:
        await _wait_done(db, n)
    finally:
        for e in engines:
            await e.stop()
    submits = Counter[str]()
    for r in runners:
        for task_id, calls in r.calls.items():
            submits[task_id] += calls
    assert len(submits) == n
    # Each task ran submit + polls + the last poll exactly once, on one engine or the other.
    assert set(submits.values()) == {POLLS + 2}
    assert all(sum(1 for r in runners if t in r.calls) == 1 for t in submits)
    for d in [db, *dbs]:
        await d.dispose()


async def test_a_backlog_is_shared_not_taken_whole_by_the_first_engine_to_wake(
    db_url: str,
) -> None:
    """An engine claims no more due tasks than it has free step slots, so a second process
    started a moment later gets its share of the backlog (and doubles its rate)."""
    n = 240
    db = await _setup(db_url, n)
    dbs = [Database(db_url), Database(db_url)]
    runners = [ScriptedRunner(delay=0.01), ScriptedRunner(delay=0.01)]
    engines = [
        WorkerPool(TaskRepository(d), r, time.time, concurrency=8)  # type: ignore[arg-type]
        for d, r in zip(dbs, runners, strict=True)
    ]
    await engines[0].start()
    await asyncio.sleep(0.1)  # the first has claimed and started well before the second
    await engines[1].start()
    try:
        await _wait_done(db, n)
    finally:
        for e in engines:
            await e.stop()
    shares = [len(r.calls) for r in runners]
    assert sum(shares) == n
    assert min(shares) >= n // 4, shares  # taking it whole would leave the second with 0
    assert all(e.stats["claimed"] == len(r.calls) for e, r in zip(engines, runners, strict=True))
    for d in [db, *dbs]:
        await d.dispose()


class WaveRunner(ScriptedRunner):
    """Polls are answered in bulk (no slot). ``finishing`` tasks end upstream at their
    first poll and then fetch, which waits for ``gate``; the others poll 20 times."""

    def __init__(self, finishing: set[str]) -> None:
        super().__init__()
        self.finishing = finishing
        self.gate = asyncio.Event()

    def coalesced(self, task: Task) -> bool:
        return task.step is Step.POLL

    async def run(self, task: Task, slot: Slot = contextlib.nullcontext) -> TaskUpdate:
        now = time.time()
        if task.step is Step.FETCH:
            await self.gate.wait()
            return TaskUpdate(Status.DONE, None, None, progress=100, detail="stored")
        self.polls[task.id] += 1
        if task.id in self.finishing:
            return TaskUpdate(Status.PROCESSING, Step.FETCH, now, detail="upstream finished")
        if self.polls[task.id] >= 20:
            return TaskUpdate(Status.DONE, None, None, progress=100, detail="done")
        return TaskUpdate(Status.PROCESSING, Step.POLL, now + 0.01)


class LinkedWaveRunner(WaveRunner):
    """As WaveRunner, but the bulk answer links the files of a finished job: the poll step
    downloads them itself, inside ``slot`` (it started without one), and is done."""

    def __init__(self, finishing: set[str]) -> None:
        super().__init__(finishing)
        self.downloading = 0
        self.peak_downloads = 0
        self.steps: Counter[Step] = Counter()

    async def run(self, task: Task, slot: Slot = contextlib.nullcontext) -> TaskUpdate:
        self.steps[task.step] += 1
        self.polls[task.id] += 1
        if task.id not in self.finishing:
            if self.polls[task.id] >= 20:
                return TaskUpdate(Status.DONE, None, None, progress=100, detail="done")
            return TaskUpdate(Status.PROCESSING, Step.POLL, time.time() + 0.01)
        async with slot():
            self.downloading += 1
            self.peak_downloads = max(self.peak_downloads, self.downloading)
            try:
                await self.gate.wait()
            finally:
                self.downloading -= 1
        return TaskUpdate(Status.DONE, None, None, progress=100, detail="stored")


@pytest.mark.parametrize("linked", [False, True], ids=["fetch-step", "linked"])
async def test_polls_go_on_while_every_slot_is_taken_by_a_wave_of_downloads(
    db_url: str, linked: bool
) -> None:
    """A wave of tasks finishing at once wants more download slots than there are; the
    polls of the others (which need no slot) are not held up behind them. Downloads run in
    a FETCH step, or (``linked``) in the bulk-answered poll itself, which then waits for a
    slot like any download (never more at once than ``concurrency``) and is done in that
    step."""
    db = Database(db_url)
    await migrate.upgrade(db)
    repo = TaskRepository(db)
    polling = [f"{i:024x}" for i in range(4)]
    finishing = {f"{i:024x}" for i in range(4, 10)}
    for i in range(10):  # ids 0-3 poll long, 4-9 finish
        task = msgspec.structs.replace(_task(i), status=Status.PROCESSING, step=Step.POLL)
        await repo.insert(task, next_run_at=i * 0.001)  # the long pollers are claimed first
    runner = LinkedWaveRunner(finishing) if linked else WaveRunner(finishing)
    engine = WorkerPool(repo, runner, time.time, concurrency=2)  # type: ignore[arg-type]
    await engine.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(runner.polls[t] < 20 for t in polling):
            await asyncio.sleep(0.02)
        assert all(runner.polls[t] == 20 for t in polling), runner.polls  # while 6 wait
        assert not runner.gate.is_set()
        if isinstance(runner, LinkedWaveRunner):
            assert runner.downloading == 2  # two slots, both downloading; four wait
        runner.gate.set()
        await _wait_done(db, 10)
    finally:
        await engine.stop()
    if isinstance(runner, LinkedWaveRunner):
        assert runner.peak_downloads == 2
        assert set(runner.steps) == {Step.POLL}
        assert all(runner.polls[t] == 1 for t in finishing)  # one step from poll to done
    await db.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_cancel_in_another_process_reaches_the_holder_by_notify(db_url: str) -> None:
    """PostgreSQL: the cancel's NOTIFY names the task, and the process holding it drops
    its copy at once (not at its next lease renewal)."""
    from mediagate.store.db import KEYS_CHANNEL, TASKS_CHANNEL
    from mediagate.store.keys import KeyRepository
    from mediagate.store.listen import Listener

    db = await _setup(db_url, 1)
    heard: list[str] = []
    keys: list[str] = []
    listener = Listener(db_url, {TASKS_CHANNEL: heard.append, KEYS_CHANNEL: keys.append})
    await listener.start()
    try:
        other = Database(db_url)  # the process that cancels
        await TaskRepository(other).cancel(f"{0:024x}", time.time(), "elsewhere")
        deadline = time.monotonic() + 5
        while f"{0:024x}" not in heard and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert f"{0:024x}" in heard
        keys.clear()
        assert not await KeyRepository(other, Sealer(bytes(32))).revoke("no-such-key", time.time())
        deadline = time.monotonic() + 5
        while not keys and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert keys  # a revoke anywhere drops every process's key cache
        await other.dispose()
    finally:
        await listener.stop()
        await db.dispose()


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_processes_starting_together_migrate_in_turn(db_url: str) -> None:
    from mediagate.store.migrate import HEAD, current

    dbs = [Database(db_url) for _ in range(3)]
    await asyncio.gather(*(migrate.upgrade(d) for d in dbs))  # none fails on the others
    assert [await current(d) for d in dbs] == [HEAD] * 3
    for d in dbs:
        await d.dispose()
