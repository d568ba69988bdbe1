"""Luma Dream Machine's own API at /luma/dream-machine/v1, driven by the official ``lumaai``
SDK with only its base URL and key changed: video with keyframes, extend, images, list,
delete, and Luma's error shape."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from typing import Any

import av
import lumaai
import numpy as np
import pytest
import requests
from PIL import Image

from tests.helpers import Server
from tests.media import probe


@pytest.fixture
def client(server: Server, key: str) -> Iterator[lumaai.LumaAI]:
    with lumaai.LumaAI(
        auth_token=key, base_url=server.url + "/luma/dream-machine/v1", max_retries=0
    ) as c:
        yield c


def data_uri(color: tuple[int, int, int]) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (320, 180), color).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def wait(client: lumaai.LumaAI, gen_id: str) -> Any:
    deadline = time.monotonic() + 60
    while True:
        gen = client.generations.get(gen_id)
        if gen.state in ("completed", "failed"):
            assert gen.state == "completed", gen.failure_reason
            return gen
        assert time.monotonic() < deadline
        time.sleep(0.1)


def frames(url: str) -> list[np.ndarray]:
    with av.open(io.BytesIO(requests.get(url, timeout=30).content)) as box:
        return [f.to_ndarray(format="rgb24").astype(np.float32) for f in box.decode(video=0)]


def test_video_with_first_and_last_frames_then_extend(client: lumaai.LumaAI) -> None:
    made = client.generations.create(
        model="ray-flash-2",
        prompt="a slow pan",
        aspect_ratio="4:3",
        resolution="540p",
        duration="5s",
        keyframes={
            "frame0": {"type": "image", "url": data_uri((230, 20, 20))},
            "frame1": {"type": "image", "url": data_uri((20, 20, 230))},
        },
    )
    assert made.state in ("queued", "dreaming") and made.generation_type == "video"
    gen = wait(client, str(made.id))
    assert gen.assets is not None and gen.assets.video
    info = probe(requests.get(gen.assets.video, timeout=30).content)
    assert (info.width, info.height, round(info.duration)) == (720, 540, 5)  # 4:3 at 540p
    video = frames(gen.assets.video)
    first, last = video[0].reshape(-1, 3).mean(0), video[-1].reshape(-1, 3).mean(0)
    assert first[0] > 180 and first[2] < 80  # opens on the red frame
    assert last[2] > 180 and last[0] < 80  # ends on the blue one
    more = client.generations.create(
        model="ray-flash-2",
        prompt="and on",
        keyframes={"frame0": {"type": "generation", "id": str(gen.id)}},
    )
    longer = wait(client, str(more.id))
    opening = frames(longer.assets.video)[0]  # type: ignore[union-attr]
    assert np.abs(opening - video[-1]).mean() < 12  # it goes on from where the first ended


def test_images_list_and_delete(client: lumaai.LumaAI) -> None:
    made = client.generations.image.create(
        model="photon-flash-1", prompt="a lighthouse", aspect_ratio="9:16", format="png"
    )
    gen = wait(client, str(made.id))
    img = requests.get(gen.assets.image, timeout=30)  # type: ignore[union-attr]
    assert img.content[:4] == b"\x89PNG"
    assert Image.open(io.BytesIO(img.content)).size == (768, 1344)
    page = client.generations.list(limit=5)
    assert str(gen.id) in [g.id for g in page.generations]
    client.generations.delete(str(gen.id))
    with pytest.raises(lumaai.NotFoundError):
        client.generations.get(str(gen.id))


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("generations", {"model": "ray-9", "prompt": "x"}, "model"),
        ("generations", {"model": "ray-1-6", "prompt": "x"}, "legacy"),
        ("generations", {"model": "ray-2", "prompt": "x", "duration": "7s"}, "duration"),
        ("generations", {"model": "ray-2", "prompt": "x", "duration": "five"}, "duration"),
        ("generations", {"model": "ray-2", "prompt": "x", "resolution": "8k"}, "resolution"),
        ("generations", {"model": "ray-2", "prompt": "x", "aspect_ratio": "2:1"}, "aspect_ratio"),
        ("generations", {"model": "ray-2"}, "prompt"),
        (
            "generations",
            {
                "model": "ray-2",
                "prompt": "x",
                "keyframes": {"frame1": {"type": "generation", "id": "a"}},
            },
            "frame1",
        ),
        (
            "generations",
            {
                "model": "ray-2",
                "prompt": "x",
                "keyframes": {"frame0": {"type": "generation", "id": "0" * 24}},
            },
            "task",
        ),
        ("generations/image", {"model": "photon-1", "prompt": "x", "format": "gif"}, "format"),
        (
            "generations/image",
            {"model": "photon-1", "prompt": "x", "character_ref": {}},
            "character_ref",
        ),
        ("generations/image", {"model": "ray-2", "prompt": "x"}, "model"),
    ],
)
def test_bad_input_is_lumas_error_naming_the_field(
    server: Server, key: str, path: str, body: dict[str, object], field: str
) -> None:
    resp = requests.post(
        f"{server.url}/luma/dream-machine/v1/{path}",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert 400 <= resp.status_code < 500, resp.text
    assert field in resp.json()["detail"], resp.json()
