"""Input images: fetched once, before the submit step (with an SSRF guard), kept as blobs,
re-read later.

Downloads run in a bounded pool of their own (``FetchSlots``), outside the provider's step
slots, with a per-key share and a minimum transfer rate: a tenant whose inputs drip a byte a
second fails its own tasks in seconds and never takes the capacity others need."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp

from mediagate.core.errors import InputError, InvalidRequestError
from mediagate.core.images import (
    BLOB_REF,
    DEFAULT_MAX_PIXELS,
    check_pixels,
    inline_image,
    sniff_image_type,
    sniff_stored_type,
)
from mediagate.core.provider import InputImage
from mediagate.jobs.decode import Decoder
from mediagate.jobs.netguard import (
    AddressPolicy,
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


def unreachable(param: str, url: str) -> str:
    return f"{param}: could not fetch {url}: not a public address, or it did not answer"


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


class InputResolver:
    """Turns the task's image references into bytes, stored under ``in/<task>/<i>``."""

    VERIFIED_KEPT = 4096  # stored inputs known to decode, so a later step decodes none again

    def __init__(
        self,
        blobs: BlobStore,
        signer: UrlSigner,
        max_bytes: int,
        allow: AddressPolicy,
        decoder: Decoder | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        self._blobs = blobs
        self._signer = signer
        self._max = max_bytes
        self._allow = allow
        self._decoder = decoder or Decoder(None)
        self._max_pixels = max_pixels
        self._verified: dict[str, str] = {}
        self.slots = FetchSlots()

    def remote(self, refs: tuple[str, ...]) -> bool:
        """True when some input must be downloaded from somewhere else (it may be already)."""
        return any(
            ref.startswith(("http://", "https://")) and not self._own_file(ref) for ref in refs
        )

    async def load(
        self,
        task_id: str,
        refs: tuple[str, ...],
        max_pixels: int | None = None,
        media: bool = False,
    ) -> tuple[InputImage, ...]:
        """Each input, from storage if already fetched, else fetched and stored now. An image
        is decoded in full once, off the event loop (``Decoder``), when it is obtained, or
        the first time a step reads one kept at create; its header is checked against
        ``max_pixels`` (the model's cap) before that. With ``media`` (a model that takes a
        video or a song as its source: Pika's reference video, Viggle's driving video, a
        Suno upload), an MP4 or audio file fetched by link is taken as it is."""
        cap = max_pixels or self._max_pixels
        images = []
        for i, ref in enumerate(refs):
            param = f"images[{i}]"
            inline = ref.startswith(BLOB_REF)  # kept at create, its header checked there
            key = ref.removeprefix(BLOB_REF) if inline else f"in/{task_id}/{i}"
            try:
                data = await self._blobs.read(key)
                # Our own stored files may be audio or video too (a song to continue, a
                # video to extend).
                ctype = (
                    (sniff_stored_type(data) or await self.verify(param, key, data, cap))
                    if inline
                    else sniff_image_type(data) or (sniff_stored_type(data) if media else None)
                )
            except BlobNotFound:
                if inline:
                    raise InputError(f"{param}: the stored input is gone") from None
                data = await self._obtain(param, ref, media)
                found = sniff_stored_type(data) if media else None
                ctype = found or await self.verify(param, key, data, cap)
                await self._blobs.put(key, data)
            public = (
                ref if ref.startswith(("http://", "https://")) and not self._own_file(ref) else None
            )
            images.append(
                InputImage(
                    data=data,
                    content_type=ctype or await self.verify(param, key, data, cap),
                    source_url=public,
                )
            )
        return tuple(images)

    async def verify(self, param: str, key: str, data: bytes, max_pixels: int) -> str:
        """The image's MIME type once its header is under ``max_pixels`` and it decodes in
        full (in the decoder's pool); anything else is an InputError naming ``param``."""
        try:
            size = check_pixels(data, param, max_pixels)  # the header, every time: cheap
        except InvalidRequestError as exc:
            raise InputError(str(exc)) from None
        known = self._verified.get(key)
        if known is not None:
            return known
        ctype = await self._decoder.verify(data, max_pixels)
        if ctype is None:
            raise InputError(f"{param}: the data is not a readable {size[0]}x{size[1]} image")
        if len(self._verified) >= self.VERIFIED_KEPT:
            self._verified.clear()
        self._verified[key] = ctype
        return ctype

    async def _obtain(self, param: str, ref: str, media: bool = False) -> bytes:
        if ref.startswith("data:"):  # a task from before inline images were kept at create
            try:
                found = inline_image(ref, param, self._max)
            except InvalidRequestError as exc:
                raise InputError(exc.describe(param)) from None
            return found[1] if found else b""
        own = self._own_file(ref)
        data = await self._blobs.read(own) if own else await self._download(param, ref, media)
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

    async def _download(self, param: str, url: str, media: bool = False) -> bytes:
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
                        return await self._body(param, url, resp, media)
                except (aiohttp.ClientError, TimeoutError, OSError):
                    # One message for a blocked address, a name that does not resolve, a
                    # refused connection and a timeout alike: which internal names exist and
                    # what answers there is nothing a tenant may learn from us.
                    raise InputError(unreachable(param, url)) from None
        raise InputError(f"{param}: more than {MAX_REDIRECTS} redirects")

    def _check_url(self, param: str, url: str) -> None:
        """http(s) only, and no spelling of a blocked address; names that resolve to one
        are refused by the connector as it connects."""
        if urlsplit(url).scheme not in ("http", "https") or not url_host(url):
            raise InputError(f"{param}: only http(s) URLs can be fetched, got {url}")
        if spells_blocked_address(url, self._allow):
            raise InputError(unreachable(param, url))

    async def _body(self, param: str, url: str, resp: Any, media: bool = False) -> bytes:
        if resp.status != 200:
            raise InputError(f"{param}: {url} answered HTTP {resp.status}")
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        kinds = ("image/", "audio/", "video/") if media else ("image/",)
        if not ctype.startswith(kinds):
            what = "an image, a song or a video" if media else "an image"
            raise InputError(f"{param}: {url} is {ctype or 'untyped'}, not {what}")
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
