"""Wakes requests waiting on a task (OpenAI's synchronous image calls) when a step commits."""

from __future__ import annotations

import asyncio


class TaskWatch:
    """In-process notifications; waiters also re-read the store, so other processes' work
    is seen within one timeout slice."""

    def __init__(self) -> None:
        self._waiters: dict[str, list[asyncio.Event]] = {}

    def notify(self, task_id: str) -> None:
        for event in self._waiters.pop(task_id, []):
            event.set()

    async def wait(self, task_id: str, within_s: float) -> None:
        event = asyncio.Event()
        self._waiters.setdefault(task_id, []).append(event)
        try:
            await asyncio.wait_for(event.wait(), within_s)
        except TimeoutError:
            pass
        finally:
            waiters = self._waiters.get(task_id)
            if waiters and event in waiters:
                waiters.remove(event)
                if not waiters:
                    del self._waiters[task_id]

    def __len__(self) -> int:
        return sum(len(v) for v in self._waiters.values())
