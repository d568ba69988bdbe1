"""The aggregators' formats (issue 23): Luma in GoAmzAI's format, and the generate/feed format
of Runway v1, PixVerse and Pika, each end to end from its own client shape on a test key,
with its callback; then on a live key through the fake aggregator (providers/feed.py), with
failover to the next route; and their bad inputs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.test_webhooks import Receiver
from tests.fakes.base import sample_image
from tests.fakes.feed import FakeFeed
from tests.fakes.relays import FakeNewApi
from tests.helpers import Server
from tests.media import probe

PNG = "data:image/png;base64," + __import__("base64").b64encode(sample_image()).decode()


def until(read: Any, done: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not done(got := read()):
        assert time.monotonic() < deadline, got
        time.sleep(0.1)
    return got


def download(url: str) -> bytes:
    got = requests.get(url, timeout=10)
    assert got.status_code == 200, url
    return got.content


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.http.shutdown()


def test_luma_in_goamz_format(server: Server, key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    made = requests.post(
        server.url + "/luma/generations",
        json={"user_prompt": "a cat dancing", "aspect_ratio": "9:16", "expand_prompt": True},
        headers=auth, timeout=10,
    )  # fmt: skip
    assert made.status_code == 201 and made.json()["state"] == "pending"
    gen_id = made.json()["id"]
    done = until(
        lambda: requests.get(
            f"{server.url}/luma/v1/generations/{gen_id}", headers=auth, timeout=10
        ).json(),
        lambda g: g["state"] in ("completed", "failed"),
    )
    assert done["state"] == "completed" and done["thumbnail"]["url"]
    video = probe(download(done["video"]["url"]))
    assert (video.width, video.height) == (720, 1280)  # luma-ray-flash-2 at 9:16, 720p
    paid = requests.post(
        server.url + "/vip/luma/generations", json={"user_prompt": "a dog", "image_url": PNG},
        headers=auth, timeout=10,
    ).json()  # fmt: skip
    task = requests.get(server.url + "/v1/media/result", params={"task_id": paid["id"]},
                        headers={"Authorization": key}, timeout=10).json()  # fmt: skip
    assert task["model"] == "luma-ray-2"  # the paid variant
    longer = requests.post(f"{server.url}/luma/generations/{gen_id}/extend",
                           json={"user_prompt": "and then it jumps"}, headers=auth,
                           timeout=10).json()  # fmt: skip
    assert (
        until(
            lambda: requests.get(
                f"{server.url}/luma/generations/{longer['id']}", headers=auth, timeout=10
            ).json(),
            lambda g: g["state"] in ("completed", "failed"),
        )["state"]
        == "completed"
    )
    for body, field in (({"user_prompt": ""}, "user_prompt"),
                        ({"user_prompt": "x", "model_name": "ray-9"}, "model_name"),
                        ({"user_prompt": "x", "duration": "forever"}, "duration")):  # fmt: skip
        bad = requests.post(server.url + "/luma/generations", json=body, headers=auth, timeout=10)
        assert bad.status_code == 400 and field in bad.json()["detail"], bad.text
    gone = requests.get(server.url + "/luma/generations/nope", headers=auth, timeout=10)
    assert gone.status_code == 404


def test_runway_v1_and_pixverse_with_their_callbacks(
    server: Server, key: str, receiver: Receiver
) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    made = requests.post(
        server.url + "/runway/v1/pro/generate",
        json={"prompt": "a cat", "ratio": "9:16", "style": "cinematic", "model": "gen4",
              "image": PNG, "options": {"seconds": 5}, "callback_url": receiver.url},
        headers=auth, timeout=10,
    ).json()  # fmt: skip
    assert made["code"] == 200 and made["msg"] == "成功"
    task_id = made["data"]["task_id"]
    fed = until(
        lambda: requests.get(
            server.url + "/runway/v1/pro/feed",
            params={"task_id": task_id},
            headers=auth,
            timeout=10,
        ).json()["data"],
        lambda d: d["status"] in ("2", "3"),
    )
    assert fed["state"] == "succeeded" and fed["poster"]
    video = probe(download(fed["video_url"]))
    assert (video.width, video.height) == (720, 1280) and round(video.duration) == 5
    pix = requests.post(
        server.url + "/pixverse/v1/pro/generate",
        json={"prompt": "a fox", "ratio": "1:1", "model": "v5", "style": "anime", "duration": 8,
              "quality": "720p", "callback_url": receiver.url},
        headers=auth, timeout=10,
    ).json()["data"]["task_id"]  # fmt: skip
    hooks = receiver.wait(2)
    bodies = {json.loads(b)["task_id"]: json.loads(b) for _, b in hooks}
    assert bodies[task_id]["status"] == "3" and bodies[task_id]["video_url"]
    assert bodies[pix]["state"] == "succeeded"
    clip = probe(download(bodies[pix]["video_url"]))
    assert (clip.width, clip.height) == (720, 720) and round(clip.duration) == 8
    for path, body, field in (
        ("/runway/v1/pro/generate", {"prompt": "x", "model": "gen3"}, "model"),
        ("/runway/pro/generate", {"prompt": "x", "ratio": "7:5"}, "ratio"),
        ("/runway/v1/pro/generate", {"prompt": "x", "options": {"seconds": 11}}, "options.seconds"),
        ("/pixverse/v1/pro/generate", {"prompt": "x", "model": "v9"}, "model"),
        ("/pixverse/v1/pro/generate", {"prompt": "x", "style": "oil"}, "style"),
    ):
        bad = requests.post(server.url + path, json=body, headers=auth, timeout=10)
        assert bad.status_code == 400 and bad.json()["code"] == 400, bad.text
        assert field in bad.json()["msg"], bad.text
    unknown = requests.get(server.url + "/pixverse/v1/pro/feed", params={"task_id": "x"},
                           headers=auth, timeout=10)  # fmt: skip
    assert unknown.status_code == 404 and unknown.json()["code"] == 404


def test_pika_from_text_image_and_video(server: Server, key: str, other_key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}

    def made(body: dict[str, Any]) -> dict[str, Any]:
        got = requests.post(server.url + "/pika/generate", json=body, headers=auth, timeout=10)
        assert got.status_code == 200, got.text
        return until(
            lambda: requests.get(
                f"{server.url}/pika/feed/{got.json()['id']}", headers=auth, timeout=10
            ).json(),
            lambda t: t["videos"][0]["status"] in ("finished", "failed"),
        )

    first = made({"promptText": "moving", "model": "2.2", "options": {
        "aspectRatio": 0.5625, "frameRate": 24, "parameters": {"motion": 2}}})  # fmt: skip
    video = probe(download(first["videos"][0]["resultUrl"]))
    assert (video.width, video.height) == (720, 1280)
    effect = made({"promptText": "x", "model": "1.5", "pikaffect": "Melt", "image": PNG})
    assert effect["videos"][0]["status"] == "finished" and effect["params"]["pikaffect"] == "Melt"
    longer = made({"promptText": "and on", "model": "2.2", "video": first["videos"][0]["resultUrl"],
                   "options": {"extend": True}})  # fmt: skip
    assert longer["videos"][0]["status"] == "finished" and longer["params"]["extend"] is True
    not_video = made({"promptText": "x", "model": "2.2",
                      "video": first["videos"][0]["videoPoster"]})  # fmt: skip
    assert not_video["videos"][0]["status"] == "failed"
    assert "not a video" in not_video["videos"][0]["error"]
    for body, field in (({"promptText": "x", "model": "3"}, "model"),
                        ({"promptText": "x", "video": "data:video/mp4;base64,AAAA"}, "video"),
                        ({"promptText": "x", "options": {"aspectRatio": 9}}, "aspectRatio"),
                        ({"promptText": "x", "model": "1.5", "pikaffect": "Fly"},
                         "pikaffect")):  # fmt: skip
        bad = requests.post(server.url + "/pika/generate", json=body, headers=auth, timeout=10)
        assert bad.status_code == 400 and field in bad.json()["error"], bad.text
    theirs = requests.get(f"{server.url}/pika/feed/{first['id']}",
                          headers={"Authorization": f"Bearer {other_key}"}, timeout=10)  # fmt: skip
    assert theirs.status_code == 404


def test_relays_to_the_aggregator_with_failover(tmp_path: Path) -> None:
    feed, newapi = FakeFeed().start(), FakeNewApi(polls=1).start()
    creds = {name: {"base_url": feed.url, "api_key": feed.api_key}
             for name in ("feed-runway", "feed-pixverse", "feed-pika", "goamz-luma")}  # fmt: skip
    server = Server(
        tmp_path, MEDIAGATE_UPSTREAM_POLL_S="0.05", MEDIAGATE_CREDENTIALS=json.dumps(creds),
        MEDIAGATE_NEWAPI_API_KEY=newapi.api_key, MEDIAGATE_NEWAPI_BASE_URL=newapi.url,
    ).start()  # fmt: skip
    try:
        key = server.funded_live_key(100)
        auth = {"Authorization": f"Bearer {key}"}

        def task(task_id: str) -> dict[str, Any]:
            return until(
                lambda: requests.get(
                    server.url + "/v1/media/result",
                    params={"task_id": task_id},
                    headers={"Authorization": key},
                    timeout=10,
                ).json(),
                lambda t: t["status"] in ("done", "failed"),
            )

        pix = requests.post(
            server.url + "/pixverse/v1/pro/generate", headers=auth, timeout=10,
            json={"prompt": "a fox", "model": "v5", "ratio": "16:9"},
        ).json()  # fmt: skip
        done = task(pix["data"]["task_id"])
        assert done["status"] == "done" and done["provider"] == "feed-pixverse"
        assert feed.bodies[-1][0] == "/pixverse/v1/pro/generate"
        assert feed.bodies[-1][1]["model"] == "v5" and feed.bodies[-1][1]["ratio"] == "16:9"
        pika = requests.post(server.url + "/pika/generate", headers=auth, timeout=10,
                             json={"promptText": "moving", "model": "2.2"}).json()  # fmt: skip
        assert task(pika["id"])["provider"] == "feed-pika"
        assert feed.bodies[-1][1]["promptText"] == "moving"
        goamz = requests.post(server.url + "/vip/luma/generations", headers=auth, timeout=10,
                              json={"user_prompt": "a boat"}).json()  # fmt: skip
        assert task(goamz["id"])["provider"] == "goamz-luma"  # no Luma key here: GoAmz's route
        assert feed.bodies[-1][0] == "/vip/luma/generations"
        feed.fail_next(500, {"code": 500, "msg": "down"}, times=20)  # the aggregator is down
        moved = requests.post(server.url + "/pixverse/v1/pro/generate", headers=auth, timeout=10,
                              json={"prompt": "a fox", "model": "v5"}).json()  # fmt: skip
        assert task(moved["data"]["task_id"])["provider"] == "newapi"  # the next route
        server.cli("ledger", "check")
    finally:
        server.stop()
        feed.stop()
        newapi.stop()
