"""A fake Suno-API server (the dialect new-api relays, from Suno-API's and new-api's code):
Bearer auth; ``POST /suno/submit/music|lyrics`` -> ``{"code": "success", "data": id}``;
``POST /suno/fetch {ids}`` and ``GET /suno/fetch/{id}``; statuses SUBMITTED -> IN_PROGRESS
-> SUCCESS over ``polls`` reads; two clips a song, each a real MP3 with a JPEG cover;
``[fake:fail]`` in the prompt fails the job. Also ``POST /suno/submit/concat {clip_id}`` (one
song) and ``POST /suno/uploads/audio-url {url}`` (a job whose one clip is the song), as
docs.yutoai.net api-208365078 and api-208365072 give them."""

from __future__ import annotations

import io
import secrets
from functools import cache
from typing import Any

from aiohttp import web
from PIL import Image

from mediagate.providers.sandbox.suno import song
from tests.fakes.base import FakeVendor


@cache
def sample_mp3() -> bytes:
    return song(3, "upbeat", "la la", True, 3.0)


@cache
def sample_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 200, 90)).save(buf, "JPEG")
    return buf.getvalue()


class FakeSunoApi(FakeVendor):
    name = "sunoapi"

    def __init__(self, api_key: str = "suno-key", polls: int = 2) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.jobs: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/suno/submit/{action}", self.submit)
        app.router.add_post("/suno/fetch", self.fetch_many)
        app.router.add_get("/suno/fetch/{id}", self.fetch_one)
        app.router.add_post("/suno/uploads/audio-url", self.upload)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"code": "unauthorized", "message": "bad key"}, status=401)
        return None

    async def submit(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        action = request.match_info["action"].upper()
        if action not in ("MUSIC", "LYRICS", "CONCAT"):
            return web.json_response({"code": "invalid_action", "message": action}, status=400)
        body = await request.json()
        if action == "CONCAT":  # one song: the extended clip's chain
            known = {c["id"] for job in self.jobs.values() for c in job["clips"]}
            if body.get("clip_id") not in known:
                return web.json_response({"code": "clip_not_found", "message": "no clip"})
            return self._job(action, body, 1)
        if body.get("continue_clip_id"):
            parent = self.jobs.get(body.get("task_id", ""))
            clip_ids = [c["id"] for c in parent["clips"]] if parent else []
            if body["continue_clip_id"] not in clip_ids:
                return web.json_response({"code": "clip_not_found", "message": "no clip"})
        return self._job(action, body, 2)

    def _job(self, action: str, body: dict[str, Any], songs: int) -> web.Response:
        job_id = secrets.token_hex(8)
        clips = [{"id": f"{job_id}-clip{i}", "title": body.get("title", "")} for i in range(songs)]
        self.jobs[job_id] = {"action": action, "body": body, "reads": 0, "clips": clips}
        return web.json_response({"code": "success", "message": "", "data": job_id})

    async def upload(self, request: web.Request) -> web.Response:
        """POST /suno/uploads/audio-url {url}: a job whose one clip is that song."""
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        if not str(body.get("url", "")).startswith("http"):
            return web.json_response({"code": "invalid_url", "message": "url"}, status=400)
        return self._job("MUSIC", body, 1)

    def _view(self, job_id: str) -> dict[str, Any]:
        job = self.jobs[job_id]
        job["reads"] += 1
        done = job["reads"] > self.polls
        status = "SUCCESS" if done else ("IN_PROGRESS" if job["reads"] > 1 else "SUBMITTED")
        if done and "[fake:fail]" in str(job["body"].get("prompt", "")):
            status = "FAILURE"
        data: Any
        if job["action"] == "LYRICS":
            data = {"id": job_id, "status": "complete", "title": "Fake", "text": "[Verse]\nfa la"}
        else:
            data = []
            for clip in job["clips"]:
                entry = dict(clip, status="complete" if done else "streaming")
                if status == "SUCCESS":
                    entry["audio_url"] = self.add_file(
                        f"{clip['id']}.mp3", sample_mp3(), "audio/mpeg"
                    )
                    entry["image_url"] = self.add_file(
                        f"{clip['id']}.jpg", sample_jpeg(), "image/jpeg"
                    )
                    entry["duration"] = 3.0
                data.append(entry)
        return {
            "task_id": job_id,
            "action": job["action"],
            "status": status,
            "fail_reason": "moderation: refused" if status == "FAILURE" else "",
            "progress": "100%" if done else "50%",
            "data": data,
        }

    async def fetch_many(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        ids = (await request.json()).get("ids", [])
        views = [self._view(i) for i in ids if i in self.jobs]
        return web.json_response({"code": "success", "message": "", "data": views})

    async def fetch_one(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        job_id = request.match_info["id"]
        if job_id not in self.jobs:
            return web.json_response(
                {"code": "task_not_exist", "message": "task_not_exist"}, status=400
            )
        return web.json_response({"code": "success", "message": "", "data": self._view(job_id)})
