"""Deterministic real media for the sandbox: WebP/PNG/JPEG images and H.264 MP4 videos."""

from __future__ import annotations

import io
import math
from fractions import Fraction

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

_PIL_FORMATS = {"webp": "WEBP", "png": "PNG", "jpeg": "JPEG", "jpg": "JPEG"}
Frame = NDArray[np.uint8]


def _palette(rng: np.random.Generator) -> NDArray[np.float32]:
    return rng.integers(0, 256, size=(4, 3)).astype(np.float32)


def canvas_image(width: int, height: int, seed: int) -> Image.Image:
    """A four-corner gradient with a few discs and bars, all chosen by ``seed``."""
    rng = np.random.default_rng(seed)
    c = _palette(rng)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    top = c[0] + (c[1] - c[0]) * x
    bottom = c[2] + (c[3] - c[2]) * x
    # One full-size float buffer, written in place: this runs for every sandbox image.
    base = np.empty((height, width, 3), dtype=np.float32)
    np.multiply(bottom - top, y, out=base)
    base += top
    img = Image.fromarray(base.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    unit = min(width, height)
    for _ in range(int(rng.integers(3, 7))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.05, 0.2) * unit
        fill = tuple(int(v) for v in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
        else:
            draw.rectangle((cx - r, cy - r / 3, cx + r, cy + r / 3), fill=fill)
    return img


def canvas(width: int, height: int, seed: int) -> Frame:
    """:func:`canvas_image` as an array, for renderers that mix pixels."""
    return np.asarray(canvas_image(width, height, seed), dtype=np.uint8)


def cover(image: Image.Image, width: int, height: int) -> Frame:
    """Scale and centre-crop ``image`` to exactly width x height (CSS object-fit: cover)."""
    src = image.convert("RGB")
    scale = max(width / src.width, height / src.height)
    w, h = max(width, math.ceil(src.width * scale)), max(height, math.ceil(src.height * scale))
    src = src.resize((w, h), Image.Resampling.BILINEAR)
    left, top = (w - width) // 2, (h - height) // 2
    return np.asarray(src.crop((left, top, left + width, top + height)), dtype=np.uint8)


def open_image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def render_image(
    width: int, height: int, seed: int, fmt: str, base_data: bytes | None = None
) -> bytes:
    """An image of exactly width x height; with ``base_data`` the result is an edit of it."""
    art = canvas_image(width, height, seed)
    if base_data is not None:
        base = open_image(base_data)
        # An "edit": the input shows through, tinted by the prompt's palette.
        mixed = (cover(base, width, height).astype(np.uint16) * 3 + np.asarray(art)) // 4
        art = Image.fromarray(mixed.astype(np.uint8), "RGB")
    buf = io.BytesIO()
    art.save(buf, format=_PIL_FORMATS[fmt], quality=85, method=0)
    return buf.getvalue()


def last_frame_png(video: bytes) -> bytes:
    """The last frame of an MP4, as a PNG."""
    with av.open(io.BytesIO(video), mode="r") as box:
        frame = None
        for decoded in box.decode(video=0):
            frame = decoded
    if frame is None:
        raise ValueError("the video has no frames")
    buf = io.BytesIO()
    Image.fromarray(frame.to_ndarray(format="rgb24"), "RGB").save(buf, format="PNG")
    return buf.getvalue()


def _to_yuv420(rgb: Frame) -> Frame:
    """RGB (h, w, 3) to PyAV's stacked yuv420p layout (h * 3 / 2, w)."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return np.asarray(frame.reformat(format="yuv420p").to_ndarray(), dtype=np.uint8)


def _shift_yuv(yuv: Frame, height: int, width: int, dy: int, dx: int) -> Frame:
    """Roll each plane of a stacked yuv420p frame by (dy, dx) luma pixels (both even)."""
    out = np.empty_like(yuv)
    out[:height] = np.roll(yuv[:height], (dy, dx), axis=(0, 1))
    quarter = height // 4
    for start in (height, height + quarter):
        plane = yuv[start : start + quarter].reshape(height // 2, width // 2)
        rolled = np.roll(plane, (dy // 2, dx // 2), axis=(0, 1))
        out[start : start + quarter] = rolled.reshape(quarter, width)
    return out


def render_video(
    width: int,
    height: int,
    seconds: int,
    fps: int,
    seed: int,
    first_frame: bytes | None = None,
    last_frame: bytes | None = None,
) -> bytes:
    """An H.264 MP4 of exactly ``seconds * fps`` frames; ``first_frame`` opens it and
    ``last_frame`` ends it (each cross-fades with the scene over one second).

    The scene is drawn once, converted to YUV once, then panned plane by plane, so the
    cost is the encoder's: about 0.3 s for 5 s of 480p on one core.
    """
    if width % 2 or height % 2:
        raise ValueError("video sizes must be even")
    scene = _to_yuv420(canvas(width, height, seed))
    start = None
    if first_frame is not None:
        start = _to_yuv420(cover(open_image(first_frame), width, height))
    end = None
    if last_frame is not None:
        end = _to_yuv420(cover(open_image(last_frame), width, height))
    rng = np.random.default_rng(seed ^ 0x5EED)
    dy, dx = (2 * int(v) for v in rng.integers(1, 4, size=2))
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.codec_context.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": "30"}
        stream.codec_context.thread_count = 2
        for i in range(seconds * fps):
            frame = _shift_yuv(scene, height, width, i * dy, i * dx)
            if start is not None and i < fps:
                # Cross-fade from the given first frame into the scene over the first second.
                frame = ((start.astype(np.uint16) * (fps - i) + frame * i) // fps).astype(np.uint8)
            left = seconds * fps - 1 - i  # frames after this one
            if end is not None and left < fps:
                frame = ((end.astype(np.uint16) * (fps - left) + frame * left) // fps).astype(
                    np.uint8
                )
            vf = av.VideoFrame.from_ndarray(frame, format="yuv420p")
            vf.pts = i
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()
