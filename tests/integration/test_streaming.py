"""A 200 MB upstream result goes into storage through the Ark adapter in bounded memory:
measured as the peak RSS of a separate process that does only that."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fakes.ark import FakeArk

SIZE = 200 * 1024 * 1024

SCRIPT = r"""
import asyncio, json, resource, sys
from pathlib import Path
import aiohttp
from mediagate.core.catalogue import default_catalogue
from mediagate.providers.ark import ArkProvider
from mediagate.core.provider import GenerationRequest
from mediagate.providers.http import Credentials
from mediagate.storage.blobs import BlobStore

base, key, task_id, out = sys.argv[1:5]

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

async def main():
    spec, params = default_catalogue().validate("seedance-1-lite-480P-5s", "big")
    request = GenerationRequest("t" * 24, spec, "big", params, 1, (), "seedance-1-0-lite-t2v")
    blobs = BlobStore.local(Path(out))
    async with aiohttp.ClientSession() as session:
        ark = ArkProvider(session, Credentials(key, base), lambda: 0.0)
        before = peak_mb()
        media = await ark.fetch(request, task_id, 0)
        info = await blobs.put("t/big/0.mp4", media.chunks)
        print(json.dumps({"before": before, "after": peak_mb(), "bytes": info.size}))

asyncio.run(main())
# The figure is out; skip interpreter teardown, where obstore's runtime once aborted (-6)
# on a loaded machine after the work was done.
sys.stdout.flush()
import os
os._exit(0)
"""


def test_a_200_mb_result_streams_through_in_bounded_memory(tmp_path: Path) -> None:
    fake = FakeArk().start()
    try:
        task_id = "cgt-20261123000000-big00"
        fake.tasks[task_id] = {
            "id": task_id,
            "status": "succeeded",
            "polls": 0,
            "text": "",
            "images": [],
            "content": {"video_url": f"{fake.url}/big/{SIZE}.mp4"},
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                SCRIPT,
                fake.url + "/api/v3",
                fake.api_key,
                task_id,
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        fake.stop()
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout)
    stored = tmp_path / "t" / "big" / "0.mp4"
    assert figures["bytes"] == SIZE == stored.stat().st_size
    growth = figures["after"] - figures["before"]
    print(f"\n200 MB streamed: peak RSS {figures['before']:.0f} -> {figures['after']:.0f} MB")
    assert growth < 40, f"peak RSS grew {growth:.0f} MB while moving 200 MB"
