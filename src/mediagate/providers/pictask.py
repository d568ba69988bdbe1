"""A relay to an upstream that speaks GPTNB's image-tool format (api.gpt.ge, or another
mediagate: ``api/pictask.py`` serves the same): ``POST /task/pic/{tool}`` (multipart:
``image_file``, ``mask_file``, the tool's fields) answering ``{status: 200, data: {task_id}}``,
then ``GET /task/{task_id}`` until ``data.state`` is 1 (done: ``image`` or ``file`` is the
result link; an OCR gives ``text`` and ``blocks``) or negative (failed). The route's ``model``
is the upstream's tool name (``colorize``, ``segmentation``, …). It is the route for what the
local tools cannot do (colorizing needs a model) and a fallback for the rest."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from mediagate.core.errors import UnavailableError, UpstreamInvalidRequest
from mediagate.core.provider import GenerationRequest, MediaStream, Pending, Ready, Submitted
from mediagate.providers.http import HttpVendor, call_json, download, obj

PASSED = ("format", "quality", "target_kb", "scale", "radius", "language", "version", "error",
          "strength", "eye", "template", "style")  # fmt: skip


async def _once(data: bytes) -> Any:
    yield data


class PicTaskProvider(HttpVendor):
    name = "pictask"

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = obj(
            await call_json(
                self._session, self.name, method, self._url(path),
                headers={"Authorization": f"Bearer {self._creds.api_key}"}, **kwargs,
            )
        )  # fmt: skip
        if answer.get("status") not in (200, None):
            raise UpstreamInvalidRequest(f"{self.name}: {answer.get('message') or answer}")
        return obj(answer.get("data"))

    async def submit(self, request: GenerationRequest) -> Submitted:
        form = aiohttp.FormData()
        for i, image in enumerate(request.images[:2]):
            role = request.params.roles[i] if i < len(request.params.roles) else ""
            field = "mask_file" if role == "mask" or i == 1 else "image_file"
            form.add_field(field, image.data, filename=f"{field}.png",
                           content_type=image.content_type)  # fmt: skip
        for name in PASSED:
            if name in request.params.options:
                form.add_field(name, str(request.params.options[name]))
        if request.prompt:
            form.add_field("prompt", request.prompt)
        tool = request.upstream_model or request.spec.wire_name
        data = await self._call("POST", f"/task/pic/{tool}", data=form)
        if not isinstance(data.get("task_id"), str):
            raise UnavailableError(f"{self.name}: the answer has no task_id")
        return Submitted(upstream_id=data["task_id"], poll_after=self._poll_s)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        data = await self._call("GET", f"/task/{upstream_id}")
        state = int(data.get("state") or 0)
        if state == 1:
            return Ready()
        if state < 0:
            why = data.get("error") or data.get("state_detail") or "the task failed"
            raise UpstreamInvalidRequest(f"{self.name}: {why}")
        return Pending(progress=int(data.get("progress") or 10), poll_after=self._poll_s)

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int
                    ) -> MediaStream | None:  # fmt: skip
        data = await self._call("GET", f"/task/{upstream_id}")
        if "text" in data and "blocks" in data:  # an OCR: its text is the result
            if index > 0:
                return None
            found = json.dumps({"text": data["text"], "blocks": data["blocks"]}).encode()
            return MediaStream("application/json", _once(found), 0, 0, role="ocr")
        links = data.get("images") or [data.get("image") or data.get("file")]
        if index >= len(links) or not links[index]:
            return None
        return await download(self._session, self.name, str(links[index]))

    async def open(self, request: GenerationRequest, result: Any) -> MediaStream:
        return await download(self._session, self.name, str(result.url or ""))
