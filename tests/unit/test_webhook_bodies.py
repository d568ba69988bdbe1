"""`mediagate worker` delivers webhooks having imported only ``mediagate.api.webhooks``: every
dialect that has a webhook body of its own must be registered by that import alone, or its
callers would get gptunnel's shape from a worker and their own from a server."""

from __future__ import annotations

import json
import subprocess
import sys


def registered(module: str) -> set[str]:
    code = (f"import {module}; from mediagate.api.common import WEBHOOK_BODIES; "
            "import json; print(json.dumps(sorted(WEBHOOK_BODIES)))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)  # fmt: skip
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_worker_knows_every_dialects_webhook_body() -> None:
    everything = registered("mediagate.api.app")
    assert {"gptunnel", "midjourney", "suno", "pictask", "kling"} <= everything
    assert registered("mediagate.api.webhooks") == everything
