"""Counting tokens offline, with OpenAI's own vocabularies (bpe-openai ships them: tiktoken
downloads its files at first use, which fails with no network). Each encoding loads once,
on first use (about 60 ms), then counts about ten million tokens a second.

For OpenAI's models the counts are exact; for others (DeepSeek, Qwen, Claude, ...) they are
an estimate: what an upstream reports is always charged over it."""

from __future__ import annotations

import functools
from typing import Any

from mediagate.core.text import TextModel

# What a chat message costs beyond its text, as OpenAI counts it (the cookbook's
# num_tokens_from_messages: 3 per message, 3 to prime the reply, 1 for a name).
PER_MESSAGE = 3
PER_REPLY = 3


@functools.cache
def _encoding(name: str) -> Any:
    import bpe_openai

    return bpe_openai.get_encoding(name)


def count(text: str, encoding: str = "o200k_base") -> int:
    if not text:
        return 0
    return len(_encoding(encoding).encode_ordinary(text))


def count_for(model: TextModel, text: str) -> int:
    return count(text, model.encoding)


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "input_text")
        )
    return ""


def prompt_tokens(model: TextModel, messages: list[Any], tools: Any = None) -> int:
    """A chat request's prompt, counted as OpenAI counts it (images are not counted here:
    the upstream's usage covers them)."""
    total = PER_REPLY
    for message in messages:
        if not isinstance(message, dict):
            continue
        total += PER_MESSAGE + count_for(model, text_of(message.get("content")))
        if message.get("name"):
            total += 1 + count_for(model, str(message["name"]))
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                total += count_for(model, str(function.get("name") or ""))
                total += count_for(model, str(function.get("arguments") or ""))
    if tools:
        import msgspec

        total += count_for(model, msgspec.json.encode(tools).decode())
    return total
