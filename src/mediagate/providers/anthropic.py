"""Anthropic's Messages API as a text upstream (https://api.anthropic.com/v1/messages,
``x-api-key``, ``anthropic-version: 2023-06-01``), behind the relay's chat-completions wire:
a chat request is translated to a Messages request and the answer (or its stream of events)
back to chat completions, tool use included.

Requests: system and developer messages become ``system``; image parts become image blocks
(a URL, or base64 from a data URL); an assistant's ``tool_calls`` become ``tool_use`` blocks
and ``tool`` messages ``tool_result`` blocks of a user turn; ``tools`` take their
``input_schema`` from ``parameters``; ``tool_choice`` required / a named function / none
map to any / tool / none; ``stop`` to ``stop_sequences``; ``max_tokens`` (which Anthropic
requires) defaults to the model's maximum output. Answers: text blocks are the content,
``tool_use`` blocks the tool calls, ``stop_reason`` maps to finish_reason (end_turn and
stop_sequence: stop; max_tokens: length; tool_use: tool_calls), and usage counts cache reads
as cached prompt tokens."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import aiohttp
import msgspec

from mediagate.core.errors import (
    ModelNotFoundError,
    UnavailableError,
)
from mediagate.providers.openai_text import OpenAIText

VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
TIMEOUT = aiohttp.ClientTimeout(total=600, sock_connect=10, sock_read=120)
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "pause_turn": "stop",
    "refusal": "content_filter",
}
MODEL_CODES = ("not_found_error",)
RATE_CODES = ("rate_limit_error", "overloaded_error")
AUTH_CODES = ("authentication_error", "permission_error")


def _image(part: dict[str, Any]) -> dict[str, Any]:
    url = str((part.get("image_url") or {}).get("url") or "")
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media = header[5:].split(";")[0] or "image/png"
        return {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
    return {"type": "image", "source": {"type": "url", "url": url}}


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for part in content or []:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            blocks.append({"type": "text", "text": str(part.get("text") or "")})
        elif part.get("type") == "image_url":
            blocks.append(_image(part))
    return blocks


def to_messages(body: dict[str, Any], max_output: int = 0) -> dict[str, Any]:
    """The Messages request a chat completion asks for."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if turns and turns[-1]["role"] == role:  # Anthropic alternates user and assistant
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})

    for message in body.get("messages") or []:
        role = message.get("role")
        if role in ("system", "developer"):
            text = message.get("content")
            system.append(
                text if isinstance(text, str) else "".join(b.get("text", "") for b in _blocks(text))
            )
        elif role == "tool":
            content = message.get("content")
            add(
                "user",
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": message.get("tool_call_id"),
                        "content": content if isinstance(content, str) else _blocks(content),
                    }
                ],
            )
        elif role == "assistant":
            blocks = _blocks(message.get("content"))
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                try:
                    arguments = msgspec.json.decode(function.get("arguments") or "{}")
                except msgspec.DecodeError:
                    arguments = {}
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.get("id"),
                        "name": function.get("name"),
                        "input": arguments,
                    }
                )
            add("assistant", blocks)
        else:
            add("user", _blocks(message.get("content")))
    most = body.get("max_completion_tokens") or body.get("max_tokens")
    out: dict[str, Any] = {
        "model": body.get("model"),
        "messages": turns,
        "max_tokens": most or max_output or DEFAULT_MAX_TOKENS,
    }
    if system:
        out["system"] = "\n\n".join(system)
    for name in ("temperature", "top_p"):
        if body.get(name) is not None:
            out[name] = body[name]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    tools = [t.get("function") or {} for t in body.get("tools") or [] if isinstance(t, dict)]
    if tools:
        out["tools"] = [
            {
                "name": f.get("name"),
                "description": f.get("description", ""),
                "input_schema": f.get("parameters") or {"type": "object"},
            }
            for f in tools
        ]
    choice = body.get("tool_choice")
    if choice == "required":
        out["tool_choice"] = {"type": "any"}
    elif choice == "none":
        out["tool_choice"] = {"type": "none"}
    elif isinstance(choice, dict):
        out["tool_choice"] = {"type": "tool", "name": (choice.get("function") or {}).get("name")}
    if body.get("parallel_tool_calls") is False and "tool_choice" in out:
        out["tool_choice"]["disable_parallel_tool_use"] = True
    if body.get("user"):
        out["metadata"] = {"user_id": str(body["user"])}
    return out


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    cached = int(usage.get("cache_read_input_tokens") or 0)
    made = int(usage.get("cache_creation_input_tokens") or 0)
    given = int(usage.get("input_tokens") or 0) + cached + made
    out = int(usage.get("output_tokens") or 0)
    return {
        "prompt_tokens": given,
        "completion_tokens": out,
        "total_tokens": given + out,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def to_chat(answer: dict[str, Any], model: str) -> dict[str, Any]:
    """A Messages answer as a chat completion."""
    text, calls = "", []
    for block in answer.get("content") or []:
        if block.get("type") == "text":
            text += str(block.get("text") or "")
        elif block.get("type") == "tool_use":
            arguments = msgspec.json.encode(block.get("input") or {}).decode()
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    finish = FINISH.get(str(answer.get("stop_reason")), "stop")
    return {
        "id": f"chatcmpl-{answer.get('id', '')}",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": _usage(answer.get("usage") or {}),
    }


class AnthropicText(OpenAIText):
    """Anthropic as an upstream of chat completions (``send`` and ``stream``, as
    ``OpenAIText``, translated)."""

    content_codes = ()
    model_codes = MODEL_CODES
    rate_codes = RATE_CODES
    auth_codes = AUTH_CODES

    def _headers(self) -> dict[str, str]:
        return {"x-api-key": self._creds.api_key, "anthropic-version": VERSION}

    @property
    def messages(self) -> AnthropicMessages:
        """The same upstream on its own wire: Messages requests passed through unchanged."""
        return AnthropicMessages(self)

    def _url(self, path: str = "") -> str:
        if path and path != "/chat/completions":
            raise ModelNotFoundError(f"{self.name}: Anthropic serves chat only, not {path}")
        base = self._creds.base_url.rstrip("/")
        return base + ("/messages" if base.endswith("/v1") else "/v1/messages")

    async def send(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.post(self._url(path), to_messages(body))
        return to_chat(answer, str(body.get("model")))

    async def stream(self, path: str, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        sent = {**to_messages(body), "stream": True}
        base = {
            "id": "chatcmpl-anthropic",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": body.get("model"),
        }
        usage: dict[str, Any] = {}
        tools: dict[int, int] = {}  # content block index -> tool call index
        async for event in self.post_stream(self._url(path), sent):
            for chunk in _chunks(event, base, usage, tools):
                yield chunk
            if event.get("type") == "message_stop":  # Anthropic's end (no [DONE])
                yield {**base, "choices": [], "usage": _usage(usage)}
                return
        raise UnavailableError(f"{self.name}: the stream ended without message_stop")


def _chunks(
    event: dict[str, Any], base: dict[str, Any], usage: dict[str, Any], tools: dict[int, int]
) -> list[dict[str, Any]]:
    """One Messages event as the chat chunks it means (often none)."""
    kind = event.get("type")

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    if kind == "message_start":
        usage.update((event.get("message") or {}).get("usage") or {})
        return [chunk({"role": "assistant", "content": ""})]
    if kind == "content_block_start":
        block = event.get("content_block") or {}
        if block.get("type") == "tool_use":
            tools[int(event.get("index") or 0)] = len(tools)
            call = {
                "index": tools[int(event.get("index") or 0)],
                "id": block.get("id"),
                "type": "function",
                "function": {"name": block.get("name"), "arguments": ""},
            }
            return [chunk({"tool_calls": [call]})]
        return []
    if kind == "content_block_delta":
        delta = event.get("delta") or {}
        if delta.get("type") == "text_delta":
            return [chunk({"content": str(delta.get("text") or "")})]
        if delta.get("type") == "input_json_delta":
            index = tools.get(int(event.get("index") or 0), 0)
            call = {"index": index, "function": {"arguments": str(delta.get("partial_json") or "")}}
            return [chunk({"tool_calls": [call]})]
        return []
    if kind == "message_delta":
        usage.update(event.get("usage") or {})
        reason = (event.get("delta") or {}).get("stop_reason")
        return [chunk({}, FINISH.get(str(reason), "stop"))]
    if kind == "error":
        error = event.get("error") or {}
        raise UnavailableError(f"anthropic: {error.get('type')}: {error.get('message')}")
    return []


class AnthropicMessages:
    """Anthropic's Messages API as it is: the caller's Messages body (the upstream's model
    name set) goes as sent, and its answer or events come back as they are, so nothing
    that chat has no place for (thinking, cache_control, citations) is lost."""

    def __init__(self, text: AnthropicText) -> None:
        self._text = text
        self.name = text.name

    async def send(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = await self._text.post(self._text._url(), body)
        return answer

    async def stream(self, path: str, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        async for event in self._text.post_stream(self._text._url(), {**body, "stream": True}):
            if event.get("type") == "error":
                error = event.get("error") or {}
                raise UnavailableError(f"anthropic: {error.get('type')}: {error.get('message')}")
            yield event
            if event.get("type") == "message_stop":
                return
        raise UnavailableError(f"{self.name}: the stream ended without message_stop")
