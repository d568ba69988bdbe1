"""Stills taken from stored videos (OpenAI's ``variant=thumbnail``): the first frame as JPEG."""

from __future__ import annotations

import io

from mediagate.children import memory_cap

FRAME_MEMORY_BYTES = 1024 << 20  # what taking one still may add to a render process


def first_frame_jpeg(video: bytes, max_side: int = 720) -> bytes:
    """The video's first frame, at most ``max_side`` pixels on its longer side, as JPEG.
    Raises ValueError if the bytes hold no decodable video frame."""
    import av
    from PIL import Image

    try:
        with av.open(io.BytesIO(video), mode="r") as container:
            frame = next(container.decode(video=0))
            image: Image.Image = frame.to_image()  # type: ignore[no-untyped-call]
    except (av.FFmpegError, StopIteration, IndexError) as exc:
        raise ValueError(f"no video frame to take: {exc}") from None
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def first_frame_capped(video: bytes) -> bytes:
    """``first_frame_jpeg`` for the render pool, under its memory cap: a stored video is an
    upstream's file, and one whose frames are absurdly large fails here, in a pool process,
    not in the server."""
    try:
        with memory_cap(FRAME_MEMORY_BYTES):
            return first_frame_jpeg(video)
    except MemoryError:
        raise ValueError("the video's frames are too large to take a still from") from None
