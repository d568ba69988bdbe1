"""The docs site: `make docs` builds strictly (a broken link fails it), and every curl example
on the quickstart and the dialect pages runs against a live server, so the pages cannot drift
from the code. An example's placeholder ids (``6b03fd…``, ``6b13…-0``) stand for the last
task the page made; a line whose URL still holds ``…`` (a signed link) is not run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Server

ROOT = Path(__file__).parents[2]
MKDOCS = Path(sys.executable).parent / "mkdocs"
PAGES = [ROOT / "docs/quickstart.md", *sorted((ROOT / "docs/dialects").glob("*.md"))]
BLOCK = re.compile(r"^```(?:sh|bash)\n(.*?)^```", re.M | re.S)
HEX_ID = re.compile(r"\b[0-9a-f]{6,24}…?(?=[-/\"?&\s]|$)|\b[0-9a-f]{24}\b")


def build(docs: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "-f", str(docs / "mkdocs.yml"), "-d", str(out)],
        capture_output=True, text=True, cwd=docs, timeout=120,
    )  # fmt: skip


def test_the_site_builds_strictly_and_a_broken_link_fails_it(tmp_path: Path) -> None:
    done = build(ROOT, tmp_path / "site")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site/dialects/aggregators/index.html").exists()
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    with (copy / "docs/sandbox.md").open("a") as page:
        page.write("\nSee [the gone page](gone.md).\n")
    broken = build(copy, tmp_path / "broken")
    assert broken.returncode != 0 and "gone.md" in broken.stderr


def commands(page: Path) -> list[str]:
    """Each curl command of the page's shell blocks, as written (its lines, quotes spanning
    lines included), without the comments that show its answer."""
    found: list[str] = []
    for block in BLOCK.findall(page.read_text()):
        current: list[str] | None = None
        for line in block.splitlines():
            top = line[:1] not in (" ", "\t")
            if line.startswith("curl "):
                current = [line]
                found.append("")
            elif top and current is not None:
                current = None  # a comment, a blank line or another command ends it
            elif current is not None:
                current.append(line)
            if current is not None:
                found[-1] = "\n".join(current).split("   #")[0].rstrip()
    return [c for c in found if " -o " not in c]


def last_id(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return None
    for key in ("id", "task_id", "result"):
        if isinstance(answer.get(key), str):
            return str(answer[key])
    return last_id(answer.get("data"))


def with_examples() -> list[Path]:
    found = [p for p in PAGES if commands(p)]
    assert len(found) >= 6  # quickstart, unified, text, midjourney, suno, aggregators
    return found


@pytest.mark.parametrize("page", with_examples(), ids=lambda p: p.stem)
def test_the_pages_curl_examples_run(page: Path, server: Server, key: str) -> None:
    examples = commands(page)
    host = server.url.removeprefix("http://")
    made: str | None = None
    for command in examples:
        if made is not None:
            command = substitute(command, made)
        if "…" in command:
            continue  # a signed link, shown for its shape
        command = command.replace("http://127.0.0.1:8000", server.url)
        command = command.replace("localhost:8000", host).replace("127.0.0.1:8000", host)
        if "Content-Type" not in command:
            command += " -H 'Content-Type: application/json'"
        done = subprocess.run(
            ["bash", "-c", command + " --fail-with-body --max-time 20"], capture_output=True,
            text=True, env={**os.environ, "KEY": key}, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, (page.name, command, done.stdout, done.stderr)
        answer = json.loads(done.stdout)
        if made is None or (
            "/feed" not in command and "/fetch" not in command and "?" not in command
        ):
            made = last_id(answer) or made


def substitute(command: str, made: str) -> str:
    """The page's placeholder ids, as the task it made last (a Suno clip id keeps its -n)."""
    return HEX_ID.sub(lambda _: made, command)
