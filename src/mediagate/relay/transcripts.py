"""A transcript in each of OpenAI's ``response_format``s: json, text, srt, vtt and
verbose_json (segments, and words with ``timestamp_granularities[]=word``), or, streamed,
``transcript.text.delta`` events and a ``transcript.text.done``."""

from __future__ import annotations

import math
from typing import Any

import msgspec

from mediagate.providers.sandbox.speech import Spoken

FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
TYPES = {"json": "application/json", "verbose_json": "application/json",
         "text": "text/plain; charset=utf-8", "srt": "text/plain; charset=utf-8",
         "vtt": "text/vtt; charset=utf-8"}  # fmt: skip


def _clock(seconds: float, mark: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{mark}{ms:03d}"


def render(spoken: Spoken, fmt: str, words: bool, task: str) -> bytes:
    if fmt == "text":
        return (spoken.text + "\n").encode()
    if fmt in ("srt", "vtt"):
        mark = "," if fmt == "srt" else "."
        blocks = [
            (f"{i}\n" if fmt == "srt" else "")
            + f"{_clock(s.start, mark)} --> {_clock(s.end, mark)}\n{s.text}\n"
            for i, s in enumerate(spoken.segments, 1)
        ]
        return (("WEBVTT\n\n" if fmt == "vtt" else "") + "\n".join(blocks)).encode()
    if fmt == "verbose_json":
        out: dict[str, Any] = {
            "task": task, "language": spoken.language, "duration": spoken.duration,
            "text": spoken.text,
            "segments": [
                {"id": i, "seek": 0, "start": s.start, "end": s.end, "text": s.text,
                 "tokens": [], "temperature": 0.0, "avg_logprob": -0.1,
                 "compression_ratio": 1.0, "no_speech_prob": 0.01}
                for i, s in enumerate(spoken.segments)
            ],
        }  # fmt: skip
        if words:
            out["words"] = [
                {"word": w.word, "start": w.start, "end": w.end}
                for s in spoken.segments
                for w in s.words
            ]
        return msgspec.json.encode(out)
    usage = {"type": "duration", "seconds": math.ceil(spoken.duration)}
    return msgspec.json.encode({"text": spoken.text, "usage": usage})


def stream_events(spoken: Spoken) -> list[bytes]:
    """The transcript as server-sent events, a word at a time."""
    out = []
    pieces = spoken.text.split(" ")
    for i, word in enumerate(pieces):
        delta = word if i == 0 else " " + word
        event = {"type": "transcript.text.delta", "delta": delta, "logprobs": None}
        out.append(b"data: " + msgspec.json.encode(event) + b"\n\n")
    done = {"type": "transcript.text.done", "text": spoken.text, "logprobs": None}
    out.append(b"data: " + msgspec.json.encode(done) + b"\n\n")
    return out
