"""Image decoding off the event loop: in the render pool's processes, a bounded number at
once, each refused before it starts when its header holds more pixels than the cap, and each
under an address-space cap of its own in the child (a decode that wants more fails there, not
in the server).

The server process never decodes a client's image: it reads headers only
(``core.images.image_size``). A decode that goes wrong in a child costs that child one
MemoryError, and the pool goes on."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import Executor
from typing import Literal

from mediagate.children import memory_cap
from mediagate.core.images import image_size

_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
# Room for the decoder's own buffers beyond the pixels themselves (4 bytes each, twice: the
# image and one converted copy).
HEADROOM = 256 * 1024 * 1024
Check = Literal["verify", "mask"]


class Decoder:
    """Decodes in ``executor`` (the render pool; None: the loop's default threads, for tests
    that run no pool), at most ``concurrency`` at once."""

    def __init__(self, executor: Executor | None, concurrency: int = 2) -> None:
        self._executor = executor
        self._gate = asyncio.Semaphore(concurrency)

    async def verify(self, data: bytes, max_pixels: int) -> str | None:
        """The image's MIME type once it decodes in full; None when it is not a readable
        image of the four formats, holds more than ``max_pixels``, or wants more memory
        than its cap."""
        return await self._run(data, max_pixels, "verify")

    async def has_white(self, data: bytes, max_pixels: int) -> bool | None:
        """For a mask: whether some pixel is white (>= 128 in grey); None: not readable."""
        found = await self._run(data, max_pixels, "mask")
        return None if found is None else found == "white"

    async def _run(self, data: bytes, max_pixels: int, check: Check) -> str | None:
        size = image_size(data)
        if size is None or size[0] * size[1] > max_pixels or 0 in size:
            return None  # refused on its header: nothing decodes
        async with self._gate:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, decode, data, max_pixels, check)


def decode(data: bytes, max_pixels: int, check: Check) -> str | None:
    """Runs in a pool process: Pillow reads the header again (its own size must be under the
    cap too), then the whole image decodes under the memory cap."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            if width * height > max_pixels:
                return None
            with memory_cap(width * height * 8 + HEADROOM):
                img.load()  # a truncated or forged file fails here
                if check == "mask":
                    extrema = img.convert("L").getextrema()
                    high = extrema[1] if isinstance(extrema, tuple) else 0
                    return "white" if float(high) >= 128 else "dark"  # type: ignore[arg-type]
            return _MIME.get(img.format or "", "application/octet-stream")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        return None
    except MemoryError:
        return None
