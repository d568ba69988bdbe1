"""Anthropic's Messages API, inbound: POST /v1/messages (plain, or streamed as Anthropic's
typed events) and /v1/messages/count_tokens, with the key as ``x-api-key`` or Bearer, for
Claude Code and the ``anthropic`` SDKs with only their base URL and key changed.

Requests run through the same relay as chat (routes, channels, failover, holds, charges,
the request log, rate limits), natively on Anthropic channels and translated for every other
upstream and the sandbox (``relay.messages``). A model alias (``MEDIAGATE_MODEL_ALIASES``)
lets ``claude-sonnet-4-5`` be served by any model. Errors are Anthropic's shape,
``{"type": "error", "error": {"type", "message"}}``, with its statuses, and name the field
as the Messages API names it."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.response import Stream

from mediagate.api.common import api_key, classify, dialect_router, key_guard, runtime_of
from mediagate.api.openai_text import (
    TOOL_NAME,
    _count,
    _image,
    _number,
    check_schema,
    find_model,
    read_body,
)
from mediagate.core.errors import InvalidRequestError, ProviderError
from mediagate.core.text import TextKind, TextModel
from mediagate.relay.messages import to_chat
from mediagate.relay.plans import status_of
from mediagate.tokens import prompt_tokens

BLOCKS = ("text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking")
MEDIA = ("image/jpeg", "image/png", "image/gif", "image/webp")
CHOICES = ("auto", "any", "tool", "none")
ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 402: "billing_error",
    403: "permission_error", 404: "not_found_error", 413: "request_too_large",
    429: "rate_limit_error", 529: "overloaded_error",
}  # fmt: skip

messages_key = key_guard(  # x-api-key (Anthropic's header) or Authorization: Bearer <key>
    lambda c: c.headers.get("x-api-key") or c.headers.get("authorization")
)


def _block(block: Any, where: str, model: TextModel, rt: Any, images: list[str]) -> None:
    if not isinstance(block, dict) or block.get("type") not in BLOCKS:
        raise InvalidRequestError(f"{where}.type", "is not a content block type", list(BLOCKS))
    kind = block["type"]
    if kind == "text" and not isinstance(block.get("text"), str):
        raise InvalidRequestError(f"{where}.text", "must be text")
    if kind == "image":
        if not model.vision:
            raise InvalidRequestError(where, f"{model.id} takes no images")
        source = block.get("source")
        if not isinstance(source, dict) or source.get("type") not in ("base64", "url"):
            raise InvalidRequestError(f"{where}.source.type", "is not a source", ["base64", "url"])
        if source["type"] == "base64" and source.get("media_type") not in MEDIA:
            raise InvalidRequestError(f"{where}.source.media_type", "is not allowed", list(MEDIA))
        url = source.get("url")
        if source["type"] == "base64":
            url = f"data:{source['media_type']};base64,{source.get('data') or ''}"
        field = f"{where}.source.{'url' if source['type'] == 'url' else 'data'}"
        s = rt.settings
        images.append(_image(url, field, s.input_max_bytes, s.input_allow_private))
    if kind == "tool_use" and not isinstance(block.get("input", {}), dict):
        raise InvalidRequestError(f"{where}.input", "must be an object")
    if kind == "tool_result" and not isinstance(block.get("tool_use_id"), str):
        raise InvalidRequestError(f"{where}.tool_use_id", "is required")


def check(rt: Any, body: dict[str, Any], counting: bool = False) -> tuple[TextModel, list[str]]:
    """A Messages body, checked before anything is spent: the model and image descriptions."""
    model = find_model(rt, body, TextKind.CHAT)
    if not counting:
        if not isinstance(body.get("max_tokens"), int) or isinstance(body["max_tokens"], bool):
            raise InvalidRequestError("max_tokens", "is required: the most tokens to make")
        _count(body, "max_tokens", 1, model.max_output or model.context)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("messages", "must be a non-empty list of turns")
    images: list[str] = []
    for i, turn in enumerate(messages):
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant"):
            raise InvalidRequestError(f"messages.{i}.role", "must be user or assistant")
        content = turn.get("content")
        if isinstance(content, list):
            for j, block in enumerate(content):
                _block(block, f"messages.{i}.content.{j}", model, rt, images)
        elif not isinstance(content, str):
            raise InvalidRequestError(f"messages.{i}.content", "must be text or content blocks")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise InvalidRequestError("system", "must be text or text blocks")
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or not TOOL_NAME.match(str(tool.get("name") or "")):
            raise InvalidRequestError(f"tools.{i}.name", "must be 1-64 of a-z A-Z 0-9 _ -")
        if "input_schema" in tool:
            check_schema(tool["input_schema"], f"tools.{i}.input_schema")
    choice = body.get("tool_choice")
    if choice is not None and (not isinstance(choice, dict) or choice.get("type") not in CHOICES):
        raise InvalidRequestError("tool_choice.type", "is not a choice", list(CHOICES))
    _number(body, "temperature", 0, 1)
    _number(body, "top_p", 0, 1)
    stops = body.get("stop_sequences")
    if stops is not None and not (
        isinstance(stops, list) and all(isinstance(s, str) for s in stops)
    ):
        raise InvalidRequestError("stop_sequences", "must be a list of strings")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InvalidRequestError("stream", "must be true or false")
    return model, images


@post("/v1/messages", status_code=200, summary="Messages (Anthropic format)")
async def messages(request: Request[Any, Any, Any]) -> Response[Any]:
    rt = runtime_of(request)
    body = await read_body(request)
    _, images = check(rt, body)
    plan = await rt.relay.plan(api_key(request), "messages", body, images)
    overhead = {"x-mediagate-overhead-ms": ""}
    if not plan.stream:
        answer, outcome = await rt.relay.call(plan)
        overhead["x-mediagate-overhead-ms"] = _ms(plan.started, outcome.upstream_at)
        return Response({**answer, "model": body["model"]}, headers=overhead)
    events = await rt.relay.open_stream(plan)  # failover happens here; errors are plain
    overhead["x-mediagate-overhead-ms"] = _ms(plan.started, time.perf_counter())
    return Stream(
        _forward(events, str(body["model"])),
        media_type="text/event-stream",
        headers={**overhead, "cache-control": "no-cache", "x-accel-buffering": "no"},
    )


class Count(msgspec.Struct):
    input_tokens: int


@post("/v1/messages/count_tokens", status_code=200, summary="Count a Messages request's tokens")
async def count_tokens(request: Request[Any, Any, Any]) -> Count:
    """Counted offline (exact for OpenAI's vocabularies, an estimate for Claude's: see the
    README's table); free, and nothing is sent upstream."""
    rt = runtime_of(request)
    body = await read_body(request)
    model, _ = check(rt, body, counting=True)
    chat = to_chat(body)
    return Count(prompt_tokens(model, chat["messages"], chat.get("tools")))


def _ms(started: float, at: float | None) -> str:
    return f"{((at or time.perf_counter()) - started) * 1000:.2f}"


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\n".encode() + b"data: " + msgspec.json.encode(event) + b"\n\n"


async def _forward(
    events: AsyncGenerator[dict[str, Any], None], asked: str
) -> AsyncIterator[bytes]:
    """The events as the caller reads them; a failure after the first byte ends the stream
    with Anthropic's ``error`` event, never a hang."""
    try:
        async for event in events:
            if not isinstance(event.get("type"), str):
                continue
            if event["type"] == "message_start":
                event = {**event, "message": {**event["message"], "model": asked}}
            yield _sse(event)
    except ProviderError as exc:
        yield _sse({"type": "error", "error": {"type": "api_error", "message": str(exc)}})
    finally:
        await events.aclose()


def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Anthropic's error shape and statuses; a caller's mistake names the field."""
    if isinstance(exc, ProviderError):
        status, message = status_of(exc), str(exc)
    else:
        info = classify(exc, {})
        if info is None:
            raise exc
        status, message = info.status, info.message
    kind = ERROR_TYPES.get(status, "api_error")
    return Response(
        {"type": "error", "error": {"type": kind, "message": message}}, status_code=status
    )


router = dialect_router([messages, count_tokens], handle, "Anthropic messages", messages_key)
