"""The console's text pages: a chat playground that streams a reply from any chat model
(model, temperature, max tokens, tools as JSON), an embeddings try-out (vectors and how near
the texts are), and the key's request log (tokens, cost, how each request ended, time to
first token) under a chart of tokens and spend per day. Requests go through the same relay,
limits and money as the API's; the console's session stands in for the key."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import msgspec
from litestar import Request, get, post
from litestar.response import Stream, Template

from mediagate.api.common import runtime_of
from mediagate.api.openai_text import check_chat, check_embeddings
from mediagate.core.errors import InvalidRequestError, PermissionDeniedError, ProviderError
from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Mode
from mediagate.core.text import TextKind
from mediagate.web import console as c
from mediagate.web.charts import day_chart


@get("/console/chat", include_in_schema=False, guards=[c.signed_in])
async def chat_page(request: Request[Any, Any, Any]) -> Template:
    rt = runtime_of(request)

    def of(kind: TextKind) -> list[str]:
        found = rt.relay.catalogue.models.values()
        return sorted(m.id for m in found if m.kind is kind and not m.is_pattern)

    return c.page(request, "chat.html", models=of(TextKind.CHAT), embedders=of(TextKind.EMBEDDING))


class ChatAsk(msgspec.Struct):
    model: str
    message: str
    temperature: float | None = None
    max_tokens: int | None = None
    tools: str = ""  # JSON, as typed in the form


T = TypeVar("T")


async def _asked(request: Request[Any, Any, Any], kind: type[T]) -> tuple[KeyRecord, T]:
    """The signed-in key (one that may generate) and the form's JSON, decoded."""
    key = c._key(request)
    if key.mode is Mode.ADMIN:
        raise PermissionDeniedError("admin keys manage the gateway and cannot generate")
    try:
        return key, msgspec.json.decode(await request.body(), type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise InvalidRequestError("body", str(exc)) from None


@post("/console/chat", include_in_schema=False, guards=[c.signed_in], status_code=200)
async def chat_send(request: Request[Any, Any, Any]) -> Stream:
    """The reply's text as it streams (text/plain), then a line with its usage."""
    key, ask = await _asked(request, ChatAsk)
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


class EmbedAsk(msgspec.Struct):
    model: str
    texts: list[str]
    dimensions: int | None = None


class Embedded(msgspec.Struct):
    model: str
    dimensions: int
    heads: list[list[float]]  # each vector's first values
    similarity: list[list[float]]  # cosine, text by text
    prompt_tokens: int


@post("/console/embeddings", include_in_schema=False, guards=[c.signed_in], status_code=200)
async def embed(request: Request[Any, Any, Any]) -> Embedded:
    """The texts' vectors through the relay, and how near each text is to each other."""
    key, ask = await _asked(request, EmbedAsk)
    texts = [t.strip() for t in ask.texts if t.strip()]
    if not 1 <= len(texts) <= 16:
        raise InvalidRequestError("texts", f"has {len(texts)} texts", ["1 to 16 lines of text"])
    body: dict[str, Any] = {"model": ask.model, "input": texts}
    if ask.dimensions:
        body["dimensions"] = ask.dimensions
    rt = runtime_of(request)
    check_embeddings(rt, body)
    answer, _ = await rt.relay.call(await rt.relay.plan(key, "embeddings", body))
    vectors = [[float(x) for x in d["embedding"]] for d in answer["data"]]
    norms = [math.sqrt(sum(x * x for x in v)) or 1.0 for v in vectors]
    similarity = [
        [round(sum(x * y for x, y in zip(a, b, strict=False)) / (na * nb), 4)
         for b, nb in zip(vectors, norms, strict=True)]
        for a, na in zip(vectors, norms, strict=True)
    ]  # fmt: skip
    return Embedded(
        model=ask.model, dimensions=len(vectors[0]) if vectors else 0,
        heads=[[round(x, 4) for x in v[:6]] for v in vectors], similarity=similarity,
        prompt_tokens=int((answer.get("usage") or {}).get("prompt_tokens") or 0),
    )  # fmt: skip


@get("/console/requests", include_in_schema=False, guards=[c.signed_in])
async def request_log(request: Request[Any, Any, Any]) -> Template:
    rt = runtime_of(request)
    key = c._key(request)
    found = await rt.relay.history(key, 100)
    now = time.time()
    rows = await rt.accounts.usage(key.account_id, now - DAYS * 86400, now + 1, "day")
    days = [r for r in rows if r.requests]
    chart = day_chart(
        days, lambda d: d.group,
        [("tokens", lambda d: d.tokens, "count"), ("spend", lambda d: d.amount_micros, "micros")],
        left="tokens",
    )  # fmt: skip
    return c.page(request, "requests.html", requests=found, days=days, chart=chart, span=DAYS)


DAYS = 30  # the chart's span
CHAT_PAGES = [chat_page, chat_send, embed, request_log]
