"""Caps on tasks running at once: per provider (vendors cap queued tasks too) and per key.
A task over a cap is not refused: it waits in mediagate's queue and starts when a slot
frees, shared fairly across keys."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import requests

from tests.helpers import Server


def test_provider_cap_queues_tasks_and_shares_slots_fairly(tmp_path: Path) -> None:
    srv = Server(tmp_path, latency=0.6, MEDIAGATE_MAX_RUNNING='{"sandbox": 2}').start()
    try:
        busy, light = srv.key(), srv.key()
        body = {"model": "seedream-3", "prompt": "x"}

        def create(key: str, n: int) -> list[str]:
            return [
                requests.post(
                    srv.url + "/v1/media/create",
                    json={**body, "prompt": f"{key[-4:]}{i}"},
                    headers={"Authorization": key},
                    timeout=10,
                ).json()["id"]
                for i in range(n)
            ]

        heavy = create(busy, 8)
        assert len(heavy) == 8
        time.sleep(0.2)
        small = create(light, 2)
        seen_running: list[int] = []
        started: dict[str, float] = {}
        stop = threading.Event()

        def watch() -> None:
            """Snapshots of the tasks table (one query each), so counts are never torn."""
            db = sqlite3.connect(f"file:{srv.data_dir / 'mediagate.db'}?mode=ro", uri=True)
            while not stop.is_set():
                rows = db.execute("SELECT id, status FROM tasks").fetchall()
                seen_running.append(sum(1 for _, status in rows if status == "processing"))
                for task_id, status in rows:
                    if status in ("processing", "done"):
                        started.setdefault(task_id, time.monotonic())
                time.sleep(0.01)
            db.close()

        watcher = threading.Thread(target=watch)
        watcher.start()
        deadline = time.monotonic() + 60
        while len(started) < 10:
            assert time.monotonic() < deadline, started
            time.sleep(0.05)
        stop.set()
        watcher.join()
        assert max(seen_running) <= 2 and max(seen_running) == 2
        # The light key did not wait behind the busy one: fair share gave it the next slots.
        order = sorted(started, key=started.get)  # type: ignore[arg-type]
        assert max(order.index(t) for t in small) <= 5  # first come, first served would say 9
    finally:
        srv.stop()


def test_per_key_cap(tmp_path: Path) -> None:
    srv = Server(tmp_path, latency=0.5, MEDIAGATE_MAX_RUNNING_PER_KEY="1").start()
    try:
        key = srv.key()
        ids = [
            requests.post(
                srv.url + "/v1/media/create",
                json={"model": "seedream-3", "prompt": f"k{i}"},
                headers={"Authorization": key},
                timeout=10,
            ).json()["id"]
            for i in range(3)
        ]
        peak = 0
        deadline = time.monotonic() + 30
        db = sqlite3.connect(f"file:{srv.data_dir / 'mediagate.db'}?mode=ro", uri=True)
        while True:  # one query per look, so a count is never torn
            states = [status for (status,) in db.execute("SELECT status FROM tasks")]
            peak = max(peak, states.count("processing"))
            if states.count("done") == len(ids):
                break
            assert time.monotonic() < deadline, states
            time.sleep(0.01)
        db.close()
        assert peak == 1
    finally:
        srv.stop()
