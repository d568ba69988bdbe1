"""Text models without a server: exact prices, the catalogue's patterns, offline token
counts, and what the sandbox promises a client's test suite."""

from __future__ import annotations

import math

import jsonschema
import pytest

from mediagate import tokens
from mediagate.core.errors import InvalidRequestError
from mediagate.core.text import TextKind, Usage, default_text_catalogue
from mediagate.relay import sandbox
from mediagate.tokens import count, prompt_tokens

CAT = default_text_catalogue()
MINI = CAT.get("gpt-4o-mini", TextKind.CHAT)
WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "units": {"type": "string", "enum": ["c", "f"]},
        "hourly": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    },
    "required": ["city", "days", "units"],
    "additionalProperties": False,
}


def test_prices_are_exact_and_round_up_never_to_free() -> None:
    prices = CAT.prices(MINI)  # 0.15 / 0.075 cached / 0.60 per million tokens
    assert prices.cost(Usage(prompt=1000, completion=500, cached=200)) == 435
    assert prices.cost(Usage(prompt=1)) == 1  # 0.15 of a micro-unit is still charged
    assert prices.cost(Usage()) == 0
    priced = default_text_catalogue({"gpt-4o-mini:output": "1"})
    assert priced.prices(priced.get("gpt-4o-mini", TextKind.CHAT)).cost(Usage(0, 10)) == 10


def test_patterns_and_kinds() -> None:
    assert CAT.get("gpt-4-gizmo-g-2fkFE8rbu", TextKind.CHAT).id == "gpt-4-gizmo-*"
    with pytest.raises(InvalidRequestError) as wrong:
        CAT.get("text-embedding-3-small", TextKind.CHAT)
    assert wrong.value.param == "model" and "gpt-4o" in wrong.value.allowed
    assert CAT.find("nope") is None


def test_offline_counts_match_openais_vocabulary() -> None:
    assert count("Hello, world! How are you today?") == 9  # o200k_base, as tiktoken counts
    assert count("Привет, мир! 你好，世界") == 9
    assert count("Hello, world! How are you today?", "cl100k_base") == 9
    with pytest.raises(ValueError, match="mediagate ships"):
        count("Hello", "p50k_base")
    # A text of over a million characters is counted (bpe-openai, used before, refused them).
    assert count("word " * 250_000) == 250_001


def test_a_vocabulary_that_is_not_openais_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(tokens.vocabulary("o200k_base")) == 199998  # the file tiktoken pins, whole
    changed = tokens.VOCABULARIES["o200k_base"]._replace(sha256="0" * 64)
    monkeypatch.setitem(tokens.VOCABULARIES, "o200k_base", changed)
    with pytest.raises(ValueError, match="not OpenAI's file"):
        tokens.vocabulary("o200k_base")
    said = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert prompt_tokens(MINI, said) == 3 + (3 + 3) + (3 + 1)


def chat(**body: object) -> sandbox.Reply:
    return sandbox.chat(MINI, {"model": "gpt-4o-mini", **body}, [])


def test_the_sandbox_is_deterministic_per_seed_and_honours_limits() -> None:
    said = [{"role": "user", "content": "tell me about foxes"}]
    assert chat(messages=said, seed=1) == chat(messages=said, seed=1)
    assert chat(messages=said, seed=1).choices != chat(messages=said, seed=2).choices
    short = chat(messages=said, max_tokens=5)
    assert short.choices[0].finish_reason == "length" and short.usage.completion <= 5
    full = chat(messages=said, seed=3)
    assert full.choices[0].finish_reason == "stop"
    word = full.choices[0].text.split()[4]
    stopped = chat(messages=said, seed=3, stop=[" " + word])
    assert word not in stopped.choices[0].text.split()[4:5] and stopped.usage.completion < (
        full.usage.completion
    )
    three = chat(messages=said, n=3)
    assert len({c.text for c in three.choices}) == 3


def test_tools_are_called_with_arguments_valid_against_their_schema() -> None:
    tools = [
        {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
    ]
    said = [{"role": "user", "content": "what is the weather"}]
    for choice in ("required", {"type": "function", "function": {"name": "get_weather"}}):
        reply = chat(messages=said, tools=tools, tool_choice=choice)
        (call,) = reply.choices[0].tool_calls
        assert reply.choices[0].finish_reason == "tool_calls"
        assert call["function"]["name"] == "get_weather"
        import json

        jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER)
    both = chat(
        messages=[{"role": "user", "content": "get_weather and get_time please"}],
        tools=tools,
        tool_choice="required",
    )
    assert [c["function"]["name"] for c in both.choices[0].tool_calls] == [
        "get_weather",
        "get_time",
    ]
    assert not chat(messages=said, tools=tools, tool_choice="none").choices[0].tool_calls


def test_json_schema_answers_are_instances_of_the_schema() -> None:
    import json

    fmt = {"type": "json_schema", "json_schema": {"name": "w", "schema": WEATHER}}
    reply = chat(messages=[{"role": "user", "content": "x"}], response_format=fmt)
    jsonschema.validate(json.loads(reply.choices[0].text), WEATHER)


def test_embeddings_are_unit_vectors_nearer_for_shared_words() -> None:
    fox, dog, physics = (sandbox.embedding(t, 256) for t in ("red fox", "red dog", "quantum"))
    assert len(fox) == 256 and math.isclose(sum(v * v for v in fox), 1.0, rel_tol=1e-9)
    near = sum(a * b for a, b in zip(fox, dog, strict=True))
    far = sum(a * b for a, b in zip(fox, physics, strict=True))
    assert near > far + 0.3


def test_tokens_per_minute_are_taken_before_and_given_back_after() -> None:
    from mediagate.core.errors import TooManyRequestsError
    from mediagate.core.limits import TokenRate
    from mediagate.testing import FakeClock

    clock = FakeClock()
    rate = TokenRate(1000, clock)
    rate.take("k", 800)
    with pytest.raises(TooManyRequestsError) as over:
        rate.take("k", 300)
    assert over.value.code == "tokens_per_minute_exceeded" and over.value.retry_after == 6
    rate.give("k", 700)  # the first used 100 of its 800
    rate.take("k", 300)
    rate.take("other", 1000)  # keys do not share a minute
    clock.advance(60)
    rate.take("k", 1000)
