"""Luma Dream Machine as an upstream (https://api.lumalabs.ai/dream-machine/v1): Bearer key;
POST /generations/video or /generations/image answer a generation whose ``state`` GET
/generations/{id} reports (queued, dreaming, completed, failed); ``assets.video`` or
``assets.image`` hold the result; DELETE /generations/{id} removes it. Keyframes must be
public URLs, so a task whose image came inline moves to another route (Luma takes no
uploads here); an extension names the earlier generation upstream by its id."""

from __future__ import annotations

from typing import Any

import aiohttp

from mediagate.core.catalogue import Kind
from mediagate.core.errors import (
    ContentRejectedError,
    ModelNotFoundError,
    UnavailableError,
    UpstreamInvalidRequest,
)
from mediagate.core.provider import (
    GenerationRequest,
    InputImage,
    MediaStream,
    Pending,
    Ready,
    Submitted,
)
from mediagate.providers.http import HttpVendor, call_json, obj

DONE, FAILED = "completed", "failed"


class LumaProvider(HttpVendor):
    name = "luma"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._creds.api_key}"}

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        answer = await call_json(
            self._session, self.name, method, self._url(path), headers=self._headers(), json=body
        )
        return obj(answer)

    def _url_of(self, image: InputImage) -> str:
        if not image.source_url:
            raise ModelNotFoundError(f"{self.name}: keyframes and references must be public URLs")
        return image.source_url

    async def submit(self, request: GenerationRequest) -> Submitted:
        params, spec = request.params, request.spec
        body: dict[str, Any] = {
            "model": request.upstream_model or spec.wire_name,
            "prompt": request.prompt,
            "aspect_ratio": params.aspect_ratio,
        }
        if spec.kind is Kind.IMAGE:
            path = "/generations/image"
            refs = request.images_in("reference") or list(request.images)
            if refs:
                body["image_ref"] = [{"url": self._url_of(i), "weight": 0.85} for i in refs]
            if "format" in params.options:
                body["format"] = params.options["format"]
        else:
            path = "/generations/video"
            body["duration"] = f"{params.duration_seconds or spec.default_duration}s"
            for name in ("resolution", "loop"):
                if name in params.options:
                    body[name] = params.options[name]
            frames: dict[str, Any] = {}
            if params.action == "extend":
                frames["frame0"] = {"type": "generation", "id": params.parent_upstream}
            for name, role in (("frame0", "first_frame"), ("frame1", "last_frame")):
                image = request.image(role)
                if image is not None:
                    frames[name] = {"type": "image", "url": self._url_of(image)}
            if frames:
                body["keyframes"] = frames
        answer = await self._call("POST", path, body)
        if not isinstance(answer.get("id"), str):
            raise UnavailableError(f"{self.name}: the create answer has no id")
        return Submitted(upstream_id=answer["id"], poll_after=self._poll_s)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        gen = await self._call("GET", f"/generations/{upstream_id}")
        state = str(gen.get("state") or "")
        if state == DONE:
            assets = obj(gen.get("assets"))
            return self._finished(
                [assets.get("image" if request.spec.kind is Kind.IMAGE else "video")]
            )
        if state == FAILED:
            reason = str(gen.get("failure_reason") or "failed")
            # Luma gives no failure code: its moderation failures say so in the reason.
            if "moderation" in reason.lower():
                raise ContentRejectedError(f"{self.name}: {reason}")
            raise UpstreamInvalidRequest(f"{self.name}: {reason}")
        return Pending(progress=50 if state == "dreaming" else 1, poll_after=self._poll_s)

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        if index > 0:
            return None
        gen = await self._call("GET", f"/generations/{upstream_id}")
        assets = obj(gen.get("assets"))
        url = assets.get("image" if request.spec.kind is Kind.IMAGE else "video")
        if not url:
            return None
        return await self._download(request, str(url))

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        try:
            async with self._session.delete(
                self._url(f"/generations/{upstream_id}"), headers=self._headers()
            ) as resp:
                if resp.status >= 400 and resp.status != 404:
                    raise UnavailableError(f"{self.name}: delete answered HTTP {resp.status}")
        except aiohttp.ClientError as exc:
            raise UnavailableError(f"{self.name}: delete failed: {exc}") from None
