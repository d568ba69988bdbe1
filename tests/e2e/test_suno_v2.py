"""Suno's own format, v2 (issue 23): the seven scenarios from the client's shape on a test key
(custom lyrics, description, instrumental custom and by description, upload and extend,
extend then concat, cover), feed by clip ids, bad inputs (unknown clips, another key's clips,
an extension past the clip); and on a live key through the Suno-API fake, with failover."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any

import av
import pytest
import requests

from tests.fakes.suno import FakeSunoApi, sample_mp3
from tests.helpers import Server


def feed(server: Server, key: str, ids: list[str], timeout: float = 60) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        got = requests.get(server.url + "/suno/v2/feed", params={"ids": ",".join(ids)},
                           headers={"Authorization": f"Bearer {key}"}, timeout=10)  # fmt: skip
        if got.status_code == 200 and all(c["status"] in ("complete", "error") for c in got.json()):
            found: list[dict[str, Any]] = got.json()
            return found
        assert time.monotonic() < deadline, got.text
        time.sleep(0.1)


def generate(server: Server, key: str, body: dict[str, Any], path: str = "/suno/v2/generate"
             ) -> dict[str, Any]:  # fmt: skip
    got = requests.post(server.url + path, json=body, timeout=10,
                        headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert got.status_code == 200, got.text
    made: dict[str, Any] = got.json()
    return made


def seconds(url: str) -> float:
    """A song's length, decoded in full (not read from a header)."""
    with av.open(io.BytesIO(requests.get(url, timeout=10).content)) as box:
        stream = box.streams.audio[0]
        return sum(f.samples for f in box.decode(stream)) / float(stream.rate)


def test_the_seven_scenarios(server: Server, key: str) -> None:
    lyrics = "[Verse]\nWalking down the streets\nBeneath the city lights\n[Chorus]\nla la"
    custom = generate(server, key, {"prompt": lyrics, "tags": "emotional punk", "mv": "chirp-v4",
                                    "title": "City Lights"})  # fmt: skip
    assert custom["batch_size"] == 2 and custom["status"] == "running"
    songs = feed(server, key, [c["id"] for c in custom["clips"]])
    assert [c["title"] for c in songs] == ["City Lights"] * 2
    assert all(c["metadata"]["tags"] == "emotional punk" for c in songs)
    described = generate(server, key, {"gpt_description_prompt": "a happy song about cats"},
                         "/suno/generate")  # fmt: skip
    instrumental = generate(server, key, {"tags": "lofi chill", "make_instrumental": True,
                                          "title": "Quiet"})  # fmt: skip
    inspired = generate(server, key, {"gpt_description_prompt": "rain", "make_instrumental": True})
    for batch in (described, instrumental, inspired):
        assert all(c["status"] == "complete" for c in feed(server, key, [batch["clips"][0]["id"]]))
    first = songs[0]
    length = seconds(first["audio_url"])
    assert abs(length - first["duration"]) < 0.5
    # 6: extend at 10 s, then concat the chain: its length is the sum of its parts
    extended = generate(server, key, {"task": "extend", "continue_clip_id": first["id"],
                                      "continue_at": 10, "prompt": "[Verse 2]\nmore"})  # fmt: skip
    ext = feed(server, key, [extended["clips"][0]["id"]])[0]
    added = ext["duration"] - 10
    assert added > 5 and ext["metadata"]["history"][0]["id"] == first["id"]
    whole = requests.post(
        server.url + "/suno/v2/concat", json={"clip_id": ext["id"]},
        headers={"Authorization": f"Bearer {key}"}, timeout=10,
    ).json()  # fmt: skip
    chain = feed(server, key, [whole["id"]])[0]
    assert abs(seconds(chain["audio_url"]) - (10 + added)) < 0.5
    # 5: a song by link, made a clip, then extended on a version of one's choosing
    up = requests.post(server.url + "/suno/uploads/audio-url", json={"url": songs[1]["audio_url"]},
                       headers={"Authorization": f"Bearer {key}"}, timeout=10).json()  # fmt: skip
    assert up["code"] == "success"
    uploaded = feed(server, key, [up["data"] + "-0"])[0]
    assert abs(uploaded["duration"] - songs[1]["duration"]) < 0.5
    again = generate(server, key, {"task": "upload_extend", "continue_clip_id": uploaded["id"],
                                   "continue_at": 5, "mv": "chirp-auk"})  # fmt: skip
    grown = feed(server, key, [again["clips"][0]["id"]])[0]
    assert grown["model_name"] == "chirp-auk" and grown["duration"] > 5
    # 7: cover: the same song's length, in another style
    cover = generate(server, key, {"task": "cover", "cover_clip_id": first["id"], "tags": "rock"})
    covered = feed(server, key, [c["id"] for c in cover["clips"]])
    assert all(abs(c["duration"] - first["duration"]) < 0.5 for c in covered)
    assert covered[0]["metadata"]["type"] == "cover"
    by_path = requests.get(f"{server.url}/suno/feed/{first['id']},{ext['id']}",
                           headers={"Authorization": f"Bearer {key}"}, timeout=10)  # fmt: skip
    assert [c["id"] for c in by_path.json()] == [first["id"], ext["id"]]


def test_bad_suno_inputs(server: Server, key: str, other_key: str) -> None:
    mine = generate(server, key, {"prompt": "[Verse]\nmine", "tags": "pop"})
    clip = feed(server, key, [mine["clips"][0]["id"]])[0]
    auth = {"Authorization": f"Bearer {key}"}
    theirs = {"Authorization": f"Bearer {other_key}"}
    for path, body, headers, status, field in (
        ("/suno/v2/generate", {"task": "extend", "continue_clip_id": "nope-0", "continue_at": 3},
         auth, 404, "continue_clip_id"),
        ("/suno/v2/generate", {"task": "extend", "continue_clip_id": clip["id"],
                               "continue_at": clip["duration"] + 30}, auth, 400, "continue_at"),
        ("/suno/v2/generate", {"task": "remix"}, auth, 400, "task"),
        ("/suno/v2/generate", {"mv": "chirp-v9", "prompt": "x"}, auth, 400, "mv"),
        ("/suno/v2/concat", {"clip_id": clip["id"]}, theirs, 404, "clip_id"),
        ("/suno/v2/concat", {"clip_id": clip["id"]}, auth, 400, "extension"),
        ("/suno/uploads/audio-url", {"url": "ftp://x/y.mp3"}, auth, 400, "url"),
    ):  # fmt: skip
        got = requests.post(server.url + path, json=body, headers=headers, timeout=10)
        assert got.status_code == status, (path, got.text)
        text = got.json().get("detail") or got.json().get("message")
        assert field in text, got.text
    hidden = requests.get(server.url + "/suno/v2/feed", params={"ids": clip["id"]},
                          headers=theirs, timeout=10)  # fmt: skip
    assert hidden.status_code == 404
    not_song = requests.post(server.url + "/suno/uploads/audio-url", headers=auth, timeout=10,
                             json={"url": clip["image_url"]}).json()  # fmt: skip
    failed = feed(server, key, [not_song["data"] + "-0"])
    assert failed[0]["status"] == "error"


@pytest.mark.parametrize("via", ["sunoapi"])
def test_a_live_key_through_the_suno_api_fake(tmp_path: Path, via: str) -> None:
    fake, spare = FakeSunoApi(polls=1).start(), FakeSunoApi(polls=1).start()
    creds = {"sunoapi": {"api_key": fake.api_key, "base_url": fake.url},
             "newapi-suno": {"api_key": spare.api_key, "base_url": spare.url}}  # fmt: skip
    server = Server(tmp_path, MEDIAGATE_UPSTREAM_POLL_S="0.05",
                    MEDIAGATE_CREDENTIALS=json.dumps(creds)).start()  # fmt: skip
    try:
        key = server.funded_live_key(50)
        made = generate(server, key, {"prompt": "[Verse]\nlive", "tags": "pop", "mv": "chirp-v4"})
        first = feed(server, key, [made["clips"][0]["id"]])[0]
        assert first["status"] == "complete" and seconds(first["audio_url"]) > 1
        ext = generate(server, key, {"task": "extend", "continue_clip_id": first["id"],
                                     "continue_at": 1})  # fmt: skip
        extended = feed(server, key, [ext["clips"][0]["id"]])[0]
        sent = next(j["body"] for j in fake.jobs.values() if j["body"].get("task") == "extend")
        assert sent["continue_clip_id"].endswith("-clip0") and sent["continue_at"] == 1
        whole = requests.post(
            server.url + "/suno/submit/concat", json={"clip_id": extended["id"]},
            headers={"Authorization": f"Bearer {key}"}, timeout=10,
        ).json()  # fmt: skip
        assert feed(server, key, [whole["data"] + "-0"])[0]["status"] == "complete"
        assert any(j["action"] == "CONCAT" for j in fake.jobs.values())
        up = requests.post(server.url + "/suno/uploads/audio-url", timeout=10,
                           json={"url": spare.add_file("mine.mp3", sample_mp3(), "audio/mpeg")},
                           headers={"Authorization": f"Bearer {key}"}).json()  # fmt: skip
        assert feed(server, key, [up["data"] + "-0"])[0]["status"] == "complete"
        assert any(str(j["body"].get("url", "")).startswith("http") for j in fake.jobs.values())
        fake.fail_next(500, {"code": "error", "message": "down"}, times=10)
        moved = generate(server, key, {"prompt": "[Verse]\nmoved", "tags": "pop"})
        assert feed(server, key, [moved["clips"][0]["id"]])[0]["status"] == "complete"
        assert spare.jobs  # the next route took it
        server.cli("ledger", "check")
    finally:
        server.stop()
        fake.stop()
        spare.stop()
