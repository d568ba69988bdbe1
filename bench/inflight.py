"""Benchmark: many videos in flight at once on one process.

A fake Ark keeps each video running for ``--hold`` seconds (60 by default) and mediagate
polls upstream every 5 s. ``--tasks`` (10,000) live tasks are created; then it measures,
on the server process: the interval between two polls of one task (p50/p99, from the
fake's own log of polls, up to the one that saw the job finish and carried its link), the
first poll after submit, RSS, and CPU while only waiting. Every job finishes at the same
moment, the hardest case: the 10,000 downloads of that wave share the process with the
polls of the others.

Goals (issue 10): p99 poll interval <= 6 s, RSS < 500 MB, < 30% of a core while waiting.

    .venv/bin/python bench/inflight.py [--tasks 10000] [--hold 60]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.ark import FakeArk
from tests.helpers import Server

MODEL = "seedance-1-lite-480P-5s"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU of a process and its reaped children; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def create_all(url: str, key: str, n: int, conc: int = 32) -> float:
    sem = asyncio.Semaphore(conc)
    async with aiohttp.ClientSession(headers={"Authorization": key}) as session:

        async def one(i: int) -> None:
            async with (
                sem,
                session.post(
                    url + "/v1/media/create", json={"model": MODEL, "prompt": f"wave {i}"}
                ) as r,
            ):
                assert r.status == 200, await r.text()

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--hold", type=float, default=60)
    ap.add_argument("--poll", type=float, default=5)
    args = ap.parse_args()
    fake = FakeArk(hold_s=args.hold).start()
    fake.release_at = time.time() + 10**6  # nothing finishes while tasks are still created
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(
            Path(tmp),
            MEDIAGATE_ARK_API_KEY=fake.api_key,
            MEDIAGATE_ARK_BASE_URL=fake.url + "/api/v3",
            MEDIAGATE_UPSTREAM_POLL_S=str(args.poll),
            MEDIAGATE_MAX_RUNNING="{}",
            MEDIAGATE_MAX_QUEUED_PER_KEY="0",
            MEDIAGATE_LOG_LEVEL="warning",
        ).start()
        try:
            assert srv.proc is not None
            pid = srv.proc.pid
            key = srv.funded_live_key(10_000_000)
            rate = asyncio.run(create_all(srv.url, key, args.tasks))
            print(f"created {args.tasks} tasks at {rate:.0f}/s; RSS {rss_mb(pid):.0f} MB")
            while len(fake.tasks) < args.tasks:  # every task submitted upstream
                time.sleep(0.5)
            # From now on each task runs its hold (at least), so all are in flight at once.
            fake.release_at = time.time() + args.hold
            time.sleep(2 * args.poll)  # let the polls of the last submits settle
            window = max(5.0, min(30.0, args.hold - 2 * args.poll - 5))
            c0, t0 = cpu_s(pid), time.monotonic()
            time.sleep(window)
            cpu = (cpu_s(pid) - c0) / (time.monotonic() - t0)
            rss = rss_mb(pid)
            print(
                f"waiting on {args.tasks} upstream jobs: {cpu * 100:.0f}% of a core over "
                f"{window:.0f} s, RSS {rss:.0f} MB, {fake.list_calls} bulk polls so far"
            )
            deadline = time.monotonic() + args.hold + 120
            while time.monotonic() < deadline:
                done = sum(1 for t in fake.tasks.values() if t["status"] == "succeeded")
                if done == args.tasks:
                    break
                time.sleep(1)
            gaps: list[float] = []
            firsts: list[float] = []
            for task_id, stamps in fake.polled_at.items():
                task = fake.tasks[task_id]
                firsts.append(stamps[0] - task["created_at"])
                # Polls of the running job, up to the one that saw it finish (a read after
                # that, by a task left at its fetch step, would be no poll).
                polls = [s for s in stamps if s <= task.get("finished_at", s)]
                gaps.extend(b - a for a, b in itertools.pairwise(polls))
            print(
                f"poll interval p50 {pct(gaps, 50):.2f} s, p99 {pct(gaps, 99):.2f} s, "
                f"max {max(gaps):.2f} s (configured {args.poll} s); first poll after "
                f"submit p50 {pct(firsts, 50):.2f} s, p99 {pct(firsts, 99):.2f} s; "
                f"peak RSS {rss_mb(pid):.0f} MB"
            )
        finally:
            srv.stop()
            fake.stop()


if __name__ == "__main__":
    main()
