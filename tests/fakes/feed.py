"""A fake aggregator that speaks the generate/feed formats (api/feed.py's docstring has the
sources): Runway v1 and PixVerse at /{runway|pixverse}/v1/pro/generate and .../feed?task_id=
(``{code, msg, data}``; states pending, running, succeeded, error; status "0".."3"), Pika at
/pika/generate and /pika/feed/{id}, and Luma in GoAmzAI's format at /luma/generations (and
/vip/luma/generations) and GET /luma/generations/{id}. Bearer key. A task is done after
``polls`` reads of it, with a real MP4 from /files/; ``bodies`` keeps each generate body."""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_mp4


class FakeFeed(FakeVendor):
    name = "feed"

    def __init__(self, api_key: str = "sk-feed", polls: int = 1) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.tasks: dict[str, dict[str, Any]] = {}
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self._seq = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        for family in ("runway", "pixverse"):
            app.router.add_post(f"/{family}/v1/pro/generate", self.pro_generate)
            app.router.add_get(f"/{family}/v1/pro/feed", self.pro_feed)
        app.router.add_post("/pika/generate", self.pika_generate)
        app.router.add_get("/pika/feed/{id}", self.pika_feed)
        app.router.add_post("/luma/generations", self.luma_generate)
        app.router.add_post("/vip/luma/generations", self.luma_generate)
        app.router.add_get("/luma/generations/{id}", self.luma_get)
        app.router.add_get("/files/{name}", self.serve_file)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"code": 401, "msg": "invalid key", "data": None}, status=401)
        return None

    def _new(self, kind: str, body: dict[str, Any], path: str) -> str:
        task_id = f"{kind}-{next(self._seq)}"
        self.bodies.append((path, body))
        self.tasks[task_id] = {"reads": 0}
        return task_id

    def _read(self, task_id: str) -> tuple[bool, str]:
        """(done, video link) for a task, one read more."""
        task = self.tasks[task_id]
        task["reads"] += 1
        done = task["reads"] > self.polls
        return done, self.add_file(f"{task_id}.mp4", sample_mp4(), "video/mp4") if done else ""

    async def pro_generate(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        if not body.get("prompt") and not body.get("image"):
            return web.json_response({"code": 400, "msg": "prompt is required", "data": None})
        family = request.path.split("/")[1]
        task_id = self._new(family, body, request.path)
        return web.json_response({"code": 200, "msg": "成功", "data": {"task_id": task_id},
                                  "exec_time": 0.01})  # fmt: skip

    async def pro_feed(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task_id = request.query.get("task_id", "")
        if task_id not in self.tasks:
            return web.json_response({"code": 404, "msg": "task not found", "data": None})
        done, url = self._read(task_id)
        data = {"task_id": task_id, "state": "succeeded" if done else "running",
                "status": "3" if done else "1", "video_url": url or None}  # fmt: skip
        return web.json_response({"code": 200, "msg": "成功", "data": data, "exec_time": 0.01})

    async def pika_generate(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        return web.json_response({"id": self._new("pika", body, request.path)})

    async def pika_feed(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task_id = request.match_info["id"]
        if task_id not in self.tasks:
            return web.json_response({"error": "not found"}, status=404)
        done, url = self._read(task_id)
        video = {"id": task_id, "status": "finished" if done else "pending",
                 "resultUrl": url or None, "progress": 100 if done else 40}  # fmt: skip
        return web.json_response({"id": task_id, "videos": [video]})

    async def luma_generate(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        task_id = self._new("luma", body, request.path)
        return web.json_response({"id": task_id, "state": "pending", "prompt":
                                  body.get("user_prompt"), "video": None}, status=201)  # fmt: skip

    async def luma_get(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        task_id = request.match_info["id"]
        if task_id not in self.tasks:
            return web.json_response({"detail": "not found"}, status=404)
        done, url = self._read(task_id)
        video = {"url": url, "download_url": url} if done else None
        return web.json_response({"id": task_id, "state": "completed" if done else "processing",
                                  "video": video})  # fmt: skip
