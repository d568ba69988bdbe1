"""A fake of Luma's Dream Machine API (docs.lumalabs.ai): Bearer key; POST
/generations/video and /generations/image answer a queued generation; GET
/generations/{id} moves queued -> dreaming -> completed over ``polls`` reads with
``assets``; DELETE removes it. ``[fake:moderated]`` in the prompt fails with a moderation
reason, and keyframe URLs must be http(s)."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image, sample_mp4


class FakeLuma(FakeVendor):
    name = "luma"

    def __init__(self, api_key: str = "luma-key", polls: int = 2) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.gens: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/generations/video", self.create)
        app.router.add_post("/generations", self.create)
        app.router.add_post("/generations/image", self.create)
        app.router.add_get("/generations/{id}", self.get)
        app.router.add_delete("/generations/{id}", self.delete)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"detail": "Invalid API key"}, status=401)
        return None

    def _view(self, gen_id: str) -> dict[str, Any]:
        gen = self.gens[gen_id]
        state = "queued" if gen["reads"] == 0 else "dreaming"
        assets = None
        if gen["reads"] > self.polls:
            state = "completed"
            if "[fake:moderated]" in str(gen["body"].get("prompt", "")):
                state = "failed"
            elif gen["kind"] == "image":
                assets = {
                    "image": self.add_file(f"{gen_id}.jpg", sample_image("JPEG"), "image/jpeg")
                }
            else:
                assets = {"video": self.add_file(f"{gen_id}.mp4", sample_mp4(), "video/mp4")}
        return {
            "id": gen_id,
            "generation_type": gen["kind"],
            "state": state,
            "failure_reason": "400: failed advanced moderation" if state == "failed" else None,
            "created_at": gen["at"],
            "assets": assets,
            "model": gen["body"].get("model"),
            "request": {"generation_type": gen["kind"], **gen["body"]},
        }

    async def create(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        kind = "image" if request.path.endswith("/image") else "video"
        for frame in (body.get("keyframes") or {}).values():
            if frame.get("type") == "image" and not str(frame.get("url", "")).startswith("http"):
                return web.json_response({"detail": "keyframe url must be http(s)"}, status=400)
        gen_id = str(uuid.uuid4())
        now = datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")
        self.gens[gen_id] = {"kind": kind, "body": body, "reads": 0, "at": now}
        return web.json_response(self._view(gen_id), status=201)

    async def get(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        gen_id = request.match_info["id"]
        if gen_id not in self.gens:
            return web.json_response({"detail": "Generation not found"}, status=404)
        self.gens[gen_id]["reads"] += 1
        return web.json_response(self._view(gen_id))

    async def delete(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if self.gens.pop(request.match_info["id"], None) is None:
            return web.json_response({"detail": "Generation not found"}, status=404)
        return web.Response(status=204)
