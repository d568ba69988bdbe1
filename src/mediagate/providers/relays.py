"""Other aggregators as upstreams: gptunnel's media API (``/v1/media/*``, the seeds' own
format) and new-api / GPTNB's unified video format (``/v1/video/generations``). A user with
a key there gets mediagate's storage, webhooks and accounting on top of their models."""

from __future__ import annotations

import re
from typing import Any

from mediagate.core.errors import (
    ModelNotFoundError,
    UnavailableError,
    UpstreamInvalidRequest,
)
from mediagate.core.provider import (
    Finished,
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Result,
    Submitted,
)
from mediagate.providers.http import HttpVendor, call_json, download, obj

GPTUNNEL_PENDING = {"idle", "queued", "pending", "processing", "running"}
GPTUNNEL_FAILED = {"failed", "error", "cancelled", "canceled"}
NEWAPI_DONE = {"succeeded", "success", "completed", "done"}
NEWAPI_FAILED = {"failed", "failure", "error", "cancelled", "canceled", "expired"}
PERCENT = re.compile(r"(\d+)")


class _Relay(HttpVendor):
    name = "relay"

    async def _media(self, request: GenerationRequest, url: str) -> MediaStream:
        width, height = request.spec.size_for(request.params.aspect_ratio)
        return await download(
            self._session,
            self.name,
            url,
            width=width,
            height=height,
            duration_seconds=float(request.params.duration_seconds or 0) or None,
            fps=request.spec.fps,
        )

    async def open(self, request: GenerationRequest, result: Result) -> MediaStream:
        return await self._media(request, result.url or "")

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        return None  # neither API documents a cancel call


class GptunnelProvider(_Relay):
    """Auth is the raw key in Authorization. Errors may come as HTTP 200 with code != 0."""

    name = "gptunnel"

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": self._creds.api_key}
        answer = obj(
            await call_json(
                self._session, self.name, "POST", self._url(path), headers=headers, json=body
            )
        )
        code = answer.get("code", 0)
        if code not in (0, None):
            message = str(answer.get("message") or obj(answer.get("error")).get("message") or "")
            raise UpstreamInvalidRequest(f"{self.name}: code {code}: {message}")
        return answer

    async def submit(self, request: GenerationRequest) -> Submitted | Finished:
        body: dict[str, Any] = {"model": request.upstream_model, "prompt": request.prompt}
        if (
            request.params.ar_given
            or request.params.aspect_ratio != request.spec.default_aspect_ratio
        ):
            body["ar"] = request.params.aspect_ratio
        if request.images:
            urls = [i.source_url for i in request.images]
            if not all(urls):
                raise ModelNotFoundError(f"{self.name}: images must be public URLs, not uploads")
            body["images"] = urls
        answer = await self._call("/v1/media/create", body)
        if not isinstance(answer.get("id"), str):
            raise UnavailableError(f"{self.name}: the create answer has no id")
        return Submitted(upstream_id=answer["id"], poll_after=self._poll_s)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        answer = await self._call("/v1/media/result", {"task_id": upstream_id})
        status = str(answer.get("status", "")).lower()
        if status == "done":
            return Ready()
        if status in GPTUNNEL_FAILED:
            reason = answer.get("error") or answer.get("message") or "no reason given"
            raise UnavailableError(f"{self.name}: task {status}: {reason}")
        return Pending(progress=int(answer.get("progress") or 10), poll_after=self._poll_s)

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int) -> MediaStream:
        answer = await self._call("/v1/media/result", {"task_id": upstream_id})
        urls = answer.get("urls") or ([answer["url"]] if answer.get("url") else [])
        if index >= len(urls):
            raise UnavailableError(f"{self.name}: task {upstream_id} has no result {index}")
        return await self._media(request, str(urls[index]))


class NewApiProvider(_Relay):
    """Accepts the wrapped answer ({code, data}) and the bare one; statuses in any case."""

    name = "newapi"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._creds.api_key}"}

    async def submit(self, request: GenerationRequest) -> Submitted | Finished:
        params = request.params
        body: dict[str, Any] = {
            "model": request.upstream_model,
            "prompt": request.prompt,
            "duration_seconds": params.duration_seconds,
            "aspect_ratio": params.aspect_ratio,
            "sample_count": params.sample_count,
        }
        if request.images:
            body["image"] = request.images[0].source_url or request.images[0].data_url()
        answer = obj(
            await call_json(
                self._session,
                self.name,
                "POST",
                self._url("/v1/video/generations"),
                headers=self._headers(),
                json=body,
            )
        )
        data = obj(answer.get("data")) or answer
        task_id = data.get("task_id") or data.get("id")
        if not isinstance(task_id, str) or not task_id:
            raise UnavailableError(f"{self.name}: the submit answer has no task_id")
        return Submitted(upstream_id=task_id, poll_after=self._poll_s)

    async def _task(self, upstream_id: str) -> dict[str, Any]:
        answer = obj(
            await call_json(
                self._session,
                self.name,
                "GET",
                self._url(f"/v1/video/generations/{upstream_id}"),
                headers=self._headers(),
            )
        )
        return obj(answer.get("data")) if "data" in answer and "status" not in answer else answer

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        task = await self._task(upstream_id)
        status = str(task.get("status", "")).lower()
        if status in NEWAPI_DONE:
            return Ready()
        if status in NEWAPI_FAILED:
            err = obj(task.get("error"))
            reason = err.get("message") or task.get("fail_reason") or "no reason given"
            raise UnavailableError(f"{self.name}: task {status}: {reason}")
        match = PERCENT.match(str(task.get("progress") or "0"))
        return Pending(progress=int(match.group(1)) if match else 10, poll_after=self._poll_s)

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int) -> MediaStream:
        task = await self._task(upstream_id)
        first = task.get("url") or task.get("result_url") or obj(task.get("metadata")).get("url")
        urls = task.get("urls") or ([first] if first else [])
        if index >= len(urls):
            raise UnavailableError(f"{self.name}: task {upstream_id} has no result {index}")
        return await self._media(request, str(urls[index]))
