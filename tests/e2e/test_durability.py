"""An accepted task survives kill -9: after a restart it reaches done exactly once. On SQLite
and on PostgreSQL; and with separate `mediagate worker` processes, one of which is killed
while the other keeps going."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
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


def _events(srv: Server, task_id: str) -> list[str]:
    rows = srv.rows("select status from task_events where task_id = :t order by id", t=task_id)
    return [r[0] for r in rows]


def _check_done_once(srv: Server, key: str, ids: list[str]) -> None:
    for task_id in ids:
        body = wait_done(srv.url, key, task_id, timeout=90)
        assert body["status"] == "done", body
        assert requests.get(str(body["url"]), timeout=30).status_code == 200
        events = _events(srv, task_id)
        assert events[0] == "queued"
        assert events.count("done") == 1, events
        assert events[-1] == "done"


def test_tasks_survive_two_kill_9s(tmp_path: Path, db_url: str) -> None:
    data = tmp_path / "data"
    env = {"MEDIAGATE_DATABASE_URL": db_url}
    srv = Server(data, latency=1.5, **env).start()
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

    srv = Server(data, latency=1.5, **env).start()
    second = _create(srv, key, 8, "before kill two")
    srv.kill9()  # killed the moment the last create was acknowledged

    srv = Server(data, latency=1.5, **env).start()
    try:
        _check_done_once(srv, key, first + second)
    finally:
        srv.stop()
    media = list((data / "media" / "t").glob("*/*"))
    assert len(media) == len(first) + len(second)


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_killing_one_worker_leaves_the_other_to_finish(tmp_path: Path, db_url: str) -> None:
    data = tmp_path / "data"
    env = {"MEDIAGATE_DATABASE_URL": db_url, "MEDIAGATE_ENGINE_SWEEP_S": "0.5"}
    api = Server(data, latency=1.0, MEDIAGATE_ENGINE="0", **env).start()  # API only
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(2):
            log = (data / f"worker-{len(workers)}.log").open("ab")
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "mediagate", "worker"],
                    env=api.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        key = api.key()
        ids = _create(api, key, 16, "shared")
        deadline = time.monotonic() + 30
        owners: list[tuple[str, int]] = []
        while time.monotonic() < deadline and not owners:  # until a worker holds tasks
            owners = api.rows(
                "select lease_owner, count(*) from tasks where lease_owner is not null "
                "group by lease_owner order by count(*) desc"
            )
            time.sleep(0.05)
        assert owners, "no worker took the tasks"
        victim = next(w for w in workers if f":{w.pid}:" in owners[0][0])
        survivor = next(w for w in workers if w is not victim)
        os.kill(victim.pid, signal.SIGKILL)  # it holds unfinished tasks
        victim.wait(10)
        _check_done_once(api, key, ids)
        assert survivor.poll() is None
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
                w.wait(10)
        api.stop()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_render_processes_die_with_a_killed_server(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", latency=0.1).start()
    key = srv.key()
    (task_id,) = _create(srv, key, 1, "render")
    assert wait_done(srv.url, key, task_id)["status"] == "done"  # the pool has rendered
    assert srv.proc is not None
    kids = _children(srv.proc.pid)
    workers = [p for p in kids if "spawn_main" in _cmdline(p)]
    assert workers, "the render pool should have started"
    workers += [p for p in kids if "resource_tracker" in _cmdline(p)]  # the pool's tracker too
    srv.kill9()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in workers):
        time.sleep(0.1)
    assert not [p for p in workers if Path(f"/proc/{p}").exists()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
