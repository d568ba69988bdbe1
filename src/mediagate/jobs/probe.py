"""What a stored file is, read from its own bytes: an image's size, a video's or a song's
duration, frame rate and codec. An upstream's answer (or the catalogue) is only the fallback."""

from __future__ import annotations

import asyncio
import io

import msgspec

from mediagate.core.images import sniff_audio_type, sniff_image_type

PROBE_BYTES = 8 * 1024 * 1024  # audio and video are probed when the whole file fits
IMAGE_HEAD = 256 * 1024  # enough for the header of any image format we store


class Probed(msgspec.Struct, frozen=True):
    width: int = 0
    height: int = 0
    duration: float | None = None
    fps: int | None = None
    codec: str = ""


async def probe(head: bytes, size: int) -> Probed | None:
    """``head``: the file's first bytes (all of it when ``size`` <= PROBE_BYTES). None when
    the bytes tell nothing (the adapter's description stands)."""
    if sniff_image_type(head) is not None:
        return _image(head[:IMAGE_HEAD])
    if size > len(head) or not head:
        return None  # too big to hold: the adapter's word stands
    if sniff_audio_type(head) is None and head[4:8] != b"ftyp":
        return None
    return await asyncio.to_thread(_container, head)


def _image(head: bytes) -> Probed | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(head)) as img:
            return Probed(width=int(img.width), height=int(img.height), codec=img.format or "")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        return None


def _container(data: bytes) -> Probed | None:
    """Duration, size, frame rate and codec of an MP4 or an audio file (PyAV)."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as box:
            duration = box.duration / 1_000_000 if box.duration else None
            if box.streams.video:
                v = box.streams.video[0]
                rate = v.average_rate or v.guessed_rate
                return Probed(
                    width=v.codec_context.width,
                    height=v.codec_context.height,
                    duration=duration,
                    fps=round(float(rate)) if rate else None,
                    codec=v.codec_context.name,
                )
            if box.streams.audio:
                name = box.streams.audio[0].codec_context.name
                return Probed(duration=duration, codec=name.removesuffix("float"))
    except (av.FFmpegError, ValueError, OSError):
        return None
    return None
