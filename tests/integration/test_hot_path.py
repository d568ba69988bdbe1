"""Hot-path pieces of the engine issue, each on its own: the shared rate limit across
processes (PostgreSQL), the result cache that answers synchronous images without a read
back, and slot bookkeeping only where a cap applies."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mediagate.core.errors import TooManyRequestsError
from mediagate.storage.blobs import BlobStore
from mediagate.store import migrate
from mediagate.store.db import Database
from mediagate.store.limits import SharedRateLimiter


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_the_rate_limit_is_shared_by_every_process(db_url: str) -> None:
    dbs = [Database(db_url), Database(db_url)]  # two processes' worth
    await migrate.upgrade(dbs[0])
    now = [1000.0]
    limiters = [SharedRateLimiter(db, 6, lambda: now[0]) for db in dbs]
    for i in range(6):  # 6 a minute, burst 6: spread over both
        await limiters[i % 2].check("k" * 24)
    with pytest.raises(TooManyRequestsError) as refused:
        await limiters[0].check("k" * 24)
    assert refused.value.retry_after == 10  # one token every 10 s
    with pytest.raises(TooManyRequestsError):
        await limiters[1].check("k" * 24)
    await limiters[0].check("other-key-id")  # another key has its own bucket
    now[0] += 10.5
    await limiters[1].check("k" * 24)
    for db in dbs:
        await db.dispose()


async def test_a_result_just_stored_is_read_back_from_memory(tmp_path: Path) -> None:
    blobs = BlobStore.local(tmp_path, cache_bytes=1024 * 1024)

    async def chunks() -> object:
        yield b"abc"
        yield b"def"

    info = await blobs.put("t/x/0.png", chunks())  # type: ignore[arg-type]
    assert info.size == 6
    (tmp_path / "t" / "x" / "0.png").write_bytes(b"changed on disk")
    assert await blobs.read("t/x/0.png") == b"abcdef"  # no read of the file
    await blobs.delete(["t/x/0.png"])
    big = BlobStore.local(tmp_path / "b", cache_bytes=10)
    await big.put("t/y/0.png", b"0123456789ABCDEF")  # over the cache: not kept
    (tmp_path / "b" / "t" / "y" / "0.png").write_bytes(b"from disk")
    assert await big.read("t/y/0.png") == b"from disk"


async def test_slots_are_only_counted_where_a_cap_applies(tmp_path: Path) -> None:
    from mediagate.runtime import Runtime
    from mediagate.settings import Settings

    rt = Runtime(Settings(data_dir=tmp_path, max_running={"ark": 2}))
    await migrate.upgrade(rt.db)
    calls: list[str] = []
    original = rt.task_repo.take_slot

    async def spy(task: object, per_key: int, per_provider: int) -> bool:
        calls.append(task.provider)  # type: ignore[attr-defined]
        return await original(task, per_key, per_provider)  # type: ignore[arg-type]

    rt.task_repo.take_slot = spy  # type: ignore[method-assign]
    slots = rt.workers._runner._slots  # the runner's slot check
    assert slots is not None
    from tests.integration.test_engine import _task

    assert await slots(_task(1, provider="sandbox"))  # no cap: no query
    assert await slots(_task(2, provider="ark"))
    assert calls == ["ark"]
    started = time.monotonic()
    await rt.close()
    assert time.monotonic() - started < 10
