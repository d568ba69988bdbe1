"""One tenant's slow inputs never stall another tenant: input images download in a pool of
their own, outside the provider's step slots, with a per-key share and a minimum rate."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.helpers import Server, free_port, wait_done


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


class ImageHost:
    """Serves /fast.png at once and /drip.png one byte a second; counts open drips."""

    def __init__(self) -> None:
        self.dripping = 0
        self.peak = 0
        self.stop = threading.Event()
        owner = self
        body = png()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.path.startswith("/fast"):
                    self.wfile.write(body)
                    return
                owner.dripping += 1
                owner.peak = max(owner.peak, owner.dripping)
                try:
                    for byte in body:
                        if owner.stop.wait(1.0):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except OSError:
                    pass
                finally:
                    owner.dripping -= 1

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}.png"


@pytest.fixture
def host() -> Iterator[ImageHost]:
    h = ImageHost()
    yield h
    h.stop.set()
    h.http.shutdown()


def create(srv: Server, key: str, **body: Any) -> str:
    resp = requests.post(
        srv.url + "/v1/media/create", headers={"Authorization": key}, json=body, timeout=10
    )
    resp.raise_for_status()
    return str(resp.json()["id"])


def test_dripping_inputs_of_one_key_do_not_stall_another(tmp_path: Path, host: ImageHost) -> None:
    # Eight sandbox slots: before, 16 dripping downloads held every one of them for 30 s.
    srv = Server(tmp_path, latency=0.1, MEDIAGATE_PROVIDER_CONCURRENCY='{"sandbox": 8}').start()
    try:
        abuser, victim = srv.key(), srv.key()
        drips = [
            create(srv, abuser, model="seedream-3", prompt=f"d{i}", images=[host.url("drip")])
            for i in range(16)
        ]
        time.sleep(1.0)  # the drips have started
        started = time.monotonic()
        plain = create(srv, victim, model="google-imagen-3", prompt="plain")
        edited = create(srv, victim, model="seedream-3", prompt="e", images=[host.url("fast")])
        assert wait_done(srv.url, victim, plain)["status"] == "done"
        assert wait_done(srv.url, victim, edited)["status"] == "done"
        took = time.monotonic() - started
        print(f"\nanother key's two tasks, beside 16 dripping inputs: {took:.2f} s")
        assert took < 5, f"the other key's tasks took {took:.1f} s"
        assert host.peak <= 4  # one key never has more than its share downloading
        # The drips fail on their own, well before the 30 s total timeout, saying why.
        failed = wait_done(srv.url, abuser, drips[0], timeout=20)
        print(f"a dripping input failed its task after {time.monotonic() - started + 1:.1f} s")
        assert failed["status"] == "failed"
        assert "minimum" in str(failed), failed
    finally:
        srv.stop()
