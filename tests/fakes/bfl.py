"""A fake of BFL's API (docs.bfl.ai): ``x-key`` auth; POST /v1/<endpoint> answers ``{id,
polling_url, cost}`` with a polling URL on a regional path (``/us1/v1/get_result``, to show
that the returned URL, not a made-up one, is polled); Pending then Ready over ``polls``
reads; ``[fake:moderated]`` ends Content Moderated; width/height must be multiples of 32
(HTTP 422, FastAPI's detail list)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image

ENDPOINTS = {"flux-2-pro", "flux-2-flex", "flux-2-max", "flux-pro-1.1", "flux-pro-1.1-ultra",
             "flux-kontext-pro"}  # fmt: skip


class FakeBfl(FakeVendor):
    name = "bfl"

    def __init__(self, api_key: str = "bfl-key", polls: int = 2) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.jobs: dict[str, dict[str, Any]] = {}
        self.polling_url: str | None = None  # set to hand out another host's URL

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/{endpoint}", self.create)
        app.router.add_get("/us1/v1/get_result", self.result)

    async def create(self, request: web.Request) -> web.Response:
        if request.headers.get("x-key") != self.api_key:
            return web.json_response({"detail": "Not authenticated"}, status=403)
        if request.match_info["endpoint"] not in ENDPOINTS:
            return web.json_response({"detail": "Not Found"}, status=404)
        body = await request.json()
        for side in ("width", "height"):
            if side in body and body[side] % 32:
                detail = [
                    {
                        "loc": ["body", side],
                        "msg": "must be a multiple of 32",
                        "type": "value_error",
                    }
                ]
                return web.json_response({"detail": detail}, status=422)
        job = str(uuid.uuid4())
        self.jobs[job] = {"body": body, "reads": 0, "endpoint": request.match_info["endpoint"]}
        polling = self.polling_url or f"{self.url}/us1/v1/get_result?id={job}"
        return web.json_response({"id": job, "polling_url": polling, "cost": 3.0})

    async def result(self, request: web.Request) -> web.Response:
        if request.headers.get("x-key") != self.api_key:
            return web.json_response({"detail": "Not authenticated"}, status=403)
        job_id = request.query.get("id", "")
        job = self.jobs.get(job_id)
        if job is None:
            return web.json_response({"id": job_id, "status": "Task not found"})
        job["reads"] += 1
        if job["reads"] <= self.polls:
            return web.json_response(
                {"id": job_id, "status": "Pending", "result": None, "progress": 0.4}
            )
        if "[fake:moderated]" in job["body"].get("prompt", ""):
            return web.json_response({"id": job_id, "status": "Content Moderated", "result": None})
        sample = self.add_file(f"{job_id}.jpg", sample_image("JPEG"), "image/jpeg")
        result = {
            "sample": sample,
            "seed": job["body"].get("seed", 1),
            "prompt": job["body"]["prompt"],
        }
        return web.json_response(
            {"id": job_id, "status": "Ready", "result": result, "progress": 1.0}
        )
