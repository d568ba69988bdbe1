"""Input images: fetched once, before the submit step (with an SSRF guard), kept as blobs,
re-read later.

Downloads run in a bounded pool of their own (``FetchSlots``), outside the provider's step
slots, with a per-key share and a minimum transfer rate: a tenant whose inputs drip a byte a
second fails its own tasks in seconds and never takes the capacity others need."""

from __future__ import annotations

import io
import time
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp

from mediagate.core.errors import InputError, InvalidRequestError
from mediagate.core.images import BLOB_REF, inline_image, sniff_image_type, sniff_stored_type
from mediagate.core.provider import InputImage
from mediagate.jobs.netguard import (
    AddressPolicy,
    blocked_cause,
    guarded_connector,
    spells_blocked_address,
    url_host,
)
from mediagate.storage.blobs import BlobNotFound, BlobStore
from mediagate.storage.signing import FILES_PREFIX, UrlSigner

MAX_REDIRECTS = 3
MIN_RATE = 16 * 1024  # bytes/s an input download must average once GRACE_S have passed
GRACE_S = 5.0
TOTAL_S = 30.0


class FetchSlots:
    """How many input downloads run at once: ``capacity`` in all, ``per_key`` for one key.
    A key with none running may always start one (up to twice ``capacity``), so a full pool
    never shuts a quiet tenant out. Never waits: a refused step is tried again shortly."""

    def __init__(self, capacity: int = 32, per_key: int = 4) -> None:
        self._capacity = capacity
        self._per_key = per_key
        self._running: dict[str, int] = {}
        self._total = 0

    def take(self, key_id: str) -> bool:
        mine = self._running.get(key_id, 0)
        if mine >= self._per_key:
            return False
        if self._total >= self._capacity and (mine or self._total >= 2 * self._capacity):
            return False
        self._running[key_id] = mine + 1
        self._total += 1
        return True

    def give(self, key_id: str) -> None:
        left = self._running.get(key_id, 1) - 1
        if left > 0:
            self._running[key_id] = left
        else:
            self._running.pop(key_id, None)
        self._total -= 1


_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


class InputResolver:
    """Turns the task's image references into bytes, stored under ``in/<task>/<i>``."""

    def __init__(
        self, blobs: BlobStore, signer: UrlSigner, max_bytes: int, allow: AddressPolicy
    ) -> None:
        self._blobs = blobs
        self._signer = signer
        self._max = max_bytes
        self._allow = allow
        self.slots = FetchSlots()

    def remote(self, refs: tuple[str, ...]) -> bool:
        """True when some input must be downloaded from somewhere else (it may be already)."""
        return any(
            ref.startswith(("http://", "https://")) and not self._own_file(ref) for ref in refs
        )

    async def load(self, task_id: str, refs: tuple[str, ...]) -> tuple[InputImage, ...]:
        """Each input, from storage if already fetched, else fetched and stored now. An image
        is decoded in full once, when it is obtained; what was stored after that check is
        only told apart by its magic bytes when read again (each step reads it)."""
        images = []
        for i, ref in enumerate(refs):
            param = f"images[{i}]"
            inline = ref.startswith(BLOB_REF)  # kept at create, checked by magic bytes only
            key = ref.removeprefix(BLOB_REF) if inline else f"in/{task_id}/{i}"
            try:
                data = await self._blobs.read(key)
                # Our own stored files may be audio or video too (a song to continue, a
                # video to extend).
                ctype = (
                    (sniff_stored_type(data) or sniff(param, data))
                    if inline
                    else (sniff_image_type(data))
                )
            except BlobNotFound:
                if inline:
                    raise InputError(f"{param}: the stored input is gone") from None
                data = await self._obtain(param, ref)
                ctype = sniff(param, data)
                await self._blobs.put(key, data)
            public = (
                ref if ref.startswith(("http://", "https://")) and not self._own_file(ref) else None
            )
            images.append(
                InputImage(data=data, content_type=ctype or sniff(param, data), source_url=public)
            )
        return tuple(images)

    async def _obtain(self, param: str, ref: str) -> bytes:
        if ref.startswith("data:"):  # a task from before inline images were kept at create
            try:
                found = inline_image(ref, param, self._max)
            except InvalidRequestError as exc:
                raise InputError(exc.describe(param)) from None
            return found[1] if found else b""
        own = self._own_file(ref)
        data = await self._blobs.read(own) if own else await self._download(param, ref)
        if len(data) > self._max:
            raise InputError(f"{param}: image is over {self._max} bytes")
        return data

    def _own_file(self, ref: str) -> str | None:
        """The blob key if ``ref`` is a valid signed link to one of our own results."""
        parts = urlsplit(ref)
        if not parts.path.startswith(FILES_PREFIX):
            return None
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        key = unquote(parts.path[len(FILES_PREFIX) :])
        if self._signer.verify(key, query.get("sig", ""), query.get("exp")):
            return key
        return None

    async def _download(self, param: str, url: str) -> bytes:
        connector = guarded_connector(self._allow)
        timeout = aiohttp.ClientTimeout(total=TOTAL_S, sock_connect=GRACE_S, sock_read=GRACE_S)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            for _ in range(MAX_REDIRECTS + 1):
                self._check_url(param, url)
                try:
                    async with session.get(url, allow_redirects=False) as resp:
                        if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                            url = urljoin(url, resp.headers["Location"])
                            continue
                        return await self._body(param, url, resp)
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    # Say why in words that tell nothing of what answered where.
                    if blocked_cause(exc) is not None:
                        raise InputError(
                            f"{param}: refused to fetch {url}: not a public address"
                        ) from None
                    reason = "timed out" if isinstance(exc, TimeoutError) else "connection failed"
                    raise InputError(f"{param}: could not fetch {url}: {reason}") from None
        raise InputError(f"{param}: more than {MAX_REDIRECTS} redirects")

    def _check_url(self, param: str, url: str) -> None:
        """http(s) only, and no spelling of a blocked address; names that resolve to one
        are refused by the connector as it connects."""
        if urlsplit(url).scheme not in ("http", "https") or not url_host(url):
            raise InputError(f"{param}: only http(s) URLs can be fetched, got {url}")
        if spells_blocked_address(url, self._allow):
            raise InputError(f"{param}: refused to fetch {url}: not a public address")

    async def _body(self, param: str, url: str, resp: Any) -> bytes:
        if resp.status != 200:
            raise InputError(f"{param}: {url} answered HTTP {resp.status}")
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not ctype.startswith("image/"):
            raise InputError(f"{param}: {url} is {ctype or 'untyped'}, not an image")
        if resp.content_length is not None and resp.content_length > self._max:
            raise InputError(f"{param}: image is over {self._max} bytes")
        buf = bytearray()
        started = time.monotonic()
        async for chunk in resp.content.iter_chunked(64 * 1024):
            buf += chunk
            if len(buf) > self._max:
                raise InputError(f"{param}: image is over {self._max} bytes")
            elapsed = time.monotonic() - started
            if elapsed > GRACE_S and len(buf) < MIN_RATE * elapsed:
                raise InputError(
                    f"{param}: {url} sent {len(buf)} bytes in {elapsed:.0f} s, under the "
                    f"minimum of {MIN_RATE // 1024} KiB/s"
                )
        return bytes(buf)


def sniff(param: str, data: bytes) -> str:
    """The image's MIME type, by decoding its header; anything else is an InputError."""
    from PIL import Image, UnidentifiedImageError  # imported on first use: a faster start

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # the whole image decodes: a truncated or forged file fails here
            kind = img.format or ""
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise InputError(f"{param}: the data is not a readable image") from None
    return _MIME.get(kind, "application/octet-stream")
