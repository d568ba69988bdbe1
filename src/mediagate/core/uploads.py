"""Files a key uploads ahead of a task (Midjourney's upload-discord-images), kept and counted
against a daily quota. No HTTP and no SQL here."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from mediagate.core.errors import TooManyRequestsError
from mediagate.core.images import DEFAULT_MAX_PIXELS, check_pixels, sniff_image_type
from mediagate.core.keys import KeyRecord
from mediagate.core.ports import MediaStore, UploadStore


class UploadService:
    """Files a key uploads for later tasks: kept under ``up/<key>/<sha256>.<ext>`` (what the
    files route serves), at most ``quota_bytes`` a key in any 24 hours."""

    WINDOW_S = 24 * 3600

    def __init__(
        self,
        store: UploadStore,
        media: MediaStore,
        clock: Callable[[], float],
        quota_bytes: int,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        self._store = store
        self._media = media
        self._clock = clock
        self._quota = quota_bytes
        self.max_pixels = max_pixels

    async def keep(
        self, key: KeyRecord, files: list[tuple[str, bytes]], content_type: str = ""
    ) -> list[str]:
        """Store ``files`` (param name, bytes: images already checked to decode, or, with
        ``content_type``, files of that type already checked) for ``key``; their storage
        keys. Refused whole when they would take the key over its quota."""
        now = self._clock()
        used = await self._store.used(key.id, now - self.WINDOW_S)
        size = sum(len(data) for _, data in files)
        if self._quota and used + size > self._quota:
            raise TooManyRequestsError(
                f"uploads: {size} bytes more would take this key over its quota of "
                f"{self._quota} bytes a day ({used} used)",
                retry_after=3600,
                code="upload_quota_exceeded",
            )
        keys = []
        for param, data in files:
            if not content_type:
                check_pixels(data, param, self.max_pixels)
            kind = (content_type or sniff_image_type(data) or "image/png").split("/")[1]
            stored = f"up/{key.id}/{hashlib.sha256(data).hexdigest()}.{kind}"
            await self._media.put(stored, data)
            await self._store.record(stored, key.id, len(data), now)
            keys.append(stored)
        return keys
