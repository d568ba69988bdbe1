"""OpenAI-compatible text upstreams: chat completions, completions and embeddings, plain or
streamed (SSE), for OpenAI itself and any vendor that speaks its format behind its own base
URL and key (DeepSeek, Groq, OpenRouter, DashScope's compatible mode, vLLM, another new-api).

The body is passed through as the caller sent it (unknown fields too, so new vendor
parameters need no release), with the upstream's model name and, on a stream,
``stream_options.include_usage`` so usage arrives whether or not the caller asked. A
failure before any data maps onto the ProviderError tree by status; one after the first
chunk is an UnavailableError raised from the iterator."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, ClassVar

import aiohttp
import msgspec

from mediagate.core.errors import ModelNotFoundError, UnavailableError, UpstreamTimeoutError
from mediagate.core.text import AudioFile
from mediagate.providers.http import Credentials, error_fields, error_for

CONTENT_CODES = ("content_filter", "content_policy_violation", "moderation_blocked")
MODEL_CODES = ("model_not_found",)
TIMEOUT = aiohttp.ClientTimeout(total=600, sock_connect=10, sock_read=120)
MAX_LINE = 16 * 1024 * 1024


class OpenAIText:
    """One upstream's text API. ``name`` is the provider (or channel) it serves as."""

    def __init__(self, session: aiohttp.ClientSession, creds: Credentials, name: str) -> None:
        self.name = name
        self._session = session
        self._creds = creds

    def _url(self, path: str) -> str:
        return self._creds.base_url.rstrip("/") + path

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._creds.api_key}"}

    # The vendor's documented error codes, by what they mean (``error_for``).
    content_codes: ClassVar[tuple[str, ...]] = CONTENT_CODES
    model_codes: ClassVar[tuple[str, ...]] = MODEL_CODES
    rate_codes: ClassVar[tuple[str, ...]] = ()
    auth_codes: ClassVar[tuple[str, ...]] = ()

    async def _fail(self, resp: aiohttp.ClientResponse) -> None:
        raw = await resp.content.read(64 * 1024)
        try:
            body = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            body = {}
        code, message = error_fields(body)
        if not code and isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = str(body["error"].get("type") or "")  # Anthropic names its errors by type
        text = message or raw[:200].decode("utf-8", "replace")
        raise error_for(
            self.name, resp.status, text, code, headers=resp.headers,
            content_codes=self.content_codes, model_codes=self.model_codes,
            rate_codes=self.rate_codes, auth_codes=self.auth_codes,
        )  # fmt: skip

    async def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """One unstreamed JSON call to ``url``, its failures mapped onto the error tree."""
        try:
            async with self._session.post(
                url, json=body, headers=self._headers(), timeout=TIMEOUT
            ) as resp:
                if resp.status >= 400:
                    await self._fail(resp)
                answer = msgspec.json.decode(await resp.read())
        except TimeoutError:
            raise UpstreamTimeoutError(f"{self.name}: no answer in time") from None
        except (aiohttp.ClientError, msgspec.DecodeError) as exc:
            raise UnavailableError(f"{self.name}: {type(exc).__name__}") from None
        if not isinstance(answer, dict):
            raise UnavailableError(f"{self.name}: the answer is not a JSON object")
        return answer

    async def send(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One unstreamed call: the upstream's JSON answer."""
        return await self.post(self._url(path), body)

    async def stream(self, path: str, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """The upstream's stream, one parsed ``data:`` event at a time, until ``[DONE]``."""
        options = dict(body.get("stream_options") or {})
        options["include_usage"] = True
        sent = {**body, "stream": True, "stream_options": options}
        async for event in self.post_stream(self._url(path), sent):
            yield event

    async def post_stream(
        self, url: str, body: dict[str, Any]
    ) -> AsyncGenerator[dict[str, Any], None]:
        """A streamed POST's server-sent events, each ``data:`` a JSON object, until
        ``[DONE]``; its failures mapped onto the error tree (an error event, or an end
        before ``[DONE]``, is an UnavailableError)."""
        try:
            async with self._session.post(
                url, json=body, headers=self._headers(), timeout=TIMEOUT
            ) as resp:
                if resp.status >= 400:
                    await self._fail(resp)
                async for event in _events(resp, self.name):
                    yield event
        except TimeoutError:
            raise UpstreamTimeoutError(f"{self.name}: the stream stalled") from None
        except aiohttp.ClientError as exc:
            raise UnavailableError(f"{self.name}: {type(exc).__name__} mid-stream") from None

    async def speech(self, path: str, body: dict[str, Any]) -> AsyncGenerator[bytes, None]:
        """Text to speech: the audio as the upstream sends it, chunk by chunk."""
        async for chunk in self._bytes(self._url(path), json=body):
            yield chunk

    async def transcribe(
        self, path: str, fields: list[tuple[str, str]], file: AudioFile
    ) -> AsyncGenerator[bytes, None]:
        """Speech to text (multipart): the answer as the upstream sends it, in the format
        asked for (a stream of events when ``stream`` is true)."""
        form = aiohttp.FormData()
        for name, value in fields:
            form.add_field(name, value)
        form.add_field("file", file.data, filename=file.name, content_type=file.content_type)
        async for chunk in self._bytes(self._url(path), data=form):
            yield chunk

    async def _bytes(self, url: str, **body: Any) -> AsyncGenerator[bytes, None]:
        try:
            async with self._session.post(
                url, headers=self._headers(), timeout=TIMEOUT, **body
            ) as resp:
                if resp.status >= 400:
                    await self._fail(resp)
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    yield chunk
        except TimeoutError:
            raise UpstreamTimeoutError(f"{self.name}: no answer in time") from None
        except aiohttp.ClientError as exc:
            raise UnavailableError(f"{self.name}: {type(exc).__name__}") from None

    async def realtime(self, model: str) -> WebSocketPeer:
        """A realtime session with the upstream: its ``/realtime`` WebSocket for ``model``."""
        base = self._creds.base_url.rstrip("/")
        url = base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/realtime"
        try:
            socket = await self._session.ws_connect(
                url, params={"model": model}, headers=self._headers(),
                max_msg_size=MAX_LINE, timeout=aiohttp.ClientWSTimeout(ws_close=10),
            )  # fmt: skip
        except aiohttp.WSServerHandshakeError as exc:
            raise error_for(self.name, exc.status, exc.message or "refused", "") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UnavailableError(f"{self.name}: {type(exc).__name__}") from None
        return WebSocketPeer(socket, self.name)


class WebSocketPeer:
    """An upstream's realtime WebSocket as a ``relay.realtime.Peer``."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse, name: str) -> None:
        self._socket = socket
        self.name = name

    async def send(self, event: dict[str, Any]) -> None:
        if not self._socket.closed:
            await self._socket.send_str(msgspec.json.encode(event).decode())

    async def receive(self) -> dict[str, Any] | None:
        while True:
            message = await self._socket.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                if message.type is aiohttp.WSMsgType.BINARY:
                    continue
                return None  # closed, closing or broken
            try:
                event = msgspec.json.decode(message.data)
            except msgspec.DecodeError:
                continue
            if isinstance(event, dict):
                return event

    async def close(self) -> None:
        await self._socket.close()


async def _events(resp: aiohttp.ClientResponse, name: str) -> AsyncIterator[dict[str, Any]]:
    buffer = b""
    async for piece in resp.content.iter_any():
        buffer += piece
        if len(buffer) > MAX_LINE:
            raise UnavailableError(f"{name}: an event of over {MAX_LINE} bytes")
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            line = line.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                return
            try:
                event = msgspec.json.decode(data)
            except msgspec.DecodeError:
                raise UnavailableError(f"{name}: a stream event is not JSON") from None
            if isinstance(event, dict):
                if "error" in event and "choices" not in event:
                    message = str((event.get("error") or {}).get("message") or "stream error")
                    raise UnavailableError(f"{name}: {message}")
                yield event
    raise UnavailableError(f"{name}: the stream ended without [DONE]")


class TextOnlyProvider:
    """An OpenAI-compatible vendor that serves text only (DeepSeek, Groq, OpenRouter,
    DashScope's compatible mode, vLLM): a provider for the routes file and channels, whose
    ``text`` is its API; as a task's upstream it has nothing to offer."""

    def __init__(
        self, session: aiohttp.ClientSession, creds: Credentials, name: str, text: Any = None
    ) -> None:
        self.name = name
        self.text = text or OpenAIText(session, creds, name)

    def _none(self) -> ModelNotFoundError:
        return ModelNotFoundError(f"{self.name}: serves text only, no media tasks")

    async def submit(self, request: Any) -> Any:
        raise self._none()

    async def poll(self, request: Any, upstream_id: str) -> Any:
        raise self._none()

    async def fetch(self, request: Any, upstream_id: str, index: int) -> Any:
        return None

    async def cancel(self, request: Any, upstream_id: str) -> None:
        return None

    async def open(self, request: Any, result: Any) -> Any:
        raise self._none()
