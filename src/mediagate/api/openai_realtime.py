"""OpenAI's Realtime API: ``GET /v1/realtime?model=…`` upgrades to a WebSocket that relays the
Realtime protocol to the model's upstream and back (``relay.realtime``), for the ``openai``
SDK's ``client.realtime.connect`` with only its base URL and key changed.

The key is checked before the upgrade: as ``Authorization: Bearer``, or, from a browser, the
``openai-insecure-api-key.<key>`` subprotocol; a bad one is refused with HTTP 403 and no
socket. A model that cannot run, an account that cannot pay, an event too big or a flood of
them end the session with an ``error`` event and then a close code: 1008 (policy), 1009 (too
big) or 1007 (not JSON)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from mediagate.api.common import runtime_of
from mediagate.core.errors import MediagateError
from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Mode
from mediagate.relay.realtime import (
    SessionEnd,
    Throttle,
    caller_to_upstream,
    error_event,
    upstream_to_caller,
)

INSECURE = "openai-insecure-api-key."


class Caller:
    """The caller's socket: raw frames in (checked by the relay), events out."""

    name = "caller"

    def __init__(self, socket: WebSocket[Any, Any, Any]) -> None:
        self._socket = socket

    async def receive_raw(self) -> str | bytes | None:
        message = await self._socket.receive()
        if message["type"] == "websocket.disconnect":
            return None
        return cast(str | bytes, message.get("text") or message.get("bytes") or b"")

    async def send(self, event: dict[str, Any]) -> None:
        await self._socket.send_text(msgspec.json.encode(event).decode())


def _offered(socket: WebSocket[Any, Any, Any]) -> list[str]:
    raw = socket.headers.get("sec-websocket-protocol") or ""
    return [p.strip() for p in raw.split(",") if p.strip()]


@websocket("/v1/realtime")
async def realtime(socket: WebSocket[Any, Any, Any], model: str = "") -> None:
    rt = runtime_of(socket)  # type: ignore[arg-type]
    offered = _offered(socket)
    secret = next((p[len(INSECURE) :] for p in offered if p.startswith(INSECURE)), None)
    try:
        key = await rt.keys.authenticate(socket.headers.get("authorization") or secret)
        if key.mode is Mode.ADMIN:
            raise PermissionError
        await rt.limiter.check(key.id)
    except (MediagateError, PermissionError):
        await socket.close(code=1008)  # before the upgrade: the caller sees HTTP 403
        return
    await socket.accept(subprotocols="realtime" if "realtime" in offered else None)
    await run_session(socket, key, model)


async def run_session(socket: WebSocket[Any, Any, Any], key: KeyRecord, model: str) -> None:
    """An accepted socket's session with the model's upstream, until either side ends it."""
    rt = runtime_of(socket)  # type: ignore[arg-type]
    caller = Caller(socket)
    try:
        upstream, meter = await rt.relay.open_realtime(key, model)
    except MediagateError as exc:
        param = getattr(exc, "param", None)
        await caller.send(error_event("invalid_request_error", exc.code, str(exc), param))
        await socket.close(code=1008)
        return
    up = asyncio.create_task(upstream_to_caller(upstream, caller, meter))
    down = asyncio.create_task(caller_to_upstream(caller, upstream, Throttle()))
    code = 1000
    try:
        done, _ = await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            failure = task.exception()
            if isinstance(failure, SessionEnd):
                with contextlib.suppress(Exception):
                    await caller.send(failure.event)
                code = failure.code
            elif failure is not None and not isinstance(failure, WebSocketDisconnect):
                message = "the upstream session failed"
                with contextlib.suppress(Exception):
                    await caller.send(error_event("server_error", "upstream_error", message))
                code = 1011
    finally:
        for task in (up, down):
            task.cancel()
        await asyncio.gather(up, down, return_exceptions=True)
        meter.close()
        await upstream.close()
        await _close(socket, code)


async def _close(socket: WebSocket[Any, Any, Any], code: int) -> None:
    with contextlib.suppress(Exception):
        await socket.close(code=code)
