"""Turning the image inputs dialects receive (URLs, data URLs, bare base64, uploads) into refs."""

from __future__ import annotations

import base64
import binascii
import hashlib

from mediagate.core.errors import InvalidRequestError

IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
BLOB_REF = "blob:"  # an input kept in mediagate's storage: ``blob:in/<sha256>``


def inline_image(ref: str, param: str, max_bytes: int) -> tuple[str, bytes] | None:
    """For a data URL: (the storage key it is kept under, its bytes), checked; else None.
    Keys are content hashes, so the same image gives the same key, seed and fingerprint."""
    if not ref.startswith("data:"):
        return None
    header, sep, payload = ref.partition(",")
    if not sep or not header.endswith(";base64"):
        raise InvalidRequestError(param, "a data URL must be data:image/...;base64,<data>")
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise InvalidRequestError(param, f"image is over {max_bytes} bytes")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(param, "the data URL is not valid base64") from None
    if sniff_image_type(data) is None:
        raise InvalidRequestError(param, "is not an image", ["png", "jpeg", "webp", "gif"])
    return f"in/{hashlib.sha256(data).hexdigest()}", data


def sniff_image_type(data: bytes) -> str | None:
    """The image MIME type from the file's magic bytes, or None if it is no image we take."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def sniff_audio_type(data: bytes) -> str | None:
    """An audio MIME type from magic bytes (MP3 with or without an ID3 tag, WAV, Ogg, FLAC)."""
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:4] == b"OggS":
        return "audio/ogg"
    if data[:4] == b"fLaC":
        return "audio/flac"
    return None


def sniff_stored_type(data: bytes) -> str | None:
    """Audio or MP4 by magic bytes: what our own stored results may be besides images (a
    song to continue, a video to extend)."""
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return sniff_audio_type(data)


def data_url(data: bytes, param: str) -> str:
    """An uploaded file as a data URL; refuses anything that is not an image."""
    kind = sniff_image_type(data)
    if kind is None:
        raise InvalidRequestError(param, "is not an image", ["png", "jpeg", "webp", "gif"])
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def image_ref(value: str, param: str) -> str:
    """An http(s) URL or data URL as given; bare base64 (as the unified format allows) is
    decoded far enough to learn its type and returned as a data URL."""
    text = value.strip()
    if text.startswith(("http://", "https://", "data:")) or "://" in text[:16]:
        return text
    head = text[:64]
    try:
        probe = base64.b64decode(head[: len(head) // 4 * 4], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequestError(
            param, "must be an http(s) URL, a data:image/...;base64 URL or base64 image data"
        ) from None
    kind = sniff_image_type(probe)
    if kind is None:
        raise InvalidRequestError(param, "base64 data is not an image", ["png", "jpeg", "webp"])
    return f"data:{kind};base64,{text}"


DEFAULT_MAX_PIXELS = 40_000_000  # an input's width x height, unless the model says otherwise


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height read from the header alone, nothing decoded (a 34-byte WebP may claim
    12000x12000, and even opening it with Pillow allocates that canvas); None when the header
    is not one of the four formats taken, or is cut short. For a GIF, the largest of its
    logical screen and every frame's extent."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            return _be(data, 16, 4), _be(data, 20, 4)
        if data[:3] == b"\xff\xd8\xff":
            return _jpeg_size(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data[:6] in (b"GIF87a", b"GIF89a"):
            return _gif_size(data)
    except IndexError:
        return None
    return None


def check_pixels(data: bytes, param: str, max_pixels: int) -> tuple[int, int]:
    """The image's size, refused (InvalidRequestError naming ``param``) when the header is
    unreadable or the image holds more than ``max_pixels`` pixels."""
    size = image_size(data)
    if size is None or 0 in size:
        raise InvalidRequestError(param, "is not a readable image", ["png", "jpeg", "webp", "gif"])
    width, height = size
    if width * height > max_pixels:
        raise InvalidRequestError(
            param,
            f"is {width}x{height} ({width * height / 1e6:.1f} MP), over this model's cap of "
            f"{max_pixels / 1e6:g} MP",
        )
    return size


def _be(data: bytes, at: int, n: int) -> int:
    if at + n > len(data):
        raise IndexError(at)
    return int.from_bytes(data[at : at + n], "big")


def _le(data: bytes, at: int, n: int) -> int:
    if at + n > len(data):
        raise IndexError(at)
    return int.from_bytes(data[at : at + n], "little")


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
            continue
        length = _be(data, at + 2, 2)
        if marker in _SOF:
            return _be(data, at + 7, 2), _be(data, at + 5, 2)
        if marker == 0xDA or length < 2:  # scan data before any frame header
            return None
        at += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        return _le(data, 24, 3) + 1, _le(data, 27, 3) + 1
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            return None
        bits = _le(data, 21, 4)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            return None
        return _le(data, 26, 2) & 0x3FFF, _le(data, 28, 2) & 0x3FFF
    return None


def _gif_size(data: bytes) -> tuple[int, int] | None:
    width, height = _le(data, 6, 2), _le(data, 8, 2)
    flags = data[10]
    at = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while at < len(data):
        block = data[at]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label, then sub-blocks
            at = _skip_sub_blocks(data, at + 2)
        elif block == 0x2C:  # image descriptor
            left, top = _le(data, at + 1, 2), _le(data, at + 3, 2)
            width = max(width, left + _le(data, at + 5, 2))
            height = max(height, top + _le(data, at + 7, 2))
            local = data[at + 9]
            at += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            at = _skip_sub_blocks(data, at + 1)  # LZW minimum code size, then the data
        else:
            return None
    return width, height


def _skip_sub_blocks(data: bytes, at: int) -> int:
    while at < len(data) and data[at]:
        at += data[at] + 1
    return at + 1
