"""The console's text pages: a chat playground that streams a reply from any chat model
(model, temperature, max tokens, tools as JSON), and the key's request log (tokens, cost,
how each request ended, time to first token). Requests go through the same relay, limits
and money as the API's; the console's session stands in for the key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.response import Stream, Template

from mediagate.api.common import runtime_of
from mediagate.api.openai_text import check_chat
from mediagate.core.errors import InvalidRequestError, PermissionDeniedError, ProviderError
from mediagate.core.tasks import Mode
from mediagate.core.text import TextKind
from mediagate.web import console as c


@get("/console/chat", include_in_schema=False, guards=[c.signed_in])
async def chat_page(request: Request[Any, Any, Any]) -> Template:
    rt = runtime_of(request)
    models = sorted(
        m.id
        for m in rt.relay.catalogue.models.values()
        if m.kind is TextKind.CHAT and not m.is_pattern
    )
    return c.page(request, "chat.html", models=models)


class ChatAsk(msgspec.Struct):
    model: str
    message: str
    temperature: float | None = None
    max_tokens: int | None = None
    tools: str = ""  # JSON, as typed in the form


@post("/console/chat", include_in_schema=False, guards=[c.signed_in], status_code=200)
async def chat_send(request: Request[Any, Any, Any]) -> Stream:
    """The reply's text as it streams (text/plain), then a line with its usage."""
    key = c._key(request)
    if key.mode is Mode.ADMIN:
        raise PermissionDeniedError("admin keys manage the gateway and cannot generate")
    try:
        ask = msgspec.json.decode(await request.body(), type=ChatAsk)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidRequestError("body", str(exc)) from None
    body: dict[str, Any] = {
        "model": ask.model,
        "messages": [{"role": "user", "content": ask.message}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if ask.temperature is not None:
        body["temperature"] = ask.temperature
    if ask.max_tokens:
        body["max_tokens"] = ask.max_tokens
    if ask.tools.strip():
        try:
            body["tools"] = msgspec.json.decode(ask.tools)
        except msgspec.DecodeError:
            raise InvalidRequestError("tools", "is not valid JSON") from None
    rt = runtime_of(request)
    check_chat(rt, body)
    plan = await rt.relay.plan(key, "chat.completions", body)
    events = await rt.relay.open_stream(plan)
    return Stream(_text(events), media_type="text/plain; charset=utf-8")


async def _text(events: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    usage = None
    try:
        async for event in events:
            usage = event.get("usage") or usage
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or {}
                if delta.get("content"):
                    yield str(delta["content"]).encode()
                for call in delta.get("tool_calls") or []:
                    function = call.get("function") or {}
                    if function.get("name"):
                        yield f"\n[tool call: {function['name']}] ".encode()
                    yield str(function.get("arguments") or "").encode()
    except ProviderError as exc:
        yield f"\n[error: {exc}]".encode()
    if usage:
        yield (
            f"\n\n— {usage.get('prompt_tokens', 0)} prompt + "
            f"{usage.get('completion_tokens', 0)} completion tokens"
        ).encode()


@get("/console/requests", include_in_schema=False, guards=[c.signed_in])
async def request_log(request: Request[Any, Any, Any]) -> Template:
    rt = runtime_of(request)
    found = await rt.relay.history(c._key(request), 100)
    return c.page(request, "requests.html", requests=found)


CHAT_PAGES = [chat_page, chat_send, request_log]
