"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb in a temp dir, started on a
free loopback port, stopped (and deleted) at the end. Debian's server binaries are installed
by scripts/ensure-postgres.sh; nothing here assumes a server is already running."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        subprocess.run([str(ROOT / "scripts" / "ensure-postgres.sh")], check=True)
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent


class Postgres:
    """``with Postgres() as pg: pg.url("dbname")``. As root, the server runs as ``postgres``
    (it refuses to run as root)."""

    def __init__(self) -> None:
        self.bin = _bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="mediagate-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._dbs = 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._user:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> Postgres:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "mediagate",
            "--auth=trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 "
            "-c shared_buffers=128MB"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts,
            "-l", str(self.dir / "log"), "-w", "-t", "60", "start",
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                return self
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start: {(self.dir / 'log').read_text()}")

    def create_db(self, name: str | None = None) -> str:
        """A new empty database; its SQLAlchemy URL (asyncpg)."""
        self._dbs += 1
        name = name or f"t{self._dbs}"
        subprocess.run(
            [str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
             "mediagate", name],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql+asyncpg://mediagate@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop",
            check=False,
        )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
