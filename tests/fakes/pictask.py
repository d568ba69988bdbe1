"""A fake of GPTNB's image tools (api.gpt.ge, from gpt.morphogen.top/zh/pic/…): Bearer key;
POST /task/pic/{tool} (multipart: ``image_file`` or ``image_url``, ``mask_file``, the tool's
fields) answers ``{status: 200, data: {task_id, state: 0}}``; GET /task/{task_id} answers the
same with ``state`` 1 after ``polls`` reads: ``image`` a real PNG (colorize: the grey input
given colour), or for ``ocr`` the ``text`` and ``blocks``. ``jobs`` keeps what each got."""

from __future__ import annotations

import io
import itertools
from typing import Any

from aiohttp import web
from PIL import Image, ImageOps

from tests.fakes.base import FakeVendor


class FakePicTask(FakeVendor):
    name = "pictask"

    def __init__(self, api_key: str = "pic-key", polls: int = 1) -> None:
        super().__init__()
        self.api_key = api_key
        self.polls = polls
        self.jobs: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/task/pic/{tool}", self.create)
        app.router.add_get("/task/{id}", self.result)
        app.router.add_get("/files/{name}", self.serve_file)

    def _denied(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return web.json_response({"status": 401, "message": "invalid token"}, status=401)
        return None

    async def create(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        form = await request.post()
        image = form.get("image_file")
        if not isinstance(image, web.FileField):
            return web.json_response({"status": 400, "message": "image_file is required"})
        task_id = f"pic-{next(self._seq)}"
        self.jobs[task_id] = {"tool": request.match_info["tool"], "image": image.file.read(),
                              "fields": {k: v for k, v in form.items() if isinstance(v, str)},
                              "reads": 0}  # fmt: skip
        return web.json_response({"status": 200, "data": {"task_id": task_id, "state": 0}})

    async def result(self, request: web.Request) -> web.Response:
        if (denied := self._denied(request)) is not None:
            return denied
        job = self.jobs.get(request.match_info["id"])
        if job is None:
            return web.json_response({"status": 404, "message": "task not found"}, status=404)
        job["reads"] += 1
        data: dict[str, Any] = {"task_id": request.match_info["id"], "state": 0, "progress": 50}
        if job["reads"] > self.polls:
            data.update(state=1, progress=100)
            if job["tool"] == "ocr":
                data.update(text="fake text", blocks=[{"text": "fake text", "box": [1, 2, 3, 4]}])
            else:
                grey = Image.open(io.BytesIO(job["image"])).convert("L")
                coloured = ImageOps.colorize(grey, black="#201040", white="#f0d080")
                buf = io.BytesIO()
                coloured.save(buf, "PNG")
                data["image"] = self.add_file(f"{request.match_info['id']}.png", buf.getvalue(),
                                              "image/png")  # fmt: skip
        return web.json_response({"status": 200, "data": data})
