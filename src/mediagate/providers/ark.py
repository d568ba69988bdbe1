"""BytePlus ModelArk / Volcengine Ark: Seedance (async content-generation tasks) and
Seedream / SeedEdit (synchronous image generation). Same API at both base URLs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp

from mediagate.core.catalogue import Kind
from mediagate.core.errors import (
    ContentRejectedError,
    ProviderError,
    UnavailableError,
    UpstreamInvalidRequest,
    UpstreamTimeoutError,
)
from mediagate.core.provider import (
    Clock,
    Finished,
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Result,
    Submitted,
)
from mediagate.providers.http import Credentials, call_json, download, obj

# Documented error codes (prefixes): moderation refusals and unknown models / endpoints.
CONTENT_CODES = (
    "InputTextSensitiveContentDetected",
    "InputImageSensitiveContentDetected",
    "OutputVideoSensitiveContentDetected",
    "OutputImageSensitiveContentDetected",
    "SensitiveContentDetected",
)
MODEL_CODES = ("InvalidEndpoint.NotFound", "ModelNotOpen", "InvalidEndpointOrModel")
POLL_S = 5.0
RESOLUTION = {480: "480p", 720: "720p", 1080: "1080p"}


class ArkProvider:
    """``Credentials.base_url`` is e.g. https://ark.ap-southeast.bytepluses.com/api/v3."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        creds: Credentials,
        clock: Clock,
        name: str = "ark",
        poll_s: float | None = None,
    ) -> None:
        self.name = name
        self._poll_s = POLL_S if poll_s is None else poll_s
        self._session = session
        self._creds = creds
        self._clock = clock

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._creds.api_key}"}

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        return await call_json(
            self._session,
            self.name,
            method,
            self._creds.base_url.rstrip("/") + path,
            headers=self._headers(),
            json=body,
            content_codes=CONTENT_CODES,
            model_codes=MODEL_CODES,
        )

    async def submit(self, request: GenerationRequest) -> Submitted | Finished:
        if request.spec.kind is Kind.IMAGE:
            return await self._image(request)
        params = request.params
        width, height = request.spec.size_for(params.aspect_ratio)
        resolution = RESOLUTION.get(min(width, height), "720p")
        duration = params.duration_seconds or 5
        text = (
            f"{request.prompt} --ratio {params.aspect_ratio} --duration {duration} "
            f"--resolution {resolution} --seed {request.seed % 2**32} --watermark false"
        )
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if request.images:
            image = request.images[0]
            content.append(
                {
                    "type": "image_url",
                    "image_url": {"url": image.source_url or image.data_url()},
                    "role": "first_frame",
                }
            )
        body = {
            "model": request.upstream_model,
            "content": content,
            "ratio": params.aspect_ratio,
            "duration": duration,
            "resolution": resolution,
            "watermark": False,
        }
        answer = await self._call("POST", "/contents/generations/tasks", body)
        task_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise UnavailableError(f"{self.name}: the create answer has no task id")
        return Submitted(upstream_id=task_id, poll_after=self._poll_s)

    async def _image(self, request: GenerationRequest) -> Finished:
        width, height = request.spec.size_for(request.params.aspect_ratio)
        body: dict[str, Any] = {
            "model": request.upstream_model,
            "prompt": request.prompt,
            "size": "adaptive" if request.images else f"{width}x{height}",
            "response_format": "url",
            "seed": request.seed % 2**31,
            "watermark": False,
        }
        if request.images:
            body["image"] = request.images[0].source_url or request.images[0].data_url()
        answer = await self._call("POST", "/images/generations", body)
        results = []
        items = obj(answer).get("data")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            error = item.get("error")
            if isinstance(error, dict):
                code = str(error.get("code", ""))
                message = f"{self.name}: {code}: {error.get('message', '')}"
                if code.startswith(CONTENT_CODES):
                    raise ContentRejectedError(message)
                raise UpstreamInvalidRequest(message)
            if isinstance(item.get("url"), str):
                results.append(Result(content_type="image/jpeg", url=item["url"]))
        if not results:
            raise UnavailableError(f"{self.name}: the image answer has no image")
        created = obj(answer).get("created", "")
        return Finished(upstream_id=f"{request.upstream_model}@{created}", results=tuple(results))

    async def _task(self, upstream_id: str) -> dict[str, Any]:
        answer = await self._call("GET", f"/contents/generations/tasks/{upstream_id}")
        if not isinstance(answer, dict):
            raise UnavailableError(f"{self.name}: the task answer is not an object")
        return answer

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        return self._state(await self._task(upstream_id))

    async def probe(self) -> None:
        """A cheap real call (one page of one task): raises when Ark refuses or is down."""
        await self._call("GET", "/contents/generations/tasks?page_num=1&page_size=1")

    async def poll_many(
        self, upstream_ids: list[str]
    ) -> dict[str, Pending | Ready | ProviderError]:
        """Many tasks in one call: Ark's task list filtered by id (up to 500 a page; the
        engine sends 100, which keeps the URL near 4 KB). A task missing from the answer
        is left out, and is then polled on its own."""
        query = urlencode(
            [("page_num", "1"), ("page_size", str(len(upstream_ids)))]
            + [("filter.task_ids", i) for i in upstream_ids]
        )
        answer = await self._call("GET", f"/contents/generations/tasks?{query}")
        states: dict[str, Pending | Ready | ProviderError] = {}
        for item in obj(answer).get("items") or []:
            if not isinstance(item, dict) or item.get("id") not in upstream_ids:
                continue
            try:
                states[str(item["id"])] = self._state(item)
            except ProviderError as exc:
                states[str(item["id"])] = exc
        return states

    @staticmethod
    def _video(task: dict[str, Any]) -> Result | None:
        """A finished task's video link (valid 24 h), if its answer carries one."""
        url = obj(task.get("content")).get("video_url")
        return Result(content_type="video/mp4", url=url) if isinstance(url, str) and url else None

    def _state(self, task: dict[str, Any]) -> Pending | Ready:
        status = str(task.get("status", "")).lower()
        if status == "succeeded":  # the link is stored in this step, with no re-read
            video = self._video(task)
            return Ready(results=(video,)) if video else Ready()
        if status in ("queued", "running", "pending", "processing"):
            return Pending(progress=50 if status == "running" else 5, poll_after=self._poll_s)
        error = obj(task.get("error"))
        code, message = str(error.get("code", "")), str(error.get("message", ""))
        text = f"{self.name}: task {status}" + (f": {code}: {message}" if code else "")
        if code.startswith(CONTENT_CODES):
            raise ContentRejectedError(text)
        if status == "expired":
            raise UpstreamTimeoutError(text)
        if status == "failed" and code.startswith(("InvalidParameter", "MissingParameter")):
            raise UpstreamInvalidRequest(text)
        raise UnavailableError(text)  # failed (internal), cancelled, or a status we do not know

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int) -> MediaStream:
        """For a finished task whose poll answer had no link (or a task that was left at
        its fetch step): read the task again for it."""
        video = self._video(await self._task(upstream_id))
        if video is None:
            raise UnavailableError(f"{self.name}: task {upstream_id} has no video_url")
        return await self.open(request, video)

    async def open(self, request: GenerationRequest, result: Result) -> MediaStream:
        width, height = request.spec.size_for(request.params.aspect_ratio)
        if result.content_type != "video/mp4":  # a Seedream image: typed by its response
            return await download(
                self._session, self.name, result.url or "", width=width, height=height
            )
        return await download(
            self._session,
            self.name,
            result.url or "",
            content_type="video/mp4",
            width=width,
            height=height,
            duration_seconds=float(request.params.duration_seconds or 0) or None,
            fps=request.spec.fps,
        )

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        """Ark cancels only queued tasks; for others the DELETE is refused, which is fine."""
        await self._call("DELETE", f"/contents/generations/tasks/{upstream_id}")
