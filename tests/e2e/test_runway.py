"""Runway's own API at /runwayml/v1, driven by the official ``runwayml`` SDK with only its
base URL and key changed: image to video, text to video, text to image, retrieve, delete,
and Runway's error shape for bad input."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import numpy as np
import pytest
import requests
import runwayml
from PIL import Image
from runwayml.lib import polling

from tests.helpers import Server, wait_done
from tests.media import probe


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(polling, "POLL_TIME", 0.2)  # the SDK waits 6 s between polls
    monkeypatch.setattr(polling, "POLL_JITTER", 0.1)


@pytest.fixture
def client(server: Server, key: str) -> Iterator[runwayml.RunwayML]:
    with runwayml.RunwayML(api_key=key, base_url=server.url + "/runwayml", max_retries=0) as c:
        yield c


def data_uri(color: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def first_frame_mean(url: str, index: int = 0) -> np.ndarray:
    import av

    data = requests.get(url, timeout=30).content
    with av.open(io.BytesIO(data)) as box:
        frames = list(box.decode(video=0))
    return np.asarray(frames[index].to_ndarray(format="rgb24"), np.float32).reshape(-1, 3).mean(0)


def test_image_to_video_through_the_sdk(client: runwayml.RunwayML) -> None:
    made = client.image_to_video.create(
        model="gen4_turbo",
        prompt_image=data_uri((230, 20, 20)),
        prompt_text="the camera pushes in",
        ratio="1104:832",
        duration=5,
    )
    task = made.wait_for_task_output(timeout=60)
    assert task.status == "SUCCEEDED" and len(task.output) == 1
    info = probe(requests.get(task.output[0], timeout=30).content)
    assert (info.width, info.height) == (1104, 832)
    assert abs(info.duration - 5.0) < 0.1
    red = first_frame_mean(task.output[0])
    assert red[0] > 180 and red[1] < 80  # the given image opens the video
    again = client.tasks.retrieve(made.id)
    assert again.status == "SUCCEEDED" and again.cost.credits == 0  # test keys are free


def test_text_to_video_and_text_to_image(client: runwayml.RunwayML) -> None:
    video = client.text_to_video.create(
        model="gen4.5", prompt_text="waves at dusk", ratio="720:1280", duration=2
    ).wait_for_task_output(timeout=60)
    info = probe(requests.get(video.output[0], timeout=30).content)
    assert (info.width, info.height, round(info.duration)) == (720, 1280, 2)
    image = client.text_to_image.create(
        model="gen4_image", prompt_text="a red kite", ratio="1360:768"
    ).wait_for_task_output(timeout=60)
    got = Image.open(io.BytesIO(requests.get(image.output[0], timeout=30).content))
    assert got.size == (1360, 768)


def test_delete_cancels_a_running_task(client: runwayml.RunwayML) -> None:
    made = client.image_to_video.create(
        model="gen4_turbo", prompt_image=data_uri((0, 0, 200)), ratio="960:960", duration=10
    )
    client.tasks.delete(made.id)
    with pytest.raises(runwayml.NotFoundError):
        client.tasks.retrieve(made.id)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "image_to_video",
            {"model": "gen4_turbo", "promptImage": "x", "ratio": "1280:720"},
            "promptImage",
        ),
        (
            "image_to_video",
            {"model": "gen4_turbo", "ratio": "16:9", "promptImage": "https://e.com/a.png"},
            "ratio",
        ),
        (
            "image_to_video",
            {
                "model": "gen4_turbo",
                "ratio": "1280:720",
                "duration": 7,
                "promptImage": "https://e.com/a.png",
            },
            "duration",
        ),
        (
            "image_to_video",
            {"model": "gen3a_turbo", "ratio": "1280:768", "promptImage": "https://e.com/a.png"},
            "model",
        ),
        (
            "image_to_video",
            {
                "model": "gen4_turbo",
                "ratio": "1280:720",
                "promptImage": [{"uri": "https://e.com/a.png", "position": "last"}],
            },
            "position",
        ),
        (
            "image_to_video",
            {
                "model": "gen4_turbo",
                "ratio": "1280:720",
                "seed": -1,
                "promptImage": "https://e.com/a.png",
            },
            "seed",
        ),
        ("text_to_video", {"model": "gen4_turbo", "promptText": "x", "ratio": "1280:720"}, "model"),
        ("text_to_video", {"model": "gen4.5", "promptText": "x", "ratio": "960:960"}, "ratio"),
        ("text_to_video", {"model": "gen4.5", "ratio": "1280:720"}, "promptText"),
        ("text_to_image", {"model": "gen4_image", "promptText": "x", "ratio": "1280:720"}, "ratio"),
        (
            "text_to_image",
            {"model": "gen4_image", "promptText": 5, "ratio": "1024:1024"},
            "promptText",
        ),
    ],
)
def test_bad_input_is_runways_error_naming_the_field(
    server: Server, key: str, path: str, body: dict[str, object], field: str
) -> None:
    resp = requests.post(
        f"{server.url}/runwayml/v1/{path}",
        json=body,
        headers={"Authorization": f"Bearer {key}", "X-Runway-Version": "2024-11-06"},
        timeout=10,
    )
    assert resp.status_code == 400, resp.text
    out = resp.json()
    assert field in out["error"], out
    assert out["issues"] and field in ".".join(out["issues"][0]["path"]) + out["error"]


def test_sdk_errors(server: Server, key: str) -> None:
    bad = runwayml.RunwayML(api_key="nope", base_url=server.url + "/runwayml", max_retries=0)
    with pytest.raises(runwayml.AuthenticationError):
        bad.tasks.retrieve("0" * 24)
    good = runwayml.RunwayML(api_key=key, base_url=server.url + "/runwayml", max_retries=0)
    with pytest.raises(runwayml.NotFoundError):
        good.tasks.retrieve("0" * 24)
    with pytest.raises(runwayml.BadRequestError):
        good.text_to_video.create(model="gen4.5", prompt_text="x", ratio="720:1280", duration=11)  # type: ignore[arg-type]


def test_runway_models_through_the_other_dialects(server: Server, key: str) -> None:
    made = requests.post(
        server.url + "/v1/video/generations",
        json={
            "model": "runway-gen4.5",
            "prompt": "a lake",
            "aspect_ratio": "720:1280",
            "duration": 3,
        },
        headers={"Authorization": key},
        timeout=10,
    ).json()
    task = wait_done(server.url, key, made["task_id"])
    info = probe(requests.get(str(task["url"]), timeout=30).content)
    assert (info.width, info.height, round(info.duration)) == (720, 1280, 3)
