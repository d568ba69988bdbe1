"""Anthropic's Messages wire over chat (``relay.messages``), the sandbox's speech without
espeak-ng, and audio prices."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mediagate.core.text import Prices, Usage
from mediagate.providers.sandbox import speech
from mediagate.relay.messages import EventWriter, to_chat, to_message


def test_a_messages_request_as_chat() -> None:
    body: dict[str, Any] = {
        "model": "claude-x", "max_tokens": 50, "system": [{"type": "text", "text": "brief"}],
        "stop_sequences": ["END"], "metadata": {"user_id": "u1"}, "stream": True,
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": "f", "disable_parallel_tool_use": True},
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": "AAA"}}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "s"},
                {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "done"},
                {"type": "text", "text": "and?"}]},
        ],
    }  # fmt: skip
    chat = to_chat(body)
    roles = [m["role"] for m in chat["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "user"]
    assert chat["messages"][0]["content"] == "brief"
    assert chat["messages"][1]["content"][1]["image_url"]["url"] == "data:image/png;base64,AAA"
    call = chat["messages"][2]["tool_calls"][0]
    assert call["id"] == "t1" and json.loads(call["function"]["arguments"]) == {"a": 1}
    assert chat["messages"][3] == {"role": "tool", "tool_call_id": "t1", "content": "done"}
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert chat["parallel_tool_calls"] is False and chat["stop"] == ["END"]
    assert chat["user"] == "u1" and chat["stream_options"] == {"include_usage": True}


def test_a_chat_answer_as_a_message() -> None:
    answer = {
        "choices": [{"finish_reason": "tool_calls", "message": {"content": "ok", "tool_calls": [
            {"id": "c1", "function": {"name": "f", "arguments": '{"x": 2}'}}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3,
                  "prompt_tokens_details": {"cached_tokens": 4}},
    }  # fmt: skip
    message = to_message(answer, "claude-x")
    assert [b["type"] for b in message["content"]] == ["text", "tool_use"]
    assert message["content"][1]["input"] == {"x": 2} and message["stop_reason"] == "tool_use"
    assert (
        message["usage"]["input_tokens"] == 6 and message["usage"]["cache_read_input_tokens"] == 4
    )


def test_chat_chunks_as_anthropic_events() -> None:
    writer = EventWriter("claude-x")
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        {"choices": [{"index": 0, "delta": {"content": "Hel"}}]},
        {"choices": [{"index": 0, "delta": {"content": "lo"}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": ": 1}"}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 5}},
    ]  # fmt: skip
    events = [e for c in chunks for e in writer.chunk(c)] + writer.end()
    kinds = [e["type"] for e in events]
    assert kinds == [
        "message_start", "content_block_start", "content_block_delta", "content_block_delta",
        "content_block_stop", "content_block_start", "content_block_delta",
        "content_block_delta", "content_block_stop", "message_delta", "message_stop",
    ]  # fmt: skip
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    assert events[-2]["usage"]["output_tokens"] == 5 and events[-2]["usage"]["input_tokens"] == 9
    args = "".join(e["delta"].get("partial_json", "") for e in events if e.get("index") == 1
                   and e["type"] == "content_block_delta")  # fmt: skip
    assert json.loads(args) == {"a": 1}
    silent = EventWriter("m").end()  # an upstream that said nothing: still a whole message
    assert silent[0]["type"] == "message_start"
    assert "input_tokens" not in silent[-2]["usage"]


def test_the_synthetic_voice_without_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech.shutil, "which", lambda _: None)
    short, _ = speech.speak("Hi there.", "alloy", 1.0)
    long, said_long = speech.speak("Hi there. " * 8 + "And a little more to say.", "onyx", 1.0)
    assert len(long) > 4 * len(short) and len(said_long.segments) == 9
    heard = speech.listen(speech.encode(long, "mp3"))
    assert heard is not None and abs(heard.seconds - said_long.duration) < 0.1
    assert len(heard.spans) >= 5  # the sentences' pauses are heard


def test_audio_is_priced_on_characters_and_minutes() -> None:
    prices = Prices(0, 0, 0, chars=15_000_000, minute=6_000)
    assert prices.cost(Usage(characters=1000)) == 15_000
    assert prices.cost(Usage(audio_ms=90_000)) == 9_000
    assert prices.cost(Usage(audio_ms=1)) == 1  # never free: rounded up to a micro-unit
