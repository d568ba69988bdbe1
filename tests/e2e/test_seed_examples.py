"""The seeds' request examples (Python requests, curl) run as written but for host and key."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import Server, wait_done

SEEDS = sorted((Path(__file__).parent.parent / "data" / "seeds").glob("00[0-3]_*.txt"))
assert len(SEEDS) == 4, "the seed pages must ship with the tests (tests/data/seeds)"
RESULT_KEYS = ["code", "id", "model", "prompt", "created_at", "status", "url"]


def _python_snippets(text: str) -> list[str]:
    """The `import requests ... print(response.json())` blocks, as written in the seed."""
    return re.findall(r"import requests\n.*?print\(response\.json\(\)\)", text, re.S)


def _curl_commands(text: str) -> list[str]:
    return re.findall(r"curl --request POST .*?--data '(?:[^']|'\\'')*'", text, re.S)


def _local(code: str, server: Server, key: str) -> str:
    return code.replace("https://gptunnel.ru", server.url).replace("YOUR_API_KEY", key)


def _run_python(code: str) -> dict[str, object]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<seed>", "exec"), {})
    # The snippet prints response.json(), a Python dict repr: read it back safely.
    import ast

    value = ast.literal_eval(out.getvalue().strip())
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_seed_python_examples(server: Server, key: str, seed: Path) -> None:
    text = seed.read_text()
    create_code, result_code = _python_snippets(text)
    created = _run_python(_local(create_code, server, key))
    assert list(created)[: len(RESULT_KEYS)] == RESULT_KEYS  # the seed's keys, in its order
    assert set(list(created)[len(RESULT_KEYS) :]) <= {"progress", "provider"}  # then extensions
    example_text = re.search(r"Пример ответа /create\s*(\{.*?\})(?=Получение)", text, re.S)
    assert example_text is not None
    example = json.loads(example_text.group(1))
    assert created["code"] == 0 and created["status"] == "idle" and created["url"] is None
    assert created["model"] == example["model"]
    assert re.fullmatch(r"[0-9a-f]{24}", str(created["id"]))
    if example["prompt"]:  # seed 000 shows "" at create; the others echo it with --ar
        assert created["prompt"] == example["prompt"]
    wait_done(server.url, key, str(created["id"]))
    # The result snippet hard-codes the seed's task id: point it at ours.
    example_id = re.search(r'"task_id": "([0-9a-f]{24})"', result_code).group(1)  # type: ignore[union-attr]
    result = _run_python(_local(result_code, server, key).replace(example_id, str(created["id"])))
    assert list(result)[: len(RESULT_KEYS)] == RESULT_KEYS  # extensions come after
    assert result["status"] == "done"
    assert result["id"] == created["id"]
    assert result["prompt"] == created["prompt"]
    ext = (
        ".mp4" if example["model"] in ("glabs-veo-3-1-fast", "seedance-1-lite-480P-5s") else ".webp"
    )
    assert str(result["url"]).split("?")[0].endswith(ext)


@pytest.mark.parametrize("seed", SEEDS, ids=[p.name[:3] for p in SEEDS])
def test_seed_curl_examples(server: Server, key: str, seed: Path) -> None:
    create_cmd, result_cmd = _curl_commands(seed.read_text())
    out = subprocess.run(
        ["bash", "-c", _local(create_cmd, server, key).replace("\\ ", " ") + " --silent"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    created = json.loads(out)
    assert created["code"] == 0 and created["status"] == "idle"
    wait_done(server.url, key, created["id"])
    example_id = re.search(r'"task_id": "([0-9a-f]{24})"', result_cmd).group(1)  # type: ignore[union-attr]
    cmd = _local(result_cmd, server, key).replace(example_id, created["id"]).replace("\\ ", " ")
    result = json.loads(
        subprocess.run(
            ["bash", "-c", cmd + " --silent"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
    )
    assert result["status"] == "done" and result["url"]
