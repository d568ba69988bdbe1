"""Zhipu's CogVideoX API at /cogvideox/v4, driven by the official ``zhipuai`` SDK with only
its base URL and key changed: text to video, first and last frames, Zhipu's error shape."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import av
import numpy as np
import pytest
import requests
import zhipuai
from PIL import Image

from tests.helpers import Server
from tests.media import probe


def client(server: Server, key: str) -> zhipuai.ZhipuAI:
    return zhipuai.ZhipuAI(api_key=key, base_url=server.url + "/cogvideox/v4", max_retries=0)


def data_uri(color: tuple[int, int, int]) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), color).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def wait(zai: zhipuai.ZhipuAI, task_id: str) -> Any:
    deadline = time.monotonic() + 60
    while (got := zai.videos.retrieve_videos_result(id=task_id)).task_status == "PROCESSING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return got


def test_text_to_video_with_the_sdk(server: Server, key: str) -> None:
    zai = client(server, key)
    made = zai.videos.generations(
        model="cogvideox-flash", prompt="a paper boat", size="720x1280", duration=5
    )
    assert made.task_status == "PROCESSING" and made.id
    done = wait(zai, str(made.id))
    assert done.task_status == "SUCCESS" and len(done.video_result) == 1
    info = probe(requests.get(done.video_result[0].url, timeout=30).content)
    assert (info.width, info.height, round(info.duration), round(info.fps)) == (720, 1280, 5, 30)
    cover = requests.get(done.video_result[0].cover_image_url, timeout=30)
    assert cover.content[:3] == b"\xff\xd8\xff"


def test_first_and_last_frames_at_60_fps(server: Server, key: str) -> None:
    zai = client(server, key)
    made = zai.videos.generations(
        model="cogvideox-3",
        prompt="red turns blue",
        image_url=[data_uri((230, 20, 20)), data_uri((20, 20, 230))],
        size="1024x1024",
        fps=60,
        duration=5,
        quality="speed",
    )
    done = wait(zai, str(made.id))
    data = requests.get(done.video_result[0].url, timeout=30).content
    assert round(probe(data).fps) == 60 and probe(data).frames == 300
    with av.open(io.BytesIO(data)) as box:
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
    first = np.asarray(frames[0], np.float32).reshape(-1, 3).mean(0)
    last = np.asarray(frames[-1], np.float32).reshape(-1, 3).mean(0)
    assert first[0] > 180 and last[2] > 180


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "cogvideox-9", "prompt": "x"}, "model"),
        ({"model": "cogvideox-3", "prompt": "x", "size": "640x480"}, "size"),
        ({"model": "cogvideox-3", "prompt": "x", "fps": 24}, "fps"),
        ({"model": "cogvideox-3", "prompt": "x", "duration": 6}, "duration"),
        ({"model": "cogvideox-3", "prompt": "x", "quality": "best"}, "quality"),
        ({"model": "cogvideox-3", "prompt": "x" * 513}, "prompt"),
        ({"model": "cogvideox-3"}, "prompt"),
        ({"model": "cogvideox-3", "prompt": "x", "image_url": ["a", "b", "c"]}, "image_url"),
    ],
)
def test_bad_input_is_zhipus_error(
    server: Server, key: str, body: dict[str, object], field: str
) -> None:
    resp = requests.post(
        server.url + "/cogvideox/v4/videos/generations",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 400, resp.text
    err = resp.json()["error"]
    assert err["code"] == "1214" and field in err["message"], err


def test_sdk_sees_zhipu_errors(server: Server, key: str) -> None:
    with pytest.raises(zhipuai.APIRequestFailedError):
        client(server, key).videos.generations(model="cogvideox-3", prompt="x", size="1x1")
    with pytest.raises(zhipuai.APIAuthenticationError):
        client(server, "nope").videos.retrieve_videos_result(id="0" * 24)
