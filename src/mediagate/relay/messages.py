"""Anthropic's Messages wire over any chat upstream: a Messages request (``POST /v1/messages``)
as the chat completion it means, and the chat answer (or its stream of chunks) back as a
Message (or Anthropic's stream events). Anthropic's own channels need none of this: their
adapter passes the Messages body through (``AnthropicText.messages``); every other upstream
(OpenAI-compatible ones and the sandbox) is wrapped in ``MessagesOver``.

Requests: ``system`` (text or text blocks) is a system message; text and image blocks
(base64 or URL) are content parts; an assistant's ``tool_use`` blocks are its tool calls and
a user's ``tool_result`` blocks are tool messages; ``tools`` take ``parameters`` from
``input_schema``; ``tool_choice`` auto / any / tool / none map to auto / required / a named
function / none, ``disable_parallel_tool_use`` to ``parallel_tool_calls: false``;
``stop_sequences`` to ``stop``; ``metadata.user_id`` to ``user``. Thinking blocks a client
sends back are dropped (chat has no place for them). Answers: finish_reason stop / length /
tool_calls / content_filter is stop_reason end_turn / max_tokens / tool_use / refusal."""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator
from typing import Any

import msgspec

from mediagate.relay.upstreams import Upstream
from mediagate.tokens import text_of

STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def _image_url(block: dict[str, Any]) -> str:
    source = block.get("source") or {}
    if source.get("type") == "url":
        return str(source.get("url") or "")
    return f"data:{source.get('media_type') or 'image/png'};base64,{source.get('data') or ''}"


def _result_text(content: Any) -> Any:
    if isinstance(content, list):
        return [
            {"type": "text", "text": str(b.get("text") or "")}
            if b.get("type") == "text"
            else {"type": "image_url", "image_url": {"url": _image_url(b)}}
            for b in content
            if isinstance(b, dict) and b.get("type") in ("text", "image")
        ]
    return "" if content is None else str(content)


def _turn(role: str, content: Any) -> list[dict[str, Any]]:
    """One Messages turn as the chat messages it means (tool results come first)."""
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for block in content:
        kind = block.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": str(block.get("text") or "")})
        elif kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(block)}})
        elif kind == "tool_use":
            arguments = msgspec.json.encode(block.get("input") or {}).decode()
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
        elif kind == "tool_result":
            results.append(
                {
                    "role": "tool",
                    "tool_call_id": block.get("tool_use_id"),
                    "content": _result_text(block.get("content")),
                }
            )
    if role == "assistant":
        text = "".join(p["text"] for p in parts if p["type"] == "text")
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = calls
        return [message]
    return results + ([{"role": "user", "content": parts}] if parts else [])


def to_chat(body: dict[str, Any]) -> dict[str, Any]:
    """The chat completion a (checked) Messages request asks for."""
    messages: list[dict[str, Any]] = []
    if system := text_of(body.get("system")):
        messages.append({"role": "system", "content": system})
    for turn in body.get("messages") or []:
        messages.extend(_turn(str(turn.get("role")), turn.get("content")))
    out: dict[str, Any] = {
        "model": body.get("model"),
        "messages": messages,
        "max_tokens": body.get("max_tokens"),
    }
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = body[name]
    if body.get("stop_sequences"):
        out["stop"] = list(body["stop_sequences"])
    user = (body.get("metadata") or {}).get("user_id")
    if user:
        out["user"] = str(user)
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and "input_schema" in t]
    if tools:
        out["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.get("name"),
                    "description": t.get("description", ""),
                    "parameters": t["input_schema"],
                },
            }
            for t in tools
        ]
    choice = body.get("tool_choice") or {}
    kind = choice.get("type")
    if kind == "any":
        out["tool_choice"] = "required"
    elif kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif kind in ("auto", "none"):
        out["tool_choice"] = kind
    if choice.get("disable_parallel_tool_use") and tools:
        out["parallel_tool_calls"] = False
    if body.get("stream"):
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    return out


def usage_of(chat_usage: Any) -> dict[str, int]:
    """Chat usage as Anthropic's: input_tokens leaves out cache reads, as Anthropic's does."""
    raw = chat_usage if isinstance(chat_usage, dict) else {}
    details = raw.get("prompt_tokens_details") or {}
    cached = int(details.get("cached_tokens") or 0) if isinstance(details, dict) else 0
    prompt = int(raw.get("prompt_tokens") or 0)
    return {
        "input_tokens": max(0, prompt - cached),
        "output_tokens": int(raw.get("completion_tokens") or 0),
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": 0,
    }


def message_id() -> str:
    return f"msg_{secrets.token_hex(12)}"


def to_message(answer: dict[str, Any], model: str) -> dict[str, Any]:
    """A chat completion as a Message."""
    choice = (answer.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": str(message["content"])})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        try:
            given = msgspec.json.decode(function.get("arguments") or "{}")
        except msgspec.DecodeError:
            given = {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{secrets.token_hex(8)}",
                "name": function.get("name"),
                "input": given,
            }
        )
    return {
        "id": message_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": STOP.get(str(choice.get("finish_reason")), "end_turn"),
        "stop_sequence": None,
        "usage": usage_of(answer.get("usage")),
    }


class EventWriter:
    """Chat chunks in, Anthropic's stream events out: message_start, a content block per
    text run or tool call (start, deltas, stop), then message_delta with the stop reason and
    usage, and message_stop."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._started = False
        self._open: int | None = None  # the content block being written
        self._blocks = 0
        self._text_block: int | None = None
        self._tools: dict[int, int] = {}  # chat tool-call index -> content block index
        self._stop = "end_turn"
        self._usage: dict[str, int] | None = None

    def _start_block(self, block: dict[str, Any], out: list[dict[str, Any]]) -> int:
        self._close(out)
        index = self._blocks
        self._blocks += 1
        self._open = index
        out.append({"type": "content_block_start", "index": index, "content_block": block})
        return index

    def _close(self, out: list[dict[str, Any]]) -> None:
        if self._open is not None:
            out.append({"type": "content_block_stop", "index": self._open})
            self._open = None

    def chunk(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not self._started:
            self._started = True
            out.append(
                {
                    "type": "message_start",
                    "message": {
                        "id": message_id(),
                        "type": "message",
                        "role": "assistant",
                        "model": self._model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 0, "output_tokens": 0},
                    },
                }
            )
        if isinstance(chunk.get("usage"), dict):
            self._usage = usage_of(chunk["usage"])
        for choice in chunk.get("choices") or []:
            if int(choice.get("index") or 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                if self._open is None or self._open != self._text_block:
                    self._text_block = self._start_block({"type": "text", "text": ""}, out)
                out.append(
                    {
                        "type": "content_block_delta",
                        "index": self._text_block,
                        "delta": {"type": "text_delta", "text": str(delta["content"])},
                    }
                )
            for call in delta.get("tool_calls") or []:
                self._tool(call, out)
            if choice.get("finish_reason"):
                self._stop = STOP.get(str(choice["finish_reason"]), "end_turn")
        return out

    def _tool(self, call: dict[str, Any], out: list[dict[str, Any]]) -> None:
        at = int(call.get("index") or 0)
        function = call.get("function") or {}
        if at not in self._tools:
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{secrets.token_hex(8)}",
                "name": function.get("name") or "",
                "input": {},
            }
            self._tools[at] = self._start_block(block, out)
        if function.get("arguments"):
            out.append(
                {
                    "type": "content_block_delta",
                    "index": self._tools[at],
                    "delta": {
                        "type": "input_json_delta",
                        "partial_json": str(function["arguments"]),
                    },
                }
            )

    def end(self) -> list[dict[str, Any]]:
        out = [] if self._started else self.chunk({})
        self._close(out)
        # Without the upstream's usage, input_tokens is left out: the relay then counts.
        usage = self._usage or {"output_tokens": 0}
        out.append(
            {
                "type": "message_delta",
                "usage": usage,
                "delta": {"stop_reason": self._stop, "stop_sequence": None},
            }
        )
        out.append({"type": "message_stop"})
        return out


class MessagesOver:
    """A chat upstream (OpenAI-compatible, or the sandbox) speaking the Messages wire."""

    def __init__(self, inner: Upstream) -> None:
        self._inner = inner
        self.name = inner.name

    async def send(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self._inner.send("/chat/completions", to_chat(body))
        return to_message(answer, str(body.get("model")))

    async def stream(self, path: str, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        writer = EventWriter(str(body.get("model")))
        chunks = self._inner.stream("/chat/completions", to_chat({**body, "stream": True}))
        try:
            async for chunk in chunks:
                for event in writer.chunk(chunk):
                    yield event
            for event in writer.end():
                yield event
        finally:
            await chunks.aclose()
