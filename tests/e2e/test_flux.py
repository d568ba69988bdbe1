"""BFL's FLUX API at /flux/v1 on the sandbox: x-key or Bearer, {id, polling_url}, BFL's
result shape, sizes and ratios per endpoint, input images, FastAPI-style errors."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import pytest
import requests
from PIL import Image

from tests.helpers import Server


def submit(server: Server, key: str, endpoint: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{server.url}/flux/v1/{endpoint}", json=body, headers={"x-key": key}, timeout=10
    )


def ready(polling_url: str, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        got: dict[str, Any] = requests.get(polling_url, headers={"x-key": key}, timeout=10).json()
        if got["status"] != "Pending":
            return got
        assert time.monotonic() < deadline
        time.sleep(0.1)


def image(result: dict[str, Any]) -> Image.Image:
    return Image.open(io.BytesIO(requests.get(result["result"]["sample"], timeout=10).content))


def test_flux_2_pro_at_an_exact_size(server: Server, key: str) -> None:
    made = submit(server, key, "flux-2-pro", {
        "prompt": "a glass apple", "width": 1024, "height": 768, "seed": 42, "output_format": "png",
    })  # fmt: skip
    assert made.status_code == 200, made.text
    body = made.json()
    assert set(body) == {"id", "polling_url"} and "get_result?id=" in body["polling_url"]
    got = ready(body["polling_url"], key)
    assert got["status"] == "Ready" and got["result"]["seed"] == 42
    img = image(got)
    assert img.size == (1024, 768) and img.format == "PNG"


def test_ultra_by_ratio_and_kontext_with_an_input(server: Server, key: str) -> None:
    got = ready(
        submit(
            server, key, "flux-pro-1.1-ultra", {"prompt": "a dune", "aspect_ratio": "21:9"}
        ).json()["polling_url"],
        key,
    )
    assert image(got).size == (3136, 1344) and image(got).format == "JPEG"
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (20, 200, 20)).save(buf, "PNG")
    edit = {"prompt": "make it red", "input_image": base64.b64encode(buf.getvalue()).decode()}
    got = ready(submit(server, key, "flux-kontext-pro", edit).json()["polling_url"], key)
    assert got["status"] == "Ready"
    bearer = requests.get(
        f"{server.url}/flux/v1/get_result", params={"id": got["id"]},
        headers={"Authorization": f"Bearer {key}"}, timeout=10,
    ).json()  # fmt: skip
    assert bearer["status"] == "Ready"


def test_unknown_and_moderated(server: Server, key: str) -> None:
    missing = requests.get(
        f"{server.url}/flux/v1/get_result",
        params={"id": "0" * 24},
        headers={"x-key": key},
        timeout=10,
    ).json()
    assert missing["status"] == "Task not found"
    flagged = ready(
        submit(server, key, "flux-2-pro", {"prompt": "x [sandbox:content-rejected]"}).json()[
            "polling_url"
        ],
        key,
    )
    assert flagged["status"] == "Content Moderated" and flagged["result"] is None
    nope = submit(server, key, "flux-9", {"prompt": "x"})
    assert nope.status_code == 404 and "flux-2-pro" in nope.json()["detail"]
    assert submit(server, "bad", "flux-2-pro", {"prompt": "x"}).status_code == 401


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("flux-2-pro", {"prompt": "x", "width": 1000, "height": 768}, "width"),
        ("flux-2-pro", {"prompt": "x", "width": 2048, "height": 768}, "width"),
        ("flux-2-pro", {"prompt": "x", "width": 1024, "height": 100}, "height"),
        ("flux-2-pro", {"prompt": "x", "safety_tolerance": 6}, "safety_tolerance"),
        ("flux-pro-1.1", {"prompt": "x", "safety_tolerance": 7}, "safety_tolerance"),
        ("flux-2-pro", {"prompt": "x", "output_format": "gif"}, "output_format"),
        ("flux-pro-1.1-ultra", {"prompt": "x", "width": 1024, "height": 1024}, "width"),
        ("flux-pro-1.1-ultra", {"prompt": "x", "aspect_ratio": "5:1"}, "aspect_ratio"),
        ("flux-2-pro", {"prompt": ""}, "prompt"),
        ("flux-2-pro", {"prompt": "x", "seed": "x"}, "seed"),
        ("flux-2-flex", {"prompt": "x", "steps": 99}, "steps"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    server: Server, key: str, endpoint: str, body: dict[str, Any], field: str
) -> None:
    resp = submit(server, key, endpoint, body)
    assert resp.status_code in (400, 422), resp.text
    detail = resp.json()["detail"]
    text = detail if isinstance(detail, str) else str(detail[0]["loc"]) + detail[0]["msg"]
    assert field in text, detail
