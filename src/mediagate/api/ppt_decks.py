"""What the two PPT dialects (docmee's and 韦尼克's) share: a deck rendered as a ``ppt`` task,
and a .pptx read back into a deck in the render pool (a client's file, or a task's, is never
parsed in the server process)."""

from __future__ import annotations

import asyncio

from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Task, files
from mediagate.providers.sandbox.local import ppt
from mediagate.runtime import Runtime


async def render(
    rt: Runtime,
    key: KeyRecord,
    deck: ppt.Deck | None,
    topic: str = "",
    template: str = "",
    idempotency_key: str | None = None,
) -> Task:
    """A ``ppt`` task, queued: for ``deck``'s outline (and template, unless ``template``
    says another), or, with no deck, for ``topic``, whose outline the service drafts."""
    template = template or (deck.template if deck else "")
    options: dict[str, object] = {"template": template} if template else {}
    if deck is not None:
        options["outline"] = ppt.outline_markdown(deck)
    prompt = topic or (deck.subject if deck else "")
    return await rt.tasks.create(
        key, "ppt", prompt, options=options, idempotency_key=idempotency_key
    )


async def read(rt: Runtime, data: bytes) -> ppt.Deck:
    return await asyncio.get_running_loop().run_in_executor(rt.render_pool, ppt.read, data)


async def read_task(rt: Runtime, task: Task) -> ppt.Deck:
    """The deck a finished ``ppt`` task made."""
    return await read(rt, await rt.blobs.read(files(task.outputs)[0].key))
