"""Stills of stored videos (OpenAI's thumbnails, vendors' covers) are taken in the render pool
under its memory cap, never in the server: a small video gives its first frame as a JPEG, and
a file with no frame fails with ValueError, which the routes turn into a 404 or no cover."""

from __future__ import annotations

import io
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import av
import numpy as np
import pytest
from PIL import Image

from mediagate.children import render_worker
from mediagate.storage.frames import first_frame_capped


def mp4(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(5):
            frame = np.full((height, width, 3), (200, 40 + i, 30), np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def test_a_still_is_taken_in_a_pool_process_and_junk_is_refused() -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, spawn, initializer=render_worker, initargs=(os.getpid(),)) as pool:
        still = pool.submit(first_frame_capped, mp4(1280, 720)).result(timeout=60)
        img = Image.open(io.BytesIO(still))
        assert img.format == "JPEG" and img.size == (720, 405)  # the longer side at most 720
        red, green, blue = img.getpixel((360, 200))  # type: ignore[misc]
        assert red > 150 and green < 90 and blue < 80
        with pytest.raises(ValueError, match="no video frame"):
            pool.submit(first_frame_capped, b"\x00" * 4096).result(timeout=60)
