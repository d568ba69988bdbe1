"""Benchmark: the local image tools (issue 24).

In one run:
1. each tool's latency on a 1024x1024 input, the tool called directly (median of 3 runs, in
   this process: the CPU work a task's render step does);
2. a mixed batch through the API on one test key at concurrency 8 (create, then poll to
   done), as tasks a second, with the tools' median latencies beside it;
3. fairness: another key's creates (of a sandbox image) and polls, p50 and p95, idle and then
   while the batch saturates the render pool. Goal (issue 24): within 20% of idle.

    .venv/bin/python bench/local_tools.py [--tasks 48]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e.test_local_tools import face
from tests.helpers import Server

from mediagate.providers.sandbox.local import art, document, images, photo, ppt


def photo_1024() -> bytes:
    rng = np.random.default_rng(4)
    img = Image.fromarray(rng.integers(90, 160, (1024, 1024, 3), dtype=np.uint8))
    ImageDraw.Draw(img).ellipse((300, 200, 724, 824), fill=(200, 40, 30))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def text_1024() -> bytes:
    img = Image.new("RGB", (1024, 1024), "white")
    draw = ImageDraw.Draw(img)
    for i in range(16):
        draw.text((40, 40 + i * 60), f"Line {i}: the gateway reads this", fill="black",
                  font=ImageFont.load_default(36))  # fmt: skip
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def portrait_1024() -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(face())).resize((768, 1024)).save(buf, "PNG")
    return buf.getvalue()


def tool_calls() -> dict[str, Callable[[], bytes]]:
    pic, page, person = photo_1024(), text_1024(), portrait_1024()
    mask = Image.new("L", (1024, 1024), 0)
    ImageDraw.Draw(mask).rectangle((100, 100, 300, 160), fill=255)
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    outline = "# Tea\n## Origins\n### China\n#### Shennong\n## Today\n### Markets\n#### India"
    return {
        "image-compress": lambda: images.compress(pic, "jpeg", 80, 100),
        "image-sharpen (2x)": lambda: images.sharpen(pic, 2),
        "image-inpaint": lambda: images.inpaint(pic, buf.getvalue(), 5),
        "image-cutout": lambda: images.cutout(pic),
        "image-background": lambda: photo.background(pic, 7),
        "id-photo": lambda: photo.id_photo(person, "2inch", "blue", "png"),
        "image-colorize (sandbox tint)": lambda: photo.tint(pic),
        "image-ocr": lambda: document.ocr(page, "eng"),
        "document-crop": lambda: document.crop(page_on_desk(), "png"),
        "art-qr": lambda: art.art_qr("https://example.com/bench", 0, "h", 0.8, "square", None, 5),
        "art-text": lambda: art.art_text("HELLO", "light", 0.6, None, 7, 1024),
        "ppt": lambda: ppt.render(ppt.parse_outline(outline)),
    }


def page_on_desk() -> bytes:
    desk = Image.new("RGB", (1024, 1024), (50, 60, 70))
    ImageDraw.Draw(desk).polygon([(200, 120), (860, 180), (800, 900), (150, 860)], fill="white")
    buf = io.BytesIO()
    desk.save(buf, "PNG")
    return buf.getvalue()


def latencies() -> dict[str, float]:
    found = {}
    for name, call in tool_calls().items():
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            call()
            runs.append(time.perf_counter() - t0)
        found[name] = statistics.median(runs) * 1000
    return found


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def batch_bodies(n: int) -> list[dict[str, object]]:
    pic, page = data_url(photo_1024()), data_url(text_1024())
    kinds = [
        {"model": "image-cutout", "images": [pic]},
        {"model": "image-sharpen", "images": [pic], "options": {"scale": "2"}},
        {"model": "image-compress", "images": [pic], "options": {"target_kb": 100}},
        {"model": "image-ocr", "images": [page], "options": {"language": "eng"}},
        {"model": "art-qr", "prompt": "https://example.com/bench"},
        {"model": "id-photo", "images": [data_url(portrait_1024())]},
    ]
    return [kinds[i % len(kinds)] for i in range(n)]


async def run_batch(url: str, key: str, bodies: list[dict[str, object]], conc: int) -> float:
    queue = list(bodies)
    async with aiohttp.ClientSession(headers={"Authorization": key}) as session:

        async def client() -> None:
            while queue:
                body = queue.pop()
                async with session.post(url + "/v1/media/create", json=body) as r:
                    made = await r.json()
                    assert r.status == 200, made
                while True:
                    async with session.get(url + "/v1/media/result",
                                           params={"task_id": made["id"]}) as r:  # fmt: skip
                        got = await r.json()
                    if got["status"] in ("done", "failed"):
                        assert got["status"] == "done", got
                        break
                    await asyncio.sleep(0.05)

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(conc)))
        return len(bodies) / (time.perf_counter() - t0)


async def other_key(
    url: str, key: str, task_id: str, seconds: float
) -> tuple[list[float], list[float]]:
    creates, polls = [], []
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(headers={"Authorization": key}) as session:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            fox = {"model": "seedream-3", "prompt": "a fox"}
            async with session.post(url + "/v1/media/create", json=fox) as r:
                await r.read()
            creates.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            async with session.get(url + "/v1/media/result", params={"task_id": task_id}) as r:
                await r.read()
            polls.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(0.02)
    return creates, polls


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


async def fairness(url: str, busy_key: str, calm_key: str, n: int) -> dict[str, float]:
    seed = {"model": "seedream-3", "prompt": "seed"}
    async with (
        aiohttp.ClientSession(headers={"Authorization": calm_key}) as session,
        session.post(url + "/v1/media/create", json=seed) as r,
    ):
        task_id = (await r.json())["id"]
    idle_c, idle_p = await other_key(url, calm_key, task_id, 4)
    batch = asyncio.create_task(run_batch(url, busy_key, batch_bodies(n), 8))
    await asyncio.sleep(1.0)  # the pool fills
    busy_c, busy_p = await other_key(url, calm_key, task_id, 4)
    rate = await batch
    return {
        "tasks/s": rate,
        "create p50 idle": pct(idle_c, 50), "create p50 busy": pct(busy_c, 50),
        "create p95 idle": pct(idle_c, 95), "create p95 busy": pct(busy_c, 95),
        "poll p50 idle": pct(idle_p, 50), "poll p50 busy": pct(busy_p, 50),
        "poll p95 idle": pct(idle_p, 95), "poll p95 busy": pct(busy_p, 95),
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=48)
    args = ap.parse_args()
    print("per-tool latency, 1024x1024 input (median of 3, ms):")
    for name, ms in latencies().items():
        print(f"  {name:32s} {ms:8.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp), latency=0.0).start()
        try:
            busy, calm = srv.key(), srv.key()
            found = asyncio.run(fairness(srv.url, busy, calm, args.tasks))
        finally:
            srv.stop()
    print(f"mixed batch, {args.tasks} tasks at concurrency 8: {found['tasks/s']:.2f} tasks/s")
    for what in ("create", "poll"):
        for q in ("p50", "p95"):
            idle, busy = found[f"{what} {q} idle"], found[f"{what} {q} busy"]
            print(f"  another key's {what} {q}: idle {idle:.1f} ms, pool busy {busy:.1f} ms "
                  f"(ratio {busy / idle:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
