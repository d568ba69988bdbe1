"""A fake of Viggle's own API, from docs.viggle.ai: Bearer key; POST /api/render (multipart:
``ref_image`` and ``driving_video``, or ``ref_image`` and a ``scene_id``) answers
``{job_id}``; POST /api/scenes/import ``{template_id}`` answers ``{scene_id}``; GET
/api/render/{job_id} answers ``{status: processing|complete, cdn_url}`` (complete after
``polls`` reads, with a real MP4). ``renders`` keeps what each render was given."""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_mp4


class FakeViggle(FakeVendor):
    name = "viggle"

    def __init__(self, api_key: str = "vg-key", polls: int = 1) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.jobs: dict[str, int] = {}
        self.renders: list[dict[str, Any]] = []
        self._seq = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/render", self.render)
        app.router.add_get("/api/render/{id}", self.job)
        app.router.add_post("/api/scenes/import", self.scene)
        app.router.add_get("/files/{name}", self.serve_file)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"error": "invalid api key"}, status=401)
        return None

    async def render(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        form = await request.post()
        image = form.get("ref_image")
        if not isinstance(image, web.FileField):
            return web.json_response({"error": "ref_image is required"}, status=422)
        video = form.get("driving_video")
        if not isinstance(video, web.FileField) and not form.get("scene_id"):
            return web.json_response({"error": "driving_video or scene_id"}, status=422)
        self.renders.append({
            "ref_image": len(image.file.read()),
            "driving_video": len(video.file.read()) if isinstance(video, web.FileField) else 0,
            "scene_id": form.get("scene_id"), "mode": form.get("mode"),
        })  # fmt: skip
        job_id = f"job-{next(self._seq)}"
        self.jobs[job_id] = 0
        return web.json_response({"job_id": job_id, "status": "queued"})

    async def job(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        job_id = request.match_info["id"]
        if job_id not in self.jobs:
            return web.json_response({"error": "not found"}, status=404)
        self.jobs[job_id] += 1
        if self.jobs[job_id] <= self.polls:
            return web.json_response({"job_id": job_id, "status": "processing", "progress": 50})
        url = self.add_file(f"{job_id}.mp4", sample_mp4(), "video/mp4")
        return web.json_response({"job_id": job_id, "status": "complete", "cdn_url": url})

    async def scene(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        return web.json_response({"scene_id": f"scene-{body.get('template_id')}"})
