"""Benchmark: how cheap a poll is, and whether the task API holds up as pollers grow.

In one run, on one server (sandbox, zero latency):
1. the ceiling: ``GET /v1/models`` (public: no key check, no task read; the list is encoded
   once every 2 s) at concurrency 64;
2. polls: ``GET /v1/media/result`` of existing tasks at concurrency 64;
3. create-then-poll-to-done with clients polling every 100 ms, at concurrency 8 and 64,
   interleaved 8, 64, 64, 8.

Goals (issue 10): polls >= 50% of the ceiling; tasks/s at 64 >= tasks/s at 8.

    .venv/bin/python bench/polls.py [--seconds 5] [--tasks 200]
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

from bench.throughput import run as create_and_poll


async def hammer(url: str, key: str, paths: list[str], conc: int, seconds: float) -> float:
    """Requests per second over ``seconds`` with ``conc`` clients cycling through paths."""
    done = 0
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(
        headers={"Authorization": key}, connector=aiohttp.TCPConnector(limit=conc)
    ) as session:

        async def client(n: int) -> None:
            nonlocal done
            i = n
            while time.perf_counter() < stop:
                async with session.get(url + paths[i % len(paths)]) as r:
                    await r.read()
                    assert r.status == 200, r.status
                done += 1
                i += conc

        t0 = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(conc)))
        return done / (time.perf_counter() - t0)


async def make_tasks(url: str, key: str, n: int) -> list[str]:
    async with aiohttp.ClientSession(headers={"Authorization": key}) as session:
        ids = []
        for i in range(n):
            async with session.post(
                url + "/v1/media/create", json={"model": "seedream-3", "prompt": f"p{i}"}
            ) as r:
                ids.append((await r.json())["id"])
        return ids


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--tasks", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp), latency=0.0).start()
        try:
            key = srv.key()
            ids = asyncio.run(make_tasks(srv.url, key, 50))
            polls = [f"/v1/media/result?task_id={i}" for i in ids]
            time.sleep(2)
            ceiling = asyncio.run(hammer(srv.url, key, ["/v1/models"], 64, args.seconds))
            polled = asyncio.run(hammer(srv.url, key, polls, 64, args.seconds))
            ceiling2 = asyncio.run(hammer(srv.url, key, ["/v1/models"], 64, args.seconds))
            ceiling = (ceiling + ceiling2) / 2
            print(
                f"GET /v1/models {ceiling:7.0f} req/s   GET /v1/media/result {polled:7.0f} req/s"
                f"   polls/ceiling = {polled / ceiling:.2f} (goal >= 0.50)"
            )
            # Interleaved A B B A, so that a drift of the machine or a growing database
            # weighs on both concurrencies alike.
            rates: dict[int, list[float]] = {8: [], 64: []}
            for conc in (8, 64, 64, 8):
                rate = asyncio.run(create_and_poll(srv.url, key, "seedream-3", args.tasks, conc))
                rates[conc].append(rate)
            ratio = sum(rates[64]) / sum(rates[8])
            print(f"tasks/s at concurrency 64 / 8 = {ratio:.2f} (goal >= 1)")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
