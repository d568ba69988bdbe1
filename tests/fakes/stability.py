"""A fake of Stability's Stable Image API (platform.stability.ai/docs/api-reference):
Bearer key; POST /v2beta/stable-image/generate/{ultra,core,sd3}, multipart only;
``accept: application/json`` answers ``{image, finish_reason, seed}``, else the bytes with
``finish-reason`` and ``seed`` headers. ``[fake:filtered]`` answers CONTENT_FILTERED;
``[fake:moderated]`` a 403 named content_moderation; 400 ``{id, name, errors}``."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image

RATIOS = {"16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21"}


def serror(status: int, name: str, message: str) -> web.Response:
    return web.json_response({"id": "e1", "name": name, "errors": [message]}, status=status)


class FakeStability(FakeVendor):
    name = "stability"

    def __init__(self, api_key: str = "sk-stab") -> None:
        super().__init__()
        self.api_key = api_key
        self.forms: list[dict[str, Any]] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2beta/stable-image/generate/{endpoint}", self.generate)

    async def generate(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return serror(401, "unauthorized", "missing or invalid API key")
        if not request.content_type.startswith("multipart/"):
            return serror(400, "bad_request", "content-type: must be multipart/form-data")
        form = await request.post()
        fields = {
            k: (v if isinstance(v, str) else f"<file {len(v.file.read())} bytes>")
            for k, v in form.items()
        }
        fields["endpoint"] = request.match_info["endpoint"]
        self.forms.append(fields)
        prompt = str(form.get("prompt", ""))
        if not prompt:
            return serror(400, "bad_request", "prompt: cannot be empty")
        if form.get("aspect_ratio", "1:1") not in RATIOS:
            return serror(
                400, "bad_request", "aspect_ratio: must be one of " + ", ".join(sorted(RATIOS))
            )
        if "[fake:moderated]" in prompt:
            return serror(
                403,
                "content_moderation",
                "Your request was flagged by our content moderation system",
            )
        reason = "CONTENT_FILTERED" if "[fake:filtered]" in prompt else "SUCCESS"
        data = sample_image("PNG")
        if "application/json" in request.headers.get("accept", ""):
            return web.json_response(
                {"image": base64.b64encode(data).decode(), "finish_reason": reason, "seed": 123}
            )
        return web.Response(
            body=data, content_type="image/png", headers={"finish-reason": reason, "seed": "123"}
        )
