"""Vidu's own API at /vidu/ent/v2 on the sandbox: the four endpoints, Token auth, creations
with covers, Vidu's error shape."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import av
import numpy as np
import pytest
import requests
from PIL import Image

from tests.helpers import Server
from tests.media import probe

URL = "https://e.com/a.png"


def create(server: Server, key: str, endpoint: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{server.url}/vidu/ent/v2/{endpoint}",
        json=body,
        headers={"Authorization": f"Token {key}"},
        timeout=10,
    )


def creations(server: Server, key: str, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        got: dict[str, Any] = requests.get(
            f"{server.url}/vidu/ent/v2/tasks/{task_id}/creations",
            headers={"Authorization": f"Token {key}"},
            timeout=10,
        ).json()
        if got["state"] in ("success", "failed"):
            return got
        assert time.monotonic() < deadline
        time.sleep(0.1)


def data_uri(color: tuple[int, int, int]) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (256, 144), color).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_text2video(server: Server, key: str) -> None:
    made = create(server, key, "text2video", {
        "model": "viduq2", "prompt": "a kite", "duration": 3, "resolution": "360p",
        "aspect_ratio": "9:16", "bgm": True,
    })  # fmt: skip
    assert made.status_code == 200, made.text
    body = made.json()
    assert body["state"] == "created" and body["duration"] == 3 and body["bgm"] is True
    got = creations(server, key, body["task_id"])
    assert got["state"] == "success" and got["err_code"] == ""
    info = probe(requests.get(got["creations"][0]["url"], timeout=30).content)
    assert (info.width, info.height, round(info.duration)) == (360, 640, 3)
    cover = requests.get(got["creations"][0]["cover_url"], timeout=10)
    assert cover.content[:3] == b"\xff\xd8\xff"


def test_start_end2video(server: Server, key: str) -> None:
    made = create(server, key, "start-end2video", {
        "model": "vidu2.0", "prompt": "", "duration": 4,
        "images": [data_uri((230, 20, 20)), data_uri((20, 20, 230))],
    }).json()  # fmt: skip
    got = creations(server, key, made["task_id"])
    raw = requests.get(got["creations"][0]["url"], timeout=30).content
    with av.open(io.BytesIO(raw)) as box:
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
    assert np.asarray(frames[0], np.float32).reshape(-1, 3).mean(0)[0] > 180
    assert np.asarray(frames[-1], np.float32).reshape(-1, 3).mean(0)[2] > 180


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("text2video", {"model": "vidu9", "prompt": "x"}, "model"),
        ("text2video", {"model": "viduq1", "prompt": "x", "duration": 8}, "duration"),
        ("text2video", {"model": "viduq2", "prompt": "x", "resolution": "4k"}, "resolution"),
        ("text2video", {"model": "viduq2", "prompt": ""}, "prompt"),
        ("img2video", {"model": "viduq2", "images": []}, "images"),
        ("img2video", {"model": "viduq2", "images": [URL], "aspect_ratio": "1:1"}, "aspect_ratio"),
        ("start-end2video", {"model": "viduq2", "images": [URL]}, "images"),
        ("reference2video", {"model": "viduq2", "prompt": "x", "images": [URL] * 8}, "images"),
        ("video2video", {"model": "viduq2", "prompt": "x"}, "endpoint"),
        ("text2video", {"model": "viduq2", "prompt": "x", "movement_amplitude": "big"}, "movement"),
    ],
)
def test_bad_input_is_vidus_error(
    server: Server, key: str, endpoint: str, body: dict[str, Any], field: str
) -> None:
    resp = create(server, key, endpoint, body)
    assert resp.status_code == 400, resp.text
    out = resp.json()
    assert out["code"] == 400 and out["reason"] == "BadRequest" and field in out["message"], out


def test_token_and_bearer(server: Server, key: str) -> None:
    resp = requests.post(
        f"{server.url}/vidu/ent/v2/text2video",
        json={"model": "viduq1", "prompt": "x"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 200
    bad = create(server, "nope", "text2video", {"model": "viduq1", "prompt": "x"})
    assert bad.status_code == 401 and bad.json()["reason"] == "Unauthorized"
