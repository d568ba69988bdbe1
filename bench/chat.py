"""Benchmark: the chat relay against calling its upstream directly (issue 21).

One run, one fake OpenAI-compatible upstream in-process (tests/fakes/openai_text.py:
20 chunks 20 ms apart), one mediagate server with a funded live key (every request is held,
charged exactly and logged). Each figure is a ratio or a difference between the two paths,
measured side by side (A B B A), so a noisy machine moves both:

1. streamed chat at concurrency 32: req/s through mediagate / req/s direct (goal >= 0.9);
2. first-token overhead at concurrency 1: p50 and p99 of (via - direct) (goal <= 3 / 10 ms);
3. the largest gap between two chunks, via minus direct (goal <= 10 ms);
4. unstreamed chat at concurrency 64: req/s (goal >= 5x LiteLLM's 82-93 req/s, as the issue
   measured it on the same kind of upstream);
5. 1,000 concurrent streams: errors (goal 0) and the server's RSS (goal < 400 MB).

    .venv/bin/python bench/chat.py [--seconds 5] [--streams 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fakes.openai_text import FakeOpenAIText
from tests.helpers import Server

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


async def one_stream(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> tuple[float, float, int]:
    """(time to the first content, the largest gap between chunks, chunks)."""
    started = time.perf_counter()
    first, last, gap, chunks = 0.0, 0.0, 0.0, 0
    body = {**BODY, "stream": True}
    async with session.post(url, json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        async for line in resp.content:
            if not line.startswith(b"data: {"):
                continue
            now = time.perf_counter()
            event = msgspec.json.decode(line[6:])
            choices = event.get("choices") or [{}]
            if (choices[0].get("delta") or {}).get("content"):
                if not first:
                    first = now - started
                else:
                    gap = max(gap, now - last)
                last = now
                chunks += 1
    return first, gap, chunks


async def rate(url: str, headers: dict[str, str], conc: int, seconds: float, stream: bool) -> float:
    done = 0
    stop = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                if stream:
                    await one_stream(session, url, headers)
                else:
                    async with session.post(url, json=BODY, headers=headers) as resp:
                        assert resp.status == 200, await resp.text()
                        await resp.read()
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(conc)))
        return done / (time.perf_counter() - t0)


async def firsts(url: str, headers: dict[str, str], n: int) -> tuple[list[float], list[float]]:
    async with aiohttp.ClientSession() as session:
        found = [await one_stream(session, url, headers) for _ in range(n)]
    return [f for f, _, _ in found], [g for _, g, _ in found]


async def many(url: str, headers: dict[str, str], n: int, pid: int) -> tuple[int, float]:
    """``n`` streams at once: (how many failed, the server's peak RSS in MB)."""
    peak = 0.0
    running = True

    async def watch() -> None:
        nonlocal peak
        while running:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=timeout
    ) as session:
        found = await asyncio.gather(
            *(one_stream(session, url, headers) for _ in range(n)), return_exceptions=True
        )
    running = False
    await watcher
    failed = sum(1 for f in found if isinstance(f, BaseException) or f[2] != 20)
    return failed, peak


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def main(seconds: float, streams: int) -> None:
    fake = FakeOpenAIText(chunks=20, delay_s=0.02).start()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(
            Path(tmp) / "data",
            MEDIAGATE_OPENAI_API_KEY=fake.api_key,
            MEDIAGATE_OPENAI_BASE_URL=fake.url + "/v1",
            MEDIAGATE_LOG_LEVEL="warning",
        ).start()
        try:
            assert server.proc is not None
            key = server.funded_live_key(1_000_000)
            via = (server.url + "/v1/chat/completions", {"Authorization": f"Bearer {key}"})
            direct = (
                fake.url + "/v1/chat/completions",
                {"Authorization": f"Bearer {fake.api_key}"},
            )
            await rate(*via, 4, 1.0, True)  # warm both
            await rate(*direct, 4, 1.0, True)
            a1 = await rate(*direct, 32, seconds, True)
            b1 = await rate(*via, 32, seconds, True)
            b2 = await rate(*via, 32, seconds, True)
            a2 = await rate(*direct, 32, seconds, True)
            print(
                f"streamed, concurrency 32: direct {(a1 + a2) / 2:.1f} req/s, via "
                f"{(b1 + b2) / 2:.1f} req/s, ratio {(b1 + b2) / (a1 + a2):.2f} (goal >= 0.9)"
            )
            d_first, d_gap = await firsts(*direct, 100)
            v_first, v_gap = await firsts(*via, 100)
            d2_first, d2_gap = await firsts(*direct, 100)
            d_first += d2_first
            d_gap += d2_gap
            over50 = (statistics.median(v_first) - statistics.median(d_first)) * 1000
            over99 = (pct(v_first, 0.99) - pct(d_first, 0.99)) * 1000
            print(
                f"first-token overhead, concurrency 1: p50 {over50:+.2f} ms, p99 {over99:+.2f} ms "
                "(goal <= 3 / 10 ms)"
            )
            print(
                f"largest gap between chunks: direct {max(d_gap) * 1000:.1f} ms, via "
                f"{max(v_gap) * 1000:.1f} ms, difference {(max(v_gap) - max(d_gap)) * 1000:+.1f} "
                "ms (goal <= 10)"
            )
            plain = await rate(*via, 64, seconds, False)
            print(
                f"unstreamed, concurrency 64, every request held, charged and logged: "
                f"{plain:.0f} req/s = {plain / 87.5:.1f}x LiteLLM's 82-93 (goal >= 5x)"
            )
            failed, peak = await many(*via, streams, server.proc.pid)
            print(
                f"{streams} concurrent streams: {failed} failed, server peak RSS {peak:.0f} MB "
                "(goal 0 and < 400 MB)"
            )
            server.cli("ledger", "check")
            print("ledger check: the books balance after the run")
        finally:
            server.stop()
            fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--streams", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.streams))
