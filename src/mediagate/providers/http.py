"""The HTTP plumbing every adapter shares: one JSON call, one streamed download, and the
mapping of HTTP failures onto the ProviderError tree (by status, then by the vendor's
documented error codes; never by searching messages)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiohttp
import msgspec

from mediagate.core.errors import (
    ContentRejectedError,
    ModelNotFoundError,
    ProviderAuthError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UpstreamInvalidRequest,
    UpstreamTimeoutError,
)
from mediagate.core.numbers import is_digits
from mediagate.core.provider import Clock, MediaStream, Ready, Result, chunks_of

CHUNK = 256 * 1024
MAX_JSON_BYTES = 64 * 1024 * 1024  # inline base64 images can be large; more is an attack
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10, sock_read=60)
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=3600, sock_connect=10, sock_read=120)


class Credentials(msgspec.Struct, frozen=True):
    """What one provider instance needs to call its vendor; built from settings only.
    ``secrets`` holds any others by name (a JWT key pair: ``access_key``, ``secret_key``)."""

    api_key: str
    base_url: str
    project: str = ""
    location: str = ""
    secrets: dict[str, str] = msgspec.field(default_factory=dict)

    def secret(self, name: str) -> str:
        """A named secret; ProviderAuthError (never a KeyError) when it was not set."""
        value = self.secrets.get(name)
        if not value:
            raise ProviderAuthError(f"the credential {name!r} is not set for this provider")
        return value


def retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def error_for(
    name: str,
    status: int,
    message: str,
    code: str = "",
    *,
    headers: Any = None,
    content_codes: Iterable[str] = (),
    model_codes: Iterable[str] = (),
    rate_codes: Iterable[str] = (),
    auth_codes: Iterable[str] = (),
    content_statuses: Iterable[int] = (),
) -> ProviderError:
    """The ProviderError for an upstream's HTTP failure. ``code`` is the vendor's own error
    code; ``content_codes`` / ``model_codes`` / ``rate_codes`` / ``auth_codes`` are the
    documented codes (or code prefixes) meaning a moderation refusal, an unknown model, a
    rate limit, or credentials (or a balance) that no longer serve."""
    text = (
        f"{name}: HTTP {status}"
        + (f" {code}" if code else "")
        + (f": {message}" if message else "")
    )
    if (code and any(code.startswith(c) for c in content_codes)) or status in content_statuses:
        return ContentRejectedError(text)  # (Ideogram's safety check is its HTTP 422)
    if code and any(code.startswith(c) for c in model_codes):
        return ModelNotFoundError(text)
    if code and any(code.startswith(c) for c in rate_codes):
        return RateLimitedError(text, retry_after(headers))
    if code and any(code.startswith(c) for c in auth_codes):
        return ProviderAuthError(text)
    if status in (401, 403):
        return ProviderAuthError(text)
    if status == 404:
        return ModelNotFoundError(text)
    if status == 429:
        return RateLimitedError(text, retry_after(headers))
    if status in (408, 504):
        return UnavailableError(text)
    if 400 <= status < 500:
        return UpstreamInvalidRequest(text)
    return UnavailableError(text)


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one: for reading vendor answers."""
    return value if isinstance(value, dict) else {}


def error_fields(body: Any) -> tuple[str, str]:
    """(code, message) from the common error bodies: {"error": {...}} or flat."""
    if not isinstance(body, dict):
        return "", ""
    err = body.get("error")
    src = err if isinstance(err, dict) else body
    raw = src.get("code")
    if isinstance(raw, int) and not isinstance(raw, bool):  # Kling's, Zhipu's numeric codes
        raw = str(raw)
    code = raw if isinstance(raw, str) else src.get("status") or src.get("name", "")
    # (Stability names its errors: {"name": "content_moderation", "errors": [...]})
    message = src.get("message") or (err if isinstance(err, str) else "")
    if not message and isinstance(src.get("errors"), list):
        message = "; ".join(str(e) for e in src["errors"])
    return str(code or ""), str(message or "")


async def _read_capped(resp: aiohttp.ClientResponse, name: str, limit: int) -> bytes:
    """The whole body, refusing one over ``limit`` bytes (an endless body is an attack)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > limit:
            raise UnavailableError(f"{name}: the answer is over {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def call_json(
    session: aiohttp.ClientSession,
    name: str,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: Any = None,
    content_codes: Iterable[str] = (),
    model_codes: Iterable[str] = (),
    rate_codes: Iterable[str] = (),
    auth_codes: Iterable[str] = (),
    content_statuses: Iterable[int] = (),
    client_timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    limit: int = MAX_JSON_BYTES,
) -> Any:
    """One request whose answer is JSON; every failure becomes a ProviderError."""
    try:
        async with session.request(
            method, url, headers=headers, json=json, data=data, timeout=client_timeout
        ) as resp:
            raw = await _read_capped(resp, name, limit)
            try:
                body = msgspec.json.decode(raw) if raw else None
            except msgspec.DecodeError:
                body = None
            if resp.status >= 400:
                code, message = error_fields(body)
                raise error_for(
                    name,
                    resp.status,
                    message or raw[:200].decode(errors="replace"),
                    code,
                    headers=resp.headers,
                    content_codes=content_codes,
                    model_codes=model_codes,
                    rate_codes=rate_codes,
                    auth_codes=auth_codes,
                    content_statuses=content_statuses,
                )
            if body is None:
                raise UnavailableError(f"{name}: the answer is not JSON (HTTP {resp.status})")
            return body
    except TimeoutError:
        raise UnavailableError(f"{name}: no answer in time from {method} {url}") from None
    except aiohttp.ClientError as exc:
        raise UnavailableError(f"{name}: {type(exc).__name__}: {exc}") from None


async def _chunks(resp: aiohttp.ClientResponse, name: str) -> AsyncIterator[bytes]:
    try:
        expected = resp.content_length
        seen = 0
        async for chunk in resp.content.iter_chunked(CHUNK):
            seen += len(chunk)
            yield chunk
        if expected is not None and seen != expected:
            raise UnavailableError(f"{name}: download ended at {seen} of {expected} bytes")
    except TimeoutError:
        raise UpstreamTimeoutError(f"{name}: the download stalled") from None
    except aiohttp.ClientError as exc:
        raise UnavailableError(f"{name}: download failed: {exc}") from None
    finally:
        resp.release()


async def download(
    session: aiohttp.ClientSession,
    name: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content_type: str | None = None,
    width: int = 0,
    height: int = 0,
    duration_seconds: float | None = None,
    fps: int | None = None,
) -> MediaStream:
    """Open ``url`` and hand back its body as a stream of CHUNK-sized pieces, so a result of
    any size passes through in bounded memory."""
    try:
        resp = await session.get(url, headers=headers, timeout=DOWNLOAD_TIMEOUT)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise UnavailableError(f"{name}: cannot download the result: {exc}") from None
    if resp.status >= 400:
        resp.release()
        raise error_for(name, resp.status, "result download failed", headers=resp.headers)
    ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    if content_type is None or ctype.startswith(MEDIA_TYPES):
        content_type = ctype or "application/octet-stream"
    if not content_type.startswith(MEDIA_TYPES):
        resp.release()
        raise UnavailableError(f"{name}: the result is {content_type}, not media")
    return MediaStream(
        content_type=content_type,
        chunks=_chunks(resp, name),
        width=width,
        height=height,
        duration_seconds=duration_seconds,
        fps=fps,
    )


MEDIA_TYPES = ("image/", "video/", "audio/")
POLL_S = 5.0  # how long an adapter waits between polls unless settings say otherwise


class HttpVendor:
    """The base of an HTTP vendor's adapter (the kit): the injected session, credentials
    and clock, the poll interval, a name (one adapter class may serve under two names, as
    new-api's key serves /mj and /suno) and URLs under the vendor's base URL."""

    name = "http"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        creds: Credentials,
        clock: Clock,
        name: str = "",
        poll_s: float | None = None,
    ) -> None:
        self.name = name or self.name
        self._session = session
        self._creds = creds
        self._clock = clock
        self._poll_s = POLL_S if poll_s is None else poll_s

    def _url(self, path: str) -> str:
        return self._creds.base_url.rstrip("/") + path

    async def _download(self, request: Any, url: str) -> MediaStream:
        """A result link streamed in, described at the task's size (its bytes tell more)."""
        width, height = request.spec.size_for(request.params.aspect_ratio)
        return await download(self._session, self.name, url, width=width, height=height)

    async def cancel(self, request: Any, upstream_id: str) -> None:
        """Most vendors document no cancel: the job ends upstream on its own."""
        return None

    def _finished(self, urls: Iterable[Any]) -> Ready:
        """The job is done: ``Ready`` with the links its status answer gave, which the
        engine streams through ``open`` in that same step (no second read of the job, and
        short-lived links used at once). With none, the files are fetched by index."""
        links = tuple(Result(content_type="", url=u) for u in urls if isinstance(u, str) and u)
        return Ready(results=links)

    async def open(self, request: Any, result: Any) -> MediaStream:
        """A result link, streamed in (typed by its response)."""
        if not result.url:
            raise UnavailableError(f"{self.name}: a result without a link")
        return await self._download(request, result.url)


def percent(value: Any) -> int:
    """A vendor's progress ("45%", 45, "45") as 1..99 while a job runs."""
    text = str(value or "0").strip().rstrip("%")
    number = int(text) if is_digits(text) else 0
    return max(1, min(99, number))


def decode_b64(name: str, text: str) -> bytes:
    """Inline media from a vendor's JSON; a broken payload is the vendor's failure."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise UnavailableError(f"{name}: the inline media is not valid base64") from None


inline = chunks_of  # the name adapters have used
