"""Sandbox features through the API: magic prompts, image inputs that shape the output."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import requests
from PIL import Image

from tests.helpers import Server, wait_done
from tests.media import first_frame_rgb_mean, probe


def create(server: Server, key: str, **body: object) -> dict[str, object]:
    resp = requests.post(
        server.url + "/v1/media/create", json=body, headers={"Authorization": key}, timeout=10
    )
    assert resp.status_code == 200, resp.text
    result: dict[str, object] = resp.json()
    return result


def png(color: tuple[int, int, int], size: tuple[int, int] = (300, 200)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    """A local HTTP server with a red PNG, a text file and a redirect."""
    red = png((220, 20, 20))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/red.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(red)))
                self.end_headers()
                self.wfile.write(red)
            elif self.path == "/hop":
                self.send_response(302)
                self.send_header("Location", "/red.png")
                self.end_headers()
            elif self.path == "/text":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"hello")
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize(
    ("token", "code", "words"),
    [
        ("[sandbox:content-rejected]", "content_rejected", "content policy"),
        ("[sandbox:upstream-error]", "upstream_error", "internal error"),
        ("[sandbox:timeout]", "timeout", "did not finish"),
    ],
)
def test_magic_prompts_fail_on_purpose(
    server: Server, key: str, token: str, code: str, words: str
) -> None:
    task = create(server, key, model="seedream-3", prompt=f"a cat {token}")
    done = wait_done(server.url, key, str(task["id"]), timeout=120)
    assert done["status"] == "failed"
    assert done["url"] is None
    assert done["error_code"] == code
    assert words in str(done["error"])


@pytest.mark.parametrize("model", ["seedance-1-lite-480P-5s", "glabs-veo-3-1-fast"])
def test_first_frame_comes_from_the_input_image(
    server: Server, key: str, image_host: str, model: str
) -> None:
    task = create(server, key, model=model, prompt="starts red", images=[image_host + "/hop"])
    done = wait_done(server.url, key, str(task["id"]))
    assert done["status"] == "done", done
    r, g, b = first_frame_rgb_mean(requests.get(str(done["url"]), timeout=30).content)
    assert r > 180 and g < 60 and b < 60, (r, g, b)


def test_seedream_edit_keeps_the_input_and_its_aspect_ratio(server: Server, key: str) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(png((20, 20, 220), (900, 1200))).decode()
    task = create(
        server, key, model="seedream-3", prompt="make it blue", ar="16:9", images=[data_url]
    )
    done = wait_done(server.url, key, str(task["id"]))
    content = requests.get(str(done["url"]), timeout=10).content
    info = probe(content)
    assert (info.width, info.height) == (864, 1152)  # 3:4 from the input; ar is ignored
    r, g, b = np.asarray(Image.open(io.BytesIO(content)).convert("RGB")).mean(axis=(0, 1))
    assert b > r and b > g


def test_a_previous_result_can_be_the_next_input(server: Server, key: str) -> None:
    first = wait_done(
        server.url, key, str(create(server, key, model="seedream-3", prompt="a")["id"])
    )
    task = create(
        server,
        key,
        model="seedance-1-lite-480P-5s",
        prompt="animate it",
        images=[str(first["url"])],
    )
    assert wait_done(server.url, key, str(task["id"]))["status"] == "done"


@pytest.mark.parametrize(("path", "words"), [("/text", "not an image"), ("/missing", "HTTP 404")])
def test_bad_input_url_fails_the_task_with_the_reason(
    server: Server, key: str, image_host: str, path: str, words: str
) -> None:
    task = create(server, key, model="seedream-3", prompt="x", images=[image_host + path])
    done = wait_done(server.url, key, str(task["id"]))
    assert done["status"] == "failed"
    assert done["error_code"] == "invalid_input"
    assert "images[0]" in str(done["error"]) and words in str(done["error"])
