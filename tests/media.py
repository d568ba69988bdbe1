"""Inspect media bytes independently of the sandbox: PIL for images, PyAV for video."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import av
from PIL import Image


@dataclass
class Probe:
    format: str
    width: int
    height: int
    codec: str = ""
    duration: float = 0.0
    fps: float = 0.0
    frames: int = 0


def probe(data: bytes) -> Probe:
    if data[4:8] == b"ftyp":
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            return Probe(
                format="mp4",
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                codec=stream.codec_context.name,
                duration=float(container.duration or 0) / 1_000_000,
                fps=float(stream.average_rate or 0),
                frames=frames,
            )
    img = Image.open(io.BytesIO(data))
    return Probe(format=(img.format or "").lower(), width=img.width, height=img.height)


def first_frame_rgb_mean(data: bytes) -> tuple[float, float, float]:
    with av.open(io.BytesIO(data)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    r, g, b = frame.reshape(-1, 3).mean(axis=0)
    return float(r), float(g), float(b)


async def opens_linked_result(adapter: Any, fake: Any, request: Any, upstream_id: str) -> Probe:
    """Poll a finished job whose status answer links its file (``Ready.results``), open that
    link as the engine does in the same step, and check that this took the download alone,
    no second read of the job. The file, probed."""
    from mediagate.core.provider import Ready

    ready = await adapter.poll(request, upstream_id)
    assert isinstance(ready, Ready) and len(ready.results) == 1, ready
    calls = len(fake.requests)
    media = await adapter.open(request, ready.results[0])
    found = probe(b"".join([c async for c in media.chunks]))
    assert len(fake.requests) == calls + 1  # the download only
    return found
