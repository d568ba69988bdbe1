"""The official Node SDKs drive mediagate with only the base URL and the key changed
(tests/node: the scripts, and the lockfile `scripts/ensure-node-sdks.sh` installs from)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.fakes.openai_text import FakeOpenAIText
from tests.helpers import Server

NODE = Path(__file__).parents[1] / "node"
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "required": ["name", "age"],
}


def node(script: str, *args: str) -> dict[str, Any]:
    if shutil.which("node") is None or not (NODE / "node_modules").is_dir():
        pytest.fail("Node.js or the SDKs are missing: run scripts/ensure-node-sdks.sh")
    done = subprocess.run(
        ["node", script, *args], cwd=NODE, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def check_openai(seen: dict[str, Any], live: bool) -> None:
    assert seen["plain"]["content"] and seen["plain"]["usage"]["prompt_tokens"] > 0
    assert seen["stream"]["content"] and seen["stream"]["usage"]["completion_tokens"] > 0
    if live:  # the fake's text and usage, unchanged
        assert seen["stream"]["content"].startswith("w0 w1")
        assert seen["completion"]["text"].startswith("w0")
        return
    assert seen["tool"]["name"] == "lookup"
    jsonschema.validate(json.loads(seen["tool"]["arguments"]), SCHEMA)
    jsonschema.validate(json.loads(seen["json_schema"]), SCHEMA)
    assert seen["completion"]["text"] and seen["completion"]["usage"]["completion_tokens"] <= 5
    assert seen["response"]["status"] == "completed" and seen["response"]["text"]
    assert seen["response"]["usage"]["output_tokens"] > 0
    assert seen["embeddings"] == [16, 16]
    unknown = seen["unknown"]
    assert unknown["notFound"] is True and unknown["status"] == 404
    assert "nope-9" in unknown["message"]


def test_the_openai_node_sdk_on_a_test_key(server: Server, key: str) -> None:
    check_openai(node("openai_sdk.mjs", server.url + "/v1", key), live=False)


def test_the_openai_node_sdk_on_a_live_key(tmp_path: Path) -> None:
    upstream = FakeOpenAIText(chunks=8).start()
    server = Server(
        tmp_path / "data",
        MEDIAGATE_OPENAI_API_KEY=upstream.api_key,
        MEDIAGATE_OPENAI_BASE_URL=upstream.url + "/v1",
    ).start()
    try:
        key = server.funded_live_key(10)
        seen = node("openai_sdk.mjs", server.url + "/v1", key)
        check_openai(seen, live=True)
        assert len(upstream.calls("POST", "/v1/chat/completions")) >= 3
        server.cli("ledger", "check")
    finally:
        server.stop()
        upstream.stop()


def test_the_anthropic_node_sdk_on_a_test_key(server: Server, key: str) -> None:
    seen = node("anthropic_sdk.mjs", server.url, key)
    assert seen["plain"]["text"] and seen["plain"]["stop"] == "end_turn"
    assert seen["plain"]["usage"]["input_tokens"] > 0
    assert seen["stream"]["text"] == seen["stream"]["final"] != ""
    assert seen["stream"]["usage"]["output_tokens"] > 0
    assert seen["tool"]["name"] == "get_weather" and isinstance(seen["tool"]["input"]["city"], str)
    assert seen["tool_stop"] == "tool_use"
    unknown = seen["unknown"]
    assert unknown["notFound"] is True and unknown["status"] == 404
    assert "claude-nope-9" in unknown["message"]
