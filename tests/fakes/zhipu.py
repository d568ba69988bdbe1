"""A fake of Zhipu's video API (docs.bigmodel.cn, docs.z.ai): Bearer key; POST
/videos/generations answers ``{id, request_id, model, task_status: PROCESSING}``; GET
/async-result/{id} turns SUCCESS after ``polls`` reads with ``video_result``. Errors are
``{"error": {"code", "message"}}``: 1214 a bad parameter, 1301 unsafe content (a prompt
with ``[fake:unsafe]``), 1302 too many requests (``rate_limit_next``). CogView: POST
/images/generations answers at once ``{created, data: [{url}], content_filter}``."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image, sample_mp4

IMAGE_SIZES = {"1024x1024", "768x1344", "864x1152", "1344x768", "1152x864", "1440x720", "720x1440"}
SIZES = {"1920x1080", "1080x1920", "1280x720", "720x1280", "1024x1024", "2048x1080", "3840x2160"}


def zerror(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class FakeZhipu(FakeVendor):
    name = "zhipu"

    def __init__(self, api_key: str = "zp-key", polls: int = 2) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.rate_limit_next = 0
        self.jobs: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/videos/generations", self.create)
        app.router.add_get("/async-result/{id}", self.result)
        app.router.add_post("/images/generations", self.image)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return zerror(401, "1000", "身份验证失败")
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return zerror(429, "1302", "您当前使用该API的并发数过高")
        body = await request.json()
        if body.get("size") and body["size"] not in SIZES:
            return zerror(400, "1214", "size 参数非法")
        if "[fake:unsafe]" in str(body.get("prompt", "")):
            return zerror(400, "1301", "系统检测到输入或生成内容可能包含不安全或敏感内容")
        job_id = secrets.token_hex(10)
        self.jobs[job_id] = {"body": body, "reads": 0}
        return web.json_response(
            {"id": job_id, "request_id": body.get("request_id") or job_id,
             "model": body.get("model"), "task_status": "PROCESSING"}
        )  # fmt: skip

    async def image(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        body = await request.json()
        if not body.get("prompt"):
            return zerror(400, "1214", "prompt 不能为空")
        if body.get("size", "1024x1024") not in IMAGE_SIZES:
            return zerror(400, "1214", "size 参数非法")
        if "[fake:unsafe]" in str(body.get("prompt", "")):
            return zerror(400, "1301", "系统检测到输入或生成内容可能包含不安全或敏感内容")
        width, height = (int(x) for x in body.get("size", "1024x1024").split("x"))
        name = secrets.token_hex(6)
        url = self.add_file(f"{name}.png", sample_image("PNG", (width, height)), "image/png")
        return web.json_response(
            {"created": 1764800000, "data": [{"url": url}], "content_filter": []}
        )

    async def result(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        job = self.jobs.get(request.match_info["id"])
        if job is None:
            return zerror(404, "1214", "任务不存在")
        job["reads"] += 1
        out: dict[str, Any] = {
            "model": job["body"].get("model"),
            "request_id": job["body"].get("request_id", ""),
            "task_status": "PROCESSING",
            "video_result": [],
        }
        if job["reads"] > self.polls:
            name = request.match_info["id"]
            url = self.add_file(f"{name}.mp4", sample_mp4(), "video/mp4")
            cover = self.add_file(f"{name}.jpg", sample_image("JPEG"), "image/jpeg")
            out.update(task_status="SUCCESS", video_result=[{"url": url, "cover_image_url": cover}])
        return web.json_response(out)
