"""The shared machinery of the vendor fakes: an aiohttp app on a loopback port in its own
thread (so sync SDKs, async adapters and server subprocesses can all reach it), request
recording, scripted failures, and real media files to hand out."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aiohttp import web
from PIL import Image

from mediagate.providers.sandbox.media import render_video


@dataclass
class Failure:
    """One scripted answer instead of the real one."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # e.g. malformed JSON


@cache
def sample_mp4(width: int = 480, height: int = 864, seconds: int = 1) -> bytes:
    return render_video(width, height, seconds, 24, 7, None)


@cache
def sample_image(fmt: str = "PNG", size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buf, fmt)
    return buf.getvalue()


class FakeVendor:
    """Subclasses add routes in ``routes()``; tests script them through ``fail_next``."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, json body or None)
        self.failures: deque[Failure] = deque()
        self.files: dict[str, tuple[bytes, str]] = {}
        self.download_delay_s = 0.0
        self.truncate_downloads = 0  # the next N downloads stop halfway
        self.wrong_type_downloads = 0  # the next N downloads come as text/html
        self.stall_s = 0.0  # every API answer waits this long first
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    # --- scripting -------------------------------------------------------------------------

    def fail_next(self, status: int, body: Any = None, times: int = 1, **headers: str) -> None:
        for _ in range(times):
            self.failures.append(
                Failure(status, body, {k.replace("_", "-"): v for k, v in headers.items()})
            )

    def malformed_next(self) -> None:
        self.failures.append(Failure(200, raw=b'{"id": "truncat'))

    def calls(self, method: str, prefix: str = "") -> list[Any]:
        return [body for m, path, body in self.requests if m == method and path.startswith(prefix)]

    # --- plumbing --------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = None
        if request.content_type == "application/json" and request.body_exists:
            body = await request.json()
        self.requests.append((request.method, request.path, body))
        if self.stall_s and not request.path.startswith("/files/"):
            await asyncio.sleep(self.stall_s)
        if self.failures and not request.path.startswith("/files/"):
            fail = self.failures.popleft()
            if fail.raw is not None:
                return web.Response(
                    status=fail.status, body=fail.raw, content_type="application/json"
                )
            return web.json_response(fail.body or {}, status=fail.status, headers=fail.headers)
        return await handler(request)

    async def serve_big(self, request: web.Request) -> web.StreamResponse:
        """``/big/{size}.mp4``: that many bytes, generated as sent (never held whole)."""
        size = int(request.match_info["size"])
        resp = web.StreamResponse(
            headers={"Content-Type": "video/mp4", "Content-Length": str(size)}
        )
        await resp.prepare(request)
        block = bytes(range(256)) * 1024
        sent = 0
        while sent < size:
            piece = block[: min(len(block), size - sent)]
            await resp.write(piece)
            sent += len(piece)
        return resp

    async def serve_file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in self.files:
            return web.json_response({"error": {"message": "no such file"}}, status=404)
        data, ctype = self.files[name]
        if self.wrong_type_downloads > 0:
            self.wrong_type_downloads -= 1
            return web.Response(text="<html>oops</html>", content_type="text/html")
        resp = web.StreamResponse(headers={"Content-Type": ctype, "Content-Length": str(len(data))})
        await resp.prepare(request)
        if self.truncate_downloads > 0:
            self.truncate_downloads -= 1
            await resp.write(data[: len(data) // 2])
            request.transport.close()  # type: ignore[union-attr]
            return resp
        step = 64 * 1024
        for i in range(0, len(data), step):
            await resp.write(data[i : i + step])
            if self.download_delay_s:
                await asyncio.sleep(self.download_delay_s)
        return resp

    def add_file(self, name: str, data: bytes, content_type: str) -> str:
        self.files[name] = (data, content_type)
        return f"{self.url}/files/{name}"

    def start(self) -> FakeVendor:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024**2)
            app.router.add_get("/files/{name}", self.serve_file)
            app.router.add_get("/big/{size}.mp4", self.serve_big)
            self.routes(app)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", port)
            self._loop.run_until_complete(site.start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"fake-{self.name}", daemon=True)
        self._thread.start()
        assert ready.wait(10), "fake did not start"
        return self

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        fut.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


def error(status: int, code: str, message: str) -> web.Response:
    """The openai-style error body Ark, OpenAI and others answer with."""
    return web.json_response(
        {"error": {"code": code, "message": message, "type": code}}, status=status
    )
