"""Live progress as Server-Sent Events: ``GET /v1/tasks/{id}/events`` sends the task (in
gptunnel's shape: status, progress, and at the end its result links or error) each time it
changes, then ends the stream once the task has finished. A comment every 15 s keeps
proxies from closing a quiet stream. Changes made here arrive at once; changes made by
another process within a second."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, get
from litestar.response import Stream

from mediagate.api.common import api_key, dialect_router, runtime_of
from mediagate.api.gptunnel import handle_error, render_task

KEEPALIVE_S = 15.0
SLICE_S = 1.0  # how often another process's changes are looked for


@get("/v1/tasks/{task_id:str}/events", summary="Follow a task as Server-Sent Events")
async def task_events(request: Request[Any, Any, Any], task_id: str) -> Stream:
    """``event: task`` with the task as JSON on every change; the stream ends after the
    task's final state. A task of another key is a 404, as everywhere."""
    rt = runtime_of(request)
    key = api_key(request)
    await rt.tasks.get(key, task_id)  # 404 before the stream starts

    async def events() -> AsyncIterator[bytes]:
        last = b""
        quiet_s = 0.0
        while True:
            task = await rt.tasks.get(key, task_id)
            data = msgspec.json.encode(render_task(request, task))
            if data != last:
                yield b"event: task\ndata: " + data + b"\n\n"
                last, quiet_s = data, 0.0
            if task.status.terminal:
                return
            if quiet_s >= KEEPALIVE_S:
                yield b": keep-alive\n\n"
                quiet_s = 0.0
            started = rt.clock()
            await rt.tasks.watch.wait(task_id, SLICE_S)
            quiet_s += rt.clock() - started

    return Stream(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


router = dialect_router([task_events], handle_error, "live progress")
