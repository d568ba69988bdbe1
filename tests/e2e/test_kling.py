"""Kling's own API at /kling/v1 on the sandbox: text and image to video (with a last frame),
std and pro sizes, images, Kling's envelope and error codes, and the other dialects."""

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

from tests.helpers import Server, wait_done
from tests.media import probe


def post(server: Server, key: str, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{server.url}/kling/v1/{path}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )


def done(server: Server, key: str, path: str, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        got = requests.get(
            f"{server.url}/kling/v1/{path}/{task_id}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ).json()
        assert got["code"] == 0, got
        if got["data"]["task_status"] in ("succeed", "failed"):
            assert got["data"]["task_status"] == "succeed", got
            data: dict[str, Any] = got["data"]
            return data
        assert time.monotonic() < deadline
        time.sleep(0.1)


def b64(color: tuple[int, int, int]) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (300, 300), color).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()  # Kling takes bare base64


def test_text2video_in_pro_mode(server: Server, key: str) -> None:
    made = post(server, key, "videos/text2video", {
        "model_name": "kling-v2-6", "prompt": "a fox in snow", "mode": "pro",
        "duration": "5", "aspect_ratio": "9:16", "sound": "on",
    }).json()  # fmt: skip
    assert made["code"] == 0 and made["message"] == "SUCCEED"
    assert made["data"]["task_status"] == "submitted"
    data = done(server, key, "videos/text2video", made["data"]["task_id"])
    video = data["task_result"]["videos"][0]
    info = probe(requests.get(video["url"], timeout=30).content)
    assert (info.width, info.height) == (1080, 1920)  # pro is 1080p
    assert abs(float(video["duration"]) - 5) < 0.1


def test_image2video_with_a_tail(server: Server, key: str) -> None:
    made = post(server, key, "videos/image2video", {
        "model_name": "kling-v2-1", "prompt": "red to blue", "image": b64((230, 20, 20)),
        "image_tail": b64((20, 20, 230)), "aspect_ratio": "1:1",
    }).json()  # fmt: skip
    data = done(server, key, "videos/image2video", made["data"]["task_id"])
    raw = requests.get(data["task_result"]["videos"][0]["url"], timeout=30).content
    with av.open(io.BytesIO(raw)) as box:
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
    assert np.asarray(frames[0], np.float32).reshape(-1, 3).mean(0)[0] > 180
    assert np.asarray(frames[-1], np.float32).reshape(-1, 3).mean(0)[2] > 180
    assert (frames[0].shape[1], frames[0].shape[0]) == (720, 720)


def test_images_and_the_other_dialects(server: Server, key: str) -> None:
    made = post(server, key, "images/generations", {
        "model_name": "kling-v2", "prompt": "a teapot", "n": 2, "aspect_ratio": "3:2",
    }).json()  # fmt: skip
    data = done(server, key, "images/generations", made["data"]["task_id"])
    urls = [i["url"] for i in data["task_result"]["images"]]
    assert len(urls) == 2
    assert Image.open(io.BytesIO(requests.get(urls[0], timeout=10).content)).size == (1248, 832)
    unified = requests.post(
        server.url + "/v1/video/generations",
        json={"model": "kling-v2-6", "prompt": "a lake", "aspect_ratio": "16:9"},
        headers={"Authorization": key},
        timeout=10,
    ).json()
    task = wait_done(server.url, key, unified["task_id"])
    assert task["status"] == "done"
    info = probe(requests.get(str(task["url"]), timeout=30).content)
    assert (info.width, info.height) == (1280, 720)


@pytest.mark.parametrize(
    ("path", "body", "field", "code"),
    [
        ("videos/text2video", {"model_name": "kling-v9", "prompt": "x"}, "model_name", 1201),
        ("videos/text2video", {"prompt": "x", "duration": "7"}, "duration", 1201),
        ("videos/text2video", {"prompt": "x", "mode": "ultra"}, "mode", 1201),
        (
            "videos/text2video",
            {"model_name": "kling-v2-1-master", "prompt": "x", "mode": "std"},
            "mode",
            1201,
        ),
        ("videos/text2video", {"prompt": "x", "aspect_ratio": "4:3"}, "aspect_ratio", 1201),
        (
            "videos/text2video",
            {"model_name": "kling-v2-1", "prompt": "x", "sound": "on"},
            "sound",
            1201,
        ),
        ("videos/text2video", {"prompt": ""}, "prompt", 1201),
        (
            "videos/text2video",
            {"prompt": "x", "camera_control": {"type": "simple"}},
            "camera_control",
            1201,
        ),
        ("videos/image2video", {"prompt": "x"}, "image", 1201),
        (
            "videos/image2video",
            {
                "model_name": "kling-v2-1-master",
                "image": "https://e.com/a.png",
                "image_tail": "https://e.com/b.png",
            },
            "image",
            1201,
        ),
        ("images/generations", {"prompt": "x", "n": 10}, "n", 1201),
    ],
)
def test_bad_input_is_klings_error(
    server: Server, key: str, path: str, body: dict[str, Any], field: str, code: int
) -> None:
    resp = post(server, key, path, body)
    assert resp.status_code == 400, resp.text
    out = resp.json()
    assert out["code"] == code and field in out["message"], out


def test_unknown_task_and_key(server: Server, key: str) -> None:
    resp = requests.get(
        f"{server.url}/kling/v1/videos/text2video/{'0' * 24}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 404 and resp.json()["code"] == 1203
    bad = post(server, "nope", "videos/text2video", {"prompt": "x"})
    assert bad.status_code == 401 and bad.json()["code"] == 1000
