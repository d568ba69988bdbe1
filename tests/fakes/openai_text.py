"""A fake of OpenAI's text API, from its public reference: POST /v1/chat/completions (plain,
or streamed as ``data:`` events ending in ``data: [DONE]``, with a usage chunk when
``stream_options.include_usage``), /v1/completions and /v1/embeddings; Bearer key; errors
``{"error": {message, type, code}}``.

What the last user message holds scripts it: ``[fake:die-after-N]`` drops the connection
after N content chunks; ``[fake:no-usage]`` never sends usage; ``[fake:silent]`` streams no
content and drops; ``[fake:500]`` fails before any data. ``chunks`` and ``delay_s`` set the
stream's length and cadence (the benchmarks' upstream: 20 chunks 20 ms apart).

Audio, from the same reference: POST /v1/audio/speech (JSON: model, input, voice,
response_format; the answer is the audio's bytes, here a WAV of silence a tenth of a second
per word, in 4 KB chunks) and /v1/audio/transcriptions and /translations (multipart: file,
model, response_format; the answer ``{"text"}`` or plain text, here naming the file's size
and the model). ``heard`` keeps each transcription's form fields.

Realtime: GET /v1/realtime?model= upgrades to a WebSocket (Bearer key) that sends
``session.created``, answers ``response.create`` with ``response.created``, three
``response.output_text.delta`` events and ``response.done`` whose usage is 10 text tokens in
and 3 out, and records every event it receives in ``realtime_events``."""

from __future__ import annotations

import asyncio
import io
import json
import math
import re
import time
import wave
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, error


def _last_user(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else str(content)
    return str(body.get("prompt") or "")


class FakeOpenAIText(FakeVendor):
    name = "openai-text"

    def __init__(self, api_key: str = "sk-test", chunks: int = 20, delay_s: float = 0.0) -> None:
        super().__init__()
        self.api_key = api_key
        self.chunks = chunks
        self.delay_s = delay_s
        self.finished = 0  # streams the fake ran to their end
        self.closed_early = 0  # streams whose reader went away
        self.heard: list[dict[str, Any]] = []  # each transcription's form fields
        self.realtime_events: list[dict[str, Any]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/v1/completions", self.chat)
        app.router.add_post("/v1/embeddings", self.embeddings)
        app.router.add_get("/v1/realtime", self.realtime)
        app.router.add_post("/v1/audio/speech", self.speech)
        app.router.add_post("/v1/audio/transcriptions", self.transcribe)
        app.router.add_post("/v1/audio/translations", self.transcribe)

    def _auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return error(401, "invalid_api_key", "Incorrect API key provided")
        return None

    def _usage(self, body: dict[str, Any], made: int) -> dict[str, Any]:
        prompt = 7 + len(_last_user(body).split())
        return {
            "prompt_tokens": prompt, "completion_tokens": made, "total_tokens": prompt + made,
            "prompt_tokens_details": {"cached_tokens": 0},
        }  # fmt: skip

    async def chat(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await request.json()
        legacy = request.path.endswith("/v1/completions")
        said = _last_user(body)
        if not body.get("model"):
            return error(400, "missing_required_parameter", "model is required")
        if "[fake:500]" in said:
            return error(500, "server_error", "The server had an error")
        words = [f"w{i}" for i in range(self.chunks)]
        if not body.get("stream"):
            text = " ".join(words)
            choice: dict[str, Any] = (
                {"index": 0, "text": text, "finish_reason": "stop"}
                if legacy
                else {"index": 0, "finish_reason": "stop",
                      "message": {"role": "assistant", "content": text}}
            )  # fmt: skip
            answer = {
                "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
                "model": body["model"], "choices": [choice],
            }  # fmt: skip
            if "[fake:no-usage]" not in said:
                answer["usage"] = self._usage(body, len(words))
            return web.json_response(answer)
        return await self._stream(request, body, words, legacy, said)

    async def _stream(
        self, request: web.Request, body: dict[str, Any], words: list[str], legacy: bool, said: str
    ) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        die = re.search(r"\[fake:die-after-(\d+)\]", said)
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": body["model"]}
        kind = "text_completion" if legacy else "chat.completion.chunk"

        async def send(event: dict[str, Any]) -> None:
            await resp.write(b"data: " + web.json_response(event).body + b"\n\n")  # type: ignore[operator]

        try:
            if not legacy:
                start = {"index": 0, "delta": {"role": "assistant", "content": ""},
                         "finish_reason": None}  # fmt: skip
                await send({**base, "object": kind, "choices": [start]})
            if "[fake:silent]" in said:
                request.transport.close()  # type: ignore[union-attr]
                return resp
            for n, word in enumerate(words):
                if die and n >= int(die.group(1)):
                    request.transport.close()  # type: ignore[union-attr]
                    return resp
                await asyncio.sleep(self.delay_s)
                piece = word if n == 0 else " " + word
                part = (
                    {"index": 0, "text": piece, "finish_reason": None}
                    if legacy
                    else {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                )
                await send({**base, "object": kind, "choices": [part]})
            end = (
                {"index": 0, "text": "", "finish_reason": "stop"}
                if legacy
                else {"index": 0, "delta": {}, "finish_reason": "stop"}
            )
            await send({**base, "object": kind, "choices": [end]})
            wants = (body.get("stream_options") or {}).get("include_usage")
            if wants and "[fake:no-usage]" not in said:
                await send({**base, "object": kind, "choices": [],
                            "usage": self._usage(body, len(words))})  # fmt: skip
            await resp.write(b"data: [DONE]\n\n")
            self.finished += 1
        except (ConnectionResetError, asyncio.CancelledError):
            self.closed_early += 1
            raise
        return resp

    async def embeddings(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await request.json()
        given = body.get("input")
        texts = [given] if isinstance(given, str) else list(given or [])
        dims = int(body.get("dimensions") or 1536)
        data = [
            {"object": "embedding", "index": i,
             "embedding": [math.sin(i + k) / math.sqrt(dims) for k in range(dims)]}
            for i, _ in enumerate(texts)
        ]  # fmt: skip
        used = sum(len(str(t).split()) for t in texts)
        return web.json_response(
            {"object": "list", "data": data, "model": body.get("model"),
             "usage": {"prompt_tokens": used, "total_tokens": used}}
        )  # fmt: skip

    async def speech(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await request.json()
        if not body.get("input") or not body.get("voice"):
            return error(400, "invalid_value", "input and voice are required")
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(24_000)
            w.writeframes(b"\0\0" * 2400 * len(str(body["input"]).split()))
        resp = web.StreamResponse(headers={"Content-Type": "audio/wav"})
        await resp.prepare(request)
        data = buf.getvalue()
        for i in range(0, len(data), 4096):
            await resp.write(data[i : i + 4096])
        return resp

    async def transcribe(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return error(400, "invalid_value", "file is required")
        size = len(upload.file.read())
        self.heard.append({k: str(v) for k, v in form.items() if k != "file"})
        text = f"heard {size} bytes with {form.get('model')}"
        if form.get("response_format") == "text":
            return web.Response(text=text + "\n")
        return web.json_response({"text": text})

    async def realtime(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._auth(request)) is not None:
            return denied
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        model = request.query.get("model", "")
        await socket.send_json({"type": "session.created", "event_id": "e0",
                                "session": {"type": "realtime", "model": model}})  # fmt: skip
        n = 0
        async for message in socket:
            event = json.loads(message.data)
            self.realtime_events.append(event)
            if event.get("type") != "response.create":
                continue
            n += 1
            rid = f"resp_{n}"
            await socket.send_json({"type": "response.created", "event_id": f"c{n}",
                                    "response": {"id": rid, "status": "in_progress"}})  # fmt: skip
            for word in ("one", " two", " three"):
                await socket.send_json({"type": "response.output_text.delta", "event_id": "d",
                                        "response_id": rid, "item_id": "i", "output_index": 0,
                                        "content_index": 0, "delta": word})  # fmt: skip
            usage = {"total_tokens": 13, "input_tokens": 10, "output_tokens": 3,
                     "input_token_details": {"text_tokens": 10, "audio_tokens": 0},
                     "output_token_details": {"text_tokens": 3, "audio_tokens": 0}}  # fmt: skip
            await socket.send_json({"type": "response.done", "event_id": f"x{n}",
                                    "response": {"id": rid, "status": "completed",
                                                 "usage": usage}})  # fmt: skip
        return socket
