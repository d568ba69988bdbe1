"""schemathesis against /openapi.json on a live server, with a test key, in a bounded budget:
no answer may be a 5xx, and every documented answer must match the schema. ``make fuzz``
runs the same with a bigger budget (MEDIAGATE_FUZZ_EXAMPLES)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import Server

EXAMPLES = os.environ.get("MEDIAGATE_FUZZ_EXAMPLES", "10")


def test_schemathesis_finds_no_5xx_and_no_schema_violation(tmp_path: Path) -> None:
    server = Server(tmp_path, latency=0.1).start()
    try:
        key = server.key("test")
        proc = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"),
                "run",
                server.url + "/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                EXAMPLES,
                "--seed",
                "1",
                "--header",
                f"Authorization: Bearer {key}",
                "--phases",
                "examples,coverage,fuzzing",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        server.stop()
    summary = proc.stdout[-3000:]
    if proc.returncode:  # every failure, not only the summary's tail
        print(proc.stdout)
    assert proc.returncode == 0, summary
    counts = re.search(r"(\d+) generated, (\d+) passed", proc.stdout)
    assert counts, summary
    generated, passed = map(int, counts.groups())
    print(f"\nschemathesis: {generated} cases, {passed} passed, 0 with 5xx")
    assert generated > 300 and generated == passed
