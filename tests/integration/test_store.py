"""The store under concurrency: one lease per task, guarded transitions, no lost updates."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from mediagate.core.catalogue import default_catalogue
from mediagate.core.tasks import Mode, Status, Step, Task, TaskUpdate
from mediagate.store import migrate
from mediagate.store.db import Database
from mediagate.store.leases import TransitionError
from mediagate.store.tasks import TaskRepository


def _task(task_id: str) -> Task:
    _, params = default_catalogue().validate("seedream-3", "p")
    now = time.time()
    return Task(
        id=task_id,
        key_id="k" * 24,
        model="seedream-3",
        prompt="p",
        params=params,
        mode=Mode.TEST,
        provider="sandbox",
        status=Status.QUEUED,
        step=Step.SUBMIT,
        created_at=now,
        updated_at=now,
    )


async def test_only_one_of_many_concurrent_claims_wins(db_url: str) -> None:
    url = db_url
    dbs = [Database(url) for _ in range(4)]  # four engines: like four processes
    await migrate.upgrade(dbs[0])
    repos = [TaskRepository(db) for db in dbs]
    ids = [f"{i:024x}" for i in range(50)]
    for task_id in ids:
        await repos[0].insert(_task(task_id), next_run_at=0)
    now = time.time()
    claims = await asyncio.gather(
        *[
            repo.claim(task_id, f"owner-{n}", now, 60)
            for task_id in ids
            for n, repo in enumerate(repos)
        ]
    )
    won = [c for c in claims if c is not None]
    assert len(won) == len(ids)
    assert len({c.id for c in won}) == len(ids)
    for db in dbs:
        await db.dispose()


async def test_advance_needs_the_lease_and_a_legal_move(db_url: str) -> None:
    db = Database(db_url)
    await migrate.upgrade(db)
    repo = TaskRepository(db)
    await repo.insert(_task("a" * 24), next_run_at=0)
    task = await repo.claim("a" * 24, "me", time.time(), 60)
    assert task is not None
    assert await repo.claim("a" * 24, "other", time.time(), 60) is None
    submitted = TaskUpdate(status=Status.PROCESSING, step=Step.POLL, next_run_at=0)
    assert not await repo.advance(task, "other", submitted, time.time())
    assert await repo.advance(task, "me", submitted, time.time())
    task = await repo.claim("a" * 24, "me", time.time(), 60)
    assert task is not None and task.status is Status.PROCESSING
    assert await repo.advance(task, "me", TaskUpdate(Status.DONE, None, None), time.time())
    after = await repo.get("a" * 24)
    assert after is not None and after.status is Status.DONE and after.finished_at
    with pytest.raises(TransitionError):
        await repo.advance(after, "me", TaskUpdate(Status.PROCESSING, Step.POLL, 0), time.time())
    assert [e[1] for e in await repo.events("a" * 24)] == ["queued", "processing", "done"]
    assert await repo.unfinished() == []
    await db.dispose()


async def test_sqlite_is_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    async with db.read() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
        busy = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    assert (mode, busy) == ("wal", 30000)
    await db.dispose()


async def test_a_waiting_task_resumes_once_holding_its_price(db_url: str) -> None:
    """The open task model's store moves, on SQLite and PostgreSQL: a waiting task (a modal)
    is queued with its input and its price held in one transaction, once; get_many sees only
    the key's own tasks."""
    import msgspec

    from mediagate.core.accounts import Account, Entry, Hold
    from mediagate.store.accounts import AccountRepository

    db = Database(db_url)
    await migrate.upgrade(db)
    repo, accounts = TaskRepository(db), AccountRepository(db)
    await accounts.insert(Account("acct_w", "w", 0, time.time()))
    await accounts.credit("acct_w", 1_000_000, Entry.TOPUP, "", time.time())
    waiting = msgspec.structs.replace(
        _task("a" * 24), status=Status.WAITING, step=None, account_id="acct_w"
    )
    await repo.insert(waiting, next_run_at=None)
    await repo.insert(_task("b" * 24), next_run_at=0)
    assert [t.id for t in await repo.get_many("k" * 24, ["b" * 24, "a" * 24, "c" * 24])] == [
        "a" * 24,
        "b" * 24,
    ]
    assert await repo.get_many("z" * 24, ["a" * 24]) == []
    hold = Hold("acct_w", "k" * 24, "seedream-3", 300_000, 0.0, 0.0)
    params = msgspec.json.encode(waiting.params).decode()
    first, second = await asyncio.gather(
        repo.resume(waiting, params, time.time(), hold),
        repo.resume(waiting, params, time.time(), hold),
    )
    won = [t for t in (first, second) if t is not None]
    assert len(won) == 1 and won[0].status is Status.QUEUED and won[0].step is Step.SUBMIT
    account = await accounts.get("acct_w")
    assert account is not None and account.held_micros == 300_000  # held once, not twice
    assert await accounts.check() == []
    await db.dispose()


def _contents(path: Path) -> tuple[list[tuple[str, ...]], list[tuple[object, ...]], list[str]]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        schema = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
        ).fetchall()
        accounts = conn.execute("SELECT id, name, balance_micros FROM accounts").fetchall()
        version = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
    return schema, accounts, version


def test_a_new_sqlite_database_is_loaded_from_what_the_migrations_make(tmp_path: Path) -> None:
    """``sqlite_head.sql`` is what the migrations make today, and a database loaded from it
    (without importing Alembic) is the one they make: same schema, seed rows and version."""
    import subprocess
    import sys
    from importlib import resources

    committed = (resources.files("mediagate.store") / migrate.SQLITE_HEAD).read_text()
    assert committed == migrate.dump_sqlite_head(), (
        "the migrations changed: python -m mediagate.store.migrate > "
        "src/mediagate/store/sqlite_head.sql"
    )
    loaded, replayed = tmp_path / "loaded.db", tmp_path / "replayed.db"
    check = (
        "import asyncio, sys; from mediagate.store import migrate; "
        "from mediagate.store.db import Database; "
        f"db = Database('sqlite+aiosqlite:///{loaded}'); "
        "asyncio.run(migrate.upgrade(db)); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr  # loaded, not migrated

    async def replay() -> None:
        db = Database(f"sqlite+aiosqlite:///{replayed}")
        await migrate.upgrade(db, replay=True)
        await migrate.upgrade(db)  # at HEAD: nothing to do
        await db.dispose()

    asyncio.run(replay())
    assert _contents(loaded) == _contents(replayed)
    assert _contents(loaded)[1] == [("acct_default", "default", 0)]
    assert _contents(loaded)[2] == [migrate.HEAD]


async def test_a_database_from_before_sealing_has_its_secrets_sealed_once(tmp_path: Path) -> None:
    """Channel credentials and webhook secrets written in clear (revision 0008) are sealed
    when the database is upgraded, and still open; a later start reads none of them."""
    import sqlalchemy as sa

    from mediagate.runtime import Runtime
    from mediagate.settings import Settings
    from mediagate.store import migrate
    from mediagate.store.db import Database

    settings = Settings(data_dir=tmp_path)
    db = Database(settings.db_url)
    await migrate.upgrade(db, target="0008")
    async with db.write() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO accounts (id, name, balance_micros, created_at) "
                "VALUES ('acct_old', 'old', 0, 0)"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO api_keys (id, prefix, key_hash, mode, name, created_at, account_id, "
                "webhook_secret) VALUES ('k1', 'mg_test_x', 'h', 'test', '', 0, 'acct_old', "
                "'whsec_plain')"
            )
        )
        await conn.execute(
            sa.text(
                "INSERT INTO channels (id, provider, name, api_key, base_url, secrets, weight, "
                "priority, max_running, enabled, reason, created_at, updated_at) VALUES "
                """('ch1', 'ark', 'c', 'sk-plain-key', 'http://a', '{"x": "y"}', 1, 0, 0, """
                "true, '', 0, 0)"
            )
        )
    await db.dispose()
    rt = await Runtime.open(settings, observe=False)
    try:
        async with rt.db.read() as conn:
            found = await conn.execute(sa.text("SELECT webhook_secret FROM api_keys"))
            key_secret = found.scalar()
            row = (await conn.execute(sa.text("SELECT api_key, secrets FROM channels"))).one()
        assert str(key_secret).startswith("sealed:v1:") and "plain" not in str(key_secret)
        assert all(str(v).startswith("sealed:v1:") for v in row)
        assert await rt.key_repo.webhook_secret("k1") == "whsec_plain"
        (channel,) = await rt.channel_repo.all()
        assert channel.api_key == "sk-plain-key" and channel.secrets == {"x": "y"}
    finally:
        await rt.close()
