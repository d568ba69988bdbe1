"""Result blobs on obstore (local disk by default), streamed in and out in bounded chunks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import obstore as obs
from obstore.store import LocalStore

CHUNK = 256 * 1024


class BlobInfo(msgspec.Struct, frozen=True):
    key: str
    size: int


class BlobNotFound(LookupError):
    pass


class BlobStore:
    """Put and get blobs by key. Keys are relative paths such as ``t/<task>/0.mp4``."""

    def __init__(self, store: Any) -> None:
        self._store = store

    @classmethod
    def local(cls, root: Path) -> BlobStore:
        root.mkdir(parents=True, exist_ok=True)
        return cls(LocalStore(str(root), mkdir=True))

    async def put(self, key: str, data: bytes | AsyncIterable[bytes]) -> BlobInfo:
        """Write ``data``; an iterable is streamed, so memory stays at one chunk."""
        if isinstance(data, bytes):
            await obs.put_async(self._store, key, data)
            return BlobInfo(key=key, size=len(data))
        written = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal written
            async for chunk in data:
                written += len(chunk)
                yield chunk

        await obs.put_async(self._store, key, counted())
        return BlobInfo(key=key, size=written)

    async def size(self, key: str) -> int:
        try:
            meta = await obs.head_async(self._store, key)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return int(meta["size"])

    async def read(self, key: str) -> bytes:
        try:
            result = await obs.get_async(self._store, key)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return bytes(await result.bytes_async())

    async def stream(
        self, key: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Yield ``key``'s bytes in [start, end) in chunks of about CHUNK bytes."""
        options: Any = None
        if start or end is not None:
            stop = end if end is not None else await self.size(key)
            options = {"range": (start, stop)}
        try:
            result = await obs.get_async(self._store, key, options=options)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        async for chunk in result.stream(min_chunk_size=CHUNK):
            yield bytes(chunk)

    async def delete(self, keys: list[str]) -> None:
        """Remove blobs; a key that is already gone is not an error."""
        for key in keys:
            with contextlib.suppress(FileNotFoundError):
                await obs.delete_async(self._store, key)
