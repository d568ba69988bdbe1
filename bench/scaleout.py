"""Benchmark: scale-out on PostgreSQL. One API process (``serve --no-engine``) and 1 or 2
``mediagate worker`` processes share a throwaway PostgreSQL cluster; a fake Ark (its own
process) runs each video for 3 polls. The same backlog of tasks is drained by 1 worker,
then by 2; the figure is the ratio of their completion rates (steps per task are fixed:
submit, 3 polls, fetch).

    .venv/bin/python bench/scaleout.py [--tasks 600]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.helpers import Server
from tests.pg import Postgres

FAKE = (
    "import time; from tests.fakes.ark import FakeArk; f = FakeArk(polls=3).start(); "
    "print(f.url, flush=True); time.sleep(1e9)"
)


async def create(url: str, key: str, n: int, tag: str) -> None:
    sem = asyncio.Semaphore(16)
    async with aiohttp.ClientSession(headers={"Authorization": key}) as session:

        async def one(i: int) -> None:
            body = {"model": "seedance-1-lite-480P-5s", "prompt": f"{tag} {i}"}
            async with sem, session.post(url + "/v1/media/create", json=body) as r:
                assert r.status == 200, await r.text()

        await asyncio.gather(*(one(i) for i in range(n)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=600)
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
            rates = {}
            for workers in (1, 2, 1, 2):  # interleaved: the machine is noisy
                key = f"w{workers}"
                rate = drain(api, workers, args.tasks, f"{key}-{len(rates)}")
                rates.setdefault(key, []).append(rate)
                print(f"{workers} worker(s): {rate:.1f} tasks/s")
            one = sum(rates["w1"]) / 2
            two = sum(rates["w2"]) / 2
            print(f"2 workers / 1 worker = {two / one:.2f} (goal >= 1.8)")
        finally:
            api.stop()
            fake.terminate()


def drain(api: Server, workers: int, tasks: int, tag: str) -> float:
    """Create ``tasks`` (a live key: they go to the fake Ark) with no worker running, then
    start ``workers`` and time the drain."""
    key = api.cli("keys", "create", "--live", "--account", "acct_default").strip()
    asyncio.run(create(api.url, key, tasks, tag))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mediagate", "worker"],
            env=api.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    t0 = time.monotonic()
    try:
        while True:
            left = api.rows("select count(*) from tasks where status in ('queued', 'processing')")
            if left[0][0] == 0:
                return tasks / (time.monotonic() - t0)
            time.sleep(0.1)
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


if __name__ == "__main__":
    main()
