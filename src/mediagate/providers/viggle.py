"""Viggle's own API (docs.viggle.ai; base https://apis.viggle.ai, Bearer key): an on-demand
render, ``POST /api/render`` (multipart: ``ref_image`` and ``driving_video``) answering
``{job_id}``, or, for a template, ``POST /api/scenes/import {template_id}`` for its
``scene_id`` and a render with it; ``GET /api/render/{job_id}`` until ``status`` is
``complete`` (with ``cdn_url``) or ``failed``."""

from __future__ import annotations

from typing import Any

import aiohttp

from mediagate.core.errors import UnavailableError, UpstreamInvalidRequest
from mediagate.core.provider import GenerationRequest, MediaStream, Pending, Ready, Submitted
from mediagate.providers.http import HttpVendor, call_json, download, obj

DONE, FAILED = {"complete", "completed", "succeeded"}, {"failed", "error"}


class ViggleProvider(HttpVendor):
    name = "viggle"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._creds.api_key}"}

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return obj(
            await call_json(
                self._session, self.name, method, self._url(path), headers=self._headers(),
                **kwargs,
            )
        )  # fmt: skip

    async def submit(self, request: GenerationRequest) -> Submitted:
        character = request.image("reference")
        if character is None:
            raise UpstreamInvalidRequest(f"{self.name}: a character image is required")
        form = aiohttp.FormData()
        form.add_field("ref_image", character.data, filename="character.png",
                       content_type=character.content_type)  # fmt: skip
        video = request.image("source")
        template = str(request.params.options.get("template_id", ""))
        if video is not None:
            form.add_field("driving_video", video.data, filename="driving.mp4",
                           content_type="video/mp4")  # fmt: skip
        elif template:
            scene = await self._call("POST", "/api/scenes/import", json={"template_id": template})
            form.add_field("scene_id", str(scene.get("scene_id") or ""))
        else:
            raise UpstreamInvalidRequest(f"{self.name}: a driving video or a template is required")
        form.add_field("mode", request.upstream_model or request.spec.wire_name)
        if request.params.options.get("bg_mode"):
            form.add_field("background_mode", "solid")
        job = await self._call("POST", "/api/render", data=form)
        if not isinstance(job.get("job_id"), str):
            raise UnavailableError(f"{self.name}: the render answer has no job_id")
        return Submitted(upstream_id=job["job_id"], poll_after=self._poll_s)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        job = await self._call("GET", f"/api/render/{upstream_id}")
        status = str(job.get("status") or "").lower()
        if status in DONE:
            return Ready()
        if status in FAILED:
            raise UpstreamInvalidRequest(f"{self.name}: {job.get('error') or 'the render failed'}")
        return Pending(progress=int(job.get("progress") or 10), poll_after=self._poll_s)

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int) -> MediaStream:
        if index > 0:
            raise UnavailableError(f"{self.name}: a render makes one video")
        job = await self._call("GET", f"/api/render/{upstream_id}")
        return await download(self._session, self.name, str(job.get("cdn_url") or ""))

    async def open(self, request: GenerationRequest, result: Any) -> MediaStream:
        return await download(self._session, self.name, str(result.url or ""))
