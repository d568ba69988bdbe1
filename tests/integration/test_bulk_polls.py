"""Bulk polling: concurrent poll steps for one provider become one upstream call."""

from __future__ import annotations

import asyncio

import pytest

from mediagate.core.errors import ContentRejectedError, UnavailableError
from mediagate.core.provider import Pending, Ready
from mediagate.jobs.bulk import BulkPolls


class Lister:
    name = "lister"

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    async def poll_many(self, ids: list[str]) -> dict[str, object]:
        self.calls.append(ids)
        if self.fail:
            raise UnavailableError("list is down")
        out: dict[str, object] = {}
        for i in ids:
            if i.startswith("ready"):
                out[i] = Ready()
            elif i.startswith("bad"):
                out[i] = ContentRejectedError("no")
            elif not i.startswith("gone"):
                out[i] = Pending(progress=5, poll_after=1)
        return out


async def test_concurrent_polls_share_one_call_and_keep_their_own_answers() -> None:
    bulk = BulkPolls(batch=100)
    lister = Lister()
    singles: list[str] = []

    async def single(i: str) -> Pending:
        singles.append(i)
        return Pending(progress=1, poll_after=1)

    ids = [f"run{i}" for i in range(60)] + ["ready1", "bad1", "gone1"]
    results = await asyncio.gather(
        *(bulk.poll(lister, i, lambda i=i: single(i)) for i in ids),  # type: ignore[misc]
        return_exceptions=True,
    )
    assert len(lister.calls) == 1 and sorted(lister.calls[0]) == sorted(ids)
    by_id = dict(zip(ids, results, strict=True))
    assert isinstance(by_id["ready1"], Ready)
    assert isinstance(by_id["bad1"], ContentRejectedError)
    assert isinstance(by_id["run3"], Pending) and by_id["run3"].progress == 5
    assert singles == ["gone1"]  # left out of the answer: polled on its own


async def test_batches_are_capped_and_a_failed_call_fails_each_step() -> None:
    bulk = BulkPolls(batch=10)
    lister = Lister(fail=True)
    results = await asyncio.gather(
        *(bulk.poll(lister, f"run{i}", lambda: asyncio.sleep(0)) for i in range(25)),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    assert [len(c) for c in lister.calls] == [10, 10, 5]
    assert all(isinstance(r, UnavailableError) for r in results)
    with pytest.raises(UnavailableError):
        await bulk.poll(lister, "x", lambda: asyncio.sleep(0))  # type: ignore[arg-type]
