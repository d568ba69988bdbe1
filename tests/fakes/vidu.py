"""A fake of Vidu's API (platform.vidu.com docs): ``Authorization: Token <key>`` (a Bearer
is refused); POST /ent/v2/{text2video|img2video|start-end2video|reference2video} answers
the task, state "created"; GET /ent/v2/tasks/{id}/creations goes queueing -> processing ->
success over ``polls`` reads; ``[fake:audit]`` in the prompt fails with AuditSubmitIllegal."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image, sample_mp4

IMAGES = {"text2video": (0, 0), "img2video": (1, 1), "start-end2video": (2, 2),
          "reference2video": (1, 7)}  # fmt: skip


class FakeVidu(FakeVendor):
    name = "vidu"

    def __init__(self, api_key: str = "vidu-key", polls: int = 2) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.tasks: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/ent/v2/{endpoint}", self.create)
        app.router.add_get("/ent/v2/tasks/{id}/creations", self.creations)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Token {self.api_key}":
            return web.json_response(
                {"code": 401, "reason": "Unauthorized", "message": "bad token"}, status=401
            )
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        endpoint = request.match_info["endpoint"]
        body = await request.json()
        low, high = IMAGES.get(endpoint, (-1, -1))
        if not low <= len(body.get("images", [])) <= high:
            return web.json_response(
                {"code": 400, "reason": "BadRequest", "message": "images"}, status=400
            )
        task_id = secrets.token_hex(8)
        self.tasks[task_id] = {"endpoint": endpoint, "body": body, "reads": 0}
        return web.json_response({"task_id": task_id, "state": "created", **body})

    async def creations(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return web.json_response(
                {"code": 404, "reason": "NotFound", "message": "no task"}, status=404
            )
        task["reads"] += 1
        out: dict[str, Any] = {"id": request.match_info["id"], "state": "queueing", "creations": []}
        if task["reads"] > 1:
            out["state"] = "processing"
        if task["reads"] > self.polls:
            if "[fake:audit]" in str(task["body"].get("prompt", "")):
                out.update(state="failed", err_code="AuditSubmitIllegal")
            else:
                name = request.match_info["id"]
                url = self.add_file(f"{name}.mp4", sample_mp4(), "video/mp4")
                cover = self.add_file(f"{name}.jpg", sample_image("JPEG"), "image/jpeg")
                out.update(
                    state="success", creations=[{"id": "c1", "url": url, "cover_url": cover}]
                )
        return web.json_response(out)
