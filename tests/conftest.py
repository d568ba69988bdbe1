"""Shared fixtures (one live server per session for the API tests, with two test keys), and
the check that no process a test started outlives the session.

Tiers: tests/unit (in-memory fakes from ``mediagate.testing``), tests/integration (SQLite,
PostgreSQL, vendor fakes, in-process), tests/e2e (server processes, faults, fuzz).
``make test-fast`` runs the first two; ``make test`` runs all three."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Server
from tests.pg import Postgres


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("server"), latency=0.3).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def key(server: Server) -> str:
    return server.key("test")


@pytest.fixture(scope="session")
def other_key(server: Server) -> str:
    return server.key("test")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One throwaway PostgreSQL cluster for the session, started only if a test asks."""
    with Postgres() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded SQLite store and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    pg: Postgres = request.getfixturevalue("postgres")
    return pg.create_db()


# -- no process outlives the tests ------------------------------------------------------------

OWNER = "MEDIAGATE_TEST_OWNER"


def _runs_tests(config: pytest.Config) -> bool:
    """A process that runs tests itself: an xdist worker, or pytest without -n."""
    return hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None)


def pytest_configure(config: pytest.Config) -> None:
    if _runs_tests(config):
        os.environ[OWNER] = str(os.getpid())  # inherited by everything the tests start


def _left_behind(owner: str) -> list[tuple[int, str]]:
    found = []
    marker = f"{OWNER}={owner}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state, ppid = (entry / "stat").read_text().split(") ")[-1].split()[:2]
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if state == "Z":
            continue  # a zombie: already dead, waiting for its parent to read it
        if int(ppid) == os.getpid() and "multiprocessing.resource_tracker" in cmd:
            continue  # this process's own tracker: it ends when this process does
        found.append((int(entry.name), cmd.strip()))
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a server, worker, render process or fake is still alive once every
    fixture is torn down (after a short grace for processes on their way out); kill it."""
    owner = os.environ.get(OWNER)
    if owner != str(os.getpid()) or not Path("/proc").is_dir():
        return
    deadline = time.monotonic() + 10
    leaked = _left_behind(owner)
    while leaked and time.monotonic() < deadline:
        time.sleep(0.2)
        leaked = _left_behind(owner)
    if not leaked:
        return
    for pid, _ in leaked:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    lines = "\n".join(f"  {pid}: {cmd[:200]}" for pid, cmd in leaked)
    print(f"\n{len(leaked)} process(es) outlived the tests (now killed):\n{lines}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
