"""OpenAI's audio API on mediagate (issue 22): the official ``openai`` SDK makes speech in
every format on a test key (real, decodable audio whose length follows the text), and
transcribes it back to its exact text in json, text, srt, vtt and verbose_json, streamed
too; other audio is heard by voice activity at its true times. A live key goes through the
fake OpenAI, charged on characters and on the minutes mediagate measured itself. Bad input
is a 400 naming the field, before any upstream is called."""

from __future__ import annotations

import io
import itertools
import re
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import openai
import pytest
import requests

from tests.fakes.openai_text import FakeOpenAIText
from tests.helpers import Server

SAID = "Hello there. The quick brown fox jumps over the lazy dog."
FORMATS = {"mp3": "mp3", "opus": "ogg", "aac": "aac", "flac": "flac", "wav": "wav"}


@pytest.fixture
def client(server: Server, key: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
        yield c


def seconds_of(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as box:
        samples = sum(frame.samples for frame in box.decode(audio=0))
        rate = box.streams.audio[0].rate
    return float(samples / rate)


def bursts(spans: list[tuple[float, float]], total: float) -> bytes:
    """A WAV of a 220 Hz tone over each span, silence elsewhere (not the sandbox's speech)."""
    rate = 16_000
    t = np.arange(int(total * rate)) / rate
    wave = np.zeros_like(t)
    for a, b in spans:
        on = (t >= a) & (t < b)
        wave[on] = 0.5 * np.sin(2 * np.pi * 220 * t[on])
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as box:
        stream = box.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(
            (wave * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            box.mux(packet)
    return buf.getvalue()


def test_speech_in_every_format_then_its_transcript(client: openai.OpenAI) -> None:
    lengths = {}
    for fmt in FORMATS:
        made = client.audio.speech.create(
            model="tts-1",
            voice="alloy",
            input=SAID,
            response_format=fmt,  # type: ignore[arg-type]
        ).content
        lengths[fmt] = seconds_of(made)
    assert all(2.0 < s < 8.0 for s in lengths.values()), lengths
    assert max(lengths.values()) - min(lengths.values()) < 0.2  # the same speech each time
    pcm = client.audio.speech.create(
        model="tts-1", voice="alloy", input=SAID, response_format="pcm"
    )
    assert abs(len(pcm.content) / 48_000 - lengths["wav"]) < 0.05  # 24 kHz, 16-bit, mono
    short = client.audio.speech.create(model="tts-1", voice="onyx", input="Hi.").content
    assert seconds_of(short) < lengths["mp3"] / 2  # the length follows the text
    slow = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="alloy", input=SAID, speed=0.5, instructions="calm"
    ).content
    assert seconds_of(slow) > lengths["mp3"] * 1.5
    mp3 = client.audio.speech.create(model="tts-1", voice="alloy", input=SAID).content
    wav = client.audio.speech.create(
        model="tts-1-hd", voice="nova", input=SAID, response_format="wav"
    ).content
    assert mp3[:3] == b"ID3" or mp3[0] == 0xFF
    assert wav[:4] == b"RIFF"
    heard = client.audio.transcriptions.create(model="whisper-1", file=("s.mp3", mp3))
    assert heard.text == SAID
    assert client.audio.transcriptions.create(
        model="whisper-1", file=("s.wav", wav), response_format="text"
    ).strip() == SAID  # fmt: skip
    srt = client.audio.transcriptions.create(
        model="whisper-1", file=("s.mp3", mp3), response_format="srt"
    )
    cues = re.findall(r"(\d+)\n(\d\d:\d\d:\d\d,\d{3}) --> (\d\d:\d\d:\d\d,\d{3})\n(.+)\n", str(srt))
    assert [c[3] for c in cues] == ["Hello there.", "The quick brown fox jumps over the lazy dog."]
    vtt = client.audio.transcriptions.create(
        model="whisper-1", file=("s.mp3", mp3), response_format="vtt"
    )
    assert str(vtt).startswith("WEBVTT\n\n00:00:00.000 --> ")
    verbose = client.audio.transcriptions.create(
        model="whisper-1", file=("s.wav", wav), response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )  # fmt: skip
    segments = verbose.segments or []
    assert verbose.text == SAID and len(segments) == 2
    assert segments[0].start == 0 and segments[-1].end <= verbose.duration + 0.01
    assert all(a.end <= b.start for a, b in itertools.pairwise(segments))
    assert abs(verbose.duration - seconds_of(wav)) < 0.05
    assert " ".join(w.word for w in verbose.words or []) == SAID
    streamed = client.audio.transcriptions.create(
        model="gpt-4o-mini-transcribe", file=("s.wav", wav), stream=True
    )
    events = list(streamed)
    text = "".join(e.delta for e in events if e.type == "transcript.text.delta")
    assert text == SAID and events[-1].type == "transcript.text.done"
    english = client.audio.translations.create(model="whisper-1", file=("s.mp3", mp3))
    assert english.text == SAID


def test_other_audio_is_heard_by_voice_activity(client: openai.OpenAI) -> None:
    truth = [(0.5, 1.5), (2.5, 4.0)]
    verbose = client.audio.transcriptions.create(
        model="whisper-1", file=("tones.wav", bursts(truth, 5.0)), response_format="verbose_json"
    )
    segments = verbose.segments or []
    assert [s.text for s in segments] == ["[speech]", "[speech]"]
    for seg, (a, b) in zip(segments, truth, strict=True):
        assert abs(seg.start - a) < 0.1 and abs(seg.end - b) < 0.1
    assert abs(verbose.duration - 5.0) < 0.05


def test_bad_audio_input_is_a_400_naming_the_field(
    client: openai.OpenAI, server: Server, key: str
) -> None:
    cases = [
        (lambda: client.audio.speech.create(model="tts-1", voice="robot", input="x"), "voice"),  # type: ignore[arg-type]
        (lambda: client.audio.speech.create(model="tts-1", voice="alloy", input="x" * 4097),
         "input"),
        (lambda: client.audio.speech.create(model="tts-1", voice="alloy", input="x",
                                            response_format="ogg"), "response_format"),  # type: ignore[arg-type]
        (lambda: client.audio.speech.create(model="tts-1", voice="alloy", input="x", speed=9),
         "speed"),
        (lambda: client.audio.transcriptions.create(model="whisper-1", file=("a.mp3", b"")),
         "file"),
        (lambda: client.audio.transcriptions.create(model="whisper-1",
                                                    file=("a.mp3", b"not audio at all")), "file"),
        (lambda: client.audio.transcriptions.create(model="whisper-1", file=("a.wav",
         bursts([(0, 1)], 1)), stream=True), "stream"),
        (lambda: client.audio.transcriptions.create(model="whisper-1", file=("a.wav",
         bursts([(0, 1)], 1)), timestamp_granularities=["word"]), "timestamp_granularities"),
    ]  # fmt: skip
    for call, field in cases:
        with pytest.raises(openai.BadRequestError) as caught:
            call()
        assert field in str(caught.value), (field, caught.value)
    with pytest.raises(openai.NotFoundError, match="tts-9"):
        client.audio.speech.create(model="tts-9", voice="alloy", input="x")
    big = requests.post(
        server.url + "/v1/audio/transcriptions", data={"model": "whisper-1"},
        files={"file": ("big.mp3", b"\0" * (26 * 1024 * 1024))},
        headers={"Authorization": f"Bearer {key}"}, timeout=30,
    )  # fmt: skip
    assert big.status_code == 400 and "25 MB" in big.json()["error"]["message"]


def test_a_live_key_through_the_fake_is_charged_on_characters_and_measured_minutes(
    tmp_path: Path,
) -> None:
    fake = FakeOpenAIText().start()
    server = Server(
        tmp_path, MEDIAGATE_OPENAI_API_KEY=fake.api_key, MEDIAGATE_OPENAI_BASE_URL=fake.url + "/v1"
    ).start()
    try:
        key = server.funded_live_key(10)
        with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
            spoken = c.audio.speech.create(
                model="tts-1", voice="alloy", input=SAID, response_format="wav"
            ).content
            assert abs(seconds_of(spoken) - 0.1 * len(SAID.split())) < 0.01  # the fake's
            clip = bursts([(0.2, 1.0)], 90.0)  # a minute and a half
            heard = c.audio.transcriptions.create(
                model="whisper-1", file=("clip.wav", clip), language="en"
            )
            assert heard.text == f"heard {len(clip)} bytes with whisper-1"
            assert fake.heard[-1]["language"] == "en" and fake.heard[-1]["model"] == "whisper-1"
        deadline = time.monotonic() + 10
        while len(rows := server.rows(
            "SELECT route, characters, audio_ms, cost_micros FROM requests ORDER BY created_at"
        )) < 2:  # fmt: skip
            assert time.monotonic() < deadline
            time.sleep(0.1)
        speech, transcription = rows
        assert speech == ("audio.speech", len(SAID), 0, -(-len(SAID) * 15_000_000 // 1_000_000))
        assert transcription[:3] == ("audio.transcriptions", 0, 90_000)
        assert transcription[3] == 9_000  # 1.5 minutes at $0.006 a minute
        server.cli("ledger", "check")
    finally:
        server.stop()
        fake.stop()
