"""Pictures (and videos, and songs) made in chat, GPTNB's ``gpt-4-all`` style: a chat
completion whose model is a media model of the catalogue (``seedream-3``, ``midjourney``,
``google-imagen-3``, or an alias such as ``gpt-4-all``) runs that model as a task and answers
in chat's shape.

The prompt is the last user message's text and its image parts are the task's input images
(through the same checks, SSRF guard and size limits as any task). The answer is markdown:
an image link for each picture (``[video N](…)`` or ``[audio N](…)`` for other files), signed
links to files mediagate stores, then the task id. Streamed, the caller sees a progress line
as the task moves, then the links. It is charged as the media task (not as tokens), with the
task's failover, webhooks and idempotency."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.response import Stream

from mediagate.api.common import api_key, idempotency_key, output_urls, runtime_of
from mediagate.api.openai_shared import error_response, task_failure
from mediagate.core.catalogue import Kind, ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.tasks import Status, Task
from mediagate.tokens import text_of

WAIT_MARGIN_S = 30.0
MEDIA = (Kind.IMAGE, Kind.VIDEO, Kind.AUDIO)


def media_model(rt: Any, name: Any) -> ModelSpec | None:
    """The media model a chat request names, if it names one and no text model."""
    if not isinstance(name, str) or rt.relay.catalogue.find(name) is not None:
        return None
    try:
        spec: ModelSpec = rt.catalogue.get(name)
    except InvalidRequestError:
        return None
    return spec if spec.kind in MEDIA else None


def _asked(body: dict[str, Any]) -> tuple[str, list[str]]:
    """The last user message's text and image parts."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("messages", "must be a non-empty list of messages")
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            parts = content if isinstance(content, list) else []
            images = [
                str((p.get("image_url") or {}).get("url") or "")
                for p in parts
                if isinstance(p, dict) and p.get("type") == "image_url"
            ]
            return text_of(content).strip(), images
    raise InvalidRequestError("messages", "has no user message to take the prompt from")


def _markdown(request: Request[Any, Any, Any], task: Task, spec: ModelSpec) -> str:
    links = output_urls(request, task)
    word = {Kind.IMAGE: "image", Kind.VIDEO: "video", Kind.AUDIO: "audio"}[spec.kind]
    shown = [
        f"![{word} {i}]({url})" if spec.kind is Kind.IMAGE else f"[{word} {i}]({url})"
        for i, url in enumerate(links, 1)
    ]
    return "\n\n".join(shown) + f"\n\ntask: `{task.id}`"


def _chunk(rid: str, model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    event = {
        "id": rid, "object": "chat.completion.chunk", "created": int(time.time()),
        "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }  # fmt: skip
    return b"data: " + msgspec.json.encode(event) + b"\n\n"


async def run(request: Request[Any, Any, Any], body: dict[str, Any], spec: ModelSpec) -> Any:
    rt = runtime_of(request)
    prompt, images = _asked(body)
    key = api_key(request)
    asked = str(body["model"])
    task = await rt.tasks.create(
        key, asked, prompt, images=images or None, idempotency_key=idempotency_key(request)
    )
    rid = f"chatcmpl-{task.id}"
    within = spec.deadline_s + WAIT_MARGIN_S
    if not body.get("stream"):
        done = await rt.tasks.wait(key, task.id, within)
        if not done.status.terminal:
            return error_response(504, "server_error", "timeout", f"task {task.id} still runs")
        if done.status is not Status.DONE:
            return task_failure(done.error, task.id)
        message = {"role": "assistant", "content": _markdown(request, done, spec)}
        return Response({
            "id": rid, "object": "chat.completion", "created": int(done.created_at),
            "model": asked, "choices": [{"index": 0, "message": message,
                                         "finish_reason": "stop", "logprobs": None}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        })  # fmt: skip

    async def events() -> AsyncIterator[bytes]:
        yield _chunk(rid, asked, {"role": "assistant", "content": ""})
        yield _chunk(rid, asked, {"content": f"> {spec.id}: task `{task.id}` queued\n"})
        deadline = time.monotonic() + within
        shown = (task.status, task.progress)
        while True:
            now = await rt.tasks.wait(key, task.id, 1.0)
            if (now.status, now.progress) != shown:
                shown = (now.status, now.progress)
                yield _chunk(rid, asked, {"content": f"> {now.status.value} {now.progress}%\n"})
            if now.status.terminal or time.monotonic() > deadline:
                break
        if now.status is Status.DONE:
            yield _chunk(rid, asked, {"content": "\n" + _markdown(request, now, spec)}, None)
            yield _chunk(rid, asked, {}, "stop")
        else:
            reason = now.error.message if now.error else "it did not finish in time"
            yield _chunk(rid, asked, {"content": f"\nThe task failed: {reason}"}, None)
            yield _chunk(rid, asked, {}, "stop")
        yield b"data: [DONE]\n\n"

    return Stream(events(), media_type="text/event-stream", headers={"cache-control": "no-cache"})
