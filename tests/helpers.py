"""Test harness: run a real mediagate server process on a free port and talk to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(
    *args: str, data_dir: Path | None, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run ``mediagate ARGS`` as a person would, whatever its exit status."""
    full_env = {**os.environ, **(env or {})}
    if data_dir is not None:
        full_env["MEDIAGATE_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "mediagate", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        timeout=120,
        check=False,
    )


def cli(*args: str, data_dir: Path, env: dict[str, str] | None = None) -> str:
    """Run ``mediagate ARGS`` and return stdout; fail the test on a non-zero exit."""
    proc = run_cli(*args, data_dir=data_dir, env=env)
    assert proc.returncode == 0, f"mediagate {args} failed: {proc.stderr}"
    return proc.stdout


START_TIMEOUT_S = 90.0


class Server:
    """A ``mediagate serve`` child process with its own data dir."""

    def __init__(self, data_dir: Path, latency: float = 0.2, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "MEDIAGATE_DATA_DIR": str(data_dir),
            "MEDIAGATE_PORT": str(self.port),
            "MEDIAGATE_SANDBOX_LATENCY_S": str(latency),
            "MEDIAGATE_INPUT_ALLOW_PRIVATE": "1",
            "MEDIAGATE_WEBHOOK_ALLOW_PRIVATE": "1",
            "MEDIAGATE_LOG_LEVEL": "warning",
            "MEDIAGATE_RATE_LIMIT_RPM": "0",  # tests poll hard; the limit has its own test
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / f"server-{self.port}.log"

    def start(self) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mediagate", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # Generous: a loaded 2-core CI machine can take many seconds to start Python.
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()  # never leave a half-started server behind
        raise RuntimeError(
            f"server did not start in {START_TIMEOUT_S:.0f} s: {self.log.read_text()[-2000:]}"
        )

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def cli(self, *args: str) -> str:
        """``mediagate ARGS`` against this server's database and storage."""
        env = {k: v for k, v in self.env.items() if k.startswith("MEDIAGATE_")}
        return cli(*args, data_dir=self.data_dir, env=env)

    def key(self, mode: str = "test", account: str | None = None) -> str:
        extra = ("--account", account) if account else ()
        return self.cli("keys", "create", f"--{mode}", *extra).strip()

    def funded_live_key(self, amount: float) -> str:
        """A live key on an account of its own holding ``amount``, made with the admin API."""
        admin = {"Authorization": self.key("admin")}
        account = requests.post(
            self.url + "/v1/admin/accounts", json={"name": "funded"}, headers=admin, timeout=10
        ).json()["id"]
        requests.post(
            self.url + f"/v1/admin/accounts/{account}/topup",
            json={"amount": amount},
            headers=admin,
            timeout=10,
        ).raise_for_status()
        made = requests.post(
            self.url + "/v1/admin/keys",
            json={"mode": "live", "account_id": account},
            headers=admin,
            timeout=10,
        )
        made.raise_for_status()
        return str(made.json()["key"])

    def rows(self, sql: str, **params: object) -> list[tuple[Any, ...]]:
        """Rows of a query on this server's database (SQLite or PostgreSQL)."""
        return db_rows(self.env.get("MEDIAGATE_DATABASE_URL") or self.sqlite_url, sql, **params)

    @property
    def sqlite_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.data_dir / 'mediagate.db'}"


def db_rows(url: str, sql: str, **params: object) -> list[tuple[Any, ...]]:
    import asyncio

    import sqlalchemy as sa
    from sqlalchemy.ext.asyncio import create_async_engine

    async def go() -> list[tuple[Any, ...]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in (await conn.execute(sa.text(sql), params)).all()]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def wait_done(url: str, key: str, task_id: str, timeout: float = 60) -> dict[str, object]:
    """Poll /v1/media/result until the task is terminal; return the last body."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, object] = requests.get(
            url + "/v1/media/result",
            params={"task_id": task_id},
            headers={"Authorization": key},
            timeout=10,
        ).json()
        if body.get("status") in ("done", "failed", "cancelled"):
            return body
        assert time.monotonic() < deadline, f"task {task_id} still {body.get('status')}"
        time.sleep(0.05)


def create_through_outage(
    server: Server, key: str, body: dict[str, Any], idempotency_key: str, within_s: float = 120
) -> requests.Response:
    """``POST /v1/media/create`` as a careful client does while the server is killed and
    restarted: the same Idempotency-Key again after a refused connection or an answer cut
    mid-body, until an answer arrives."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return requests.post(
                server.url + "/v1/media/create",
                json=body,
                headers={"Authorization": key, "Idempotency-Key": idempotency_key},
                timeout=30,
            )
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            assert time.monotonic() < deadline, "server did not come back"
            time.sleep(0.2)


def mj_done(url: str, key: str, task_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll /mj/task/{id}/fetch until the Midjourney task ends; it must succeed."""
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = requests.get(
            f"{url}/mj/task/{task_id}/fetch", headers={"mj-api-secret": key}, timeout=10
        ).json()
        if task["status"] in ("SUCCESS", "FAILURE"):
            assert task["status"] == "SUCCESS", task
            return task
        assert time.monotonic() < deadline, f"task {task_id} still {task['status']}"
        time.sleep(0.05)
