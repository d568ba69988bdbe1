"""Benchmark: 20 video creates that inline a 9 MB image as a data URL (the case issue 11
measured at +394 MB RSS, +490 MB of database and 6-15 s for `GET /v1/videos?limit=100`).
Prints the server's RSS, the database's size and the list's latency, before and after.

    .venv/bin/python bench/inline_inputs.py [--creates 20] [--mb 9]
"""

from __future__ import annotations

import argparse
import base64
import io
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.helpers import Server


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def db_mb(data: Path) -> float:
    return sum(p.stat().st_size for p in data.glob("mediagate.db*")) / 1e6


def big_png(mb: float) -> bytes:
    side = int((mb * 1e6 / 3) ** 0.5)
    noise = np.random.default_rng(7).integers(0, 255, (side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "PNG", compress_level=0)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--creates", type=int, default=20)
    ap.add_argument("--mb", type=float, default=9)
    args = ap.parse_args()
    png = big_png(args.mb)
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        server = Server(data, latency=3600).start()
        try:
            assert server.proc is not None
            key = {"Authorization": f"Bearer {server.key()}"}

            def list_ms() -> float:
                t0 = time.perf_counter()
                resp = requests.get(server.url + "/v1/videos?limit=100", headers=key, timeout=120)
                resp.raise_for_status()
                return (time.perf_counter() - t0) * 1000

            before = (rss_mb(server.proc.pid), db_mb(data), list_ms())
            for i in range(args.creates):
                requests.post(
                    server.url + "/v1/video/generations",
                    headers=key,
                    json={"model": "veo-3.0-generate-preview", "prompt": f"p{i}", "image": url},
                    timeout=120,
                ).raise_for_status()
            after = (rss_mb(server.proc.pid), db_mb(data), min(list_ms() for _ in range(5)))
        finally:
            server.stop()
    print(f"{args.creates} creates with a {len(png) / 1e6:.1f} MB data URL each")
    print(
        f"RSS {before[0]:.0f} -> {after[0]:.0f} MB; database {before[1]:.1f} -> {after[1]:.1f} MB"
    )
    print(f"GET /v1/videos?limit=100: {before[2]:.1f} -> {after[2]:.1f} ms")


if __name__ == "__main__":
    main()
