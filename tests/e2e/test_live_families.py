"""Midjourney and Suno on live keys: a real server whose upstreams are the fakes of a
midjourney-proxy and a Suno-API server (and new-api's key for both, the second route).
Results are stored by mediagate; a follow-up presses the upstream's own button; a failing
route fails over; a banned prompt fails and is refunded."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from PIL import Image

from tests.fakes.mjproxy import FakeMidjourneyProxy
from tests.fakes.suno import FakeSunoApi
from tests.helpers import Server


class Fakes:
    def __init__(self) -> None:
        self.mj = FakeMidjourneyProxy(secret="own-secret").start()
        self.mj2 = FakeMidjourneyProxy(secret="newapi-key").start()
        self.suno = FakeSunoApi(api_key="own-suno").start()
        self.suno2 = FakeSunoApi(api_key="newapi-key").start()

    def stop(self) -> None:
        for fake in (self.mj, self.mj2, self.suno, self.suno2):
            fake.stop()


@pytest.fixture(scope="module")
def fakes() -> Iterator[Fakes]:
    f = Fakes()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def live(fakes: Fakes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    creds = {
        "mjproxy": {"api_key": "own-secret", "base_url": fakes.mj.url},
        "sunoapi": {"api_key": "own-suno", "base_url": fakes.suno.url},
    }
    # new-api's one key serves /mj and /suno: both second routes use it. The two fakes
    # stand for one new-api here, so its base URL is the Midjourney fake's for /mj ...
    env = {
        "MEDIAGATE_UPSTREAM_POLL_S": "0.05",
        "MEDIAGATE_CREDENTIALS": json.dumps(
            {
                **creds,
                "newapi-mj": {"api_key": "newapi-key", "base_url": fakes.mj2.url},
                "newapi-suno": {"api_key": "newapi-key", "base_url": fakes.suno2.url},
            }
        ),
        "MEDIAGATE_NEWAPI_API_KEY": "newapi-key",
        "MEDIAGATE_NEWAPI_BASE_URL": fakes.mj2.url,
    }
    server = Server(tmp_path_factory.mktemp("live-families"), **env).start()
    yield server, server.funded_live_key(100)
    server.stop()


def white_png(size: tuple[int, int] = (8, 8)) -> str:
    buf = io.BytesIO()
    Image.new("L", size, 255).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def mj(server: Server, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = requests.post(
        server.url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


def mj_done(server: Server, key: str, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task: dict[str, Any] = requests.get(
            f"{server.url}/mj/task/{task_id}/fetch",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ).json()
        if task["status"] in ("SUCCESS", "FAILURE"):
            return task
        time.sleep(0.05)
    raise AssertionError("not done")


def test_midjourney_on_a_proxy(live: tuple[Server, str], fakes: Fakes) -> None:
    server, key = live
    grid = mj_done(
        server, key, mj(server, key, "/mj/submit/imagine", {"prompt": "a fox"})["result"]
    )
    assert grid["status"] == "SUCCESS", grid["failReason"]
    png = requests.get(grid["imageUrl"], timeout=10)
    assert png.content[:4] == b"\x89PNG" and "/v1/files/" in grid["imageUrl"]  # stored by us
    assert fakes.mj.calls("POST", "/mj/submit/imagine")[-1]["prompt"] == "a fox"
    assert fakes.mj.calls("POST", "/mj/task/list-by-condition")  # polled in bulk
    u2 = next(b["customId"] for b in grid["buttons"] if b["label"] == "U2")
    up = mj_done(
        server,
        key,
        mj(server, key, "/mj/submit/action", {"taskId": grid["id"], "customId": u2})["result"],
    )
    assert up["status"] == "SUCCESS", up["failReason"]
    pressed = fakes.mj.calls("POST", "/mj/submit/action")[-1]["customId"]
    assert pressed.startswith("MJ::JOB::upsample::2::") and grid["id"] not in pressed
    region = next(b["customId"] for b in up["buttons"] if b["label"] == "Vary (Region)")
    modal = mj(server, key, "/mj/submit/action", {"taskId": up["id"], "customId": region})
    assert modal["code"] == 21
    upscaled = Image.open(io.BytesIO(requests.get(up["imageUrl"], timeout=10).content))
    mask = white_png(upscaled.size)  # a mask is its image's size
    done = mj_done(
        server,
        key,
        mj(server, key, "/mj/submit/modal", {"taskId": modal["result"], "maskBase64": mask})[
            "result"
        ],
    )
    assert done["status"] == "SUCCESS", done["failReason"]
    sent = fakes.mj.calls("POST", "/mj/submit/modal")[-1]
    assert sent["maskBase64"].startswith("data:image/png;base64,")
    desc = mj_done(server, key, mj(server, key, "/mj/submit/describe", {"base64": mask})["result"])
    assert "a fake prompt" in desc["properties"]["finalPrompt"]


def test_midjourney_fails_over_and_refunds_a_banned_prompt(
    live: tuple[Server, str], fakes: Fakes
) -> None:
    server, key = live
    fakes.mj.fail_next(502, {"error": "bad gateway"}, times=10)
    moved = mj_done(
        server, key, mj(server, key, "/mj/submit/imagine", {"prompt": "a hare"})["result"]
    )
    assert moved["status"] == "SUCCESS", moved["failReason"]
    assert any(b.get("prompt") == "a hare" for b in fakes.mj2.calls("POST", "/mj/submit/imagine"))
    fakes.mj.failures.clear()
    before = requests.get(
        server.url + "/v1/balance", headers={"Authorization": key}, timeout=10
    ).json()
    banned = mj_done(
        server, key, mj(server, key, "/mj/submit/imagine", {"prompt": "a banned thing"})["result"]
    )
    assert banned["status"] == "FAILURE" and "banned" in banned["failReason"]
    after = requests.get(
        server.url + "/v1/balance", headers={"Authorization": key}, timeout=10
    ).json()
    assert after["balance"] == before["balance"]
    assert not any(
        b.get("prompt") == "a banned thing" for b in fakes.mj2.calls("POST", "/mj/submit/imagine")
    )


def suno(server: Server, key: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    made = requests.post(
        f"{server.url}/suno/submit/{action}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert made.status_code == 200, made.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        task: dict[str, Any] = requests.get(
            f"{server.url}/suno/fetch/{made.json()['data']}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ).json()["data"]
        if task["status"] in ("SUCCESS", "FAILURE"):
            return task
        time.sleep(0.05)
    raise AssertionError("not done")


def test_suno_on_a_suno_api_server(live: tuple[Server, str], fakes: Fakes) -> None:
    server, key = live
    song = suno(server, key, "music", {"prompt": "la la", "tags": "pop", "mv": "chirp-crow"})
    assert song["status"] == "SUCCESS", song["fail_reason"]
    assert fakes.suno.calls("POST", "/suno/submit/music")[-1]["mv"] == "chirp-crow"
    assert fakes.suno.calls("POST", "/suno/fetch")  # polled in bulk
    for clip in song["data"]:
        audio = requests.get(clip["audio_url"], timeout=10)
        assert audio.headers["content-type"] == "audio/mpeg" and "/v1/files/" in clip["audio_url"]
        assert requests.get(clip["image_url"], timeout=10).content[:3] == b"\xff\xd8\xff"
    clip = song["data"][1]["id"]
    body = {"task_id": song["task_id"], "continue_clip_id": clip, "continue_at": 1.5}
    more = suno(server, key, "music", {**body, "prompt": "more"})
    assert more["status"] == "SUCCESS", more["fail_reason"]
    sent = fakes.suno.calls("POST", "/suno/submit/music")[-1]
    assert sent["continue_clip_id"].endswith("-clip1") and sent["continue_at"] == 1.5
    words = suno(server, key, "lyrics", {"prompt": "rain"})
    assert words["status"] == "SUCCESS" and "fa la" in words["data"]["text"]


def test_suno_fails_over(live: tuple[Server, str], fakes: Fakes) -> None:
    server, key = live
    fakes.suno.fail_next(503, {"code": "busy", "message": "down"}, times=10)
    song = suno(server, key, "music", {"prompt": "over", "tags": "pop"})
    assert song["status"] == "SUCCESS", song["fail_reason"]
    assert any(c.get("prompt") == "over" for c in fakes.suno2.calls("POST", "/suno/submit/music"))
    fakes.suno.failures.clear()
