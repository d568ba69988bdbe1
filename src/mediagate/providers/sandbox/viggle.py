"""The sandbox's Viggle: the character image composed over the motion of the driving video.

Each frame of the driving video (an upload, or a template's own video, rendered here) is
compared with the one before; the character (its background keyed out where it is plain)
is placed where the frame moves most, scaled to the frame, and follows that motion. Mix
keeps the video behind it, move puts it on the first frame's still background, and
``bg_mode`` 1 or 2 on white or green. Multi places each character side by side. The output
is an MP4 with the driving video's size, frame rate and frame count."""

from __future__ import annotations

import io
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mediagate.core.errors import InputError
from mediagate.core.provider import GenerationRequest
from mediagate.providers.sandbox.media import render_video
from mediagate.providers.sandbox.plan import FilePlan, Plan

BACKGROUNDS = {1: (255, 255, 255), 2: (0, 177, 64)}
MAX_FRAMES = 30 * 60  # a minute at 30 fps: the longest driving video rendered


def video_header(data: bytes) -> tuple[int, int, int, float] | None:
    """(width, height, frames, fps) of an MP4 from its header; None when it is not one."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as box:
            stream = box.streams.video[0]
            fps = float(stream.average_rate or 24)
            frames = stream.frames or int(float(box.duration or 0) / 1_000_000 * fps)
            return stream.codec_context.width, stream.codec_context.height, frames, fps
    except (av.FFmpegError, IndexError, ValueError, OSError):
        return None


def video_size(data: bytes) -> tuple[int, int] | None:
    found = video_header(data)
    return found[:2] if found else None


def template_video(template_id: str, width: int = 576, height: int = 1024) -> bytes:
    """A template's driving video: the same motion for the same template, 4 s at 24 fps."""
    seed = sum(template_id.encode()) * 7919
    return render_video(width, height, 4, 24, seed, None)


def plan(request: GenerationRequest) -> Plan:
    opts = request.params.options
    characters = [i.data for i in request.images_in("reference")]
    driving = request.image("source")
    if driving is not None:
        if driving.content_type != "video/mp4":
            raise InputError(f"the driving video is {driving.content_type}, not an MP4")
        video = driving.data
    else:
        video = template_video(str(opts.get("template_id", "")))
    header = video_header(video)
    if header is None:
        raise InputError("the driving video cannot be read")
    width, height, frames, fps = header
    mode = request.spec.wire_name
    render = partial(compose, characters, video, mode, int(str(opts.get("bg_mode", 0))))
    return Plan(files=[FilePlan("video/mp4", render, width, height,
                                duration_seconds=frames / fps if fps else None,
                                fps=round(fps), role="video")])  # fmt: skip


def _character(data: bytes, height: int) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """The character as RGB and an alpha mask: its own alpha, or its plain background (the
    corner colour) keyed out."""
    img = Image.open(io.BytesIO(data)).convert("RGBA")
    scale = height * 0.45 / img.height
    img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))))
    rgba = np.asarray(img, dtype=np.uint8)
    rgb = rgba[..., :3]
    alpha: NDArray[np.float32] = (rgba[..., 3] / 255).astype(np.float32)
    if alpha.min() > 0.99:  # no alpha: key out the corner colour
        corner = rgb[0, 0].astype(np.int32)
        distance = np.abs(rgb.astype(np.int32) - corner).sum(axis=2)
        alpha = np.clip((distance - 30) / 60, 0, 1).astype(np.float32)
    return rgb, alpha


def _motion(previous: NDArray[np.float32] | None, frame: NDArray[np.float32]) -> tuple[int, int]:
    """Where the frame moves most (the centroid of its change), or its centre."""
    h, w = frame.shape
    if previous is None:
        return w // 2, h // 2
    change = np.abs(frame - previous)
    mask = change > max(8.0, float(change.mean()) * 3)
    if mask.sum() < 16:
        return w // 2, h // 2
    ys, xs = np.nonzero(mask)
    return int(xs.mean()), int(ys.mean())


def _paste(canvas: NDArray[np.uint8], rgb: Any, alpha: Any, cx: int, cy: int) -> None:
    h, w = canvas.shape[:2]
    ch, cw = alpha.shape
    x0, y0 = min(max(0, cx - cw // 2), max(0, w - cw)), min(max(0, cy - ch // 2), max(0, h - ch))
    x1, y1 = min(w, x0 + cw), min(h, y0 + ch)
    a = alpha[: y1 - y0, : x1 - x0, None]
    region = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (region * (1 - a) + rgb[: y1 - y0, : x1 - x0] * a).astype(np.uint8)


def compose(characters: list[bytes], video: bytes, mode: str, bg_mode: int) -> bytes:
    """Runs in the render pool: the MP4 described in the module docstring."""
    import av

    if not characters:
        raise InputError("a character image is required")
    out = io.BytesIO()
    with av.open(io.BytesIO(video), mode="r") as src, av.open(out, mode="w", format="mp4") as dst:
        stream = src.streams.video[0]
        rate = stream.average_rate or Fraction(24)
        width, height = stream.codec_context.width, stream.codec_context.height
        enc = dst.add_stream("libx264", rate=rate)
        enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
        people = [_character(c, height) for c in characters]
        previous: NDArray[np.float32] | None = None
        still: NDArray[np.uint8] | None = None
        cx, cy = width // 2, height // 2
        for n, frame in enumerate(src.decode(stream)):
            if n >= MAX_FRAMES:
                break
            rgb: NDArray[np.uint8] = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            grey = rgb.mean(axis=2).astype(np.float32)
            mx, my = _motion(previous, grey)
            cx, cy = (cx * 3 + mx) // 4, (cy * 3 + my) // 4  # follow it smoothly
            previous = grey
            if still is None:
                still = rgb.copy()
            if bg_mode in BACKGROUNDS:
                canvas = np.empty_like(rgb)
                canvas[:] = BACKGROUNDS[bg_mode]
            else:
                canvas = (still if mode == "move" else rgb).copy()
            step = width // (len(people) + 1)
            for i, (crgb, alpha) in enumerate(people):
                px = cx if len(people) == 1 else step * (i + 1) + (cx - width // 2) // 2
                _paste(canvas, crgb, alpha, px, cy)
            made = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            made.pts = n
            made.time_base = 1 / rate
            for packet in enc.encode(made):
                dst.mux(packet)
        for packet in enc.encode(None):
            dst.mux(packet)
    return out.getvalue()
