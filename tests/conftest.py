"""Shared fixtures: one live server per session for the API tests, with two test keys."""

from __future__ import annotations

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
