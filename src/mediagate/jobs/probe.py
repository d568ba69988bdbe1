"""What a stored file is, read from its own bytes: an image's size, a video's or a song's
duration, frame rate and codec. An upstream's answer (or the catalogue) is only the fallback."""

from __future__ import annotations

import asyncio
import io

import msgspec

from mediagate.core.images import image_size, sniff_audio_type, sniff_image_type

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
    if head[4:8] == b"ftyp" and (found := mp4_video(head)) is not None:
        return found  # read from the boxes: far cheaper than opening it with FFmpeg
    if sniff_audio_type(head) is None and head[4:8] != b"ftyp":
        return None
    return await asyncio.to_thread(_container, head)


# ISO BMFF sample-entry types and the names FFmpeg gives their codecs.
_CODECS = {b"avc1": "h264", b"avc3": "h264", b"hvc1": "hevc", b"hev1": "hevc",
           b"av01": "av1", b"vp09": "vp9", b"mp4v": "mpeg4"}  # fmt: skip


def _boxes(data: bytes, start: int, end: int) -> dict[bytes, list[tuple[int, int]]]:
    """The boxes between ``start`` and ``end``: type -> [(payload start, payload end)]."""
    found: dict[bytes, list[tuple[int, int]]] = {}
    at = start
    while at + 8 <= end:
        size, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        head = 8
        if size == 1:  # a 64-bit size follows
            size, head = int.from_bytes(data[at + 8 : at + 16], "big"), 16
        elif size == 0:
            size = end - at
        if size < head or at + size > end:
            raise ValueError("truncated box")
        found.setdefault(kind, []).append((at + head, at + size))
        at += size
    return found


def _time(data: bytes, at: int) -> tuple[int, int]:
    """(timescale, duration) of an mvhd or mdhd payload, version 0 or 1."""
    if data[at] == 1:
        return int.from_bytes(data[at + 20 : at + 24], "big"), int.from_bytes(
            data[at + 24 : at + 32], "big"
        )
    return int.from_bytes(data[at + 12 : at + 16], "big"), int.from_bytes(
        data[at + 16 : at + 20], "big"
    )


def mp4_video(data: bytes) -> Probed | None:
    """Size, duration, frame rate and codec of an MP4's first video track, read from its
    ``moov`` box; None where that is not plain (no moov in the bytes, an unknown codec),
    and FFmpeg is asked instead."""
    try:
        moov = _boxes(data, 0, len(data)).get(b"moov")
        if not moov:
            return None
        inside = _boxes(data, *moov[0])
        scale, length = _time(data, inside[b"mvhd"][0][0])
        for trak in inside.get(b"trak", []):
            mdia = _boxes(data, *_boxes(data, *trak)[b"mdia"][0])
            hdlr = mdia[b"hdlr"][0][0]
            if data[hdlr + 8 : hdlr + 12] != b"vide":
                continue
            track_scale, track_length = _time(data, mdia[b"mdhd"][0][0])
            stbl = _boxes(data, *_boxes(data, *mdia[b"minf"][0])[b"stbl"][0])
            entry = stbl[b"stsd"][0][0] + 8  # version/flags, entry count
            codec = _CODECS.get(data[entry + 4 : entry + 8])
            stts = stbl[b"stts"][0][0]
            count = int.from_bytes(data[stts + 4 : stts + 8], "big")
            frames = sum(
                int.from_bytes(data[stts + 8 + 8 * i : stts + 12 + 8 * i], "big")
                for i in range(count)
            )
            if codec is None or not (scale and length and track_scale and track_length):
                return None
            visual = entry + 8 + 24  # the sample entry's header and reserved fields
            return Probed(
                width=int.from_bytes(data[visual : visual + 2], "big"),
                height=int.from_bytes(data[visual + 2 : visual + 4], "big"),
                duration=length / scale,
                fps=round(frames * track_scale / track_length),
                codec=codec,
            )
    except (KeyError, IndexError, ValueError):
        return None
    return None


def _image(head: bytes) -> Probed | None:
    """Size and format from the header alone (``core.images.image_size``): opening a
    result with Pillow may allocate whatever canvas its header claims."""
    size = image_size(head)
    kind = sniff_image_type(head)
    if size is None or kind is None:
        return None
    return Probed(width=size[0], height=size[1], codec=kind.removeprefix("image/").upper())


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
