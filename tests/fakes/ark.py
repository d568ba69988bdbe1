"""A fake BytePlus ModelArk / Volcengine Ark, from the public API docs: Seedance content
generation tasks (create, get, delete) and Seedream image generation. Bearer auth; the SDK
sends explicit nulls, which count as absent.

Prompt tokens script a task: ``[fake:rejected]`` fails it with
OutputVideoSensitiveContentDetected, ``[fake:input-rejected]`` is a 400 at create,
``[fake:internal]`` fails it with an internal error. ``polls`` is how many GETs a task
stays queued/running; with ``hold_s`` a task instead runs that many seconds from its
create. Every poll's time is kept per task (``polled_at``), for benchmarks. The task list
(``filter.task_ids``) answers many polls in one call."""

from __future__ import annotations

import base64
import itertools
import re
import time
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, error, sample_image, sample_mp4

KNOWN_MODELS = re.compile(r"^(doubao-)?(seedance|seedream|seededit)-[0-9a-z.-]+$|^ep-")
COMMAND = re.compile(r"--(\w+)\s+(\S+)")


class FakeArk(FakeVendor):
    name = "ark"

    def __init__(
        self, api_key: str = "ark-test-key", polls: int = 2, hold_s: float | None = None
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.hold_s = hold_s
        self.release_at: float | None = None  # with hold_s: no task finishes before this
        self.polled_at: dict[str, list[float]] = {}
        self.list_calls = 0
        self.tasks: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(1)
        self.video = sample_mp4()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v3/contents/generations/tasks", self.create_task)
        app.router.add_get("/api/v3/contents/generations/tasks/{id}", self.get_task)
        app.router.add_get("/api/v3/contents/generations/tasks", self.list_tasks)
        app.router.add_delete("/api/v3/contents/generations/tasks/{id}", self.delete_task)
        app.router.add_post("/api/v3/images/generations", self.images)

    def _auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return error(401, "AuthenticationError", "the API key is missing or invalid")
        return None

    async def _checked(self, request: web.Request) -> tuple[dict[str, Any], web.Response | None]:
        """The body, or the error answer for a bad key or an unknown model."""
        if (denied := self._auth(request)) is not None:
            return {}, denied
        body = await request.json()
        model = body.get("model")
        if not isinstance(model, str) or not KNOWN_MODELS.match(model):
            return body, error(
                404, "InvalidEndpointOrModel.NotFound", f"model {model} does not exist"
            )
        return body, None

    async def create_task(self, request: web.Request) -> web.Response:
        body, refused = await self._checked(request)
        if refused is not None:
            return refused
        model = body["model"]
        content = body.get("content")
        if not isinstance(content, list) or not content:
            return error(400, "MissingParameter", "content is required")
        text = next((c.get("text", "") for c in content if c.get("type") == "text"), "")
        images = [c for c in content if c.get("type") == "image_url"]
        for image in images:
            url = (image.get("image_url") or {}).get("url", "")
            if not url.startswith(("http://", "https://", "data:image/")):
                return error(400, "InvalidParameter", "image_url.url must be a URL or data URL")
        if "[fake:input-rejected]" in text:
            return error(400, "InputTextSensitiveContentDetected", "the prompt may be sensitive")
        commands = dict(COMMAND.findall(text))
        task_id = f"cgt-{time.strftime('%Y%m%d%H%M%S')}-{next(self._seq):05d}"
        self.tasks[task_id] = {
            "id": task_id,
            "model": model,
            "status": "queued",
            "polls": 0,
            "text": text,
            "images": images,
            "ratio": body.get("ratio") or commands.get("ratio") or commands.get("rt") or "16:9",
            "duration": int(body.get("duration") or commands.get("duration") or 5),
            "resolution": body.get("resolution") or commands.get("resolution") or "720p",
            "created_at": time.time(),
        }
        return web.json_response({"id": task_id})

    async def get_task(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return error(404, "ResourceNotFound", "task not found")
        return web.json_response(self._polled(task))

    async def list_tasks(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        self.list_calls += 1
        ids = request.query.getall("filter.task_ids", [])
        size = int(request.query.get("page_size", "10"))
        if not 1 <= size <= 500:
            return error(400, "InvalidParameter", "page_size must be 1 to 500")
        items = [self._polled(self.tasks[i]) for i in ids[:size] if i in self.tasks]
        return web.json_response({"total": len(items), "items": items})

    def _polled(self, task: dict[str, Any]) -> dict[str, Any]:
        """Count one poll of ``task``, move it along, and give its public view."""
        now = time.time()
        self.polled_at.setdefault(task["id"], []).append(now)
        task["polls"] += 1
        if task["status"] in ("queued", "running"):
            if self.hold_s is not None:
                finished = now - task.get("created_at", now) >= self.hold_s and (
                    self.release_at is None or now >= self.release_at
                )
            else:
                finished = task["polls"] >= self.polls
            if finished:
                if "[fake:rejected]" in task["text"]:
                    task["status"] = "failed"
                    task["error"] = {
                        "code": "OutputVideoSensitiveContentDetected",
                        "message": "The output video may be related to copyright restrictions.",
                    }
                elif "[fake:internal]" in task["text"]:
                    task["status"] = "failed"
                    task["error"] = {"code": "InternalServiceError", "message": "try again"}
                else:
                    task["status"] = "succeeded"
                    task["finished_at"] = now  # reads after this are not polls of a job
                    url = self.add_file(f"{task['id']}.mp4", self.video, "video/mp4")
                    task["content"] = {"video_url": url + "?X-Tos-Expires=86400"}
            else:
                task["status"] = "running" if task["polls"] else "queued"
        hidden = ("polls", "text", "images", "finished_at")
        public = {k: v for k, v in task.items() if k not in hidden}
        public["created_at"] = int(task.get("created_at", now))
        public["updated_at"] = int(now)
        return public

    async def delete_task(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        task = self.tasks.get(request.match_info["id"])
        if task is None:
            return error(404, "ResourceNotFound", "task not found")
        if task["status"] != "queued":
            return error(400, "InvalidAction", "only queued tasks can be cancelled")
        task["status"] = "cancelled"
        return web.json_response({})

    async def images(self, request: web.Request) -> web.Response:
        body, refused = await self._checked(request)
        if refused is not None:
            return refused
        model = body["model"]
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return error(400, "MissingParameter", "prompt is required")
        if "[fake:input-rejected]" in prompt:
            return error(400, "InputTextSensitiveContentDetected", "the prompt may be sensitive")
        size = body.get("size") or "1024x1024"
        if size != "adaptive" and not re.fullmatch(r"\d+x\d+", size):
            return error(400, "InvalidParameter", f"size {size} is not WxH")
        width, height = (1024, 1024) if size == "adaptive" else map(int, size.split("x"))
        data = sample_image("JPEG", (width, height))
        n = next(self._seq)
        if "[fake:rejected]" in prompt:
            item: dict[str, Any] = {
                "error": {"code": "OutputImageSensitiveContentDetected", "message": "filtered"}
            }
        elif body.get("response_format") == "b64_json":
            item = {"b64_json": base64.b64encode(data).decode(), "size": f"{width}x{height}"}
        else:
            url = self.add_file(f"img-{n}.jpeg", data, "image/jpeg")
            item = {"url": url + "?X-Tos-Expires=86400", "size": f"{width}x{height}"}
        return web.json_response(
            {"model": model, "created": int(time.time()), "data": [item],
             "usage": {"generated_images": 1, "output_tokens": 4096, "total_tokens": 4096}}
        )  # fmt: skip
