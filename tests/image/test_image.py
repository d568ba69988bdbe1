"""The container image, built and run (``make test-image``; slow, so a tier of its own).

No image registry is reached: the base is a Debian root made here with debootstrap (from
Debian's package mirror, which these machines reach) and imported with podman; the project's
Containerfile is built unchanged on it (``podman build --from``), then run. The machine's
CA bundle goes into that base, so that its builds reach PyPI through the machine's proxy.

Podman here runs as root without systemd and on hybrid cgroups: ``runc`` with the cgroupfs
manager, rlimits lowered to what the sandbox allows, and the host's network (the container
serves on a free port). The test fails if the image does not build, is over its size, runs as
root, does not answer, or makes no file."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
import requests
from PIL import Image, ImageDraw, ImageFont

from tests.helpers import free_port
from tests.image.containers import IMAGE, build, podman, remove, start, wait_ready
from tests.media import probe

pytestmark = pytest.mark.timeout(1500)


# The default image, and the one built with TOOLS=1 (OpenCV, Tesseract, a Chinese font): each
# with its size bound. Issue 25 asks for under 400 MB; measured 392 MB and 765 MB (Tesseract
# with its data is 95 MB of the difference): see docs/deploy.md for what is in them.
VARIANTS = {"slim": ([], 400_000_000), "tools": (["--build-arg", "TOOLS=1"], 800_000_000)}


@pytest.fixture(scope="module", params=list(VARIANTS))
def image(request: pytest.FixtureRequest) -> tuple[str, str]:
    variant = request.param
    return variant, build(f"{IMAGE}-{variant}", *VARIANTS[variant][0])


class Running(NamedTuple):
    variant: str
    name: str
    url: str


@pytest.fixture(scope="module")
def container(image: tuple[str, str]) -> Iterator[Running]:
    port = free_port()
    name = f"mediagate-test-{port}"
    start(name, image[1], {"MEDIAGATE_PORT": str(port), "MEDIAGATE_SANDBOX_LATENCY_S": "0.2"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, name)
        yield Running(image[0], name, url)
    finally:
        remove(name)


def test_the_image_is_small_and_runs_as_its_own_user(image: tuple[str, str]) -> None:
    found = json.loads(podman("image", "inspect", image[1]))[0]
    config = found["Config"]
    assert found["Size"] < VARIANTS[image[0]][1], found["Size"]
    assert config["User"] == "mediagate" and config["Cmd"] == ["mediagate", "serve"]
    assert "/data" in config["Volumes"]
    health = " ".join((found.get("Healthcheck") or config["Healthcheck"])["Test"])
    assert "/livez" in health


def finish(running: Running, key: str, body: dict[str, object]) -> dict[str, Any]:
    """A task made in the container, polled until it ends."""
    auth = {"Authorization": key}
    made = requests.post(running.url + "/v1/media/create", json=body, headers=auth, timeout=10)
    assert made.status_code == 200, made.text
    deadline = time.monotonic() + 120
    while True:
        got: dict[str, Any] = requests.get(
            running.url + "/v1/media/result",
            headers=auth,
            timeout=10,
            params={"task_id": made.json()["id"]},
        ).json()
        if got["status"] in ("done", "failed"):
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.3)


def text_page() -> str:
    img = Image.new("RGB", (900, 200), "white")
    draw = ImageDraw.Draw(img)
    draw.text((30, 60), "Made in the container 42", fill="black", font=ImageFont.load_default(48))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_a_task_runs_to_its_file_in_the_container(container: Running) -> None:
    name = container.name
    key = podman("exec", name, "mediagate", "keys", "create", "--test").strip().splitlines()[-1]
    assert key.startswith("mg_test_")
    assert podman("exec", name, "id", "-u").strip() == "10001"
    assert podman("healthcheck", "run", name).strip() in ("", "healthy")  # the HEALTHCHECK
    for model, kind in (("seedream-3", "webp"), ("seedance-1-lite-480P-5s", "mp4")):
        got = finish(container, key, {"model": model, "prompt": "a lighthouse"})
        assert got["status"] == "done", got
        data = requests.get(got["url"], timeout=30).content
        assert probe(data).format == kind  # PyAV, NumPy and Pillow work in the image
    deck = finish(container, key, {"model": "ppt", "prompt": "Lighthouses of Brittany"})
    assert deck["status"] == "done", deck  # python-pptx, and the outline from the chat relay
    assert requests.get(deck["url"], timeout=30).content[:2] == b"PK"
    art = {"model": "art-qr", "prompt": "https://example.com/in-the-image"}
    got = finish(container, key, art)
    if container.variant == "slim":  # no OpenCV: a clear reason, not a crash
        assert got["status"] == "failed" and "needs OpenCV" in str(got), got
        return
    assert got["status"] == "done", got
    from mediagate.providers.sandbox.local.art import decode_qr  # OpenCV and segno in there

    assert decode_qr(requests.get(got["url"], timeout=30).content) == art["prompt"]
    read = finish(container, key, {"model": "image-ocr", "images": [text_page()]})
    assert read["status"] == "done", read  # Tesseract in the image
    assert json.loads(requests.get(read["url"], timeout=30).content)["text"].strip() == (
        "Made in the container 42"
    )
