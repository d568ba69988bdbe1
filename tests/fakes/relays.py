"""Fakes of two aggregators, from the seed documents and new-api's source:

* ``FakeGptunnel``: POST /v1/media/create, GET|POST /v1/media/result; the raw key in
  Authorization; statuses idle → running → done; an unknown model is HTTP 200 with
  ``code: 3`` (as 3P clients report); ``[fake:error]`` ends a task with status "error".
* ``FakeNewApi``: POST /v1/video/generations, GET /v1/video/generations/{id}; Bearer auth;
  the wrapped answer by default, the bare one with ``bare=True``; uppercase statuses with
  ``shouting=True``; ``[fake:error]`` fails the task.
"""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image, sample_mp4

GPTUNNEL_MODELS = {"google-imagen-3", "seedream-3", "glabs-veo-3-1-fast", "seedance-1-lite-480P-5s"}


class FakeGptunnel(FakeVendor):
    name = "gptunnel"

    def __init__(self, api_key: str = "gpt-test-key", polls: int = 2) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.tasks: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/media/create", self.create)
        app.router.add_route("*", "/v1/media/result", self.result)

    async def create(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != self.api_key:
            return web.json_response(
                {"error": {"message": "unauthorized", "type": "unauthorized_request_error"}},
                status=401,
            )
        body = await request.json()
        model = body.get("model")
        if model not in GPTUNNEL_MODELS:
            return web.json_response(
                {
                    "code": 3,
                    "message": "Invalid model",
                    "issues": [
                        {
                            "path": ["model"],
                            "expected": " | ".join(sorted(GPTUNNEL_MODELS)),
                            "message": "Invalid enum value",
                        }
                    ],
                }
            )
        task_id = secrets.token_hex(12)
        ar = body.get("ar")
        self.tasks[task_id] = {
            "model": model,
            "prompt": body.get("prompt", ""),
            "polls": 0,
            "ar": ar,
            "images": body.get("images") or [],
        }
        prompt = body.get("prompt", "") + (f" --ar {ar}" if ar else "")
        return web.json_response(
            {
                "code": 0,
                "id": task_id,
                "model": model,
                "prompt": prompt,
                "created_at": int(time.time()),
                "status": "idle",
                "url": None,
            }
        )

    async def result(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != self.api_key:
            return web.json_response({"error": {"message": "unauthorized"}}, status=401)
        task_id = request.query.get("task_id")
        if request.method == "POST" and request.body_exists:
            task_id = (await request.json()).get("task_id") or task_id
        task = self.tasks.get(task_id or "")
        if task is None:
            return web.json_response({"code": 2, "message": "task not found"}, status=404)
        task["polls"] += 1
        status, url = "running", None
        if task["polls"] >= self.polls:
            if "[fake:error]" in task["prompt"]:
                status = "error"
            else:
                status = "done"
                video = "veo" in task["model"] or "seedance" in task["model"]
                name = f"{task_id}.{'mp4' if video else 'webp'}"
                data, ctype = (
                    (sample_mp4(), "video/mp4") if video else (sample_image("WEBP"), "image/webp")
                )
                url = self.add_file(name, data, ctype)
        return web.json_response(
            {
                "code": 0,
                "id": task_id,
                "model": task["model"],
                "prompt": task["prompt"],
                "created_at": int(time.time()),
                "status": status,
                "url": url,
            }
        )


class FakeNewApi(FakeVendor):
    name = "newapi"

    def __init__(
        self, api_key: str = "sk-newapi", polls: int = 2, bare: bool = False, shouting: bool = False
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.bare = bare
        self.shouting = shouting
        self.tasks: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/video/generations", self.submit)
        app.router.add_get("/v1/video/generations/{id}", self.query)

    def _auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response(
                {"error": {"message": "invalid token", "type": "new_api_error"}}, status=401
            )
        return None

    async def submit(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        body = await request.json()
        if not body.get("model") or not body.get("prompt"):
            return web.json_response(
                {
                    "code": "invalid_request",
                    "message": "model and prompt are required",
                    "data": None,
                },
                status=400,
            )
        task_id = f"task_{next(self._seq):06d}"
        self.tasks[task_id] = {"body": body, "polls": 0}
        return web.json_response({"task_id": task_id})

    async def query(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        task_id = request.match_info["id"]
        task = self.tasks.get(task_id)
        if task is None:
            return web.json_response(
                {"code": "task_not_exist", "message": "task not found", "data": None}, status=404
            )
        task["polls"] += 1
        status, url, err = "processing", None, None
        if task["polls"] >= self.polls:
            if "[fake:error]" in task["body"]["prompt"]:
                status, err = "failed", {"code": 500, "message": "upstream generation failed"}
            else:
                status = "succeeded"
                url = self.add_file(f"{task_id}.mp4", sample_mp4(), "video/mp4")
        data = {
            "task_id": task_id,
            "status": status.upper() if self.shouting else status,
            "url": url,
            "format": "mp4",
            "metadata": None,
            "error": err,
        }
        return web.json_response(
            data if self.bare else {"code": "success", "message": "", "data": data}
        )
