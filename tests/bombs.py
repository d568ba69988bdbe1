"""Pixel bombs for the hardening tests: small files whose headers claim huge images.

The WebP is a real lossless 12000x12000 image (5.5 KB, made once with Pillow and kept in
tests/data); the PNG is written here row by row without ever holding the image: a valid
13000x13000 greyscale file of about 160 KB."""

from __future__ import annotations

import base64
import functools
import io
import struct
import zlib
from pathlib import Path

DATA = Path(__file__).parent / "data"


def webp_bomb() -> bytes:
    return (DATA / "bomb-12000.webp").read_bytes()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@functools.cache
def png_bomb(side: int = 13000) -> bytes:
    """A valid greyscale PNG of ``side`` x ``side`` black pixels."""
    pack = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte, then the row
    idat = bytearray()
    for _ in range(side):
        idat += pack.compress(row)
    idat += pack.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", bytes(idat))
        + _chunk(b"IEND", b"")
    )


def png(width: int, height: int, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def truncated_png(width: int = 64, height: int = 64) -> bytes:
    """A PNG whose header is whole and whose pixel data is cut short: it fails only when
    it is decoded."""
    from PIL import Image

    out = io.BytesIO()
    noise = Image.effect_noise((width, height), 80).convert("RGB")
    noise.save(out, "PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


def data_url(data: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()
