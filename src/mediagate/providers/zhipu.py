"""Zhipu's video API as an upstream (https://open.bigmodel.cn/api/paas/v4, or api.z.ai for
the international platform): Bearer key; POST /videos/generations answers ``{id,
task_status}``; GET /async-result/{id} reports PROCESSING, SUCCESS (``video_result``:
``[{url, cover_image_url}]``) or FAIL. Errors carry Zhipu's numeric codes: 1301 is unsafe
content (a documented code), 1302/1303 rate limits, 1113 an exhausted balance. CogView
images: POST /images/generations answers ``{created, data: [{url}]}`` at once."""

from __future__ import annotations

from typing import Any

from mediagate.core.catalogue import Kind
from mediagate.core.errors import (
    ContentRejectedError,
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

CONTENT_CODES = ("1301",)
RATE_CODES = ("1302", "1303", "1305")
AUTH_CODES = ("1000", "1001", "1002", "1113")  # bad key, or our balance there ran out


class ZhipuProvider(HttpVendor):
    name = "zhipu"

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._creds.api_key}"}
        answer = await call_json(
            self._session, self.name, method, self._url(path), headers=headers, json=body,
            content_codes=CONTENT_CODES, rate_codes=RATE_CODES, auth_codes=AUTH_CODES,
        )  # fmt: skip
        return obj(answer)

    async def submit(self, request: GenerationRequest) -> Submitted | Finished:
        if request.spec.kind is Kind.IMAGE:
            return await self._image(request)
        params, opts = request.params, request.params.options
        body: dict[str, Any] = {
            "model": request.upstream_model or request.spec.wire_name,
            "size": params.aspect_ratio,
            "duration": params.duration_seconds,
            "request_id": request.task_id,
        }
        if request.prompt:
            body["prompt"] = request.prompt
        for name in ("quality", "with_audio", "watermark_enabled"):
            if name in opts:
                body[name] = opts[name]
        if "fps" in opts:
            body["fps"] = int(str(opts["fps"]))
        frames = [request.image("first_frame"), request.image("last_frame")]
        urls = [f.source_url or f.data_url() for f in frames if f is not None]
        if urls:
            body["image_url"] = urls[0] if len(urls) == 1 else urls
        answer = await self._call("POST", "/videos/generations", body)
        if not isinstance(answer.get("id"), str):
            raise UnavailableError(f"{self.name}: the create answer has no id")
        return Submitted(upstream_id=answer["id"], poll_after=self._poll_s)

    async def _image(self, request: GenerationRequest) -> Finished:
        """CogView answers at once: ``{created, data: [{url}], content_filter}``."""
        body: dict[str, Any] = {
            "model": request.upstream_model or request.spec.wire_name,
            "prompt": request.prompt,
            "size": request.params.aspect_ratio,
        }
        if "quality" in request.params.options:
            body["quality"] = request.params.options["quality"]
        answer = await self._call("POST", "/images/generations", body)
        urls = [str(obj(d).get("url") or "") for d in answer.get("data") or []]
        if not any(urls):
            raise UnavailableError(f"{self.name}: the image answer has no url")
        results = tuple(Result("image/png", url=u) for u in urls if u)
        return Finished(upstream_id=str(answer.get("created") or "cogview"), results=results)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        got = await self._call("GET", f"/async-result/{upstream_id}")
        status = str(got.get("task_status") or "")
        if status == "SUCCESS":
            return self._finished(obj(r).get("url") for r in got.get("video_result") or [])
        if status == "FAIL":
            code = str(obj(got.get("error")).get("code") or "")
            message = f"{self.name}: the video failed ({code or 'no code'})"
            if code in CONTENT_CODES:
                raise ContentRejectedError(message)
            raise UpstreamInvalidRequest(message)
        return Pending(progress=50, poll_after=self._poll_s)

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        got = await self._call("GET", f"/async-result/{upstream_id}")
        results = got.get("video_result") or []
        if index >= len(results):
            return None
        width, height = request.spec.size_for(request.params.aspect_ratio)
        url = str(obj(results[index]).get("url") or "")
        return await download(self._session, self.name, url, width=width, height=height)
