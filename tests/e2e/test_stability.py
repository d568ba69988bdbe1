"""Stability's Stable Image API at /sd/v2beta on the sandbox: multipart, synchronous, bytes
or JSON by ``accept``, the SD3 models, image to image, Stability's error shape."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import requests
from PIL import Image

from tests.helpers import Server


def generate(
    server: Server,
    key: str,
    endpoint: str,
    fields: dict[str, str],
    accept: str = "image/*",
    files: dict[str, bytes] | None = None,
) -> requests.Response:
    parts = {k: (None, v) for k, v in fields.items()}
    for name, data in (files or {}).items():
        parts[name] = ("image.png", data)  # type: ignore[assignment]
    return requests.post(
        f"{server.url}/sd/v2beta/stable-image/generate/{endpoint}",
        files=parts or {"none": (None, "")},
        headers={"Authorization": f"Bearer {key}", "accept": accept},
        timeout=60,
    )


def png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (300, 200), color).save(buf, "PNG")
    return buf.getvalue()


def test_ultra_answers_the_bytes_with_seed_and_finish_reason(server: Server, key: str) -> None:
    resp = generate(
        server, key, "ultra", {"prompt": "a lighthouse", "aspect_ratio": "21:9", "seed": "7"}
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    assert resp.headers["finish-reason"] == "SUCCESS" and resp.headers["seed"] == "7"
    assert Image.open(io.BytesIO(resp.content)).size == (1536, 640)


def test_json_answers_and_sd3_models(server: Server, key: str) -> None:
    fields = {"prompt": "a fox", "model": "sd3.5-medium", "output_format": "webp"}
    resp = generate(
        server, key, "sd3", {**fields, "style_preset": "anime"}, accept="application/json"
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["finish_reason"] == "SUCCESS" and isinstance(body["seed"], int)
    img = Image.open(io.BytesIO(base64.b64decode(body["image"])))
    assert img.format == "WEBP" and img.size == (1024, 1024)


def test_image_to_image_keeps_the_input(server: Server, key: str) -> None:
    resp = generate(
        server, key, "sd3",
        {"prompt": "greener", "mode": "image-to-image", "strength": "0.5"},
        files={"image": png((20, 200, 20))},
    )  # fmt: skip
    assert resp.status_code == 200, resp.text
    img = Image.open(io.BytesIO(resp.content)).convert("RGB")
    r, g, b = np.asarray(img, np.float32).reshape(-1, 3).mean(0)
    assert g > r and g > b  # the green input shows through


@pytest.mark.parametrize(
    ("endpoint", "fields", "field", "status"),
    [
        ("ultra", {"prompt": ""}, "prompt", 400),
        ("ultra", {"prompt": "x", "aspect_ratio": "4:3"}, "aspect_ratio", 400),
        ("ultra", {"prompt": "x", "seed": "4294967295"}, "seed", 400),
        ("ultra", {"prompt": "x", "seed": "abc"}, "seed", 400),
        ("core", {"prompt": "x", "style_preset": "baroque"}, "style_preset", 400),
        ("core", {"prompt": "x", "output_format": "gif"}, "output_format", 400),
        ("sd3", {"prompt": "x", "model": "sd3-large"}, "model", 400),
        ("sd3", {"prompt": "x", "mode": "image-to-image"}, "image", 400),
        ("ultra", {"prompt": "x", "model": "sd3.5-large"}, "model", 400),
        ("xl", {"prompt": "x"}, "endpoint", 400),
        ("ultra", {"prompt": "x [sandbox:content-rejected]"}, "content", 403),
    ],
)
def test_bad_input_is_stabilitys_error(
    server: Server, key: str, endpoint: str, fields: dict[str, str], field: str, status: int
) -> None:
    resp = generate(server, key, endpoint, fields)
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["name"] in ("bad_request", "content_moderation") and body["id"]
    assert field in body["errors"][0] or (
        field == "content" and body["name"] == "content_moderation"
    )


def test_json_is_refused(server: Server, key: str) -> None:
    resp = requests.post(
        f"{server.url}/sd/v2beta/stable-image/generate/core",
        json={"prompt": "x"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 400 and "multipart" in resp.json()["errors"][0]
