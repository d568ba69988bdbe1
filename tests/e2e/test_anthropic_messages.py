"""Anthropic's Messages API on mediagate (issue 22): the official ``anthropic`` SDK with only
its base URL and key changed, on a test key (the sandbox, translated), on a live key through
the fake Anthropic (native: the body goes as sent) and through the fake OpenAI upstream
(translated), with tools, streams, count_tokens, aliases and errors in Anthropic's shape."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import jsonschema
import pytest
import requests

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.openai_text import FakeOpenAIText
from tests.helpers import Server

SAID: list[Any] = [{"role": "user", "content": "tell me about foxes"}]
SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city", "days"],
}
TOOL: Any = {"name": "get_weather", "description": "weather", "input_schema": SCHEMA}


@pytest.fixture
def client(server: Server, key: str) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key=key, base_url=server.url, max_retries=0) as c:
        yield c


def test_the_sdk_on_a_test_key(client: anthropic.Anthropic) -> None:
    plain = client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=SAID)
    assert plain.type == "message" and plain.model == "claude-sonnet-4-5"
    assert plain.content[0].type == "text" and plain.content[0].text
    assert plain.stop_reason == "end_turn" and plain.usage.input_tokens > 0
    cut = client.messages.create(
        model="claude-haiku-4-5", max_tokens=5, messages=SAID, system="be brief"
    )
    assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens <= 5
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=SAID) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text and final.content[0].text == text  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0
    called = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=200, messages=SAID, tools=[TOOL],
        tool_choice={"type": "any"},
    )  # fmt: skip
    use = next(b for b in called.content if b.type == "tool_use")
    assert called.stop_reason == "tool_use" and use.name == "get_weather"
    jsonschema.validate(use.input, SCHEMA)
    with client.messages.stream(
        model="claude-sonnet-4-5", max_tokens=200, messages=SAID, tools=[TOOL],
        tool_choice={"type": "tool", "name": "get_weather"},
    ) as s:  # fmt: skip
        streamed = s.get_final_message()
    use = next(b for b in streamed.content if b.type == "tool_use")
    jsonschema.validate(use.input, SCHEMA)
    # the tool's result goes back, and the conversation goes on
    after = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=64, tools=[TOOL],
        messages=[*SAID, {"role": "assistant", "content": called.content},
                  {"role": "user", "content": [
                      {"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]}],
    )  # fmt: skip
    assert after.content and after.stop_reason in ("end_turn", "tool_use")
    counted = client.messages.count_tokens(model="claude-sonnet-4-5", messages=SAID)
    assert counted.input_tokens == plain.usage.input_tokens


def test_bad_input_and_unknown_models_in_anthropics_shape(
    client: anthropic.Anthropic, server: Server, key: str
) -> None:
    with pytest.raises(anthropic.NotFoundError, match="claude-nope-9"):
        client.messages.create(model="claude-nope-9", max_tokens=10, messages=SAID)
    for body, field in (
        ({"model": "claude-sonnet-4-5", "messages": SAID}, "max_tokens"),
        ({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": []}, "messages"),
        ({"model": "claude-sonnet-4-5", "max_tokens": 10**9, "messages": SAID}, "max_tokens"),
        ({"model": "claude-sonnet-4-5", "max_tokens": 10,
          "messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
        ({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user",
          "content": [{"type": "image", "source": {"type": "base64",
                       "media_type": "image/tiff", "data": "AAAA"}}]}]},
         "messages.0.content.0.source.media_type"),
        ({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role": "user",
          "content": [{"type": "image", "source": {"type": "base64",
                       "media_type": "image/png", "data": "bm90IGFuIGltYWdl"}}]}]},
         "messages.0.content.0.source.data"),
        ({"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": SAID,
          "tools": [{"name": "t", "input_schema": {"type": "nope"}}]}, "tools.0.input_schema"),
    ):  # fmt: skip
        resp = requests.post(
            server.url + "/v1/messages", json=body, headers={"x-api-key": key}, timeout=10
        )
        assert resp.status_code == 400, resp.text
        got = resp.json()
        assert got["type"] == "error" and got["error"]["type"] == "invalid_request_error"
        assert field in got["error"]["message"], (field, got)
    denied = requests.post(
        server.url + "/v1/messages", json={}, headers={"x-api-key": "nope"}, timeout=10
    )
    assert denied.status_code == 401 and denied.json()["error"]["type"] == "authentication_error"
    raw = requests.post(
        server.url + "/v1/messages", data=b"\xff{", headers={"x-api-key": key}, timeout=10
    )
    assert raw.status_code == 400


def test_an_alias_serves_claude_names_with_any_model(tmp_path: Path) -> None:
    aliases = json.dumps({"claude-sonnet-4-5": "gpt-4o-mini"})
    server = Server(tmp_path, MEDIAGATE_MODEL_ALIASES=aliases).start()
    try:
        with anthropic.Anthropic(
            api_key=server.key("test"), base_url=server.url, max_retries=0
        ) as c:
            answer = c.messages.create(model="claude-sonnet-4-5", max_tokens=20, messages=SAID)
        assert answer.model == "claude-sonnet-4-5"
        logged = server.rows("SELECT model FROM requests")
        while not logged:
            logged = server.rows("SELECT model FROM requests")
        assert logged == [("gpt-4o-mini",)]
    finally:
        server.stop()


def test_a_live_key_natively_on_anthropic_and_translated_elsewhere(tmp_path: Path) -> None:
    """On the Anthropic upstream the body goes as sent (fields chat has no place for, too);
    on an OpenAI-compatible one it is translated. Both are charged on the upstream's usage
    and the books balance."""
    claude, gpt = FakeAnthropic().start(), FakeOpenAIText(chunks=8).start()
    creds = json.dumps({"anthropic": {"api_key": claude.api_key, "base_url": claude.url + "/v1"}})
    server = Server(
        tmp_path, MEDIAGATE_CREDENTIALS=creds, MEDIAGATE_OPENAI_API_KEY=gpt.api_key,
        MEDIAGATE_OPENAI_BASE_URL=gpt.url + "/v1",
    ).start()  # fmt: skip
    try:
        key = server.funded_live_key(10)
        with anthropic.Anthropic(api_key=key, base_url=server.url, max_retries=0) as c:
            plain = c.messages.create(
                model="claude-haiku-4-5", max_tokens=50, messages=SAID, system="brief",
                metadata={"user_id": "u1"}, extra_body={"thinking": {"type": "disabled"}},
            )  # fmt: skip
            assert plain.content[0].text == "word0 word1 word2 word3 word4 word5"  # type: ignore[union-attr]
            sent = claude.calls("POST", "/v1/messages")[-1]
            assert sent["system"] == "brief" and sent["thinking"] == {"type": "disabled"}
            assert sent["metadata"] == {"user_id": "u1"} and sent["model"] == "claude-haiku-4-5"
            with c.messages.stream(
                model="claude-haiku-4-5", max_tokens=50, messages=SAID, tools=[TOOL],
                tool_choice={"type": "any"},
            ) as s:  # fmt: skip
                final = s.get_final_message()
            use = next(b for b in final.content if b.type == "tool_use")
            assert use.input == {"city": "Paris"} and final.stop_reason == "tool_use"
            translated = c.messages.create(model="gpt-4o-mini", max_tokens=50, messages=SAID)
            assert translated.content[0].text.startswith("w0 w1")  # type: ignore[union-attr]
            assert translated.usage.output_tokens == 8
            with c.messages.stream(model="gpt-4o-mini", max_tokens=50, messages=SAID) as s:
                assert "".join(s.text_stream).startswith("w0 w1")
            chat = gpt.calls("POST", "/v1/chat/completions")[-1]
            assert chat["messages"] == SAID and chat["stream_options"] == {"include_usage": True}
        rows = server.rows("SELECT route, ending, cost_micros FROM requests")
        deadline = time.monotonic() + 10
        while len(rows) < 4 and time.monotonic() < deadline:
            rows = server.rows("SELECT route, ending, cost_micros FROM requests")
        assert len(rows) == 4
        assert all(r == ("messages", "completed", r[2]) and r[2] > 0 for r in rows), rows
        server.cli("ledger", "check")
    finally:
        server.stop()
        claude.stop()
        gpt.stop()
