"""The unified video dialect (seed 004, new-api's wrapped answer) on a live server."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import pytest
import requests
from PIL import Image

from tests.helpers import Server, wait_done
from tests.media import first_frame_rgb_mean, probe

MODEL = "veo-3.0-generate-preview"


def submit(server: Server, key: str, **body: Any) -> requests.Response:
    return requests.post(
        server.url + "/v1/video/generations",
        json=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=10,
    )


def query(server: Server, key: str, task_id: str) -> requests.Response:
    return requests.get(
        server.url + f"/v1/video/generations/{task_id}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )


def poll(server: Server, key: str, task_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = query(server, key, task_id).json()
        if body["data"]["status"] in ("succeeded", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def red_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (160, 90), (230, 20, 20)).save(buf, "PNG")
    return buf.getvalue()


def test_seed_004_flow_with_bare_base64_image(server: Server, key: str) -> None:
    """The seed's body as printed (image as bare base64), then the query until it is done."""
    body = {
        "model": MODEL,
        "prompt": "让图片中的肥皂拟人动漫化,并配音",
        "duration_seconds": 8,
        "aspect_ratio": "16:9",
        "sample_count": 1,
        "image": base64.b64encode(red_png()).decode(),
    }
    resp = submit(server, key, **body)
    assert resp.status_code == 200
    assert list(resp.json()) == ["task_id"]
    task_id = resp.json()["task_id"]

    first = query(server, key, task_id)
    assert first.status_code == 200
    assert first.json()["data"]["status"] in ("queued", "processing")
    assert int(first.headers["poll-after-ms"]) >= 200

    done = poll(server, key, task_id)
    assert list(done) == ["code", "message", "data"]
    assert done["code"] == "success" and done["message"] == ""
    data = done["data"]
    assert list(data) == [
        "task_id", "status", "url", "urls", "format", "progress", "metadata", "error",
        "provider",
    ]  # fmt: skip
    assert data["provider"] == "sandbox"
    assert data["task_id"] == task_id
    assert data["status"] == "succeeded"
    assert data["format"] == "mp4"
    assert data["progress"] == 100
    assert data["error"] is None
    assert data["urls"] == [data["url"]]
    media = requests.get(data["url"], timeout=30)
    assert media.headers["content-type"] == "video/mp4"
    info = probe(media.content)
    meta = data["metadata"]
    assert (info.width, info.height, info.duration) == (meta["width"], meta["height"], 8.0)
    assert meta == {"duration": 8.0, "fps": 24, "width": 1280, "height": 720, "seed": meta["seed"]}
    assert isinstance(meta["seed"], int) and meta["seed"] > 0
    r, g, b = first_frame_rgb_mean(media.content)
    assert r > 150 and g < 80 and b < 80  # the image is the first frame


def test_sample_count_makes_that_many_videos(server: Server, key: str) -> None:
    resp = submit(server, key, model=MODEL, prompt="two takes", duration_seconds=4, sample_count=2)
    data = poll(server, key, resp.json()["task_id"])["data"]
    assert data["status"] == "succeeded"
    assert len(data["urls"]) == 2 and data["url"] == data["urls"][0]
    for url in data["urls"]:
        assert probe(requests.get(url, timeout=30).content).duration == 4.0


def test_new_api_spellings_and_url_image(server: Server, key: str) -> None:
    """new-api clients send `duration` and `n`; an earlier result link works as the image."""
    first = submit(server, key, model=MODEL, prompt="base", duration=4, aspect_ratio="9:16")
    data = poll(server, key, first.json()["task_id"])["data"]
    assert (data["metadata"]["width"], data["metadata"]["height"]) == (720, 1280)
    assert data["metadata"]["duration"] == 4.0
    picture = requests.post(
        server.url + "/v1/media/create",
        json={"model": "seedream-3", "prompt": "a frame", "ar": "9:16"},
        headers={"Authorization": key},
        timeout=10,
    ).json()
    link = wait_done(server.url, key, picture["id"])["url"]
    second = submit(server, key, model=MODEL, prompt="from a link", duration=4, n=2, image=link)
    assert second.status_code == 200, second.text
    both = poll(server, key, second.json()["task_id"])["data"]
    assert both["status"] == "succeeded" and len(both["urls"]) == 2  # n=2 made two


def test_the_three_dialects_see_the_same_task(server: Server, key: str) -> None:
    task_id = submit(server, key, model=MODEL, prompt="shared", duration_seconds=6).json()[
        "task_id"
    ]
    gpt = wait_done(server.url, key, task_id)
    unified = poll(server, key, task_id)["data"]
    openai = requests.get(
        server.url + f"/v1/videos/{task_id}", headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).json()
    assert gpt["status"] == "done" and unified["status"] == "succeeded"
    assert openai["status"] == "completed" and openai["seconds"] == "6"
    assert gpt["url"] == unified["url"]

    made = requests.post(
        server.url + "/v1/media/create",
        json={"model": "seedance-1-lite-480P-5s", "prompt": "from gptunnel"},
        headers={"Authorization": key},
        timeout=10,
    ).json()
    assert poll(server, key, made["id"])["data"]["status"] == "succeeded"


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"duration_seconds": 5}, "duration_seconds", "allowed: 4, 6, 8"),
        ({"aspect_ratio": "1:1"}, "aspect_ratio", "allowed: 16:9, 9:16"),
        ({"sample_count": 9}, "sample_count", "1..4"),
        ({"image": "not an image"}, "image", "base64"),
        ({"image": base64.b64encode(b"plain text, no image").decode()}, "image", "not an image"),
        ({"model": "seedream-3"}, "model", "makes images"),
        ({"model": "sora-9"}, "model", "unknown model"),
        ({"prompt": " "}, "prompt", "non-empty"),
    ],
)
def test_invalid_input_names_the_field(
    server: Server, key: str, body: dict[str, Any], param: str, words: str
) -> None:
    resp = submit(server, key, **{"model": MODEL, "prompt": "x", **body})
    assert resp.status_code == 400
    err = resp.json()
    assert err["code"] == "invalid_request" and err["data"] is None
    assert err["error"]["param"] == param
    assert err["message"].startswith(f"{param}: ") and words in err["message"]


def test_auth_not_found_and_broken_json(server: Server, key: str, other_key: str) -> None:
    resp = requests.post(server.url + "/v1/video/generations", json={"model": MODEL}, timeout=10)
    assert resp.status_code == 401 and "API key" in resp.json()["message"]
    assert query(server, key, "0" * 24).status_code == 404
    task_id = submit(server, key, model=MODEL, prompt="mine").json()["task_id"]
    assert query(server, other_key, task_id).status_code == 404
    broken = requests.post(
        server.url + "/v1/video/generations",
        data=b"{nope",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert broken.status_code == 400 and broken.json()["error"]["param"] == "body"


def test_failure_reason_is_in_the_error_object(server: Server, key: str) -> None:
    resp = submit(server, key, model=MODEL, prompt="[sandbox:content-rejected] a scene")
    data = poll(server, key, resp.json()["task_id"])["data"]
    assert data["status"] == "failed" and data["url"] is None and data["urls"] == []
    assert data["error"]["code"] == 422  # new-api declares error.code an int
    assert data["error"]["type"] == "content_rejected"
    assert "content policy" in data["error"]["message"]
