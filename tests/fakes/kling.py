"""A fake of Kling's API (app.klingai.com/global/dev/document-api): every call needs
``Authorization: Bearer <JWT>``, HS256 with the secret key, ``iss`` the access key and a
current ``nbf``/``exp`` (the fake checks them on its own clock, ``now``); POST
/v1/videos/text2video|image2video and /v1/images/generations answer ``{code: 0, data:
{task_id, task_status: submitted}}``; GETs go processing -> succeed over ``polls`` reads.
``[fake:unsafe]`` is HTTP 400 with code 1301; ``rate_limit_next`` answers 429, code 1302."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image, sample_mp4


def kerror(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "request_id": "r"}, status=status)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeKling(FakeVendor):
    name = "kling"

    def __init__(self, access: str = "ak", secret: str = "sk", polls: int = 2) -> None:
        super().__init__()
        self.access, self.secret, self.polls = access, secret, polls
        self.now: Callable[[], float] = time.time
        self.rate_limit_next = 0
        self.tokens: list[str] = []
        self.tasks: dict[str, dict[str, Any]] = {}

    def routes(self, app: web.Application) -> None:
        for kind in ("videos/text2video", "videos/image2video", "images/generations"):
            app.router.add_post(f"/v1/{kind}", self.create)
            app.router.add_get(f"/v1/{kind}/{{id}}", self.get)

    def _check(self, request: web.Request) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        try:
            head, body, sig = token.split(".")
            want = hmac.new(self.secret.encode(), f"{head}.{body}".encode(), hashlib.sha256)
            if not hmac.compare_digest(_unb64(sig), want.digest()):
                return kerror(401, 1000, "signature invalid")
            claims = json.loads(_unb64(body))
            assert json.loads(_unb64(head)) == {"alg": "HS256", "typ": "JWT"}
        except (ValueError, AssertionError):
            return kerror(401, 1000, "token invalid")
        if claims.get("iss") != self.access:
            return kerror(401, 1001, "access key unknown")
        if not claims["nbf"] <= self.now() < claims["exp"]:
            return kerror(401, 1004, "token expired or not yet valid")
        self.tokens.append(token)
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (bad := self._check(request)) is not None:
            return bad
        if self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            return kerror(429, 1302, "rate limit")
        body = await request.json()
        if "[fake:unsafe]" in str(body.get("prompt", "")):
            return kerror(400, 1301, "risk control: unsafe prompt")
        if request.path.endswith("image2video") and not body.get("image"):
            return kerror(400, 1201, "image is required")
        task_id = secrets.token_hex(8)
        kind = request.path.removeprefix("/v1/")
        self.tasks[task_id] = {"kind": kind, "body": body, "reads": 0}
        data = {"task_id": task_id, "task_status": "submitted", "created_at": 1, "updated_at": 1}
        return web.json_response({"code": 0, "message": "SUCCEED", "request_id": "r", "data": data})

    async def get(self, request: web.Request) -> web.Response:
        if (bad := self._check(request)) is not None:
            return bad
        task = self.tasks.get(request.match_info["id"])
        if task is None or not request.path.startswith(f"/v1/{task['kind']}/"):
            return kerror(404, 1203, "task not found")
        task["reads"] += 1
        data: dict[str, Any] = {"task_id": request.match_info["id"], "task_status": "processing"}
        if task["reads"] > self.polls:
            name = request.match_info["id"]
            data["task_status"] = "succeed"
            if task["kind"] == "images/generations":
                url = self.add_file(f"{name}.png", sample_image(), "image/png")
                data["task_result"] = {"images": [{"index": 0, "url": url}]}
            else:
                url = self.add_file(f"{name}.mp4", sample_mp4(), "video/mp4")
                data["task_result"] = {"videos": [{"id": "v", "url": url, "duration": "5.041"}]}
        return web.json_response({"code": 0, "message": "SUCCEED", "request_id": "r", "data": data})
