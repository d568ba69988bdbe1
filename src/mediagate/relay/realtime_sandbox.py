"""The sandbox's side of a realtime session, for test keys: OpenAI's Realtime protocol (GA
event names) spoken in-process, offline and deterministic.

It keeps the session (``session.update``) and the conversation (``conversation.item.create``,
and audio committed from ``input_audio_buffer``), and answers ``response.create`` with the
sandbox chat model's reply: as ``response.output_text.delta`` events, or, when the output
modalities hold audio, as the sandbox's real speech (24 kHz PCM16, base64) in
``response.output_audio.delta`` events beside its transcript. Every response ends with
``response.done`` and its usage: text tokens counted with the model's tokenizer, audio at 10
tokens a second. ``response.cancel`` stops a running response (status ``cancelled``)."""

from __future__ import annotations

import asyncio
import base64
import math
import secrets
from typing import Any

from mediagate.core.text import TextModel
from mediagate.relay import sandbox
from mediagate.relay.audio import AudioWork
from mediagate.relay.realtime import error_event
from mediagate.tokens import count_for

AUDIO_TOKENS_PER_S = 10
MAX_BUFFER = 15 * 1024 * 1024  # input audio held before a commit
CHUNK = 24_000 * 2 // 5  # 200 ms of PCM16 a delta
DELTA = {True: "response.output_audio_transcript.delta", False: "response.output_text.delta"}


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


class SandboxRealtime:
    name = "sandbox"

    def __init__(self, model: TextModel, cadence_s: float, audio: AudioWork | None) -> None:
        self._model = model
        self._cadence = cadence_s
        self._audio = audio
        self._out: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._items: list[dict[str, Any]] = []
        self._buffer = bytearray()
        self._heard_s = 0.0  # input audio committed so far
        self._running: asyncio.Task[None] | None = None
        self.session: dict[str, Any] = {
            "type": "realtime", "object": "realtime.session", "id": _id("sess"),
            "model": model.id, "output_modalities": ["audio"], "instructions": "",
            "tools": [], "tool_choice": "auto", "max_output_tokens": "inf",
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}},
                      "output": {"format": {"type": "audio/pcm", "rate": 24000},
                                 "voice": "alloy", "speed": 1.0}},
        }  # fmt: skip
        self._emit("session.created", session=dict(self.session))

    def _emit(self, kind: str, **fields: Any) -> None:
        self._out.put_nowait({"type": kind, "event_id": _id("event"), **fields})

    async def receive(self) -> dict[str, Any] | None:
        return await self._out.get()

    async def close(self) -> None:
        if self._running is not None:
            self._running.cancel()
        self._out.put_nowait(None)

    async def send(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "session.update":
            given = event.get("session")
            if isinstance(given, dict):
                self.session.update({k: v for k, v in given.items() if k != "type"})
            self._emit("session.updated", session=dict(self.session))
        elif kind == "conversation.item.create":
            item = dict(event.get("item") or {})
            item.setdefault("id", _id("item"))
            self._add(item)
        elif kind == "input_audio_buffer.append":
            self._append(event)
        elif kind == "input_audio_buffer.commit":
            self._commit()
        elif kind == "input_audio_buffer.clear":
            self._buffer.clear()
            self._emit("input_audio_buffer.cleared")
        elif kind == "response.create":
            if self._running is not None and not self._running.done():
                self._error("conversation_already_has_active_response", "a response is running")
                return
            options = event.get("response") if isinstance(event.get("response"), dict) else {}
            self._running = asyncio.create_task(self._respond(options or {}))
        elif kind == "response.cancel":
            if self._running is not None:
                self._running.cancel()
        else:
            self._error("invalid_value", f"unknown event type {str(kind)[:60]!r}", "type")

    def _error(self, code: str, message: str, param: str | None = None) -> None:
        self._out.put_nowait(error_event("invalid_request_error", code, message, param))

    def _add(self, item: dict[str, Any]) -> None:
        previous = self._items[-1]["id"] if self._items else None
        self._items.append(item)
        self._emit("conversation.item.added", previous_item_id=previous, item=item)
        self._emit("conversation.item.done", previous_item_id=previous, item=item)

    def _append(self, event: dict[str, Any]) -> None:
        try:
            data = base64.b64decode(str(event.get("audio") or ""), validate=True)
        except ValueError:
            self._error("invalid_value", "audio is not base64", "audio")
            return
        if len(self._buffer) + len(data) > MAX_BUFFER:
            self._error("input_audio_buffer_full", f"over {MAX_BUFFER} bytes; commit first")
            return
        self._buffer.extend(data)

    def _commit(self) -> None:
        if len(self._buffer) < 4800:  # 100 ms of PCM16 at 24 kHz
            self._error("input_audio_buffer_commit_empty", "less than 100 ms of audio to commit")
            return
        seconds = len(self._buffer) / 48_000
        self._heard_s += seconds
        self._buffer.clear()
        item = {"id": _id("item"), "type": "message", "role": "user", "status": "completed",
                "content": [{"type": "input_audio", "transcript": "[speech]"}]}  # fmt: skip
        previous = self._items[-1]["id"] if self._items else None
        self._emit("input_audio_buffer.committed", previous_item_id=previous, item_id=item["id"])
        self._add(item)

    def _messages(self, instructions: str) -> list[dict[str, Any]]:
        said = [{"role": "system", "content": instructions}] if instructions else []
        for item in self._items:
            if item.get("type") != "message":
                continue
            texts = [
                str(p.get("text") or p.get("transcript") or "")
                for p in item.get("content") or []
                if isinstance(p, dict)
            ]
            said.append({"role": str(item.get("role") or "user"), "content": " ".join(texts)})
        return said

    async def _respond(self, options: dict[str, Any]) -> None:
        modalities = options.get("output_modalities") or self.session["output_modalities"]
        instructions = str(options.get("instructions") or self.session.get("instructions") or "")
        most = options.get("max_output_tokens") or self.session.get("max_output_tokens")
        messages = self._messages(instructions)
        body = {"messages": messages or [{"role": "user", "content": "hello"}],
                "max_tokens": most if isinstance(most, int) else 200}  # fmt: skip
        reply = sandbox.chat(self._model, body, []).choices[0]
        rid, item_id = _id("resp"), _id("item")
        response: dict[str, Any] = {
            "id": rid, "object": "realtime.response", "status": "in_progress", "output": [],
            "output_modalities": modalities, "usage": None,
        }  # fmt: skip
        self._emit("response.created", response=dict(response))
        speaking = "audio" in modalities
        item: dict[str, Any] = {"id": item_id, "type": "message", "role": "assistant",
                                "status": "in_progress", "content": []}  # fmt: skip
        where = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
        self._emit("response.output_item.added", response_id=rid, output_index=0, item=item)
        part = {"type": "audio", "transcript": ""} if speaking else {"type": "text", "text": ""}
        self._emit("response.content_part.added", **where, part=part)
        said, spoken_s = "", 0.0
        try:
            said, spoken_s = await self._say(reply.text, speaking, where)
            status = "completed"
        except asyncio.CancelledError:
            status = "cancelled"
        key = "transcript" if speaking else "text"
        part = {"type": "audio" if speaking else "text", key: said}
        if status == "completed":
            self._emit("response.content_part.done", **where, part=part)
        item = {**item, "status": "completed" if status == "completed" else "incomplete",
                "content": [part]}  # fmt: skip
        self._emit("response.output_item.done", response_id=rid, output_index=0, item=item)
        self._items.append(item)
        self._emit("response.done", response={
            **response, "status": status, "output": [item],
            "usage": self._usage(messages, said, speaking, spoken_s),
        })  # fmt: skip

    async def _say(self, text: str, speaking: bool, where: dict[str, Any]) -> tuple[str, float]:
        said = ""
        pcm = b""
        if speaking and self._audio is not None and text.strip():
            voice = str(((self.session.get("audio") or {}).get("output") or {}).get("voice"))
            pcm = await self._audio.speak(text, voice, 1.0, "pcm")
        words = text.split(" ")
        chunks = [pcm[i : i + CHUNK] for i in range(0, len(pcm), CHUNK)]
        for i, word in enumerate(words):
            await asyncio.sleep(self._cadence)
            piece = word if i == 0 else " " + word
            said += piece
            self._emit(DELTA[speaking], **where, delta=piece)
            share = chunks[i * len(chunks) // len(words) : (i + 1) * len(chunks) // len(words)]
            for chunk in share:
                self._emit("response.output_audio.delta", **where,
                           delta=base64.b64encode(chunk).decode())  # fmt: skip
        if speaking:
            self._emit("response.output_audio.done", **where)
            self._emit("response.output_audio_transcript.done", **where, transcript=said)
        else:
            self._emit("response.output_text.done", **where, text=said)
        return said, len(pcm) / 48_000

    def _usage(
        self, messages: list[dict[str, Any]], said: str, speaking: bool, spoken_s: float
    ) -> dict[str, Any]:
        text_in = sum(count_for(self._model, str(m["content"])) for m in messages)
        audio_in = math.ceil(self._heard_s * AUDIO_TOKENS_PER_S)
        text_out = count_for(self._model, said)
        audio_out = math.ceil(spoken_s * AUDIO_TOKENS_PER_S) if speaking else 0
        return {
            "total_tokens": text_in + audio_in + text_out + audio_out,
            "input_tokens": text_in + audio_in, "output_tokens": text_out + audio_out,
            "input_token_details": {"text_tokens": text_in, "audio_tokens": audio_in,
                                    "cached_tokens": 0},
            "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
        }  # fmt: skip
