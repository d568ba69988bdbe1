"""What a relayed request used, read from what reached the caller, in either wire (OpenAI's
chat chunks and answers, Anthropic's events and messages): text and tool calls as they
stream, the upstream's usage when it reports it, and the estimate a request holds before it
is sent (its prompt counted offline, and the most output it may make)."""

from __future__ import annotations

import time
from typing import Any

import msgspec

from mediagate.core.text import TextKind, TextModel, Usage
from mediagate.tokens import count_for, prompt_tokens, text_of

DEFAULT_OUTPUT = 4096  # the output an estimate assumes when the model names no maximum


class Outcome(msgspec.Struct):
    """What the caller got, as it is known while a stream runs."""

    provider: str = ""
    upstream_model: str = ""
    texts: dict[int, str] = {}
    usage: Usage | None = None
    first_at: float | None = None  # the first event reached the caller: no failover after
    token_at: float | None = None  # the first text or tool call: time to first token
    upstream_at: float | None = None
    error: str = ""
    raw_usage: dict[str, Any] = {}  # Anthropic's, merged from message_start and message_delta


def note(event: dict[str, Any], outcome: Outcome) -> None:
    """What a stream event adds to what the caller has: text, tool arguments, usage."""
    if isinstance(event.get("type"), str) and "choices" not in event:
        _note_anthropic(event, outcome)
        return
    usage = reported(event.get("usage"))
    if usage is not None:
        outcome.usage = usage
    for choice in event.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        index = int(choice.get("index") or 0)
        raw = choice.get("delta")
        delta: dict[str, Any] = raw if isinstance(raw, dict) else {}
        piece = str(choice.get("text") or delta.get("content") or "")
        for call in delta.get("tool_calls") or []:
            if isinstance(call, dict):
                function = call.get("function") or {}
                piece += str(function.get("name") or "") + str(function.get("arguments") or "")
        if piece:
            outcome.texts[index] = outcome.texts.get(index, "") + piece
            if outcome.token_at is None:
                outcome.token_at = time.perf_counter()


def _note_anthropic(event: dict[str, Any], outcome: Outcome) -> None:
    """The same, for Anthropic's stream events (the Messages wire)."""
    kind = event.get("type")
    raw = (event.get("message") or {}).get("usage") if kind == "message_start" else None
    raw = raw if raw is not None else event.get("usage") if kind == "message_delta" else None
    if isinstance(raw, dict):
        outcome.raw_usage = {**outcome.raw_usage, **{k: v for k, v in raw.items() if v is not None}}
        outcome.usage = reported(outcome.raw_usage)
    piece = ""
    if kind == "content_block_delta":
        delta = event.get("delta") or {}
        piece = str(delta.get("text") or delta.get("partial_json") or "")
    elif kind == "content_block_start":
        piece = str((event.get("content_block") or {}).get("name") or "")
    if piece:
        outcome.texts[0] = outcome.texts.get(0, "") + piece
        if outcome.token_at is None:
            outcome.token_at = time.perf_counter()


def answer_texts(answer: dict[str, Any]) -> dict[int, str]:
    if answer.get("type") == "message":  # Anthropic's
        blocks = answer.get("content") or []
        return {0: "".join(
            str(b.get("text") or "") + (str(b.get("name") or "") + str(b.get("input") or ""))
            for b in blocks if isinstance(b, dict)
        )}  # fmt: skip
    found: dict[int, str] = {}
    for i, choice in enumerate(answer.get("choices") or []):
        if isinstance(choice, dict):
            message = choice.get("message") or {}
            found[i] = str(choice.get("text") or text_of(message.get("content")) or "")
    return found


def reported(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    if "input_tokens" in raw or "output_tokens" in raw:  # Anthropic's (the Messages wire)
        got = {k: v if isinstance(v, int) else 0 for k, v in raw.items()}
        read = got.get("cache_read_input_tokens", 0)
        given = got.get("input_tokens", 0) + read + got.get("cache_creation_input_tokens", 0)
        if given <= 0:
            return None  # no real usage (a translated stream whose upstream sent none)
        return Usage(given, got.get("output_tokens", 0), read)
    prompt, completion = raw.get("prompt_tokens"), raw.get("completion_tokens", 0)
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    details = raw.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    return Usage(prompt, completion, cached if isinstance(cached, int) else 0)


def prompt_of(model: TextModel, kind: TextKind, body: dict[str, Any]) -> int:
    if kind is TextKind.CHAT:
        return prompt_tokens(model, body.get("messages") or [], body.get("tools"))
    given = body.get("input") if kind is TextKind.EMBEDDING else body.get("prompt")
    items = [given] if isinstance(given, str) else given if isinstance(given, list) else []
    total = 0
    for item in items:
        if isinstance(item, str):
            total += count_for(model, item)
        elif isinstance(item, list):
            total += len(item)  # token ids
        elif isinstance(item, int):
            total += 1
    return total


def most_output(model: TextModel, body: dict[str, Any]) -> int:
    """The output an estimate holds for: what the request allows, times its choices."""
    if model.kind is TextKind.EMBEDDING:
        return 0
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    most = int(asked) if isinstance(asked, int) else model.max_output or DEFAULT_OUTPUT
    n = body.get("n") if isinstance(body.get("n"), int) else 1
    return most * max(1, int(n or 1))
