"""Operators' endpoints after real traffic: /metrics series (requests, tasks, steps, upstream
errors, webhooks, the database, money), across processes with ``serve --workers 2``;
/livez and /readyz (503 naming what failed); /docs declares how to send a key; one log
format from start-up on."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_webhooks import Receiver
from tests.helpers import Server, free_port, wait_done


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = requests.get(url + "/metrics", timeout=10).text
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    """The sum of a series over the labels not given."""
    want = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and want <= set(ls))


def test_metrics_after_real_traffic(tmp_path: Path) -> None:
    receiver = Receiver()
    srv = Server(tmp_path, latency=0.1, MEDIAGATE_SANDBOX_LIVE="1").start()
    try:
        key = srv.key()
        live = srv.funded_live_key(10)
        auth = {"Authorization": key}
        ok = requests.post(
            srv.url + "/v1/media/create",
            headers=auth,
            json={"model": "seedream-3", "prompt": "fox", "callback_url": receiver.url},
            timeout=10,
        ).json()
        bad = requests.post(
            srv.url + "/v1/media/create",
            headers=auth,
            json={"model": "seedream-3", "prompt": "[sandbox:content-rejected] x"},
            timeout=10,
        ).json()
        paid = requests.post(
            srv.url + "/v1/media/create",
            headers={"Authorization": live},
            json={"model": "seedream-3", "prompt": "paid"},
            timeout=10,
        ).json()
        for task_id, who in ((ok["id"], key), (bad["id"], key), (paid["id"], live)):
            wait_done(srv.url, who, task_id)
        receiver.wait(1)
        requests.post(
            srv.url + "/v1/media/create", headers=auth, json={"model": "nope"}, timeout=10
        )
        deadline = time.monotonic() + 10
        while True:  # the delivery's attempt is recorded just after the receiver answers
            found = samples(srv.url)
            if (
                value(found, "mediagate_webhook_delivery_seconds_count")
                or time.monotonic() > deadline
            ):
                break
            time.sleep(0.1)
    finally:
        srv.stop()
        receiver.http.shutdown()
    assert "leaked semaphore" not in srv.log.read_text()  # the render pool was shut down
    route = {"route": "/v1/media/create", "dialect": "gptunnel", "method": "POST"}
    assert value(found, "mediagate_http_request_seconds_count", status="2xx", **route) == 3
    assert value(found, "mediagate_http_request_seconds_count", status="4xx", **route) == 1
    assert value(found, "mediagate_tasks_created_total", model="seedream-3") == 3
    assert value(found, "mediagate_tasks_created_total", mode="live") == 1
    assert value(found, "mediagate_tasks_finished_total", outcome="done") == 2
    assert value(found, "mediagate_tasks_finished_total", outcome="failed") == 1
    assert value(found, "mediagate_upstream_errors_total", code="content_rejected") >= 1
    for step in ("submit", "poll"):  # the poll that finds a job done stores its files too
        assert value(found, "mediagate_step_seconds_count", step=step) >= 1, step
    assert value(found, "mediagate_webhook_delivery_seconds_count", outcome="delivered") == 1
    assert value(found, "mediagate_db_statement_seconds_count", kind="write") > 5
    assert value(found, "mediagate_db_statement_seconds_count", kind="read") > 0
    assert value(found, "mediagate_money_micros", state="charged") == 30_000  # seedream-3
    assert value(found, "mediagate_money_micros", state="held") == 0
    assert value(found, "mediagate_tasks_unfinished") == 0
    assert not [k for k in found if k[0].startswith("mediagate_http") and "/v1/files/t/" in str(k)]


def test_one_metrics_view_across_worker_processes(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MEDIAGATE_DATA_DIR": str(tmp_path), "MEDIAGATE_PORT": str(port),
           "MEDIAGATE_LOG_LEVEL": "warning", "MEDIAGATE_RATE_LIMIT_RPM": "0",
           "MEDIAGATE_SANDBOX_LATENCY_S": "0.1"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "mediagate", "serve", "--workers", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.2)
        key = subprocess.run(
            [sys.executable, "-m", "mediagate", "keys", "create", "--test"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        with requests.Session() as fresh:  # new connections: both processes take some
            for i in range(12):
                fresh.headers["Connection"] = "close"
                fresh.post(url + "/v1/media/create", headers={"Authorization": key},
                           json={"model": "seedream-3", "prompt": f"m{i}"}, timeout=10)  # fmt: skip
        # Both processes record into the shared directory (one file set per process id)...
        pids = {f.stem.rsplit("_", 1)[-1] for f in (tmp_path / "metrics").glob("*.db")}
        assert len(pids) >= 2, pids
        # ...and whichever process answers the scrape, it counts every process's creates.
        for _ in range(4):
            got = samples(url)
            assert value(got, "mediagate_tasks_created_total") == 12
            assert (
                value(got, "mediagate_http_request_seconds_count", route="/v1/media/create") == 12
            )
    finally:
        proc.terminate()
        proc.wait(30)


def test_livez_readyz_and_a_storage_failure(tmp_path: Path) -> None:
    srv = Server(tmp_path, latency=0.1).start()
    try:
        assert requests.get(srv.url + "/livez", timeout=10).json() == {"status": "ok"}
        ready = requests.get(srv.url + "/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["checks"] == {
            "database": "ok", "migrations": "ok", "storage": "ok"
        }  # fmt: skip
        media = tmp_path / "media"
        shutil.rmtree(media, ignore_errors=True)
        media.write_text("not a directory")  # storage can no longer take a write
        broken = requests.get(srv.url + "/readyz", timeout=10)
        assert broken.status_code == 503 and broken.json()["ready"] is False
        assert broken.json()["checks"]["storage"].startswith("not writable")
        assert requests.get(srv.url + "/livez", timeout=10).status_code == 200
    finally:
        srv.stop()


def test_docs_declare_the_key_schemes(server: Server) -> None:
    schema = requests.get(server.url + "/openapi.json", timeout=10).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "description": schemes["apiKey"]["description"],
    }  # fmt: skip
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert {"apiKey": []} in schema["security"] and {"bearer": []} in schema["security"]
    mj = schemes["mjApiSecret"]
    assert (mj["type"], mj["name"], mj["in"]) == ("apiKey", "mj-api-secret", "header")
    assert {"mjApiSecret": []} in schema["security"]


def test_one_log_format_from_start_up(tmp_path: Path) -> None:
    """Migrations (alembic) and mediagate's own lines share one shape; JSON when asked.
    The database is one migration behind (a new one is loaded, not migrated), so Alembic
    has work, and lines, of its own."""
    import asyncio

    from mediagate.store import migrate
    from mediagate.store.db import Database

    async def behind() -> None:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'mediagate.db'}")
        await migrate.upgrade(db, target="0007")
        await db.dispose()

    asyncio.run(behind())
    srv = Server(tmp_path, MEDIAGATE_LOG_LEVEL="info", MEDIAGATE_LOG_JSON="1").start()
    srv.stop()
    lines = [ln for ln in srv.log.read_text().splitlines() if ln.startswith("{")]
    alembic = [ln for ln in lines if "alembic" in ln]
    assert alembic and all(re.search(r'"level": "info"', ln) for ln in alembic)
    assert not re.search(r"^INFO - \d{4}-", srv.log.read_text(), re.M)  # Litestar's default


def test_task_events_stream_progress_then_the_result(
    server: Server, key: str, other_key: str
) -> None:
    made = requests.post(
        server.url + "/v1/media/create",
        headers={"Authorization": key},
        json={"model": "veo-3.0-generate-preview", "prompt": "sse", "duration_seconds": 4},
        timeout=10,
    ).json()
    events = []
    with requests.get(
        server.url + f"/v1/tasks/{made['id']}/events",
        headers={"Authorization": key},
        stream=True,
        timeout=60,
    ) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    statuses = [e["status"] for e in events]
    assert statuses[-1] == "done" and events[-1]["url"].startswith(server.url + "/v1/files/")
    assert len(events) >= 2 and statuses[0] in ("idle", "processing")
    progress = [e.get("progress", 0) for e in events]  # 0 is left out, as in every answer
    assert progress == sorted(progress) and progress[-1] == 100  # it climbs, then the end
    theirs = requests.get(
        server.url + f"/v1/tasks/{made['id']}/events",
        headers={"Authorization": other_key},
        timeout=10,
    )
    assert theirs.status_code == 404 and theirs.json()["code"] != 0


def test_a_worker_serves_its_own_metrics(tmp_path: Path) -> None:
    """`mediagate worker --metrics-port`: the steps it ran, on a port of its own."""
    api = Server(tmp_path, latency=0.1, MEDIAGATE_ENGINE="0").start()
    port = free_port()
    env = {**api.env, "MEDIAGATE_LOG_LEVEL": "warning"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "mediagate", "worker", "--metrics-port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        key = api.key()
        ids = [
            requests.post(api.url + "/v1/media/create", headers={"Authorization": key},
                          json={"model": "seedream-3", "prompt": f"w{i}"}, timeout=10).json()["id"]
            for i in range(3)
        ]  # fmt: skip
        for task_id in ids:
            assert wait_done(api.url, key, task_id)["status"] == "done"
        found = samples(f"http://127.0.0.1:{port}")
        assert value(found, "mediagate_tasks_finished_total", outcome="done") == 3
        assert value(found, "mediagate_step_seconds_count", step="submit") == 3
        assert value(found, "mediagate_tasks_in_flight") == 0
    finally:
        worker.terminate()
        worker.wait(30)
        api.stop()


def test_metrics_can_require_a_token(tmp_path: Path) -> None:
    srv = Server(tmp_path, MEDIAGATE_METRICS_TOKEN="s3cret").start()
    try:
        assert requests.get(srv.url + "/metrics", timeout=10).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert requests.get(srv.url + "/metrics", headers=wrong, timeout=10).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        got = requests.get(srv.url + "/metrics", headers=right, timeout=10)
        assert got.status_code == 200 and "mediagate_tasks_unfinished" in got.text
    finally:
        srv.stop()


def test_redoc_is_served_from_the_package(server: Server) -> None:
    page = requests.get(server.url + "/redoc", timeout=10)
    assert page.status_code == 200 and "/console/static/redoc.standalone.js" in page.text
    assert "googleapis" not in page.text and "cdn." not in page.text  # offline, no CDN
    bundle = requests.get(server.url + "/console/static/redoc.standalone.js", timeout=10)
    assert bundle.status_code == 200 and len(bundle.content) > 500_000
