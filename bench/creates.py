"""Benchmark: create throughput and latency alone, test key vs live key (price held on an
account in the create's transaction), at several concurrencies. Tasks are created with a
long sandbox latency so the workers stay out of the way; the figure is the create path.

    .venv/bin/python bench/creates.py [--creates 400] [--conc 1 8 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.helpers import Server


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def burst(url: str, key: str, creates: int, conc: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    sem = asyncio.Semaphore(conc)
    async with aiohttp.ClientSession(headers={"Authorization": key}) as session:

        async def one(i: int) -> None:
            async with sem:
                t0 = time.perf_counter()
                async with session.post(
                    url + "/v1/media/create", json={"model": "seedream-3", "prompt": f"c{i}"}
                ) as r:
                    assert r.status == 200, await r.text()
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(creates)))
        return time.perf_counter() - start, latencies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--creates", type=int, default=400)
    ap.add_argument("--conc", type=int, nargs="+", default=[1, 8, 32])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), latency=3600, MEDIAGATE_SANDBOX_LIVE="1").start()
        try:
            admin = {"Authorization": server.key("admin")}
            acct = requests.post(server.url + "/v1/admin/accounts", json={"name": "b"},
                                 headers=admin, timeout=10).json()  # fmt: skip
            requests.post(server.url + f"/v1/admin/accounts/{acct['id']}/topup",
                          json={"amount": 1_000_000}, headers=admin, timeout=10)  # fmt: skip
            live = requests.post(
                server.url + "/v1/admin/keys",
                json={"mode": "live", "account_id": acct["id"]},
                headers=admin,
                timeout=10,
            ).json()["key"]
            keys = {"test": server.key("test"), "live": live}
            for conc in args.conc:
                for mode, key in keys.items():
                    wall, lat = asyncio.run(burst(server.url, key, args.creates, conc))
                    print(
                        f"{mode:4} conc {conc:3}: {args.creates / wall:7.1f} creates/s  "
                        f"p50 {pct(lat, 50):6.1f} ms  p99 {pct(lat, 99):6.1f} ms"
                    )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
