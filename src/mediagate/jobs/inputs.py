"""Input images: fetched once at submit (with an SSRF guard), kept as blobs, re-read later."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from mediagate.core.errors import InputError
from mediagate.providers.base import InputImage
from mediagate.storage.blobs import BlobNotFound, BlobStore
from mediagate.storage.signing import FILES_PREFIX, UrlSigner

MAX_REDIRECTS = 3
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


def is_public_address(host: str) -> bool:
    """True for globally routable unicast addresses only (no loopback, private, link-local,
    metadata, multicast, reserved or IPv4-mapped tricks)."""
    ip = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def literal_address(host: str) -> str | None:
    """The address ``host`` spells, in canonical form, also for the legacy IPv4 spellings
    that C resolvers accept (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


class BlockedAddressError(OSError):
    """A name resolved to an address input fetching must never reach."""


def _blocked(exc: BaseException) -> BlockedAddressError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BlockedAddressError):
            return seen
        inner = getattr(seen, "os_error", None)
        seen = inner if isinstance(inner, BaseException) else (seen.__cause__ or seen.__context__)
    return None


class GuardedResolver(AbstractResolver):
    """Resolves names and refuses any that lead to a non-public address."""

    def __init__(self, allow_private: bool) -> None:
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family)
        except OSError as exc:
            raise OSError(f"cannot resolve {host}: {exc}") from None
        results: list[ResolveResult] = []
        for fam, _, proto, _, sockaddr in infos:
            addr = str(sockaddr[0])
            if not self._allow_private and not is_public_address(addr):
                raise BlockedAddressError(f"{host} resolves to a non-public address")
            results.append(
                ResolveResult(
                    hostname=host,
                    host=addr,
                    port=int(sockaddr[1]),
                    family=fam,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        return results

    async def close(self) -> None:
        return None


class InputResolver:
    """Turns the task's image references into bytes, stored under ``in/<task>/<i>``."""

    def __init__(
        self, blobs: BlobStore, signer: UrlSigner, max_bytes: int, allow_private: bool
    ) -> None:
        self._blobs = blobs
        self._signer = signer
        self._max = max_bytes
        self._allow_private = allow_private

    async def load(self, task_id: str, refs: tuple[str, ...]) -> tuple[InputImage, ...]:
        """Each input, from storage if already fetched, else fetched and stored now."""
        images = []
        for i, ref in enumerate(refs):
            key = f"in/{task_id}/{i}"
            try:
                data = await self._blobs.read(key)
            except BlobNotFound:
                data = await self._obtain(f"images[{i}]", ref)
                await self._blobs.put(key, data)
            public = (
                ref if ref.startswith(("http://", "https://")) and not self._own_file(ref) else None
            )
            ctype = sniff(f"images[{i}]", data)
            images.append(InputImage(data=data, content_type=ctype, source_url=public))
        return tuple(images)

    async def _obtain(self, param: str, ref: str) -> bytes:
        if ref.startswith("data:"):
            data = base64.b64decode(ref.partition(",")[2])
        else:
            own = self._own_file(ref)
            data = await self._blobs.read(own) if own else await self._download(param, ref)
        if len(data) > self._max:
            raise InputError(f"{param}: image is over {self._max} bytes")
        sniff(param, data)
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
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._allow_private))
        timeout = aiohttp.ClientTimeout(total=30, sock_connect=10)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            for _ in range(MAX_REDIRECTS + 1):
                self._check_literal(param, url)
                try:
                    async with session.get(url, allow_redirects=False) as resp:
                        if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                            url = urljoin(url, resp.headers["Location"])
                            continue
                        return await self._body(param, url, resp)
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    blocked = _blocked(exc)
                    if blocked is not None:
                        raise InputError(f"{param}: refused to fetch {url}: {blocked}") from None
                    reason = str(exc) or "timed out"
                    raise InputError(f"{param}: could not fetch {url}: {reason}") from None
        raise InputError(f"{param}: more than {MAX_REDIRECTS} redirects")

    def _check_literal(self, param: str, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"{param}: only http(s) URLs can be fetched, got {url}")
        host = literal_address(parts.hostname)
        if host is None:
            return  # a name: the resolver checks what it resolves to
        if not self._allow_private and not is_public_address(host):
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
        async for chunk in resp.content.iter_chunked(64 * 1024):
            buf += chunk
            if len(buf) > self._max:
                raise InputError(f"{param}: image is over {self._max} bytes")
        return bytes(buf)


def sniff(param: str, data: bytes) -> str:
    """The image's MIME type, by decoding its header; anything else is an InputError."""
    from PIL import Image, UnidentifiedImageError  # imported on first use: a faster start

    from mediagate.providers.sandbox.media import open_image

    try:
        img: Image.Image = open_image(data)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise InputError(f"{param}: the data is not a readable image") from None
    return _MIME.get(img.format or "", "application/octet-stream")
