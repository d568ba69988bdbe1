"""The in-process queue: a heap of (due time, task id) that workers wait on.

It is only a hint of what to do next; the tasks table is the truth, and the reconciler
rebuilds this heap from it at start and on every sweep. A task pushed twice is run once,
because running a step first takes the task's lease in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Callable


class InProcessQueue:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, str]] = []
        self._due: dict[str, float] = {}
        self._seq = itertools.count()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._due)

    def push(self, task_id: str, due: float) -> None:
        """Schedule ``task_id`` at ``due``; an earlier schedule for it wins."""
        current = self._due.get(task_id)
        if current is not None and current <= due:
            return
        self._due[task_id] = due
        heapq.heappush(self._heap, (due, next(self._seq), task_id))
        self._changed.set()

    async def pop(self) -> str:
        """Wait for the next due task id and take it off the queue."""
        while True:
            while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
                heapq.heappop(self._heap)  # superseded by an earlier push, or taken
            if self._heap:
                due, _, task_id = self._heap[0]
                wait = due - self._clock()
                if wait <= 0:
                    heapq.heappop(self._heap)
                    del self._due[task_id]
                    return task_id
            else:
                wait = None
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=wait)
