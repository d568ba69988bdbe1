"""Runway's API as an upstream (https://api.dev.runwayml.com): Bearer key and the required
``X-Runway-Version: 2024-11-06`` header; POST /v1/image_to_video, /v1/text_to_video or
/v1/text_to_image answer ``{id}``; GET /v1/tasks/{id} reports PENDING, THROTTLED, RUNNING
(with progress 0..1), SUCCEEDED (``output``: links that expire in 24-48 h, so they are
stored at once) or FAILED (``failureCode``: SAFETY.* is a content rejection, a documented
code, not a guess at the message); DELETE /v1/tasks/{id} cancels."""

from __future__ import annotations

from typing import Any

import aiohttp

from mediagate.core.catalogue import Kind
from mediagate.core.errors import (
    ContentRejectedError,
    UnavailableError,
    UpstreamInvalidRequest,
)
from mediagate.core.provider import (
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Submitted,
)
from mediagate.providers.http import HttpVendor, call_json, download, obj

VERSION = "2024-11-06"


class RunwayProvider(HttpVendor):
    name = "runway"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._creds.api_key}", "X-Runway-Version": VERSION}

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = await call_json(
            self._session, self.name, method, self._url(path), headers=self._headers(), json=body
        )
        return obj(answer)

    async def submit(self, request: GenerationRequest) -> Submitted:
        params = request.params
        body: dict[str, Any] = {
            "model": request.upstream_model or request.spec.wire_name,
            "ratio": params.aspect_ratio,
        }
        if request.prompt:
            body["promptText"] = request.prompt
        if "seed" in params.options:
            body["seed"] = params.options["seed"]
        if request.spec.kind is Kind.IMAGE:
            path = "/v1/text_to_image"
            refs = [i.source_url or i.data_url() for i in request.images]
            if refs:
                body["referenceImages"] = [{"uri": uri} for uri in refs]
        else:
            body["duration"] = params.duration_seconds
            first = request.image("first_frame") or (request.images[0] if request.images else None)
            if first is not None:
                path = "/v1/image_to_video"
                body["promptImage"] = [
                    {"uri": first.source_url or first.data_url(), "position": "first"}
                ]
            else:
                path = "/v1/text_to_video"
        answer = await self._call("POST", path, body)
        if not isinstance(answer.get("id"), str):
            raise UnavailableError(f"{self.name}: the create answer has no id")
        return Submitted(upstream_id=answer["id"], poll_after=self._poll_s)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        task = await self._call("GET", f"/v1/tasks/{upstream_id}")
        status = str(task.get("status") or "")
        if status == "SUCCEEDED":
            return self._finished(task.get("output") or [])
        if status in ("FAILED", "CANCELLED"):
            code = str(task.get("failureCode") or "")
            message = f"{self.name}: {status.lower()}: {task.get('failure') or code or 'no reason'}"
            if code.startswith("SAFETY"):
                raise ContentRejectedError(message)
            if code.startswith("INTERNAL"):
                raise UnavailableError(message)  # Runway's side: retry, or another route
            raise UpstreamInvalidRequest(message)
        progress = task.get("progress")
        value = int(float(progress) * 100) if isinstance(progress, int | float) else 1
        return Pending(progress=max(1, min(99, value)), poll_after=self._poll_s)

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        task = await self._call("GET", f"/v1/tasks/{upstream_id}")
        output = task.get("output") or []
        if index >= len(output):
            return None
        width, height = request.spec.size_for(request.params.aspect_ratio)
        seconds = float(request.params.duration_seconds or 0) or None
        return await download(
            self._session,
            self.name,
            str(output[index]),
            width=width,
            height=height,
            duration_seconds=seconds,
            fps=request.spec.fps,
        )

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        try:
            async with self._session.delete(
                self._url(f"/v1/tasks/{upstream_id}"), headers=self._headers()
            ) as resp:
                if resp.status >= 400 and resp.status != 404:
                    raise UnavailableError(f"{self.name}: cancel answered HTTP {resp.status}")
        except aiohttp.ClientError as exc:
            raise UnavailableError(f"{self.name}: cancel failed: {exc}") from None
