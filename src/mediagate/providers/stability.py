"""Stability AI as an upstream (https://api.stability.ai): ``POST
/v2beta/stable-image/generate/{ultra|core|sd3}``, multipart/form-data, Bearer key,
``accept: application/json``; synchronous: the answer is ``{image, finish_reason, seed}``,
and ``finish_reason: CONTENT_FILTERED`` is a content rejection, as is a 403 whose ``name``
is ``content_moderation`` (a documented field, not a guess at the message)."""

from __future__ import annotations

import aiohttp

from mediagate.core.errors import ContentRejectedError, UnavailableError
from mediagate.core.provider import (
    Finished,
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Result,
    Submitted,
)
from mediagate.providers.http import HttpVendor, call_json, decode_b64, obj

SD3 = "sd3"
TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class StabilityProvider(HttpVendor):
    name = "stability"

    async def submit(self, request: GenerationRequest) -> Submitted | Finished:
        opts = request.params.options
        wire = request.upstream_model or request.spec.wire_name
        endpoint = SD3 if wire.startswith("sd3") else wire
        form = aiohttp.FormData(default_to_multipart=True)  # Stability takes multipart only
        form.add_field("prompt", request.prompt)
        form.add_field("aspect_ratio", request.params.aspect_ratio)
        fmt = str(opts.get("format", "png"))
        form.add_field("output_format", fmt)
        if endpoint == SD3:
            form.add_field("model", wire)
        for name in ("negative_prompt", "style_preset", "seed", "strength", "cfg_scale"):
            if name in opts:
                form.add_field(name, str(opts[name]))
        image = request.image("edit")
        if image is not None:
            form.add_field("image", image.data, filename="image", content_type=image.content_type)
            if endpoint == SD3:
                form.add_field("mode", "image-to-image")
        headers = {"Authorization": f"Bearer {self._creds.api_key}", "accept": "application/json"}
        url = self._url(f"/v2beta/stable-image/generate/{endpoint}")
        answer = obj(
            await call_json(
                self._session,
                self.name,
                "POST",
                url,
                headers=headers,
                data=form,
                content_codes=("content_moderation",),
            )
        )
        if answer.get("finish_reason") == "CONTENT_FILTERED":
            raise ContentRejectedError(f"{self.name}: the image was filtered")
        data = decode_b64(self.name, str(answer.get("image") or ""))
        seed = str(answer.get("seed", ""))
        return Finished(upstream_id=seed or "stability", results=(Result(TYPES[fmt], data),))

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        raise UnavailableError(f"{self.name}: synchronous, nothing to poll")

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        return None

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        return None

    async def open(self, request: GenerationRequest, result: Result) -> MediaStream:
        raise UnavailableError(f"{self.name}: results come inline")
