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
