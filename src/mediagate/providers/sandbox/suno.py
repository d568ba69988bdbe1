"""The sandbox's Suno: two real MP3 songs a request, each with a JPEG cover, and lyrics.

A song is a deterministic piece: a chord progression, bass, drums and, unless instrumental,
a vocal-like line (a voiced, vibrato tone with vowel formants, one note per syllable of the
lyrics). Tempo and key follow the tags ("upbeat", "edm" fast; "ballad", "lofi" slow; "sad",
"dark" minor). Its length follows the lyrics, capped by the version's longest song. A
continuation keeps the earlier song up to ``continue_at`` and goes on from there.
"""

from __future__ import annotations

import io
import re
from fractions import Fraction
from functools import partial

import numpy as np
from numpy.typing import NDArray

from mediagate.core.provider import GenerationRequest, TextResult
from mediagate.providers.sandbox.media import render_image
from mediagate.providers.sandbox.plan import FilePlan, Plan

RATE = 22050
Audio = NDArray[np.float32]
FAST = ("upbeat", "edm", "dance", "fast", "punk", "drum", "techno", "house", "energetic", "rock")
SLOW = ("ballad", "slow", "lofi", "lo-fi", "ambient", "chill", "calm", "sleep", "acoustic")
MINOR = ("sad", "dark", "minor", "melancholy", "blues", "moody", "gothic")
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)


def plan(request: GenerationRequest) -> Plan:
    if request.params.action == "lyrics":
        title, text = lyrics(request.prompt, request.seed)
        return Plan(files=[], texts=(TextResult(text, title=title, role="lyrics"),))
    if request.params.action in ("upload", "concat"):
        return _one_clip(request)
    opts = request.params.options
    cap = float(request.spec.default_duration or 120)
    tags = str(opts.get("tags", "") or "")
    words = request.prompt or str(opts.get("gpt_description_prompt", ""))
    vocal = not bool(opts.get("make_instrumental", False))
    title = str(opts.get("title") or _title(words, request.seed))
    source, start = None, 0.0
    if request.params.action == "continue":
        clip = str(opts.get("continue_clip_id", ""))
        index = int(clip.rsplit("-", 1)[1]) if re.fullmatch(r".+-[01]", clip) else 0
        songs = [i for i in request.images_in("source") if i.content_type.startswith("audio/")]
        source = songs[index].data if index < len(songs) else None
        start = float(opts.get("continue_at", 0.0))
    length = min(cap, 20.0 + 4.0 * len([ln for ln in words.splitlines() if ln.strip()]) or 30.0)
    length = max(10.0, min(cap, length))
    if request.params.action == "cover":  # the same song's length, in another style
        clip = str(opts.get("cover_clip_id", ""))
        index = int(clip.rsplit("-", 1)[1]) if re.fullmatch(r".+-[01]", clip) else 0
        songs = [i for i in request.images_in("source") if i.content_type.startswith("audio/")]
        if index < len(songs):
            length = max(1.0, min(cap, seconds_of(songs[index].data)))
    files = []
    for k in range(2):
        seed = request.seed + 1009 * k
        seconds = min(cap, start + length) if source is not None else length
        fn = partial(song, seed, tags, words, vocal, length, source, start)
        files.append(FilePlan("audio/mpeg", fn, duration_seconds=seconds, role="clip", title=title))
    for k in range(2):
        cover = partial(render_image, 512, 512, request.seed + 1009 * k, "jpeg", None)
        files.append(FilePlan("image/jpeg", cover, 512, 512, role="cover", title=title))
    return Plan(files=files)


def _one_clip(request: GenerationRequest) -> Plan:
    """An upload (the song as it came) or a concat (the chain of a continuation as one MP3).
    A sandbox continuation already holds its song up to ``continue_at``, then what it made,
    so the whole chain is that clip: its length is the sum of the parts."""
    songs = [i for i in request.images_in("source") if i.content_type.startswith("audio/")]
    clip = str(request.params.options.get("clip_id", ""))
    index = int(clip.rsplit("-", 1)[1]) if re.fullmatch(r".+-[01]", clip) else 0
    if not songs:
        return Plan(files=[])
    song = songs[min(index, len(songs) - 1)].data
    title = str(request.params.options.get("title", "")) or "Uploaded"
    return Plan(files=[FilePlan("audio/mpeg", partial(as_mp3, song), role="clip", title=title,
                                duration_seconds=seconds_of(song))])  # fmt: skip


def seconds_of(data: bytes) -> float:
    """An audio file's length from its container (headers only: this runs on the loop)."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as box:
            stream = box.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            return float(box.duration or 0) / 1_000_000
    except (av.FFmpegError, IndexError, ValueError, OSError):
        return 0.0


def as_mp3(data: bytes) -> bytes:
    """The song as an MP3 (an MP3 as it is)."""
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return data
    return encode_mp3(decode(data))


def _title(words: str, seed: int) -> str:
    picked = [w for w in re.findall(r"[A-Za-z']+", words) if len(w) > 3][:3]
    return " ".join(w.capitalize() for w in picked) or f"Song {seed % 1000}"


def tempo_and_scale(tags: str, seed: int) -> tuple[float, tuple[int, ...], int]:
    """(beats per minute, scale, root MIDI note) from the tags; the seed picks within."""
    low = tags.lower()
    rng = np.random.default_rng(seed)
    if any(w in low for w in FAST):
        bpm = float(rng.integers(124, 141))
    elif any(w in low for w in SLOW):
        bpm = float(rng.integers(68, 86))
    else:
        bpm = float(rng.integers(92, 116))
    scale = MINOR_SCALE if any(w in low for w in MINOR) else MAJOR_SCALE
    return bpm, scale, int(rng.integers(45, 57))


def _hz(midi: float) -> float:
    return float(440.0 * 2 ** ((midi - 69) / 12))


def _tone(freq: float, seconds: float, harmonics: int = 3) -> Audio:
    t = np.arange(int(seconds * RATE), dtype=np.float32) / RATE
    wave = sum(np.sin(2 * np.pi * freq * (h + 1) * t) / (h + 1) for h in range(harmonics))
    env = np.minimum(1.0, t / 0.01) * np.exp(-2.5 * t)
    return np.asarray(wave * env, dtype=np.float32)


def _vowel(freq: float, seconds: float, vowel: int, rng: np.random.Generator) -> Audio:
    """A sung syllable: a vibrato tone whose harmonics are shaped by two vowel formants."""
    formants = ((730, 1090), (270, 2290), (300, 870), (530, 1840), (660, 1720))[vowel % 5]
    n = int(seconds * RATE)
    t = np.arange(n, dtype=np.float32) / RATE
    vibrato = 1 + 0.012 * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(freq * vibrato) / RATE
    out = np.zeros(n, dtype=np.float32)
    for h in range(1, 16):
        f = freq * h
        gain = sum(np.exp(-(((f - fm) / 180.0) ** 2)) for fm in formants) + 0.05 / h
        out += np.float32(gain) * np.sin(h * phase).astype(np.float32)
    env = np.minimum(1.0, t / 0.04) * np.minimum(1.0, (seconds - t) / 0.06).clip(0, 1)
    return np.asarray(out * env / 6.0, dtype=np.float32)


def compose(seed: int, tags: str, words: str, vocal: bool, seconds: float) -> Audio:
    """``seconds`` of music, the same for the same arguments."""
    bpm, scale, root = tempo_and_scale(tags, seed)
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    n = int(seconds * RATE)
    mix = np.zeros(n + RATE, dtype=np.float32)
    progression = [0, 4, 5, 3]  # I V vi IV (or i v VI iv in minor)
    syllables = re.findall(r"[aeiouy]+", words.lower()) or ["a", "o", "e", "i"] * 8
    beats = int(seconds / beat)
    for b in range(beats):
        at = int(b * beat * RATE)
        degree = progression[(b // 4) % 4]
        chord_root = root + scale[degree % 7]
        if b % 4 == 0:  # a chord a bar
            for step in (0, 2, 4):
                note = root + 12 + scale[(degree + step) % 7] + 12 * ((degree + step) // 7)
                tone = _tone(_hz(note), beat * 4, 2) * 0.08
                mix[at : at + len(tone)] += tone[: len(mix) - at]
        bass = _tone(_hz(chord_root - 12), beat * 0.9, 2) * 0.25
        mix[at : at + len(bass)] += bass[: len(mix) - at]
        kick_t = np.arange(int(0.15 * RATE), dtype=np.float32) / RATE
        kick = np.sin(2 * np.pi * (50 + 90 * np.exp(-30 * kick_t)) * kick_t) * np.exp(-18 * kick_t)
        if b % 2 == 0:
            mix[at : at + len(kick)] += (kick * 0.5).astype(np.float32)[: len(mix) - at]
        hat = rng.standard_normal(int(0.03 * RATE)).astype(np.float32) * 0.04
        half = at + int(beat * RATE / 2)
        mix[half : half + len(hat)] += hat[: max(0, len(mix) - half)]
        if vocal and b >= 4:  # the voice comes in after a bar
            syl = syllables[(b - 4) % len(syllables)]
            note = root + 12 + scale[int(rng.integers(0, 7))] + (12 if b % 16 >= 8 else 0)
            voice = _vowel(_hz(note), beat * 0.95, "aeiou".find(syl[0]) % 5, rng) * 0.35
            mix[at : at + len(voice)] += voice[: len(mix) - at]
    out = mix[:n]
    fade = min(n, RATE)
    out[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    peak = float(np.abs(out).max()) or 1.0
    return np.asarray(out / peak * 0.8, dtype=np.float32)


def decode(data: bytes) -> Audio:
    """An audio file as mono float samples at RATE."""
    import av

    chunks = []
    with av.open(io.BytesIO(data), mode="r") as box:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        for frame in box.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def song(
    seed: int,
    tags: str,
    words: str,
    vocal: bool,
    seconds: float,
    source: bytes | None = None,
    start: float = 0.0,
) -> bytes:
    """An MP3 of ``seconds`` of new music; with ``source``, the first ``start`` seconds of
    that song come first and the new music follows on from them."""
    audio = compose(seed, tags, words, vocal, seconds)
    if source is not None:
        head = decode(source)[: int(start * RATE)]
        blend = min(len(head), int(0.05 * RATE))
        if blend:
            ramp = np.linspace(0, 1, blend, dtype=np.float32)
            audio[:blend] = audio[:blend] * ramp + head[-blend:] * (1 - ramp)
            head = head[:-blend]
        audio = np.concatenate([head, audio])
    return encode_mp3(audio)


def encode_mp3(audio: Audio) -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp3") as box:
        stream = box.add_stream("libmp3lame", rate=RATE)
        stream.bit_rate = 64_000
        stream.layout = "mono"
        size = stream.codec_context.frame_size or 1152
        pts = 0
        for i in range(0, len(audio), size):
            part = audio[i : i + size]
            frame = av.AudioFrame.from_ndarray(part.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = RATE
            frame.pts = pts
            frame.time_base = Fraction(1, RATE)
            pts += len(part)
            for packet in stream.encode(frame):
                box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    return buf.getvalue()


VERSES = (
    "I walk the {w} road tonight", "the {w} is calling out my name",
    "under a sky of {w} light", "nothing will ever stay the same",
    "we were young and {w} and free", "holding on to what we knew",
    "every {w} sings to me", "every road leads back to you",
)  # fmt: skip
CHORUS = ("oh {w}, carry me home", "{w}, I'm never alone", "sing it out, {w}, sing it loud")


def lyrics(prompt: str, seed: int) -> tuple[str, str]:
    """(title, lyrics) in verse and chorus form, from the prompt's own words."""
    words = [w.lower() for w in re.findall(r"[A-Za-z']+", prompt) if len(w) > 3] or ["summer"]
    rng = np.random.default_rng(seed)
    pick = [words[int(i)] for i in rng.integers(0, len(words), size=16)]
    order = rng.permutation(len(VERSES))
    verse1 = [VERSES[int(order[i])].format(w=pick[i]) for i in range(4)]
    verse2 = [VERSES[int(order[i + 4])].format(w=pick[i + 4]) for i in range(4)]
    chorus = [CHORUS[i % 3].format(w=pick[8]) for i in range(3)] + [CHORUS[0].format(w=pick[9])]
    title = " ".join(w.capitalize() for w in words[:2])
    parts = ["[Verse 1]", *verse1, "", "[Chorus]", *chorus, "", "[Verse 2]", *verse2]
    parts += ["", "[Chorus]", *chorus]
    return title, "\n".join(parts)
