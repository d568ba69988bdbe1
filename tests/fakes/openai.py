"""A fake OpenAI images API, from the public docs: POST /v1/images/generations (JSON) and
/v1/images/edits (multipart, ``image`` or ``image[]`` parts), answering base64 PNGs.
``[fake:rejected]`` in a prompt is a 400 moderation_blocked."""

from __future__ import annotations

import base64
import time

from aiohttp import web

from tests.fakes.base import FakeVendor, error, sample_image

SIZES = {"1024x1024", "1536x1024", "1024x1536", "auto"}


class FakeOpenAI(FakeVendor):
    name = "openai"

    def __init__(self, api_key: str = "sk-test") -> None:
        super().__init__()
        self.api_key = api_key
        self.edits: list[dict[str, object]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/images/generations", self.generations)
        app.router.add_post("/v1/images/edits", self.edit)

    def _auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return error(401, "invalid_api_key", "Incorrect API key provided")
        return None

    def _answer(self, prompt: str, n: int, size: str) -> web.Response:
        if "[fake:rejected]" in prompt:
            return error(
                400, "moderation_blocked", "Your request was rejected by the safety system"
            )
        if size not in SIZES:
            return error(400, "invalid_value", f"Invalid size {size}")
        w, h = (1024, 1024) if size == "auto" else map(int, size.split("x"))
        data = base64.b64encode(sample_image("PNG", (w // 8, h // 8))).decode()
        return web.json_response(
            {
                "created": int(time.time()),
                "data": [{"b64_json": data} for _ in range(n)],
                "output_format": "png",
                "size": size,
                "usage": {"input_tokens": 10, "output_tokens": 4160, "total_tokens": 4170},
            }
        )

    async def generations(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await request.json()
        if not body.get("prompt"):
            return error(400, "missing_required_parameter", "prompt is required")
        return self._answer(
            body["prompt"], int(body.get("n") or 1), str(body.get("size") or "auto")
        )

    async def edit(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        form = await request.post()
        files = [f for k in ("image", "image[]") for f in form.getall(k, [])]
        if not files or not all(hasattr(f, "file") for f in files):
            return error(400, "missing_required_parameter", "image is required")
        self.edits.append({"model": form.get("model"), "images": len(files)})
        return self._answer(
            str(form.get("prompt") or ""),
            int(str(form.get("n") or 1)),
            str(form.get("size") or "auto"),
        )
