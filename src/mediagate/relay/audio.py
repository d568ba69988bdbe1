"""Audio work for relayed requests, off the event loop: measuring a file's length (what a
transcription is priced on) and where someone speaks, in the render pool a few at a time;
and the sandbox's speech, with its memory of what it said, so that transcribing the
sandbox's own speech gives back its exact text (kept beside the media, by the file's hash,
for a day's worth of clients' tests: ``sandbox/speech/<sha256>``)."""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import Executor
from typing import Protocol

import msgspec

from mediagate.providers.sandbox.speech import Heard, Segment, Spoken, listen, speech_file


class Blobs(Protocol):
    async def put(self, key: str, data: bytes) -> object: ...

    async def read(self, key: str) -> bytes: ...


def _key(data: bytes) -> str:
    return f"sandbox/speech/{hashlib.sha256(data).hexdigest()}.json"


class AudioWork:
    """``executor``: the render pool (None: the loop's threads, for tests that run none)."""

    def __init__(self, executor: Executor | None, blobs: Blobs, concurrency: int = 2) -> None:
        self._executor = executor
        self._blobs = blobs
        self._gate = asyncio.Semaphore(concurrency)

    async def hear(self, data: bytes) -> Heard | None:
        """The file's length and voice activity; None when it is not audio mediagate can
        decode."""
        async with self._gate:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, listen, data)

    async def speak(self, text: str, voice: str, speed: float, fmt: str) -> bytes:
        """The sandbox's speech as a file of ``fmt``, remembered with what it says."""
        async with self._gate:
            loop = asyncio.get_running_loop()
            data, spoken = await loop.run_in_executor(
                self._executor, speech_file, text, voice, speed, fmt
            )
        await self._blobs.put(_key(data), spoken)
        return data

    async def recall(self, data: bytes, heard: Heard) -> Spoken:
        """What the file says: the sandbox's own words if it made the file, else a
        ``[speech]`` segment for each stretch of voice."""
        try:
            return msgspec.json.decode(await self._blobs.read(_key(data)), type=Spoken)
        except LookupError:
            segments = [Segment(a, b, "[speech]") for a, b in heard.spans]
            text = " ".join(s.text for s in segments)
            return Spoken(text, heard.seconds, segments)
