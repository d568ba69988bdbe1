"""The sandbox's text models: offline, deterministic per seed, and honest about what a client
test relies on. A reply honours max_tokens (finish_reason "length"), stop sequences, n and
seed; with tools and tool_choice "required" or a named function it calls a tool with
arguments valid against that tool's JSON schema; with a json_schema response format it
answers an instance of the schema; with image parts it says what it received. Embeddings
are unit vectors of the asked dimension in which texts that share words lie nearer."""

from __future__ import annotations

import hashlib
import math
import random
import re
from typing import Any

import msgspec

from mediagate.core.text import TextModel, Usage
from mediagate.tokens import count_for, prompt_tokens, text_of

WORDS = (
    "the",
    "gateway",
    "answers",
    "every",
    "request",
    "offline",
    "with",
    "words",
    "that",
    "read",
    "like",
    "a",
    "reply",
    "while",
    "tests",
    "check",
    "streaming",
    "usage",
    "tools",
    "schemas",
    "and",
    "stops",
    "so",
    "your",
    "suite",
    "can",
    "rely",
    "on",
    "it",
    "much",
    "as",
    "it",
    "relies",
    "on",
    "a",
    "payment",
    "sandbox",
    "each",
    "answer",
    "is",
    "the",
    "same",
    "for",
    "the",
    "same",
    "seed",
)
DEFAULT_TOKENS = 48
_WORD = re.compile(r"[a-z0-9]+")


class Choice(msgspec.Struct, frozen=True):
    text: str
    finish_reason: str
    tool_calls: tuple[dict[str, Any], ...] = ()


class Reply(msgspec.Struct, frozen=True):
    choices: tuple[Choice, ...]
    usage: Usage


def seed_of(model: str, body: dict[str, Any]) -> int:
    """The request's own seed, or one made from what was asked."""
    given = body.get("seed")
    if isinstance(given, int) and not isinstance(given, bool):
        return given
    asked = msgspec.json.encode([model, body.get("messages"), body.get("prompt")])
    return int.from_bytes(hashlib.sha256(asked).digest()[:8], "big")


def _words(rng: random.Random, model: TextModel, budget: int, lead: str) -> tuple[str, bool]:
    """Text of at most ``budget`` tokens: True when the budget, not the reply, ran out."""
    natural = rng.randint(DEFAULT_TOKENS // 2, DEFAULT_TOKENS)
    out = lead
    while out and count_for(model, out) > budget:  # the lead alone is over: cut it
        out = out.rsplit(" ", 1)[0] if " " in out else ""
    if lead and out != lead:
        return out, True
    while True:
        word = rng.choice(WORDS)
        candidate = f"{out} {word}" if out else word
        if count_for(model, candidate) > budget:
            return out, True
        out = candidate
        if count_for(model, out) >= natural:
            return out + ".", False


def _stop(text: str, stops: list[str]) -> tuple[str, bool]:
    cut = min((text.find(s) for s in stops if s and s in text), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _last_user(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def instance(schema: Any, rng: random.Random, depth: int = 0) -> Any:
    """A value valid against ``schema`` (the JSON Schema keywords tools and structured
    outputs use: type, properties, required, enum, const, items, anyOf/oneOf, bounds)."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for union in ("anyOf", "oneOf"):
        if schema.get(union):
            return instance(schema[union][0], rng, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties") or {}
        return {name: instance(sub, rng, depth + 1) for name, sub in props.items()}
    if kind == "array":
        least = int(schema.get("minItems") or 1)
        return [instance(schema.get("items") or {}, rng, depth + 1) for _ in range(least)]
    if kind in ("integer", "number"):
        low = float(schema.get("minimum", schema.get("exclusiveMinimum", 0)) or 0)
        high = float(schema.get("maximum", schema.get("exclusiveMaximum", low + 100)) or 0)
        value = rng.randint(math.ceil(low) + 1, max(math.ceil(low) + 1, math.floor(high) - 1))
        value = min(value, math.floor(high)) if high >= low else value
        return value if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    least = int(schema.get("minLength") or 0)
    word = rng.choice(WORDS)
    return (word * (least // len(word) + 1))[: max(least, len(word))]


def _tool_choice(body: dict[str, Any], user: str) -> list[dict[str, Any]]:
    """The tools this reply calls: a named one, every tool the question names (or the
    first) when required, the ones it names when auto; none when "none"."""
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
    functions = [t.get("function") or {} for t in tools if t.get("type") == "function"]
    choice = body.get("tool_choice", "auto")
    if choice == "none" or not functions:
        return []
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return [f for f in functions if f.get("name") == name][:1]
    named = [f for f in functions if f.get("name") and str(f["name"]) in user]
    if body.get("parallel_tool_calls") is False:
        named = named[:1]
    if choice == "required":
        return named or functions[:1]
    return named


def chat(model: TextModel, body: dict[str, Any], images: list[str]) -> Reply:
    """A chat completion: ``n`` choices, each its own text."""
    messages = body.get("messages") or []
    seed = seed_of(model.id, body)
    limit = body.get("max_completion_tokens") or body.get("max_tokens") or 10**6
    stops = body.get("stop") or []
    stops = [stops] if isinstance(stops, str) else list(stops)
    user = _last_user(messages)
    fmt = body.get("response_format") or {}
    choices, completion = [], 0
    for index in range(int(body.get("n") or 1)):
        rng = random.Random(seed * 1000 + index)
        calls = _tool_choice(body, user)
        if calls:
            made: tuple[dict[str, Any], ...] = tuple(
                {
                    "id": f"call_{hashlib.sha256(f'{seed}{index}{i}'.encode()).hexdigest()[:24]}",
                    "type": "function",
                    "function": {
                        "name": f["name"],
                        "arguments": msgspec.json.encode(
                            instance(f.get("parameters") or {"type": "object"}, rng)
                        ).decode(),
                    },
                }
                for i, f in enumerate(calls)
            )
            completion += sum(count_for(model, c["function"]["arguments"]) for c in made)
            choices.append(Choice("", "tool_calls", made))
            continue
        if fmt.get("type") == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema") or {}
            text, finish = msgspec.json.encode(instance(schema, rng)).decode(), "stop"
        elif fmt.get("type") == "json_object":
            text, finish = msgspec.json.encode({"answer": rng.choice(WORDS)}).decode(), "stop"
        else:
            lead = ("I received " + "; ".join(images) + ".") if images else ""
            if user and not images:
                lead = f"About “{' '.join(user.split()[:6])}”:"
            text, over = _words(rng, model, int(limit), lead)
            text, stopped = _stop(text, stops)
            finish = "length" if over and not stopped else "stop"
        completion += count_for(model, text)
        choices.append(Choice(text, finish))
    usage = Usage(prompt_tokens(model, messages, body.get("tools")), completion, counted=True)
    return Reply(tuple(choices), usage)


def completion(model: TextModel, body: dict[str, Any]) -> Reply:
    """The legacy completions call: ``prompt`` a string (or a list: the first one)."""
    prompt = body.get("prompt")
    text_in = prompt[0] if isinstance(prompt, list) and prompt else prompt
    text_in = text_in if isinstance(text_in, str) else ""
    seed = seed_of(model.id, body)
    limit = int(body.get("max_tokens") or 16)  # the legacy API's default
    stops = body.get("stop") or []
    stops = [stops] if isinstance(stops, str) else list(stops)
    choices, made = [], 0
    for index in range(int(body.get("n") or 1)):
        text, over = _words(random.Random(seed * 1000 + index), model, limit, "")
        text, stopped = _stop(" " + text, stops)
        made += count_for(model, text)
        choices.append(Choice(text, "length" if over and not stopped else "stop"))
    return Reply(tuple(choices), Usage(count_for(model, text_in), made, counted=True))


def embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector: the sum of one pseudo-random direction per word, so texts that share
    words point nearer each other than texts that do not."""
    vector = [0.0] * dimensions
    for word in _WORD.findall(text.lower()) or [""]:
        rng = random.Random(int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "big"))
        for i in range(dimensions):
            vector[i] += rng.gauss(0.0, 1.0)
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]
