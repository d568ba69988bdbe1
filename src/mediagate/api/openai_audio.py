"""OpenAI's audio endpoints, relayed: POST /v1/audio/speech (text to speech, streamed to the
caller as it arrives), /v1/audio/transcriptions and /v1/audio/translations (multipart), for
the official ``openai`` SDK with only its base URL and key changed.

What a request uses is known before it runs, and that is what it is charged: speech by the
characters of its input, transcription by the minutes of its audio, which mediagate measures
itself by decoding the whole file in the render pool (never from the client's word or a
header). A file that is not audio mediagate can decode, an empty one, one over 25 MB, an
unknown voice or format, or text over 4,096 characters is a 400 naming the field, before
any upstream is called."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import UploadFile
from litestar.response import Stream

from mediagate.api.common import api_key, dialect_router, runtime_of
from mediagate.api.forms import require_multipart
from mediagate.api.openai_text import _number, find_model, read_body, relay_handler
from mediagate.core.errors import InvalidRequestError
from mediagate.core.text import AudioFile, TextKind, TextModel, Usage
from mediagate.providers.sandbox.speech import FORMATS as SPEECH_FORMATS
from mediagate.providers.sandbox.speech import VOICES
from mediagate.relay.transcripts import FORMATS, TYPES

MAX_INPUT = 4096  # characters of text to speak
MAX_FILE = 25 * 1024 * 1024  # OpenAI's limit on an audio upload
GRANULARITIES = ("word", "segment")
PASSED = ("language", "prompt", "temperature", "response_format", "stream", "chunking_strategy")


@post("/v1/audio/speech", status_code=200, summary="Text to speech (OpenAI format)")
async def speech(request: Request[Any, Any, Any]) -> Stream:
    return await speak(request)


async def speak(request: Request[Any, Any, Any]) -> Stream:
    """Text to speech for the request's key (the API's, or the console's session)."""
    rt = runtime_of(request)
    body = await read_body(request)
    find_model(rt, body, TextKind.SPEECH)
    text = body.get("input")
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequestError("input", "is required: the text to speak")
    if len(text) > MAX_INPUT:
        raise InvalidRequestError("input", f"is {len(text)} characters, over {MAX_INPUT}")
    voice = body.get("voice")
    if voice not in VOICES:
        raise InvalidRequestError("voice", f"{str(voice)[:40]!r} is not a voice", list(VOICES))
    fmt = body.setdefault("response_format", "mp3")
    if fmt not in SPEECH_FORMATS:
        raise InvalidRequestError("response_format", f"{str(fmt)[:20]!r}", list(SPEECH_FORMATS))
    _number(body, "speed", 0.25, 4.0)
    if body.get("stream_format", "audio") != "audio":
        raise InvalidRequestError("stream_format", "only audio is served", ["audio"])
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise InvalidRequestError("instructions", "must be text")
    relay = rt.relay
    plan = await relay.plan(
        api_key(request), "audio.speech", body, fixed=Usage(characters=len(text))
    )

    def call(upstream: Any, model: str) -> AsyncGenerator[bytes, None]:
        out: AsyncGenerator[bytes, None] = upstream.speech(
            "/audio/speech", {**body, "model": model}
        )
        return out

    chunks = await relay.open_bytes(plan, call)
    return Stream(chunks, media_type=SPEECH_FORMATS[str(fmt)][2])


async def _listened(
    request: Request[Any, Any, Any], route: str
) -> tuple[TextModel, list[tuple[str, str]], AudioFile, str, bool]:
    """The form of a transcription or translation, checked: its model, the fields to pass
    on, the file, the response format, and whether it streams."""
    require_multipart(request.headers.get("content-type", ""), f"/v1/audio/{route}")
    rt = runtime_of(request)
    form = await request.form()
    given = {k: v for k, v in form.multi_items() if not isinstance(v, UploadFile)}
    model = find_model(rt, {"model": given.get("model")}, TextKind.TRANSCRIPTION)
    if route == "translations" and model.streams:
        raise InvalidRequestError("model", f"{model.id} does not translate", ["whisper-1"])
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequestError("file", "is required: the audio, as a file part")
    data = await upload.read()
    if not data:
        raise InvalidRequestError("file", "is empty")
    if len(data) > MAX_FILE:
        raise InvalidRequestError("file", f"is {len(data)} bytes, over {MAX_FILE} (25 MB)")
    fmt = str(given.get("response_format") or "json")
    allowed = ["json", "text"] if model.streams else list(FORMATS)
    if fmt not in allowed:
        raise InvalidRequestError("response_format", f"{fmt[:20]!r} for {model.id}", allowed)
    grains = [str(v) for k, v in form.multi_items() if k.startswith("timestamp_granularities")]
    if any(g not in GRANULARITIES for g in grains):
        raise InvalidRequestError("timestamp_granularities[]", "is not one", list(GRANULARITIES))
    if grains and fmt != "verbose_json":
        raise InvalidRequestError("timestamp_granularities[]", "needs verbose_json")
    stream = str(given.get("stream") or "false").lower() == "true"
    if stream and not model.streams:
        raise InvalidRequestError("stream", f"{model.id} does not stream")
    temperature = given.get("temperature")
    if temperature is not None:
        try:
            _number({"temperature": float(str(temperature))}, "temperature", 0, 1)
        except ValueError:
            raise InvalidRequestError("temperature", "must be a number 0..1") from None
    fields = [(k, str(v)) for k, v in form.multi_items() if k in PASSED]
    fields += [("timestamp_granularities[]", g) for g in grains]
    name = upload.filename or "audio"
    return model, fields, AudioFile(name, upload.content_type, data), fmt, stream


async def listen(request: Request[Any, Any, Any], route: str) -> Response[Any]:
    """A transcription or translation for the request's key (the API's, or the console's)."""
    rt = runtime_of(request)
    model, fields, file, fmt, stream = await _listened(request, route)
    heard = await rt.relay.hear(file.data)
    if heard is None:
        raise InvalidRequestError("file", "is not audio mediagate can decode")
    body = {"model": model.id}
    used = Usage(audio_ms=round(heard.seconds * 1000))
    plan = await rt.relay.plan(api_key(request), f"audio.{route}", body, fixed=used)
    path = f"/audio/{route}"

    def call(upstream: Any, name: str) -> AsyncGenerator[bytes, None]:
        out: AsyncGenerator[bytes, None] = upstream.transcribe(
            path, [("model", name), *fields], file
        )
        return out

    chunks = await rt.relay.open_bytes(plan, call)
    kind = "text/event-stream" if stream else TYPES[fmt]
    return Stream(chunks, media_type=kind)


@post("/v1/audio/transcriptions", status_code=200, summary="Speech to text (OpenAI format)")
async def transcriptions(request: Request[Any, Any, Any]) -> Response[Any]:
    return await listen(request, "transcriptions")


@post("/v1/audio/translations", status_code=200, summary="Speech to English text (OpenAI)")
async def translations(request: Request[Any, Any, Any]) -> Response[Any]:
    return await listen(request, "translations")


router = dialect_router([speech, transcriptions, translations], relay_handler({}), "OpenAI audio")
