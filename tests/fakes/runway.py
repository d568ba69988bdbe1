"""A fake of Runway's API (docs.dev.runwayml.com): Bearer key and a required
``X-Runway-Version``; POST /v1/image_to_video, /v1/text_to_video, /v1/text_to_image answer
``{id}``; GET /v1/tasks/{id} goes PENDING -> RUNNING (progress) -> SUCCEEDED over ``polls``
reads, with the fields the official SDK's models require (estimatedCost, cost); DELETE
cancels. ``[fake:unsafe]`` in promptText fails with failureCode SAFETY.INPUT.TEXT."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image, sample_mp4

RATIOS = {"1280:720", "720:1280", "1104:832", "832:1104", "960:960", "1584:672"}


class FakeRunway(FakeVendor):
    name = "runway"

    def __init__(self, api_key: str = "rw-key", polls: int = 2) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.tasks: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        for kind in ("image_to_video", "text_to_video", "text_to_image"):
            app.router.add_post(f"/v1/{kind}", self.create)
        app.router.add_get("/v1/tasks/{id}", self.retrieve)
        app.router.add_delete("/v1/tasks/{id}", self.delete)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": "Invalid API key"}, status=401)
        if not request.headers.get("X-Runway-Version"):
            return web.json_response({"error": "X-Runway-Version header is required"}, status=400)
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        kind = request.path.rsplit("/", 1)[1]
        if kind != "text_to_image" and body.get("ratio") not in RATIOS:
            return web.json_response(
                {"error": "Validation of body failed", "issues": [{"path": ["ratio"]}]}, status=400
            )
        if kind == "image_to_video" and not body.get("promptImage"):
            return web.json_response({"error": "promptImage is required"}, status=400)
        task_id = str(uuid.uuid4())
        self.tasks[task_id] = {"kind": kind, "body": body, "reads": 0, "status": "PENDING"}
        return web.json_response({"id": task_id})

    async def retrieve(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return web.json_response({"error": "Task not found"}, status=404)
        task["reads"] += 1
        out: dict[str, Any] = {
            "id": request.match_info["id"],
            "createdAt": datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z"),
        }
        if task["status"] == "CANCELLED":
            out.update(status="CANCELLED", cost={"credits": 0})
        elif task["reads"] <= self.polls:
            running = task["reads"] > 1
            out.update(status="RUNNING" if running else "PENDING", estimatedCost={"credits": 25})
            if running:
                out["progress"] = 0.5
        elif "[fake:unsafe]" in str(task["body"].get("promptText", "")):
            out.update(
                status="FAILED",
                failure="Your prompt was flagged",
                failureCode="SAFETY.INPUT.TEXT",
                cost={"credits": 0},
            )
        else:
            name = request.match_info["id"]
            if task["kind"] == "text_to_image":
                url = self.add_file(f"{name}.png", sample_image("PNG", (1360, 768)), "image/png")
            else:
                url = self.add_file(f"{name}.mp4", sample_mp4(1280, 720, 1), "video/mp4")
            out.update(status="SUCCEEDED", output=[url], cost={"credits": 25})
        return web.json_response(out)

    async def delete(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return web.json_response({"error": "Task not found"}, status=404)
        task["status"] = "CANCELLED"
        return web.Response(status=204)
