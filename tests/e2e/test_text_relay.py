"""OpenAI's text API on mediagate (issue 21): the official SDK against a test key (the
sandbox), bad input as 4xx naming the field, and a live key through the fake upstream, where
every way a stream can end is charged as specified, on SQLite and PostgreSQL, with the books
balanced after a mixed concurrent run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import openai
import pytest
import requests

from mediagate.tokens import count
from tests.fakes.openai_text import FakeOpenAIText
from tests.helpers import Server

SAID = [{"role": "user", "content": "tell me about foxes"}]


@pytest.fixture
def client(server: Server, key: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
        yield c


def test_the_sdk_on_a_test_key(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=SAID)  # type: ignore[arg-type]
    assert plain.choices[0].message.content and plain.usage and plain.usage.prompt_tokens > 0
    again = client.chat.completions.create(model="gpt-4o-mini", messages=SAID)  # type: ignore[arg-type]
    assert again.choices[0].message.content == plain.choices[0].message.content
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o", messages=SAID, stream=True, max_tokens=7,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["length"] and chunks[-1].usage and chunks[-1].usage.completion_tokens <= 7
    quiet = list(client.chat.completions.create(model="gpt-4o", messages=SAID, stream=True))  # type: ignore[arg-type]
    assert all(c.usage is None for c in quiet) and all(c.choices for c in quiet)
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name", "age"],
    }
    structured = client.chat.completions.create(
        model="gpt-4.1", messages=SAID,  # type: ignore[arg-type]
        response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": schema}},
    )  # fmt: skip
    jsonschema.validate(json.loads(structured.choices[0].message.content or ""), schema)
    tool = {"type": "function", "function": {"name": "lookup", "parameters": schema}}
    called = client.chat.completions.create(
        model="gpt-4o-mini", messages=SAID, tools=[tool], tool_choice="required",  # type: ignore[list-item,arg-type]
    )  # fmt: skip
    call = called.choices[0].message.tool_calls[0]  # type: ignore[index]
    jsonschema.validate(json.loads(call.function.arguments), schema)  # type: ignore[union-attr]
    legacy = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Once", max_tokens=5)
    assert legacy.choices[0].text and legacy.usage and legacy.usage.completion_tokens <= 5
    vectors = client.embeddings.create(
        model="text-embedding-3-large", input=["red fox", "red dog"], dimensions=32
    )
    assert [len(d.embedding) for d in vectors.data] == [32, 32]
    with pytest.raises(openai.NotFoundError, match="nope-9"):
        client.chat.completions.create(model="nope-9", messages=SAID)  # type: ignore[arg-type]
    ids = {m.id for m in client.models.list()}
    assert {"gpt-4o-mini", "text-embedding-3-small", "seedream-3"} <= ids


def test_an_image_part_is_described(client: openai.OpenAI) -> None:
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    said = [{"role": "user", "content": [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": url}},
    ]}]  # fmt: skip
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=said)  # type: ignore[arg-type]
    assert "40x30" in (reply.choices[0].message.content or "")


BAD = [
    ({"messages": SAID}, "model"),
    ({"model": "gpt-4o-mini", "messages": []}, "messages"),
    ({"model": "gpt-4o-mini", "messages": "hi"}, "messages"),
    ({"model": "gpt-4o-mini", "messages": [{"role": "wizard", "content": "x"}]}, "role"),
    ({"model": "gpt-4o-mini", "messages": SAID, "max_tokens": -1}, "max_tokens"),
    ({"model": "gpt-4o-mini", "messages": SAID, "max_tokens": 10**30}, "max_tokens"),
    ({"model": "gpt-4o-mini", "messages": SAID, "n": 10**6}, "n"),
    ({"model": "gpt-4o-mini", "messages": SAID, "temperature": 3}, "temperature"),
    (
        {"model": "gpt-4o-mini", "messages": SAID, "tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "banana"}}}]},
        "parameters",
    ),
    ({"model": "text-embedding-3-small", "input": []}, "input"),
    ({"model": "text-embedding-3-small", "input": "x", "dimensions": 99999}, "dimensions"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "field"), BAD)
def test_bad_input_is_a_400_naming_the_field(
    server: Server, key: str, body: dict[str, Any], field: str
) -> None:
    path = "/v1/embeddings" if "input" in body else "/v1/chat/completions"
    resp = requests.post(
        server.url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert resp.status_code == 400, resp.text
    assert field in resp.json()["error"]["message"]


def test_an_image_part_at_a_private_address_is_refused(tmp_path: Path) -> None:
    server = Server(tmp_path, MEDIAGATE_INPUT_ALLOW_PRIVATE="0").start()
    try:
        said = [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "http://127.0.0.1/x.png"}}]}]  # fmt: skip
        resp = requests.post(
            server.url + "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": said},
            headers={"Authorization": f"Bearer {server.key()}"},
            timeout=10,
        )
        assert resp.status_code == 400 and "image_url" in resp.json()["error"]["message"]
        block = {"type": "image", "source": {"type": "url", "url": "http://10.0.0.1/x.png"}}
        messages = requests.post(  # Anthropic's Messages wire: the same guard
            server.url + "/v1/messages",
            json={"model": "claude-haiku-4-5", "max_tokens": 9,
                  "messages": [{"role": "user", "content": [block]}]},
            headers={"x-api-key": server.key()}, timeout=10,
        )  # fmt: skip
        assert messages.status_code == 400
        assert "messages.0.content.0.source.url" in messages.json()["error"]["message"]
    finally:
        server.stop()


def test_undecodable_bodies_are_4xx(server: Server, key: str) -> None:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for raw in (b'{"model": "gpt-4o-mini", "messages": "\xff"}', b"[" * 100_000):
        resp = requests.post(
            server.url + "/v1/chat/completions", data=raw, headers=headers, timeout=10
        )
        assert 400 <= resp.status_code < 500


# -- a live key through the fake upstream ------------------------------------------------------


@pytest.fixture
def upstream() -> Iterator[FakeOpenAIText]:
    fake = FakeOpenAIText(chunks=20, delay_s=0.01).start()
    yield fake
    fake.stop()


@pytest.fixture
def live(tmp_path: Path, db_url: str, upstream: FakeOpenAIText) -> Iterator[tuple[Server, str]]:
    server = Server(
        tmp_path / "data",
        MEDIAGATE_DATABASE_URL=db_url,
        MEDIAGATE_OPENAI_API_KEY=upstream.api_key,
        MEDIAGATE_OPENAI_BASE_URL=upstream.url + "/v1",
    ).start()
    try:
        yield server, server.funded_live_key(10)
    finally:
        server.stop()


def rows(server: Server, request_ids: list[str] | None = None) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        found = server.rows(
            "SELECT id, ending, prompt_tokens, completion_tokens, counted, cost_micros, "
            "status FROM requests ORDER BY created_at"
        )
        names = ["id", "ending", "prompt", "completion", "counted", "cost", "status"]
        out = [dict(zip(names, r, strict=True)) for r in found]
        if request_ids is None or len(out) >= len(request_ids) or time.monotonic() > deadline:
            return out
        time.sleep(0.1)


def wait_rows(server: Server, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while len(found := rows(server)) < count:
        assert time.monotonic() < deadline, found
        time.sleep(0.1)
    return found


def stream_post(server: Server, key: str, content: str, **extra: Any) -> requests.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}],
            "stream": True, **extra}  # fmt: skip
    return requests.post(
        server.url + "/v1/chat/completions", json=body, stream=True, timeout=30,
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip


def test_every_way_a_stream_ends_is_charged_as_specified(
    live: tuple[Server, str], upstream: FakeOpenAIText
) -> None:
    server, key = live
    # 1. the upstream's usage arrived: charged on it (the caller did not ask to see it)
    full = stream_post(server, key, "one")
    body = full.text
    assert full.status_code == 200 and body.endswith("data: [DONE]\n\n") and '"usage"' not in body
    assert full.headers["x-request-id"] and float(full.headers["x-mediagate-overhead-ms"]) >= 0
    # 2. the client went away after a few chunks: the upstream is stopped, and the prompt
    #    and what was produced so far are charged
    gone = stream_post(server, key, "two")
    lines = gone.iter_lines()
    for _ in range(6):
        next(lines)
    gone.close()
    # 3. the upstream failed mid-stream: what was delivered, and an error event in the stream
    failed = stream_post(server, key, "three [fake:die-after-4]").text
    assert '"error"' in failed and failed.endswith("data: [DONE]\n\n")
    # 4. no output at all: nothing
    assert stream_post(server, key, "four [fake:silent]").status_code in (200, 502)
    # 5. no usage from the upstream: the delivered text, counted by the tokenizer
    assert "[DONE]" in stream_post(server, key, "five [fake:no-usage]").text
    found = {r["ending"]: r for r in wait_rows(server, 5)}
    assert found["completed"]["cost"] > 0 and not found["completed"]["counted"]
    assert found["completed"]["completion"] == 20
    gone_row = found["client_disconnected"]
    assert 0 < gone_row["completion"] < count(" ".join(f"w{i}" for i in range(20)))
    assert gone_row["cost"] > 0 and gone_row["counted"]
    delivered = count("w0 w1 w2 w3")  # the four words that reached the caller
    assert found["upstream_failed"]["completion"] == delivered
    assert found["upstream_failed"]["cost"] > 0
    assert found["no_output"]["cost"] == 0
    assert found["counted"]["counted"] and found["counted"]["completion"] >= 20
    deadline = time.monotonic() + 5
    while upstream.closed_early < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert upstream.closed_early >= 1  # the disconnected caller's upstream was stopped
    charged = server.rows(
        "SELECT COALESCE(SUM(amount_micros), 0) FROM ledger WHERE request_id IS NOT NULL"
    )
    assert -charged[0][0] == sum(r["cost"] for r in found.values())
    listed = requests.get(
        server.url + "/v1/requests", headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).json()["data"]
    assert {r["ending"] for r in listed} == set(found)
    done = next(r for r in listed if r["ending"] == "completed")
    assert (
        done["ttft_ms"] > 0 and done["total_ms"] >= done["ttft_ms"] and done["provider"] == "openai"
    )
    admin = {"Authorization": server.key("admin")}
    everyone = requests.get(server.url + "/v1/admin/requests", headers=admin, timeout=10)
    assert {r["id"] for r in everyone.json()["data"]} == {r["id"] for r in listed}
    refused = requests.get(
        server.url + "/v1/admin/requests", headers={"Authorization": key}, timeout=10
    )
    assert refused.status_code == 403
    server.cli("ledger", "check")  # exits 1 (failing the test) if the books disagree


def test_a_mixed_concurrent_run_keeps_the_books(
    live: tuple[Server, str], upstream: FakeOpenAIText
) -> None:
    server, key = live
    contents = ["ok", "x [fake:die-after-3]", "x [fake:no-usage]", "x [fake:silent]", "ok too"]

    def one(i: int) -> None:
        content = contents[i % len(contents)]
        if i % 7 == 0:  # some callers leave early
            resp = stream_post(server, key, content)
            next(resp.iter_lines(), None)
            resp.close()
        elif i % 3 == 0:
            requests.post(
                server.url + "/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]},
                headers={"Authorization": f"Bearer {key}"}, timeout=30,
            )  # fmt: skip
        else:
            assert stream_post(server, key, content, stream_options={"include_usage": True}).text

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(60)))
    logged = wait_rows(server, 60)
    assert len(logged) == 60
    server.cli("ledger", "check")  # exits 1 (failing the test) if the books disagree
    balance = server.rows("SELECT balance_micros FROM accounts WHERE balance_micros > 0")
    assert balance and balance[0][0] == 10_000_000 - sum(r["cost"] for r in logged)
    usage = requests.get(
        server.url + "/v1/usage", params={"group_by": "model"},
        headers={"Authorization": key}, timeout=10,
    ).json()  # fmt: skip
    (row,) = usage["data"]
    assert row["group"] == "gpt-4o-mini" and row["requests"] == 60 and row["tasks"] == 0
    assert row["amount_micros"] == sum(r["cost"] for r in logged) and row["tokens"] > 0


def test_a_key_that_cannot_pay_is_refused_before_the_upstream(
    live: tuple[Server, str], upstream: FakeOpenAIText
) -> None:
    server, _ = live
    poor = server.funded_live_key(0.00001)
    before = len(upstream.calls("POST", "/v1/chat/completions"))
    resp = requests.post(
        server.url + "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": SAID, "max_tokens": 1000},
        headers={"Authorization": f"Bearer {poor}"},
        timeout=10,
    )
    assert resp.status_code == 402, resp.text
    assert len(upstream.calls("POST", "/v1/chat/completions")) == before


def test_responses_on_a_test_key(client: openai.OpenAI) -> None:
    done = client.responses.create(model="gpt-4o-mini", input="foxes", instructions="brief")
    assert done.status == "completed" and done.output_text and done.usage
    cut = client.responses.create(model="gpt-4o-mini", input="foxes", max_output_tokens=5)
    assert cut.status == "incomplete" and cut.incomplete_details
    assert cut.incomplete_details.reason == "max_output_tokens" and cut.usage
    assert cut.usage.output_tokens <= 5
    kinds, text = [], ""
    for event in client.responses.create(model="gpt-4o", input="hello", stream=True):
        kinds.append(event.type)
        if event.type == "response.output_text.delta":
            text += event.delta
        if event.type == "response.completed":
            final = event.response
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert final.output_text == text and final.usage and final.usage.output_tokens > 0
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    tool = {"type": "function", "name": "lookup", "parameters": schema}
    called = client.responses.create(
        model="gpt-4o",
        input="x",
        tools=[tool],
        tool_choice="required",  # type: ignore[list-item]
    )
    (call,) = called.output
    assert call.type == "function_call"
    jsonschema.validate(json.loads(call.arguments), schema)
    with pytest.raises(openai.BadRequestError, match="previous_response_id"):
        client.responses.create(model="gpt-4o", input="x", previous_response_id="resp_1")


def test_responses_through_a_live_upstream_are_charged(
    live: tuple[Server, str], upstream: FakeOpenAIText
) -> None:
    server, key = live
    with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
        plain = c.responses.create(model="gpt-4o-mini", input="one")
        assert plain.output_text == " ".join(f"w{i}" for i in range(20))
        streamed = [e for e in c.responses.create(model="gpt-4o-mini", input="two", stream=True)]
        assert streamed[-1].type == "response.completed"
    sent = upstream.calls("POST", "/v1/chat/completions")[-1]
    assert sent["stream_options"] == {"include_usage": True}  # translated to chat
    logged = wait_rows(server, 2)
    assert all(r["ending"] == "completed" and r["cost"] > 0 for r in logged)
    server.cli("ledger", "check")


def test_claude_through_the_anthropic_upstream(tmp_path: Path) -> None:
    """The openai SDK asks mediagate for a Claude model: translated to Anthropic's Messages
    API and back, plain, streamed and with tools, and charged on Anthropic's usage."""
    from tests.fakes.anthropic import FakeAnthropic

    fake = FakeAnthropic().start()
    creds = json.dumps({"anthropic": {"api_key": fake.api_key, "base_url": fake.url + "/v1"}})
    server = Server(tmp_path, MEDIAGATE_CREDENTIALS=creds).start()
    try:
        key = server.funded_live_key(10)
        with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
            plain = c.chat.completions.create(model="claude-haiku-4-5", messages=SAID)  # type: ignore[arg-type]
            assert plain.choices[0].message.content == "word0 word1 word2 word3 word4 word5"
            chunks = list(
                c.chat.completions.create(
                    model="claude-haiku-4-5",
                    messages=SAID,
                    stream=True,  # type: ignore[arg-type]
                    stream_options={"include_usage": True},
                )
            )
            text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
            assert text == "word0 word1 word2 word3 word4 word5"
            assert chunks[-1].usage and chunks[-1].usage.completion_tokens == 6
            tool = {
                "type": "function",
                "function": {"name": "get_weather", "parameters": {"type": "object"}},
            }
            called = c.chat.completions.create(
                model="claude-haiku-4-5",
                messages=SAID,
                tools=[tool],  # type: ignore[list-item,arg-type]
                tool_choice="required",
            )
            (call,) = called.choices[0].message.tool_calls or []
            assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
        logged = wait_rows(server, 3)
        assert all(r["ending"] == "completed" and r["cost"] > 0 for r in logged)
        # claude-haiku-4-5: 1 / 5 per million input / output tokens
        first = logged[0]
        assert first["cost"] == -(
            -(first["prompt"] * 1_000_000 + first["completion"] * 5_000_000) // 1_000_000
        )
        server.cli("ledger", "check")
    finally:
        server.stop()
        fake.stop()


def test_an_upstream_that_fails_before_any_byte_is_a_5xx(
    live: tuple[Server, str], upstream: FakeOpenAIText
) -> None:
    server, key = live
    said = [{"role": "user", "content": "x [fake:500]"}]
    with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
        with pytest.raises(openai.InternalServerError) as plain:
            c.chat.completions.create(model="gpt-4o-mini", messages=said)  # type: ignore[arg-type]
        assert plain.value.status_code == 502
        with pytest.raises(openai.InternalServerError):
            c.chat.completions.create(model="gpt-4o-mini", messages=said, stream=True)  # type: ignore[arg-type]
    logged = wait_rows(server, 2)
    assert all(r["ending"] == "refused" and r["cost"] == 0 for r in logged)
    server.cli("ledger", "check")
