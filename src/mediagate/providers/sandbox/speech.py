"""The sandbox's audio: speech from text, audio files in OpenAI's speech formats, durations
measured from the file, and voice activity. These run in the render pool (CPU work, and
espeak-ng as a child process), never on the event loop.

Speech is espeak-ng's (Debian's package, installed by ``scripts/ensure-espeak.sh``) when it
is on the PATH, else a synthetic voice: one voiced, vowel-shaped syllable per syllable of
the text. Each sentence is spoken on its own, so its start and end in the file are known
exactly (a transcript's segments); its words are placed within it by their length."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import wave
from fractions import Fraction
from typing import cast

import msgspec
import numpy as np

from mediagate.providers.sandbox.suno import Audio, _vowel

RATE = 24_000  # OpenAI's speech is 24 kHz mono
GAP_S = 0.4  # silence between sentences
FORMATS = {  # response_format -> (container, codec, MIME type)
    "mp3": ("mp3", "libmp3lame", "audio/mpeg"),
    "opus": ("ogg", "libopus", "audio/ogg"),
    "aac": ("adts", "aac", "audio/aac"),
    "flac": ("flac", "flac", "audio/flac"),
    "wav": ("wav", "pcm_s16le", "audio/wav"),
    "pcm": ("", "", "audio/pcm"),
}
# OpenAI's voices as espeak-ng voice variants (a woman's or a man's, a little apart).
VOICES = {
    "alloy": "en-us+f3", "ash": "en-us+m3", "ballad": "en-us+m5", "coral": "en-us+f4",
    "echo": "en-us+m1", "fable": "en-gb+m4", "nova": "en-us+f2", "onyx": "en-us+m7",
    "sage": "en-us+f5", "shimmer": "en-us+f1", "verse": "en-us+m2", "marin": "en-us+f4",
    "cedar": "en-us+m6",
}  # fmt: skip
SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]*")


class Word(msgspec.Struct, frozen=True):
    word: str
    start: float
    end: float


class Segment(msgspec.Struct, frozen=True):
    start: float
    end: float
    text: str
    words: list[Word] = []


class Spoken(msgspec.Struct, frozen=True):
    """What the sandbox said, where: kept beside the file so that its transcript is exact."""

    text: str
    duration: float
    segments: list[Segment]
    language: str = "english"


def sentences(text: str) -> list[str]:
    found = [s.strip() for s in SENTENCE.findall(text) if s.strip()]
    return found or ([text.strip()] if text.strip() else [])


def _espeak(sentence: str, voice: str, speed: float) -> Audio | None:
    exe = shutil.which("espeak-ng")
    if exe is None:
        return None
    words_per_minute = str(int(max(80, min(450, 175 * speed))))
    args = [exe, "-v", VOICES.get(voice, "en-us"), "-s", words_per_minute, "--stdout", sentence]
    try:
        done = subprocess.run(args, capture_output=True, timeout=60, check=True)
        with wave.open(io.BytesIO(done.stdout)) as w:
            rate, raw = w.getframerate(), w.readframes(w.getnframes())
    except (OSError, subprocess.SubprocessError, wave.Error, EOFError):
        return None
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    return resample(samples, rate)


def _synthetic(sentence: str, voice: str, speed: float) -> Audio:
    """A voice with no engine: a voiced syllable a syllable, pitched by the voice."""
    rng = np.random.default_rng(len(sentence))
    pitch = 210.0 if "+f" in VOICES.get(voice, "+m") else 120.0
    parts: list[Audio] = []
    for i, syllable in enumerate(re.findall(r"[aeiouy]+|\d", sentence.lower())):
        seconds = 0.16 / max(0.25, speed)
        parts.append(
            _vowel(pitch * (1 + 0.06 * np.sin(i)), seconds, "aeiou".find(syllable[0]), rng)
        )
        parts.append(np.zeros(int(0.03 * RATE / max(0.25, speed)), np.float32))
    return resample(np.concatenate(parts), 22_050) if parts else np.zeros(RATE // 4, np.float32)


def resample(samples: Audio, rate: int) -> Audio:
    if rate == RATE or not len(samples):
        return np.asarray(samples, dtype=np.float32)
    at = np.arange(int(len(samples) * RATE / rate)) * (rate / RATE)
    return np.asarray(np.interp(at, np.arange(len(samples)), samples), dtype=np.float32)


def speak(text: str, voice: str, speed: float) -> tuple[Audio, Spoken]:
    """The text as speech (24 kHz mono), and where each sentence and word is."""
    out: list[Audio] = []
    segments: list[Segment] = []
    at = 0.0
    for sentence in sentences(text):
        audio = _espeak(sentence, voice, speed)
        if audio is None:
            audio = _synthetic(sentence, voice, speed)
        audio = _trim(audio)
        start, end = at, at + len(audio) / RATE
        segments.append(
            Segment(round(start, 3), round(end, 3), sentence, _words(sentence, start, end))
        )
        out += [audio, np.zeros(int(GAP_S * RATE), np.float32)]
        at = end + GAP_S
    samples = np.concatenate(out) if out else np.zeros(RATE // 4, np.float32)
    return samples, Spoken(text, round(len(samples) / RATE, 3), segments)


def _trim(audio: Audio) -> Audio:
    """Without the engine's own leading and trailing silence."""
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0] : loud[-1] + 1] if len(loud) else audio


def _words(sentence: str, start: float, end: float) -> list[Word]:
    words = sentence.split()
    total = sum(len(w) for w in words) or 1
    found, at = [], start
    for word in words:
        span = (end - start) * len(word) / total
        found.append(Word(word, round(at, 3), round(at + span, 3)))
        at += span
    return found


def encode(samples: Audio, fmt: str) -> bytes:
    """Samples (24 kHz mono) as a file of OpenAI's ``response_format``."""
    clipped = np.clip(samples, -1, 1)
    if fmt == "pcm":
        return (clipped * 32767).astype("<i2").tobytes()
    import av
    from av.audio.stream import AudioStream

    container, codec, _ = FORMATS[fmt]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as box:
        stream = cast(AudioStream, box.add_stream(codec, rate=RATE))
        stream.layout = "mono"
        sample_format = "s16" if codec in ("pcm_s16le", "flac") else "flt"
        size = stream.codec_context.frame_size or 1024
        pts = 0
        for i in range(0, len(clipped), size):
            part = clipped[i : i + size].reshape(1, -1)
            if sample_format == "s16":
                part = (part * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(part, format=sample_format, layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = RATE, pts, Fraction(1, RATE)
            pts += part.shape[1]
            for packet in stream.encode(frame):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    return buf.getvalue()


class Heard(msgspec.Struct, frozen=True):
    """A file's audio as mediagate measured it: its length, and where someone speaks."""

    seconds: float
    spans: list[tuple[float, float]]


FRAME_S = 0.03  # voice activity is judged on frames this long
LISTEN_RATE = 16_000


def listen(data: bytes, most_seconds: float = 4 * 3600.0) -> Heard | None:
    """Decode the whole file (its length is what is priced, so it is measured, never read
    from a header the client wrote), keeping only each frame's energy; None when it holds
    no audio mediagate can decode, or more than ``most_seconds``."""
    import av

    n = int(FRAME_S * LISTEN_RATE)
    energies: list[float] = []
    carry = np.zeros(0, np.float32)
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as box:
            if not box.streams.audio:
                return None
            resampler = av.AudioResampler(format="flt", layout="mono", rate=LISTEN_RATE)
            for frame in box.decode(audio=0):
                for out in resampler.resample(frame):
                    chunk = np.concatenate([carry, out.to_ndarray().reshape(-1)])
                    total += out.samples
                    if total > most_seconds * LISTEN_RATE:
                        return None
                    whole = len(chunk) // n
                    frames = chunk[: whole * n].reshape(whole, n)
                    energies.extend(np.sqrt((frames**2).mean(axis=1)).tolist())
                    carry = chunk[whole * n :]
    except (av.FFmpegError, ValueError, OSError, EOFError, IndexError, MemoryError):
        return None
    if total == 0:
        return None
    return Heard(round(total / LISTEN_RATE, 3), voice_activity(np.asarray(energies, np.float32)))


def voice_activity(energy: Audio) -> list[tuple[float, float]]:
    """Where someone speaks: frames whose energy stands well above the file's quiet parts,
    joined across pauses under 0.3 s, each at least 0.2 s long."""
    if not len(energy):
        return []
    floor = float(np.percentile(energy, 10))
    loud = energy > max(0.01, floor * 4)
    spans: list[list[float]] = []
    for i in np.flatnonzero(loud):
        start, end = i * FRAME_S, (i + 1) * FRAME_S
        if spans and start - spans[-1][1] < 0.3:
            spans[-1][1] = end
        else:
            spans.append([start, end])
    return [(round(float(a), 3), round(float(b), 3)) for a, b in spans if b - a >= 0.2]


def speech_file(text: str, voice: str, speed: float, fmt: str) -> tuple[bytes, bytes]:
    """Runs in the render pool: the speech as a file, and what it says where (JSON)."""
    samples, spoken = speak(text, voice, speed)
    return encode(samples, fmt), msgspec.json.encode(spoken)
