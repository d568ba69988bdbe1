"""Ideogram as an upstream (https://api.ideogram.ai), synchronous: ``Api-Key`` auth.

V_3 calls ``/v1/ideogram-v3/{generate|edit|remix|reframe}`` (multipart); the V_2 family
calls the legacy ``/generate`` (JSON ``image_request``) and ``/remix`` (multipart
``image_request`` + ``image_file``); ``/upscale`` and ``/describe`` serve every model. The
answer's ``data[].url`` links expire after about a day: they are streamed into storage at
once. A 422 is Ideogram's safety check: a content rejection (its documented status)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

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
    TextResult,
)
from mediagate.providers.http import HttpVendor, call_json, download, obj

V3 = "V_3"
OPTIONS = {"magic_prompt": "magic_prompt_option", "style_type": "style_type",
           "negative_prompt": "negative_prompt", "seed": "seed", "image_weight": "image_weight",
           "resemblance": "resemblance", "detail": "detail",
           "rendering_speed": "rendering_speed"}  # fmt: skip


class IdeogramProvider(HttpVendor):
    name = "ideogram"

    async def _call(self, path: str, *, json_body: Any = None, form: Any = None) -> dict[str, Any]:
        headers = {"Api-Key": self._creds.api_key}
        answer = await call_json(
            self._session, self.name, "POST", self._url(path), headers=headers,
            json=json_body, data=form, content_statuses=(422,),
        )  # fmt: skip
        return obj(answer)

    def _fields(self, request: GenerationRequest, v3: bool) -> dict[str, Any]:
        params = request.params
        fields: dict[str, Any] = {"prompt": request.prompt, "num_images": params.sample_count}
        for ours, theirs in OPTIONS.items():
            if ours in params.options:
                fields["magic_prompt" if v3 and ours == "magic_prompt" else theirs] = (
                    params.options[ours]
                )
        ratio = params.aspect_ratio
        if "x" in ratio:
            fields["resolution"] = ratio
        elif v3:
            fields["aspect_ratio"] = ratio.replace(":", "x")
        else:
            fields["aspect_ratio"] = "ASPECT_" + ratio.replace(":", "_")
        if not v3:
            fields["model"] = request.upstream_model or request.spec.wire_name
        return fields

    def _form(
        self, request: GenerationRequest, fields: dict[str, Any], as_json: bool
    ) -> aiohttp.FormData:
        form = aiohttp.FormData(default_to_multipart=True)
        if as_json:
            form.add_field("image_request", json.dumps(fields))  # a JSON string field
        else:
            for name, value in fields.items():
                form.add_field(name, str(value))
        for role, field in (("edit", "image_file" if as_json else "image"), ("mask", "mask")):
            image = request.image(role)
            if image is not None:
                form.add_field(field, image.data, filename=role, content_type=image.content_type)
        return form

    async def submit(self, request: GenerationRequest) -> Submitted | Finished:
        action = request.params.action or "generate"
        v3 = (request.upstream_model or request.spec.wire_name) == V3
        fields = self._fields(request, v3)
        if action == "describe":
            answer = await self._call("/describe", form=self._form(request, {}, as_json=True))
            said = tuple(
                TextResult(str(obj(d).get("text") or ""), role="description")
                for d in answer.get("descriptions") or []
            )
            return Finished(upstream_id="describe", results=(), texts=said)
        if action == "upscale":
            answer = await self._call("/upscale", form=self._form(request, fields, as_json=True))
        elif v3:
            if action == "reframe":
                fields.pop("prompt", None)
            answer = await self._call(
                f"/v1/ideogram-v3/{action}", form=self._form(request, fields, as_json=False)
            )
        elif action == "remix":
            answer = await self._call("/remix", form=self._form(request, fields, as_json=True))
        elif action == "generate":
            answer = await self._call("/generate", json_body={"image_request": fields})
        else:
            raise UpstreamInvalidRequest(f"{self.name}: {action} needs Ideogram 3.0")
        data = [obj(d) for d in answer.get("data") or []]
        if any(d.get("is_image_safe") is False for d in data):
            raise ContentRejectedError(f"{self.name}: an image failed the safety check")
        results = tuple(Result("image/png", url=str(d["url"])) for d in data if d.get("url"))
        return Finished(upstream_id=str(answer.get("created") or "ideogram"), results=results)

    async def open(self, request: GenerationRequest, result: Result) -> MediaStream:
        width, height = request.spec.size_for(request.params.aspect_ratio)
        return await download(
            self._session, self.name, result.url or "", width=width, height=height
        )

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        raise UnavailableError(f"{self.name}: synchronous, nothing to poll")

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        return None

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        return None
