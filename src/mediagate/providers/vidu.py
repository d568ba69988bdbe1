"""Vidu as an upstream (https://api.vidu.com): ``Authorization: Token <key>`` (Vidu's
scheme, not Bearer); ``POST /ent/v2/{text2video|img2video|start-end2video|reference2video}``
by what the task's images are; ``GET /ent/v2/tasks/{id}/creations`` reports created,
queueing, processing, success (``creations``) or failed (``err_code``: an Audit* code is a
content rejection, a documented code)."""

from __future__ import annotations

from typing import Any

from mediagate.core.errors import ContentRejectedError, UnavailableError, UpstreamInvalidRequest
from mediagate.core.provider import (
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Submitted,
)
from mediagate.providers.http import HttpVendor, call_json, download, obj


class ViduProvider(HttpVendor):
    name = "vidu"

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = {"Authorization": f"Token {self._creds.api_key}"}
        return obj(
            await call_json(
                self._session, self.name, method, self._url(path), headers=headers, json=body
            )
        )

    def _endpoint(self, request: GenerationRequest) -> str:
        roles = set(request.params.roles)
        if "reference" in roles:
            return "reference2video"
        if "last_frame" in roles:
            return "start-end2video"
        return "img2video" if request.params.images else "text2video"

    async def submit(self, request: GenerationRequest) -> Submitted:
        params, opts = request.params, request.params.options
        endpoint = self._endpoint(request)
        body: dict[str, Any] = {
            "model": request.upstream_model or request.spec.wire_name,
            "duration": params.duration_seconds,
        }
        if request.prompt:
            body["prompt"] = request.prompt
        if endpoint in ("text2video", "reference2video"):
            body["aspect_ratio"] = params.aspect_ratio
        for name in ("seed", "resolution", "movement_amplitude", "bgm", "payload"):
            if name in opts:
                body[name] = opts[name]
        ordered = [request.image("first_frame"), request.image("last_frame")]
        images = [i for i in ordered if i is not None] or request.images_in("reference")
        if images:
            body["images"] = [i.source_url or i.data_url() for i in images]
        answer = await self._call("POST", f"/ent/v2/{endpoint}", body)
        if answer.get("state") == "failed":
            raise UpstreamInvalidRequest(
                f"{self.name}: refused at create: {answer.get('err_code')}"
            )
        if not isinstance(answer.get("task_id"), str):
            raise UnavailableError(f"{self.name}: the create answer has no task_id")
        return Submitted(upstream_id=answer["task_id"], poll_after=self._poll_s)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        got = await self._call("GET", f"/ent/v2/tasks/{upstream_id}/creations")
        state = str(got.get("state") or "")
        if state == "success":
            return Ready()
        if state == "failed":
            code = str(got.get("err_code") or "")
            message = f"{self.name}: failed: {code or 'no code'}"
            if code.startswith("Audit"):
                raise ContentRejectedError(message)
            raise UpstreamInvalidRequest(message)
        return Pending(progress=50 if state == "processing" else 1, poll_after=self._poll_s)

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        got = await self._call("GET", f"/ent/v2/tasks/{upstream_id}/creations")
        made = got.get("creations") or []
        if index >= len(made):
            return None
        width, height = request.spec.size_for(request.params.aspect_ratio)
        url = str(obj(made[index]).get("url") or "")
        return await download(self._session, self.name, url, width=width, height=height)
