"""Result blobs on obstore (local disk by default, or S3), streamed in bounded chunks.

Small results just written are also kept in a bounded in-memory LRU, so a synchronous answer
(an OpenAI image as b64_json) is made without reading the file back from storage.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator
from datetime import timedelta
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


class S3Settings(msgspec.Struct, frozen=True):
    """Where results live in S3 (or any S3-compatible server)."""

    bucket: str
    endpoint: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    prefix: str | None = None


class BlobStore:
    """Put and get blobs by key. Keys are relative paths such as ``t/<task>/0.mp4``."""

    CACHE_ITEM_MAX = 8 * 1024 * 1024

    def __init__(self, store: Any, cache_bytes: int = 0, can_presign: bool = False) -> None:
        self._store = store
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached = 0
        self.can_presign = can_presign

    @classmethod
    def local(cls, root: Path, cache_bytes: int = 0) -> BlobStore:
        root.mkdir(parents=True, exist_ok=True)
        return cls(LocalStore(str(root), mkdir=True), cache_bytes)

    @classmethod
    def s3(cls, cfg: S3Settings, cache_bytes: int = 0) -> BlobStore:
        from obstore.store import S3Store

        config: dict[str, Any] = {"region": cfg.region}
        if cfg.endpoint:
            config["endpoint"] = cfg.endpoint
            config["virtual_hosted_style_request"] = False
        if cfg.access_key_id:
            config["access_key_id"] = cfg.access_key_id
        if cfg.secret_access_key:
            config["secret_access_key"] = cfg.secret_access_key
        options = {"allow_http": True} if (cfg.endpoint or "").startswith("http://") else None
        store = S3Store(
            cfg.bucket,
            prefix=cfg.prefix,
            config=config,  # type: ignore[arg-type]
            client_options=options,  # type: ignore[arg-type]
        )
        return cls(store, cache_bytes, can_presign=True)

    def presign(self, key: str, expires_s: int) -> str:
        """A presigned GET URL for ``key`` (S3 only), valid ``expires_s`` seconds. Signing
        is local computation: no request is made."""
        return str(obs.sign(self._store, "GET", key, timedelta(seconds=expires_s)))

    def _remember(self, key: str, data: bytes) -> None:
        if not self._cache_bytes or len(data) > min(self.CACHE_ITEM_MAX, self._cache_bytes):
            return
        self._forget(key)
        self._cache[key] = data
        self._cached += len(data)
        while self._cached > self._cache_bytes:
            _, old = self._cache.popitem(last=False)
            self._cached -= len(old)

    def _forget(self, key: str) -> None:
        old = self._cache.pop(key, None)
        if old is not None:
            self._cached -= len(old)

    async def put(self, key: str, data: bytes | AsyncIterable[bytes]) -> BlobInfo:
        """Write ``data``; an iterable is streamed, so memory stays at one chunk (plus the
        cache's copy while the blob is small enough to keep)."""
        if isinstance(data, bytes):
            await obs.put_async(self._store, key, data)
            self._remember(key, data)
            return BlobInfo(key=key, size=len(data))
        written = 0
        kept: list[bytes] | None = [] if self._cache_bytes else None

        async def counted() -> AsyncIterator[bytes]:
            nonlocal written, kept
            async for chunk in data:
                written += len(chunk)
                if kept is not None:
                    if written > self.CACHE_ITEM_MAX:
                        kept = None
                    else:
                        kept.append(bytes(chunk))
                yield chunk

        await obs.put_async(self._store, key, counted())
        if kept is not None:
            self._remember(key, b"".join(kept))
        return BlobInfo(key=key, size=written)

    async def size(self, key: str) -> int:
        try:
            meta = await obs.head_async(self._store, key)
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return int(meta["size"])

    async def read(self, key: str) -> bytes:
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
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
            self._forget(key)
            with contextlib.suppress(FileNotFoundError):
                await obs.delete_async(self._store, key)
