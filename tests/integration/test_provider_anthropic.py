"""Anthropic: the official ``anthropic`` SDK drives the fake, then the adapter translates
chat completions to Messages and back on it (plain, streamed, tool use, errors)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import aiohttp
import anthropic
import pytest

from mediagate.core.errors import ProviderAuthError
from mediagate.providers.anthropic import AnthropicText, to_messages
from mediagate.providers.http import Credentials
from tests.fakes.anthropic import FakeAnthropic

TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    vendor = FakeAnthropic().start()
    yield vendor
    vendor.stop()


def test_the_official_sdk_speaks_to_the_fake(fake: FakeAnthropic) -> None:
    client = anthropic.Anthropic(api_key=fake.api_key, base_url=fake.url, max_retries=0)
    said = [{"role": "user", "content": "hello"}]
    made = client.messages.create(model="claude-haiku-4-5", max_tokens=100, messages=said)  # type: ignore[arg-type]
    assert made.content[0].text == "word0 word1 word2 word3 word4 word5"  # type: ignore[union-attr]
    assert made.stop_reason == "end_turn" and made.usage.output_tokens == 6
    with client.messages.stream(
        model="claude-haiku-4-5",
        max_tokens=100,
        messages=said,  # type: ignore[arg-type]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "word0 word1 word2 word3 word4 word5" and final.usage.output_tokens == 6
    tool = {"name": "get_weather", "input_schema": {"type": "object"}}
    used = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=100,
        messages=said,  # type: ignore[arg-type]
        tools=[tool],
        tool_choice={"type": "any"},  # type: ignore[list-item,typeddict-item]
    )
    assert used.stop_reason == "tool_use" and used.content[0].input == {"city": "Paris"}  # type: ignore[union-attr]
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(api_key="no", base_url=fake.url, max_retries=0).messages.create(
            model="claude-haiku-4-5",
            max_tokens=1,
            messages=said,  # type: ignore[arg-type]
        )


def test_chat_requests_translate_to_messages() -> None:
    body = {
        "model": "claude-haiku-4-5",
        "max_tokens": 50,
        "stop": "END",
        "tools": [TOOL],
        "tool_choice": "required",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        ],
    }
    sent = to_messages(body)
    assert sent["system"] == "Be brief." and sent["max_tokens"] == 50
    assert sent["stop_sequences"] == ["END"] and sent["tool_choice"] == {"type": "any"}
    assert sent["tools"][0]["input_schema"]["properties"] == {"city": {"type": "string"}}
    user, assistant, result = sent["messages"]
    assert user["content"][1]["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": "AAAA",
    }
    assert assistant["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Oslo"}}
    ]
    assert result == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"}],
    }


async def test_the_adapter_on_the_fake(fake: FakeAnthropic, session: aiohttp.ClientSession) -> None:
    text = AnthropicText(session, Credentials(fake.api_key, fake.url + "/v1"), "anthropic")
    said = {"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "hi"}]}
    answer = await text.send("/chat/completions", said)
    assert answer["choices"][0]["message"]["content"] == "word0 word1 word2 word3 word4 word5"
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["usage"]["completion_tokens"] == 6
    cut = await text.send("/chat/completions", {**said, "max_tokens": 3})
    assert cut["choices"][0]["finish_reason"] == "length"
    chunks = [c async for c in text.stream("/chat/completions", said)]
    words = "".join((c["choices"][0]["delta"].get("content") or "") for c in chunks if c["choices"])
    assert words == "word0 word1 word2 word3 word4 word5"
    assert chunks[-1]["usage"]["completion_tokens"] == 6 and not chunks[-1]["choices"]
    tooled = {**said, "tools": [TOOL], "tool_choice": "required"}
    plain = await text.send("/chat/completions", tooled)
    (call,) = plain["choices"][0]["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    streamed = [c async for c in text.stream("/chat/completions", tooled)]
    arguments = "".join(
        d["function"].get("arguments") or ""
        for c in streamed
        if c["choices"]
        for d in c["choices"][0]["delta"].get("tool_calls") or []
    )
    assert json.loads(arguments) == {"city": "Paris"}
    assert streamed[-2]["choices"][0]["finish_reason"] == "tool_calls"
    with pytest.raises(ProviderAuthError):
        await AnthropicText(session, Credentials("no", fake.url), "anthropic").send(
            "/chat/completions", said
        )
