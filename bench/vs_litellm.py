"""Benchmark: mediagate against LiteLLM's proxy on ``POST /v1/images/generations``.

Both run as one process on the same fake OpenAI-compatible upstream (bench/fake_openai.py,
which answers at once with the same PNG). mediagate uses a live key with billing on: each
image is a task whose price is held and settled, and whose image is stored. LiteLLM does
neither (no database). Runs are interleaved A B B A at each concurrency; the figure is the
ratio of requests per second.

LiteLLM is installed by this script into its own venv (bench/.litellm), never a project
dependency:  .venv/bin/python bench/vs_litellm.py [--seconds 5] [--conc 1 8 32 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.helpers import Server, free_port

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".litellm"
PRICE = 30_000  # seedream-3, micros


def litellm_bin() -> Path:
    exe = VENV / "bin" / "litellm"
    if not exe.exists():
        print("installing LiteLLM's proxy into bench/.litellm (once)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "litellm[proxy]"], check=True)
    return exe


def wait_http(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def load(
    url: str, headers: dict[str, str], body: dict[str, object], conc: int, seconds: float
) -> tuple[float, float, int]:
    """(requests/s, p50 ms, errors) with ``conc`` clients for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(
        headers=headers, connector=aiohttp.TCPConnector(limit=conc)
    ) as session:

        async def client() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                async with session.post(url, json=body) as r:
                    data = await r.read()
                    if r.status != 200 or b"b64_json" not in data:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(conc)))
        wall = time.perf_counter() - t0
    latencies.sort()
    return len(latencies) / wall, latencies[len(latencies) // 2] * 1000, errors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--conc", type=int, nargs="+", default=[1, 8, 32, 64])
    args = ap.parse_args()
    exe = litellm_bin()
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        up_port, ll_port = free_port(), free_port()
        upstream = f"http://127.0.0.1:{up_port}/v1"
        procs.append(
            subprocess.Popen([sys.executable, str(ROOT / "bench" / "fake_openai.py"), str(up_port)])
        )
        routes = tmpdir / "routes.toml"
        routes.write_text(
            '[[models."seedream-3".routes]]\nprovider = "openai"\nmodel = "gpt-image-1"\n'
        )
        mg = Server(
            tmpdir / "mg",
            latency=0.0,
            MEDIAGATE_OPENAI_API_KEY="sk-fake",
            MEDIAGATE_OPENAI_BASE_URL=upstream,
            MEDIAGATE_ROUTES_FILE=str(routes),
            MEDIAGATE_RATE_LIMIT_RPM="0",
        )
        config = tmpdir / "litellm.yaml"
        config.write_text(
            "model_list:\n  - model_name: gpt-image-1\n    litellm_params:\n"
            f"      model: openai/gpt-image-1\n      api_base: {upstream}\n"
            "      api_key: sk-fake\ngeneral_settings:\n  master_key: sk-litellm\n"
            "litellm_settings:\n  set_verbose: false\n"
        )
        env = {**os.environ, "LITELLM_LOG": "ERROR"}
        procs.append(
            subprocess.Popen(
                [str(exe), "--config", str(config), "--port", str(ll_port), "--num_workers", "1"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        try:
            mg.start()
            key = mg.funded_live_key(1_000_000)
            wait_http(f"http://127.0.0.1:{ll_port}/health/liveliness", timeout=180)
            mg_body = {"model": "seedream-3", "prompt": "a fox", "response_format": "b64_json"}
            a = (mg.url + "/v1/images/generations", {"Authorization": f"Bearer {key}"}, mg_body)
            b = (
                f"http://127.0.0.1:{ll_port}/v1/images/generations",
                {"Authorization": "Bearer sk-litellm"},
                {"model": "gpt-image-1", "prompt": "a red fox"},
            )
            for target in (a, b):  # warm both up
                asyncio.run(load(*target, conc=4, seconds=1.5))
            balance0 = requests.get(mg.url + "/v1/balance", headers=a[1], timeout=10).json()
            stored = tmpdir / "mg" / "media" / "t"
            files0 = len(list(stored.glob("*/*")))  # the warm-up's, not counted below
            print(
                f"{'conc':>4} {'mediagate req/s':>16} {'LiteLLM req/s':>14} {'ratio':>6}"
                f" {'p50 mg ms':>10} {'p50 LL ms':>10}"
            )
            for conc in args.conc:
                runs: dict[str, list[tuple[float, float, int]]] = {"a": [], "b": []}
                for name in ("a", "b", "b", "a"):
                    target = a if name == "a" else b
                    runs[name].append(asyncio.run(load(*target, conc=conc, seconds=args.seconds)))
                mg_rps = sum(r[0] for r in runs["a"]) / 2
                ll_rps = sum(r[0] for r in runs["b"]) / 2
                mg_p50 = sum(r[1] for r in runs["a"]) / 2
                ll_p50 = sum(r[1] for r in runs["b"]) / 2
                errs = sum(r[2] for r in runs["a"] + runs["b"])
                note = f"  errors={errs}" if errs else ""
                print(
                    f"{conc:>4} {mg_rps:>16.1f} {ll_rps:>14.1f} {mg_rps / ll_rps:>6.2f}"
                    f" {mg_p50:>10.1f} {ll_p50:>10.1f}{note}"
                )
            balance1 = requests.get(mg.url + "/v1/balance", headers=a[1], timeout=10).json()
            spent = balance0["balance_micros"] - balance1["balance_micros"]
            files = len(list(stored.glob("*/*"))) - files0
            print(
                f"mediagate stored {files} images and charged {spent // PRICE} of them "
                f"(held now: {balance1['held_micros']})"
            )
        finally:
            mg.stop()
            for p in procs:
                p.terminate()
                p.wait(10)


if __name__ == "__main__":
    main()
