"""Black Forest Labs as an upstream (https://api.bfl.ai; regional api.eu.bfl.ai and
api.us.bfl.ai): ``x-key`` auth; ``POST /v1/<endpoint>`` answers ``{id, polling_url}``, and
the ``polling_url`` must be the one polled (the global endpoint routes jobs to a region).
The task keeps that URL as its upstream id; it is only called when it is on the configured
base URL's host or a ``*.bfl.ai`` host, so a broken answer cannot send our key elsewhere.
``Ready`` carries ``result.sample``, a signed link that expires in about ten minutes: the
engine fetches it in the step right after the poll that saw it. ``Request Moderated`` and
``Content Moderated`` are content rejections."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

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
from mediagate.providers.http import HttpVendor, call_json, obj, percent

MODERATED = ("Request Moderated", "Content Moderated")
IMAGE_FIELDS = ["input_image", *(f"input_image_{i}" for i in range(2, 10))]


class BflProvider(HttpVendor):
    name = "bfl"

    async def _call(self, method: str, url: str, body: Any = None) -> dict[str, Any]:
        headers = {"x-key": self._creds.api_key, "accept": "application/json"}
        return obj(
            await call_json(self._session, self.name, method, url, headers=headers, json=body)
        )

    def _trusted(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        base = (urlsplit(self._creds.base_url).hostname or "").lower()
        return urlsplit(url).scheme in ("http", "https") and (
            host == base or host == "bfl.ai" or host.endswith(".bfl.ai")
        )

    async def submit(self, request: GenerationRequest) -> Submitted:
        params, opts = request.params, request.params.options
        body: dict[str, Any] = {"prompt": request.prompt}
        ratio = params.aspect_ratio
        if "x" in ratio:
            width, height = request.spec.size_for(ratio)
            body.update(width=width, height=height)
        else:
            body["aspect_ratio"] = ratio
        for name in ("seed", "prompt_upsampling", "safety_tolerance", "raw", "guidance", "steps"):
            if name in opts:
                body[name] = opts[name]
        if "image_prompt_strength" in opts:
            body["image_prompt_strength"] = opts["image_prompt_strength"]
        body["output_format"] = opts.get("format", "jpeg")
        for field, image in zip(IMAGE_FIELDS, request.images, strict=False):
            body[field] = image.source_url or image.b64()
        endpoint = request.upstream_model or request.spec.wire_name
        answer = await self._call("POST", self._url(f"/v1/{endpoint}"), body)
        job = answer.get("id")
        if not isinstance(job, str):
            raise UnavailableError(f"{self.name}: the create answer has no id")
        polling = str(answer.get("polling_url") or self._url(f"/v1/get_result?id={job}"))
        if not self._trusted(polling):
            raise UnavailableError(f"{self.name}: refused to poll {polling!r}: not BFL's host")
        return Submitted(upstream_id=polling, poll_after=self._poll_s)

    async def _result(self, upstream_id: str) -> dict[str, Any]:
        if not self._trusted(upstream_id):
            raise UpstreamInvalidRequest(f"{self.name}: not a BFL polling URL: {upstream_id!r}")
        return await self._call("GET", upstream_id)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        got = await self._result(upstream_id)
        status = str(got.get("status") or "")
        if status == "Ready":  # its sample link lives about 10 minutes: stored now
            return self._finished([obj(got.get("result")).get("sample")])
        if status in MODERATED:
            raise ContentRejectedError(f"{self.name}: {status}")
        if status == "Error":
            raise UnavailableError(f"{self.name}: the job failed: {got.get('details') or ''}")
        if status == "Task not found":
            raise UpstreamInvalidRequest(f"{self.name}: the job is not known upstream")
        return Pending(
            progress=percent(int(float(got.get("progress") or 0) * 100)), poll_after=self._poll_s
        )

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        if index > 0:
            return None
        sample = obj((await self._result(upstream_id)).get("result")).get("sample")
        if not sample:
            raise UnavailableError(f"{self.name}: Ready without a sample")
        return await self._download(request, str(sample))
