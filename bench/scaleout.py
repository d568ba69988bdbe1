"""Benchmark: scale-out on PostgreSQL. One API process (``serve --no-engine``) and 1 or 2
``mediagate worker`` processes share a throwaway PostgreSQL cluster; a fake Ark (its own
process) runs each video for 3 polls. The same backlog of tasks is drained by 1 worker,
then by 2, interleaved; the figure is the ratio of their step rates (steps per task are
fixed: submit and 3 polls, the last of which stores the video), taken between 10% and
90% of the drain so that process start-up and the last stragglers count for neither.

Scale-out means each worker brings its own CPU. On a machine with fewer spare cores than
workers (the 2-core CI box: PostgreSQL, the fake and the benchmark share them too), pass
``--cpu-budget 0.4``: each worker then runs in a cgroup of its own capped at 0.4 of a core,
as if on a small host of its own, while PostgreSQL and the fake run uncapped. The run also
prints the CPU each part used, so it shows which of them was the bottleneck.

    .venv/bin/python bench/scaleout.py [--tasks 1500] [--cpu-budget 0.4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.helpers import Server
from tests.pg import Postgres

from bench.inflight import TICK, cpu_s

FAKE = (
    "import time; from tests.fakes.ark import FakeArk; f = FakeArk(polls=3).start(); "
    "print(f.url, flush=True); time.sleep(1e9)"
)
STEPS_PER_TASK = 4  # submit, 3 polls (the last finds the video linked and stores it)


async def create(url: str, key: str, n: int, tag: str) -> None:
    sem = asyncio.Semaphore(64)
    async with aiohttp.ClientSession(headers={"Authorization": key}) as session:

        async def one(i: int) -> None:
            body = {"model": "seedance-1-lite-480P-5s", "prompt": f"{tag} {i}"}
            async with sem, session.post(url + "/v1/media/create", json=body) as r:
                assert r.status == 200, await r.text()

        await asyncio.gather(*(one(i) for i in range(n)))


def machine_busy() -> float:
    """CPU seconds this machine has spent not idle, over all cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / TICK  # less idle and iowait


def pids_named(word: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if word in Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry))
            except OSError:
                pass
    return found


class CpuBudget:
    """One cgroup (v2, else v1's cpu controller) capping one process at ``cores`` of CPU."""

    def __init__(self, name: str, cores: float) -> None:
        period = 100_000
        quota = max(1000, int(cores * period))
        v2 = Path("/sys/fs/cgroup/cgroup.controllers")
        if v2.exists() and "cpu" in v2.read_text().split():
            self.dir = Path("/sys/fs/cgroup") / name
            self.dir.mkdir(exist_ok=True)
            (self.dir / "cpu.max").write_text(f"{quota} {period}")
        else:
            self.dir = Path("/sys/fs/cgroup/cpu") / name
            self.dir.mkdir(exist_ok=True)
            (self.dir / "cpu.cfs_period_us").write_text(str(period))
            (self.dir / "cpu.cfs_quota_us").write_text(str(quota))

    def add(self, pid: int) -> None:
        (self.dir / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        """Once its processes are gone: a worker's render processes outlive it briefly."""
        for _ in range(100):
            try:
                self.dir.rmdir()
                return
            except OSError:
                time.sleep(0.1)


@contextmanager
def budgets(n: int, cores: float | None) -> Iterator[list[CpuBudget | None]]:
    made: list[CpuBudget | None] = [
        CpuBudget(f"mediagate-bench-w{i}", cores) if cores else None for i in range(n)
    ]
    try:
        yield made
    finally:
        for b in made:
            if b is not None:
                b.remove()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=1500)  # enough to keep 2 workers busy
    ap.add_argument("--rounds", type=int, default=2, help="1-then-2 pairs, interleaved")
    ap.add_argument("--cpu-budget", type=float, default=None, help="cores per worker (cgroup)")
    args = ap.parse_args()
    root = str(Path(__file__).resolve().parent.parent)
    fake = subprocess.Popen([sys.executable, "-c", FAKE], cwd=root, stdout=subprocess.PIPE)
    assert fake.stdout is not None
    fake_url = fake.stdout.readline().decode().strip()
    with Postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        api = Server(
            Path(tmp),
            MEDIAGATE_ENGINE="0",
            MEDIAGATE_DATABASE_URL=pg.create_db(),
            MEDIAGATE_ARK_API_KEY="ark-test-key",
            MEDIAGATE_ARK_BASE_URL=fake_url + "/api/v3",
            MEDIAGATE_UPSTREAM_POLL_S="0.05",
            MEDIAGATE_MAX_RUNNING="{}",
        ).start()
        try:
            # Live tasks need money: the default account gets plenty.
            api.cli("accounts", "topup", "acct_default", "100000")
            rates: dict[int, list[float]] = {1: [], 2: []}
            for n in [1, 2] * args.rounds:  # interleaved: the machine is noisy
                tag = f"w{n}-{len(rates[1]) + len(rates[2])}"
                rate, cpu = drain(api, n, args.tasks, tag, args.cpu_budget, fake.pid)
                rates[n].append(rate)
                used = "  ".join(f"{k} {v:.2f}" for k, v in cpu.items())
                print(f"{n} worker(s): {rate:6.1f} steps/s   cores used: {used}", flush=True)
            one, two = (sum(rates[n]) / len(rates[n]) for n in (1, 2))
            budget = f", {args.cpu_budget} core per worker" if args.cpu_budget else ""
            print(f"2 workers / 1 worker = {two / one:.2f} (goal >= 1.8{budget})")
        finally:
            api.stop()
            fake.terminate()


def drain(
    api: Server, workers: int, tasks: int, tag: str, cores: float | None, fake_pid: int
) -> tuple[float, dict[str, float]]:
    """Create ``tasks`` (a live key: they go to the fake Ark) with no worker running, then
    start ``workers`` and time the middle 80% of the drain. Also: the cores each part used
    over that window."""
    for start in range(0, tasks, 900):  # a key holds at most 1,000 unfinished tasks
        key = api.cli("keys", "create", "--live", "--account", "acct_default").strip()
        asyncio.run(create(api.url, key, min(900, tasks - start), f"{tag}-{start}"))
    sql = f"select count(*) from tasks where status = 'done' and prompt like '{tag}-%'"
    with budgets(workers, cores) as groups:
        procs = []
        for group in groups:
            p = subprocess.Popen(
                [sys.executable, "-m", "mediagate", "worker"],
                env=api.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if group is not None:
                group.add(p.pid)
            procs.append(p)
        parts = {
            "workers": [p.pid for p in procs],
            "postgres": pids_named("postgres:"),
            "fake": [fake_pid],
            "api": [api.proc.pid] if api.proc else [],
        }
        marks: list[tuple[float, dict[str, float]]] = []
        try:
            for goal in (tasks // 10, tasks - tasks // 10):
                while api.rows(sql)[0][0] < goal:
                    time.sleep(0.05)
                parts["postgres"] = pids_named("postgres:")  # backends come and go
                used = {k: sum(map(cpu_s, v)) for k, v in parts.items()}
                used["bench"] = time.process_time()
                used["machine"] = machine_busy()
                marks.append((time.monotonic(), used))
            while api.rows(sql)[0][0] < tasks:
                time.sleep(0.1)
        finally:
            for p in procs:
                p.terminate()
                p.wait(10)
    (t0, c0), (t1, c1) = marks
    window = t1 - t0
    steps = (tasks - 2 * (tasks // 10)) * STEPS_PER_TASK
    return steps / window, {k: (c1[k] - c0.get(k, 0.0)) / window for k in c1}


if __name__ == "__main__":
    main()
