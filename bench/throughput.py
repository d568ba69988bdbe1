"""Benchmark: start a server, drive create then poll-to-done on the sandbox at some concurrencies.

Prints tasks per second and p50/p99 latency of create and result calls. The sandbox runs
with zero latency, so the figures are the gateway's own cost plus rendering the media.

    .venv/bin/python bench/throughput.py [--tasks 200] [--model seedream-3] [--conc 1 8 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.helpers import Server

POLL_S = 0.1  # how often a client polls; real clients poll about once a second


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def one(
    session: aiohttp.ClientSession,
    url: str,
    model: str,
    i: int,
    creates: list[float],
    results: list[float],
) -> None:
    t0 = time.perf_counter()
    async with session.post(
        url + "/v1/media/create", json={"model": model, "prompt": f"b{i}"}
    ) as r:
        body = await r.json()
        assert r.status == 200, body
    creates.append(time.perf_counter() - t0)
    while True:
        t1 = time.perf_counter()
        async with session.get(url + "/v1/media/result", params={"task_id": body["id"]}) as r:
            state = await r.json()
        results.append(time.perf_counter() - t1)
        if state["status"] in ("done", "failed"):
            assert state["status"] == "done", state
            return
        await asyncio.sleep(POLL_S)


async def run(url: str, key: str, model: str, tasks: int, conc: int) -> float:
    """Create ``tasks`` and poll each to done, ``conc`` at a time; prints and returns tasks/s."""
    creates: list[float] = []
    results: list[float] = []
    sem = asyncio.Semaphore(conc)
    headers = {"Authorization": key}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def guarded(i: int) -> None:
            async with sem:
                await one(session, url, model, i, creates, results)

        t0 = time.perf_counter()
        await asyncio.gather(*(guarded(i) for i in range(tasks)))
        wall = time.perf_counter() - t0
    print(
        f"{model:26} conc={conc:<3} tasks={tasks:<4} {tasks / wall:7.1f} tasks/s  "
        f"create p50={pct(creates, 50):6.1f} ms p99={pct(creates, 99):6.1f} ms  "
        f"result p50={pct(results, 50):6.1f} ms p99={pct(results, 99):6.1f} ms "
        f"({len(results)} polls)"
    )
    return tasks / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--model", default="seedream-3")
    ap.add_argument("--conc", type=int, nargs="+", default=[1, 8, 32])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp), latency=0.0).start()
        try:
            key = srv.key()
            for conc in args.conc:
                asyncio.run(run(srv.url, key, args.model, args.tasks, conc))
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
