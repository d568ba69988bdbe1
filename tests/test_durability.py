"""An accepted task survives kill -9: after a restart it reaches done exactly once."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import requests

from tests.helpers import Server, wait_done

MODELS = ["seedream-3", "google-imagen-3", "seedance-1-lite-480P-5s", "glabs-veo-3-1-fast"]


def _create(srv: Server, key: str, n: int, tag: str) -> list[str]:
    ids = []
    for i in range(n):
        resp = requests.post(
            srv.url + "/v1/media/create",
            json={"model": MODELS[i % len(MODELS)], "prompt": f"{tag} {i}"},
            headers={"Authorization": key},
            timeout=10,
        )
        assert resp.status_code == 200
        ids.append(resp.json()["id"])
    return ids


def _events(data_dir: Path, task_id: str) -> list[str]:
    with sqlite3.connect(data_dir / "mediagate.db") as db:
        rows = db.execute(
            "select status from task_events where task_id = ? order by id", (task_id,)
        ).fetchall()
    return [r[0] for r in rows]


def test_tasks_survive_two_kill_9s(tmp_path: Path) -> None:
    data = tmp_path / "data"
    srv = Server(data, latency=1.5).start()
    key = srv.key()
    first = _create(srv, key, 12, "before kill one")
    time.sleep(0.4)  # some are processing upstream, some still queued
    statuses = {
        requests.get(
            srv.url + "/v1/media/result",
            params={"task_id": t},
            headers={"Authorization": key},
            timeout=5,
        ).json()["status"]
        for t in first
    }
    assert statuses & {"idle", "processing"}, statuses
    srv.kill9()

    srv = Server(data, latency=1.5).start()
    second = _create(srv, key, 8, "before kill two")
    srv.kill9()  # killed the moment the last create was acknowledged

    srv = Server(data, latency=1.5).start()
    try:
        for task_id in first + second:
            body = wait_done(srv.url, key, task_id, timeout=90)
            assert body["status"] == "done", body
            assert requests.get(str(body["url"]), timeout=30).status_code == 200
            events = _events(data, task_id)
            assert events[0] == "queued"
            assert events.count("done") == 1, events
            assert events[-1] == "done"
    finally:
        srv.stop()
    media = list((data / "media" / "t").glob("*/*"))
    assert len(media) == len(first) + len(second)
