"""The Suno dialect end to end on a server process: inspiration, custom and continuation
modes and lyrics, on the sandbox; the songs are decoded with PyAV and measured."""

from __future__ import annotations

import io
import time
from typing import Any

import av
import numpy as np
import pytest
import requests

from tests.helpers import Server


def submit(server: Server, key: str, action: str, body: dict[str, Any]) -> str:
    resp = requests.post(
        f"{server.url}/suno/submit/{action}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["code"] == "success" and isinstance(out["data"], str), out
    return str(out["data"])


def fetch(server: Server, key: str, task_id: str) -> dict[str, Any]:
    resp = requests.get(
        f"{server.url}/suno/fetch/{task_id}", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()["data"]
    return out


def done(server: Server, key: str, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        task = fetch(server, key, task_id)
        if task["status"] in ("SUCCESS", "FAILURE"):
            assert task["status"] == "SUCCESS", task["fail_reason"]
            return task
        time.sleep(0.1)
    raise AssertionError("not done")


def decode(url: str) -> tuple[np.ndarray, int, float]:
    """(mono samples, rate, container duration) of the MP3 at ``url``."""
    resp = requests.get(url, timeout=30)
    assert resp.status_code == 200 and resp.headers["content-type"] == "audio/mpeg"
    with av.open(io.BytesIO(resp.content)) as box:
        stream = box.streams.audio[0]
        assert stream.codec_context.name.startswith("mp3")
        rate = stream.codec_context.sample_rate
        duration = float(box.duration or 0) / 1_000_000
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in box.decode(audio=0)])
    return samples.astype(np.float32), rate, duration


def pitch_energy(samples: np.ndarray, rate: int, low: float, high: float) -> float:
    """How much of the signal lies between ``low`` and ``high`` Hz."""
    spectrum = np.abs(np.fft.rfft(samples[: rate * 20]))
    freqs = np.fft.rfftfreq(min(len(samples), rate * 20), 1 / rate)
    band = spectrum[(freqs >= low) & (freqs < high)].sum()
    return float(band / spectrum.sum())


@pytest.fixture(scope="module")
def custom(server: Server, key: str) -> dict[str, Any]:
    body = {
        "prompt": "[Verse]\nneon lights over the city\nwe dance until the morning\n"
        "[Chorus]\nhold on hold on\nnever let go",
        "tags": "upbeat edm",
        "title": "Neon Nights",
        "mv": "chirp-v4",
    }
    return done(server, key, submit(server, key, "music", body))


def test_custom_mode_makes_two_playable_songs_with_covers(
    server: Server, custom: dict[str, Any]
) -> None:
    clips = custom["data"]
    assert len(clips) == 2 and custom["action"] == "MUSIC" and custom["progress"] == "100%"
    decoded = []
    for clip in clips:
        assert clip["status"] == "complete" and clip["title"] == "Neon Nights"
        assert clip["model_name"] == "chirp-v4" and clip["metadata"]["tags"] == "upbeat edm"
        samples, rate, duration = decode(clip["audio_url"])
        assert abs(duration - clip["duration"]) < 0.2, (duration, clip["duration"])
        assert 10 <= duration <= 240  # v4's longest song is 4 minutes
        assert abs(len(samples) / rate - duration) < 0.2
        assert float(np.abs(samples).mean()) > 0.02  # not silence
        cover = requests.get(clip["image_url"], timeout=10)
        assert cover.status_code == 200 and cover.content[:3] == b"\xff\xd8\xff"
        decoded.append(samples)
    n = min(len(decoded[0]), len(decoded[1]))
    assert np.abs(decoded[0][:n] - decoded[1][:n]).mean() > 0.01  # two different songs


def test_tags_set_the_tempo_and_instrumental_drops_the_voice(server: Server, key: str) -> None:
    words = "gentle rain on the window\nslowly falling asleep"
    slow = done(server, key, submit(server, key, "music", {"prompt": words, "tags": "slow ballad"}))
    sung, rate, _ = decode(slow["data"][0]["audio_url"])
    inst = done(
        server,
        key,
        submit(
            server,
            key,
            "music",
            {"prompt": words, "tags": "slow ballad", "make_instrumental": True},
        ),
    )
    plain, _, _ = decode(inst["data"][0]["audio_url"])
    # The voice's formants put energy between 600 Hz and 2.5 kHz that the band lacks.
    assert pitch_energy(sung, rate, 600, 2500) > 1.5 * pitch_energy(plain, rate, 600, 2500)


def test_inspiration_mode(server: Server, key: str) -> None:
    body = {"gpt_description_prompt": "a sad song about the sea", "mv": "chirp-crow"}
    task = done(server, key, submit(server, key, "music", body))
    clip = task["data"][0]
    assert clip["model_name"] == "chirp-crow"
    assert clip["metadata"]["gpt_description_prompt"] == "a sad song about the sea"
    _, _, duration = decode(clip["audio_url"])
    assert duration >= 10


def test_continuation_continues_the_clip(server: Server, key: str, custom: dict[str, Any]) -> None:
    clip = custom["data"][1]
    at = 8.0
    body = {
        "task_id": custom["task_id"],
        "continue_clip_id": clip["id"],
        "continue_at": at,
        "prompt": "[Verse 2]\nthe sun comes up",
        "tags": "upbeat edm",
    }
    more = done(server, key, submit(server, key, "music", body))
    original, rate, _ = decode(clip["audio_url"])
    longer, _, duration = decode(more["data"][0]["audio_url"])
    assert duration > at + 5
    n = int((at - 0.5) * rate)
    assert np.abs(longer[:n] - original[:n]).mean() < 0.2 * np.abs(original[:n]).mean()
    assert more["data"][0]["metadata"]["type"] == "concat"


def test_lyrics_and_fetch_many(
    server: Server, key: str, other_key: str, custom: dict[str, Any]
) -> None:
    lyr = done(server, key, submit(server, key, "lyrics", {"prompt": "summer love by the ocean"}))
    assert lyr["action"] == "LYRICS"
    text = lyr["data"]["text"]
    assert "[Verse 1]" in text and "[Chorus]" in text and "ocean" in text
    again = done(server, key, submit(server, key, "lyrics", {"prompt": "summer love by the ocean"}))
    assert again["data"]["text"] == text  # deterministic
    ids = [custom["task_id"], lyr["task_id"], "0" * 24]
    many = requests.post(
        f"{server.url}/suno/fetch",
        json={"ids": ids},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()
    assert many["code"] == "success"
    assert sorted(t["task_id"] for t in many["data"]) == sorted(ids[:2])
    theirs = requests.post(
        f"{server.url}/suno/fetch",
        json={"ids": ids},
        headers={"Authorization": f"Bearer {other_key}"},
        timeout=10,
    ).json()
    assert theirs["data"] == []
    hidden = requests.get(
        f"{server.url}/suno/fetch/{custom['task_id']}",
        headers={"Authorization": f"Bearer {other_key}"},
        timeout=10,
    )
    assert hidden.status_code == 400 and hidden.json()["code"] == "task_not_exist"


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("music", {"prompt": "x", "mv": "chirp-v9"}, "mv"),
        ("music", {"prompt": "x", "tags": "t" * 201, "mv": "chirp-v3-5"}, "tags"),
        ("music", {"prompt": "x" * 3001, "mv": "chirp-v4"}, "prompt"),
        ("music", {"prompt": "x", "title": "t" * 120, "mv": "chirp-crow"}, "title"),
        ("music", {}, "prompt"),
        ("music", {"prompt": 5}, "prompt"),
        ("music", {"prompt": "x", "make_instrumental": "yes"}, "make_instrumental"),
        ("music", {"continue_clip_id": "abc", "continue_at": 3}, "task_id"),
        ("music", {"task_id": "0" * 24, "continue_clip_id": "x", "continue_at": 3}, "task_id"),
        ("dance", {"prompt": "x"}, "action"),
        ("lyrics", {}, "prompt"),
    ],
)
def test_bad_input_names_the_field(
    server: Server, key: str, action: str, body: dict[str, Any], field: str
) -> None:
    resp = requests.post(
        f"{server.url}/suno/submit/{action}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert 400 <= resp.status_code < 500, resp.text
    out = resp.json()
    assert out["data"] is None and out["code"] != "success"
    assert field in out["message"], out


def test_continuation_checks_the_clip(server: Server, key: str, custom: dict[str, Any]) -> None:
    clip = custom["data"][0]
    for bad, field in (
        ({"continue_clip_id": "nope"}, "continue_clip_id"),
        ({"continue_at": 9999}, "continue_at"),
    ):
        body = {
            "task_id": custom["task_id"],
            "continue_clip_id": clip["id"],
            "continue_at": 5,
            **bad,
        }
        resp = requests.post(
            f"{server.url}/suno/submit/music",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert resp.status_code == 400 and field in resp.json()["message"], resp.text
