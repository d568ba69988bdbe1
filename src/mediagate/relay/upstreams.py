"""What a relayed request runs on: an upstream's text API (``OpenAIText``) or the sandbox's,
which answers in the same wire format (OpenAI's chat completions, completions and
embeddings, plain or streamed at a set cadence) from ``relay.sandbox``."""

from __future__ import annotations

import asyncio
import base64
import struct
import time
from collections.abc import AsyncGenerator
from typing import Any, Protocol

from mediagate.core.errors import InvalidRequestError
from mediagate.core.text import AudioFile, TextModel
from mediagate.relay import sandbox, transcripts
from mediagate.relay.audio import AudioWork
from mediagate.tokens import count_for


class Upstream(Protocol):
    name: str

    async def send(self, path: str, body: dict[str, Any]) -> dict[str, Any]: ...

    def stream(self, path: str, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]: ...


class AudioUpstream(Protocol):
    """What audio requests need of an upstream (``OpenAIText``; the sandbox)."""

    name: str

    def speech(self, path: str, body: dict[str, Any]) -> AsyncGenerator[bytes, None]: ...

    def transcribe(
        self, path: str, fields: list[tuple[str, str]], file: AudioFile
    ) -> AsyncGenerator[bytes, None]: ...


def _id(prefix: str, seed: int) -> str:
    return f"{prefix}-{seed & 0xFFFFFFFFFFFF:012x}"


class SandboxText:
    """The sandbox as an upstream. ``cadence_s``: the pause between streamed chunks."""

    name = "sandbox"

    def __init__(
        self, model: TextModel, cadence_s: float, images: list[str], audio: AudioWork | None = None
    ) -> None:
        self._model = model
        self._cadence = cadence_s
        self._images = images
        self._audio = audio

    async def speech(self, path: str, body: dict[str, Any]) -> AsyncGenerator[bytes, None]:
        """Real speech of the input (espeak-ng, or a synthetic voice), in the format asked."""
        assert self._audio is not None
        data = await self._audio.speak(
            str(body["input"]), str(body.get("voice") or "alloy"),
            float(body.get("speed") or 1.0), str(body.get("response_format") or "mp3"),
        )  # fmt: skip
        for i in range(0, len(data), 16 * 1024):
            yield data[i : i + 16 * 1024]

    async def transcribe(
        self, path: str, fields: list[tuple[str, str]], file: AudioFile
    ) -> AsyncGenerator[bytes, None]:
        """The sandbox's own speech as its exact text; other audio as ``[speech]`` for
        each stretch of voice, at its true times."""
        assert self._audio is not None
        heard = await self._audio.hear(file.data)
        if heard is None:
            raise InvalidRequestError("file", "is not audio mediagate can decode")
        spoken = await self._audio.recall(file.data, heard)
        given = dict(fields)
        if given.get("stream") == "true":
            for event in transcripts.stream_events(spoken):
                await asyncio.sleep(self._cadence)
                yield event
            return
        words = "word" in [v for k, v in fields if k.startswith("timestamp_granularities")]
        task = "translate" if path.endswith("translations") else "transcribe"
        yield transcripts.render(spoken, given.get("response_format") or "json", words, task)

    async def send(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        now = int(time.time())
        if path == "/embeddings":
            return self._embeddings(body)
        seed = sandbox.seed_of(self._model.id, body)
        if path == "/completions":
            reply = sandbox.completion(self._model, body)
            return {
                "id": _id("cmpl", seed), "object": "text_completion", "created": now,
                "model": body["model"],
                "choices": [
                    {"index": i, "text": c.text, "finish_reason": c.finish_reason,
                     "logprobs": None}
                    for i, c in enumerate(reply.choices)
                ],
                "usage": _usage(reply.usage),
            }  # fmt: skip
        reply = sandbox.chat(self._model, body, self._images)
        choices = []
        for i, c in enumerate(reply.choices):
            message: dict[str, Any] = {"role": "assistant", "content": c.text or None}
            if c.tool_calls:
                message["tool_calls"] = list(c.tool_calls)
            choices.append(
                {"index": i, "message": message, "finish_reason": c.finish_reason,
                 "logprobs": None}
            )  # fmt: skip
        return {
            "id": _id("chatcmpl", seed), "object": "chat.completion", "created": now,
            "model": body["model"], "choices": choices, "usage": _usage(reply.usage),
            "system_fingerprint": "fp_mediagate_sandbox",
        }  # fmt: skip

    async def stream(self, path: str, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        whole = await self.send(path, {**body, "stream": False})
        base = {k: whole[k] for k in ("id", "created", "model")}
        legacy = path == "/completions"
        kind = "text_completion" if legacy else "chat.completion.chunk"
        for choice in whole["choices"]:
            index = choice["index"]
            if not legacy:
                first = {"role": "assistant", "content": ""}
                yield {**base, "object": kind, "choices": [_delta(index, first, None)]}
            text = choice["text"] if legacy else (choice["message"]["content"] or "")
            pieces = [p for p in _pieces(text)]
            for piece in pieces:
                await asyncio.sleep(self._cadence)
                part = (
                    {"index": index, "text": piece, "finish_reason": None}
                    if legacy
                    else _delta(index, {"content": piece}, None)
                )
                yield {**base, "object": kind, "choices": [part]}
            for n, call in enumerate([] if legacy else choice["message"].get("tool_calls") or []):
                await asyncio.sleep(self._cadence)
                delta = {"tool_calls": [{"index": n, **call}]}
                yield {**base, "object": kind, "choices": [_delta(index, delta, None)]}
            end = (
                {"index": index, "text": "", "finish_reason": choice["finish_reason"]}
                if legacy
                else _delta(index, {}, choice["finish_reason"])
            )
            yield {**base, "object": kind, "choices": [end]}
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {**base, "object": kind, "choices": [], "usage": whole["usage"]}

    def _embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        given = body.get("input")
        texts = [given] if isinstance(given, str) else list(given or [])
        dims = int(body.get("dimensions") or self._model.dimensions)
        data, used = [], 0
        for i, item in enumerate(texts):
            text = item if isinstance(item, str) else " ".join(str(t) for t in item)
            used += count_for(self._model, text) if isinstance(item, str) else len(item)
            vector = sandbox.embedding(text, dims)
            value: Any = vector
            if body.get("encoding_format") == "base64":
                value = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": value})
        return {
            "object": "list", "data": data, "model": body["model"],
            "usage": {"prompt_tokens": used, "total_tokens": used},
        }  # fmt: skip


def _usage(usage: Any) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt,
        "completion_tokens": usage.completion,
        "total_tokens": usage.total,
        "prompt_tokens_details": {"cached_tokens": 0},
    }


def _delta(index: int, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}


def _pieces(text: str) -> list[str]:
    """A reply in word-sized pieces, as a model streams its tokens."""
    out, word = [], ""
    for ch in text:
        if ch == " " and word:
            out.append(word)
            word = ""
        word += ch
    return [*out, word] if word else out


def require_dimensions(model: TextModel, dims: Any) -> None:
    if dims is None:
        return
    if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= model.dimensions:
        raise InvalidRequestError(
            "dimensions", f"{dims!r} is out of range", [f"1..{model.dimensions}"]
        )
