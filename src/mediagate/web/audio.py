"""The console's audio page: text to speech (a player), transcription (an upload, then the
text) and a realtime text session over the same WebSocket relay as the API's. Each goes
through the relay, limits and money of the API, with the console's session standing in for
the key; the realtime socket is the session's only when its Origin is this site and it
carries the session's CSRF token (no cross-site WebSocket)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, WebSocket, get, post, websocket
from litestar.response import Stream, Template

from mediagate.api.common import runtime_of
from mediagate.api.openai_audio import listen, speak
from mediagate.api.openai_realtime import run_session
from mediagate.core.errors import AuthenticationError
from mediagate.core.tasks import Mode
from mediagate.core.text import TextKind
from mediagate.providers.sandbox.speech import FORMATS, VOICES
from mediagate.web import console as c
from mediagate.web import session as sessions


@get("/console/audio", include_in_schema=False, guards=[c.signed_in])
async def audio_page(request: Request[Any, Any, Any]) -> Template:
    found = runtime_of(request).relay.catalogue.models.values()

    def of(kind: TextKind) -> list[str]:
        return sorted(m.id for m in found if m.kind is kind)

    return c.page(
        request, "audio.html", speakers=of(TextKind.SPEECH), listeners=of(TextKind.TRANSCRIPTION),
        talkers=of(TextKind.REALTIME), voices=list(VOICES), formats=list(FORMATS),
    )  # fmt: skip


@post("/console/speech", include_in_schema=False, guards=[c.signed_in], status_code=200)
async def speech(request: Request[Any, Any, Any]) -> Stream:
    return await speak(request)


@post("/console/transcribe", include_in_schema=False, guards=[c.signed_in], status_code=200)
async def transcribe(request: Request[Any, Any, Any]) -> Response[Any]:
    return await listen(request, "transcriptions")


@websocket("/console/realtime")
async def realtime(socket: WebSocket[Any, Any, Any], model: str = "", csrf: str = "") -> None:
    rt = runtime_of(socket)  # type: ignore[arg-type]
    found = sessions.read(c._secret(rt), socket.cookies.get(sessions.COOKIE))
    origin = urlsplit(socket.headers.get("origin") or "").netloc
    same_site = origin and origin == socket.headers.get("host")
    if found is None or not same_site or not sessions.csrf_ok(found, csrf):
        await socket.close(code=1008)  # before the upgrade: HTTP 403
        return
    try:
        key = await rt.keys.authenticate_hash(found.key_hash)
    except AuthenticationError:
        await socket.close(code=1008)
        return
    if key.mode is Mode.ADMIN or await rt.console_sessions.ended(found.csrf):
        await socket.close(code=1008)
        return
    await socket.accept()
    await run_session(socket, key, model)


AUDIO_PAGES = [audio_page, speech, transcribe, realtime]
