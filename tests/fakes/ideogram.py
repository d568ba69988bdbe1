"""A fake of Ideogram's API (developer.ideogram.ai): ``Api-Key`` auth; the legacy POST
/generate (JSON ``image_request``), /remix, /upscale and /describe (multipart with
``image_request`` as JSON and ``image_file``), and V3 /v1/ideogram-v3/{generate,edit,remix,
reframe} (multipart fields). Synchronous: ``{created, data: [{url, ...}]}``; a prompt with
``[fake:unsafe]`` is HTTP 422, Ideogram's safety-check failure."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image


class FakeIdeogram(FakeVendor):
    name = "ideogram"

    def __init__(self, api_key: str = "ideo-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.seen: list[dict[str, Any]] = []
        self.count = 0

    def routes(self, app: web.Application) -> None:
        for path in ("/generate", "/remix", "/upscale", "/describe"):
            app.router.add_post(path, self.legacy)
        app.router.add_post("/v1/ideogram-v3/{action}", self.v3)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Api-Key") != self.api_key:
            return web.json_response({"detail": "Invalid API key"}, status=401)
        return None

    def _answer(self, prompt: str, n: int) -> web.Response:
        if "[fake:unsafe]" in prompt:
            return web.json_response({"detail": "Prompt failed the safety check."}, status=422)
        data = []
        for _ in range(n):
            self.count += 1
            url = self.add_file(f"i{self.count}.png", sample_image(), "image/png")
            data.append(
                {
                    "url": url,
                    "prompt": prompt,
                    "resolution": "64x64",
                    "is_image_safe": True,
                    "seed": 1,
                }
            )
        return web.json_response({"created": "2026-12-01T00:00:00Z", "data": data})

    async def legacy(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        path = request.path
        if path == "/generate":
            ask = (await request.json())["image_request"]
            self.seen.append({"path": path, **ask})
            return self._answer(str(ask.get("prompt", "")), int(ask.get("num_images", 1)))
        form = await request.post()
        if "image_file" not in form:
            return web.json_response({"detail": "image_file is required"}, status=400)
        ask = json.loads(str(form.get("image_request") or "{}"))
        self.seen.append({"path": path, "file": True, **ask})
        if path == "/describe":
            return web.json_response({"descriptions": [{"text": "a small orange square"}]})
        return self._answer(str(ask.get("prompt", "")), int(ask.get("num_images", 1)))

    async def v3(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        form = await request.post()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        files = sorted(k for k, v in form.items() if not isinstance(v, str))
        self.seen.append({"path": request.path, "files": files, **fields})
        action = request.match_info["action"]
        if action != "generate" and "image" not in files:
            return web.json_response({"detail": "image is required"}, status=400)
        return self._answer(fields.get("prompt", ""), int(fields.get("num_images", 1)))
