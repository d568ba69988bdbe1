"""Ideogram's own API on the sandbox: legacy generate (JSON), remix, upscale and describe
(multipart), V3 generate, edit (mask), remix and reframe; Api-Key auth; Ideogram's errors."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image

from tests.helpers import Server


def png(color: tuple[int, int, int], size: tuple[int, int] = (256, 256)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def image(url: str) -> Image.Image:
    return Image.open(io.BytesIO(requests.get(url, timeout=10).content)).convert("RGB")


def call(server: Server, key: str, path: str, **kw: Any) -> requests.Response:
    return requests.post(
        f"{server.url}/ideogram/{path}", headers={"Api-Key": key}, timeout=60, **kw
    )


def test_legacy_generate_makes_several(server: Server, key: str) -> None:
    ask = {"prompt": "a neon sign", "model": "V_2", "aspect_ratio": "ASPECT_16_10"}
    body = {"image_request": {**ask, "num_images": 2, "style_type": "DESIGN", "seed": 12}}
    resp = call(server, key, "generate", json=body)
    assert resp.status_code == 200, resp.text
    data = resp.json()["data"]
    assert len(data) == 2 and data[0]["resolution"] == "1280x800" and data[0]["seed"] == 12
    assert data[0]["style_type"] == "DESIGN" and data[0]["is_image_safe"] is True
    a, b = (np.asarray(image(d["url"]), np.float32) for d in data)
    assert np.abs(a - b).mean() > 10  # two different pictures


def test_legacy_remix_upscale_describe(server: Server, key: str) -> None:
    red = png((220, 20, 20))
    req = json.dumps({"prompt": "more red", "image_weight": 90, "aspect_ratio": "ASPECT_1_1"})
    remix = call(
        server, key, "remix", files={"image_request": (None, req), "image_file": ("a.png", red)}
    )
    assert remix.status_code == 200, remix.text
    mean = np.asarray(image(remix.json()["data"][0]["url"]), np.float32).reshape(-1, 3).mean(0)
    assert mean[0] > 150  # the red input dominates at weight 90
    up = call(
        server, key, "upscale", files={"image_request": (None, "{}"), "image_file": ("a.png", red)}
    )
    assert up.json()["data"][0]["resolution"] == "512x512"
    desc = call(server, key, "describe", files={"image_file": ("a.png", red)})
    text = desc.json()["descriptions"][0]["text"]
    assert "red" in text or "crimson" in text, text


def test_v3_edit_changes_only_the_black_area(server: Server, key: str) -> None:
    src = png((20, 200, 20), (256, 256))
    mask = Image.new("L", (256, 256), 255)
    mask.paste(0, (0, 0, 128, 256))  # the left half is black: repaint it
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    resp = requests.post(
        f"{server.url}/ideogram/v1/ideogram-v3/edit",
        files={
            "prompt": (None, "a sun"),
            "image": ("i.png", src),
            "mask": ("m.png", buf.getvalue()),
        },
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert resp.status_code == 200, resp.text
    out = np.asarray(image(resp.json()["data"][0]["url"]), np.int32)
    assert (out[:, 128:] == [20, 200, 20]).all()  # the white half is untouched
    assert np.abs(out[:, :128] - [20, 200, 20]).mean() > 10


def test_v3_generate_and_reframe(server: Server, key: str) -> None:
    fields = {"prompt": (None, "a cat"), "aspect_ratio": (None, "9x16")}
    gen = requests.post(
        f"{server.url}/ideogram/v1/ideogram-v3/generate",
        files={**fields, "rendering_speed": (None, "TURBO")},
        headers={"Api-Key": key},
        timeout=60,
    )
    assert gen.json()["data"][0]["resolution"] == "736x1312"
    frame = requests.post(
        f"{server.url}/ideogram/v1/ideogram-v3/reframe",
        files={"image": ("a.png", png((0, 0, 250))), "resolution": (None, "1280x800")},
        headers={"Api-Key": key}, timeout=60,
    )  # fmt: skip
    assert frame.status_code == 200, frame.text
    out = image(frame.json()["data"][0]["url"])
    assert out.size == (1280, 800)
    assert np.asarray(out, np.float32)[400, 640][2] > 200  # the image sits in the middle


@pytest.mark.parametrize(
    ("path", "kw", "field", "status"),
    [
        ("generate", {"json": {"image_request": {"prompt": "x", "model": "V_9"}}}, "model", 400),
        (
            "generate",
            {"json": {"image_request": {"prompt": "x", "aspect_ratio": "ASPECT_5_1"}}},
            "aspect_ratio",
            400,
        ),
        (
            "generate",
            {"json": {"image_request": {"prompt": "x", "num_images": 9}}},
            "num_images",
            400,
        ),
        (
            "generate",
            {"json": {"image_request": {"prompt": "x", "num_images": "two"}}},
            "num_images",
            400,
        ),
        (
            "generate",
            {"json": {"image_request": {"prompt": "x", "style_type": "FICTION"}}},
            "style_type",
            400,
        ),
        ("generate", {"json": {"image_request": {}}}, "prompt", 400),
        ("generate", {"json": {"image_request": {"prompt": "x", "seed": -1}}}, "seed", 400),
        ("remix", {"files": {"image_request": (None, "{")}}, "image_request", 400),
        ("v1/ideogram-v3/edit", {"files": {"prompt": (None, "x")}}, "image", 400),
        (
            "v1/ideogram-v3/reframe",
            {"files": {"image": ("a.png", png((0, 0, 0)))}},
            "resolution",
            400,
        ),
        (
            "generate",
            {"json": {"image_request": {"prompt": "x [sandbox:content-rejected]"}}},
            "safety",
            422,
        ),
    ],
)
def test_bad_input_is_ideograms_error(
    server: Server, key: str, path: str, kw: dict[str, Any], field: str, status: int
) -> None:
    resp = call(server, key, path, **kw)
    assert resp.status_code == status, resp.text
    assert field in resp.json()["detail"], resp.json()
