"""A key's asset library: images and videos it uploads once and names by id in later tasks
(Viggle's characters and driving videos). Each is a blob under ``up/<key>/``, counted against
the key's daily upload quota (``UploadService``), listed and deleted by its owner only. No
HTTP and no SQL here."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec

from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.core.images import check_pixels, sniff_image_type, sniff_stored_type
from mediagate.core.keys import KeyRecord
from mediagate.core.ports import MediaStore
from mediagate.core.uploads import UploadService

KINDS = ("image", "video")


class Asset(msgspec.Struct, frozen=True):
    id: str
    key_id: str
    kind: str
    blob: str
    name: str
    content_type: str
    width: int
    height: int
    bytes: int
    created_at: float


class AssetStore(Protocol):
    async def add(self, asset: Asset) -> None: ...

    async def list(self, key_id: str, kind: str | None, limit: int) -> list[Asset]: ...

    async def get(self, key_id: str, asset_id: str) -> Asset | None: ...

    async def delete(self, key_id: str, asset_id: str) -> bool: ...


class AssetNotFound(NotFoundError):
    code = "asset_not_found"


class AssetService:
    def __init__(
        self,
        store: AssetStore,
        media: MediaStore,
        uploads: UploadService,
        clock: Callable[[], float],
        probe: Callable[[bytes], Awaitable[tuple[int, int] | None]],
    ) -> None:
        self._store = store
        self._media = media
        self._uploads = uploads
        self._clock = clock
        self._probe = probe  # a video's (width, height), read off the loop; None: not one

    async def keep(self, key: KeyRecord, kind: str, name: str, data: bytes) -> Asset:
        """Check, store and record one file. An image must decode (the caller checked it in
        the decoder); a video must be an MP4 whose header gives its size."""
        if kind not in KINDS:
            raise InvalidRequestError("kind", f"{kind!r}", list(KINDS))
        if not data:
            raise InvalidRequestError("file", "is empty")
        if kind == "image":
            width, height = check_pixels(data, "file", self._uploads.max_pixels)
            ctype = sniff_image_type(data) or "image/png"
        else:
            found = await self._probe(data) if sniff_stored_type(data) == "video/mp4" else None
            if found is None:
                raise InvalidRequestError("file", "is not an MP4 video", ["video/mp4"])
            (width, height), ctype = found, "video/mp4"
        blob = (await self._uploads.keep(key, [("file", data)], ctype))[0]
        asset = Asset(
            id=secrets.token_hex(12), key_id=key.id, kind=kind, blob=blob, name=name[:200],
            content_type=ctype, width=width, height=height, bytes=len(data),
            created_at=self._clock(),
        )  # fmt: skip
        await self._store.add(asset)
        return asset

    async def list(self, key: KeyRecord, kind: str | None = None, limit: int = 100) -> list[Asset]:
        return await self._store.list(key.id, kind, limit)

    async def get(self, key: KeyRecord, asset_id: str, kind: str | None = None) -> Asset:
        """The key's asset; another key's is as absent as one there never was."""
        found = await self._store.get(key.id, asset_id)
        if found is None or (kind is not None and found.kind != kind):
            raise AssetNotFound(f"no {kind or 'asset'} {asset_id!r} in this key's library")
        return found

    async def delete(self, key: KeyRecord, asset_id: str) -> Asset:
        found = await self.get(key, asset_id)
        await self._store.delete(key.id, asset_id)
        await self._media.delete([found.blob])
        return found
