"""Kling's API as an upstream (https://api.klingai.com; api-singapore.klingai.com abroad).

Auth is ``Authorization: Bearer <JWT>``: HS256 over ``{"iss": access key, "exp": now+1800,
"nbf": now-5}`` signed with the secret key (``MEDIAGATE_CREDENTIALS`` ``{"kling":
{"api_key": "<access key>", "secret_key": "..."}}``), made again 5 minutes before it
expires. A key of another new-api (``sk-...``, no secret key) is sent as a plain Bearer to
``{base}/kling/v1/...``, as new-api itself does. Answers carry ``code`` (0 is success; 1301
unsafe content, 1302/1303 rate limits, 1000-1004 auth, 1102 no balance)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from mediagate.core.catalogue import Kind
from mediagate.core.errors import (
    ContentRejectedError,
    ProviderAuthError,
    ProviderError,
    RateLimitedError,
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
from mediagate.providers.http import HttpVendor, call_json, obj

TOKEN_S = 1800
RENEW_S = 300  # make a new token this long before the old one expires
AUTH_CODES = ("1000", "1001", "1002", "1003", "1004", "1100", "1101", "1102", "1103")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_hs256(access_key: str, secret_key: str, now: float) -> str:
    """Kling's token: HS256, ``iss`` the access key, valid from 5 s ago for 30 minutes."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"iss": access_key, "exp": int(now) + TOKEN_S, "nbf": int(now) - 5}
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing = f"{header}.{payload}".encode()
    signature = _b64(hmac.new(secret_key.encode(), signing, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}"


def code_error(name: str, code: int, message: str) -> ProviderError:
    text = f"{name}: code {code}: {message}"
    if code == 1301:
        return ContentRejectedError(text)
    if code in (1302, 1303, 1304):
        return RateLimitedError(text, None)
    if str(code) in AUTH_CODES:
        return ProviderAuthError(text)
    if 5000 <= code < 6000:
        return UnavailableError(text)
    return UpstreamInvalidRequest(text)


class KlingProvider(HttpVendor):
    name = "kling"
    _token: tuple[str, float] | None = None  # (token, expires at), this adapter's own

    def _bearer(self) -> str:
        secret = self._creds.secrets.get("secret_key", "")
        if not secret:  # another new-api: its key as it is
            return self._creds.api_key
        now = self._clock()
        if self._token is None or self._token[1] - RENEW_S <= now:
            self._token = (jwt_hs256(self._creds.api_key, secret, now), now + TOKEN_S)
        return self._token[0]

    def _path(self, path: str) -> str:
        relay = not self._creds.secrets.get("secret_key")
        return f"/kling{path}" if relay else path

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._bearer()}", "User-Agent": "kling-sdk/1.0"}
        answer = obj(
            await call_json(
                self._session,
                self.name,
                method,
                self._url(self._path(path)),
                headers=headers,
                json=body,
                content_codes=("1301",),
                rate_codes=("1302", "1303", "1304"),
                auth_codes=AUTH_CODES,
            )
        )
        code = answer.get("code", 0)
        if code not in (0, None):
            raise code_error(self.name, int(code), str(answer.get("message") or ""))
        return obj(answer.get("data"))

    def _kind(self, request: GenerationRequest) -> str:
        if request.spec.kind is Kind.IMAGE:
            return "/v1/images/generations"
        return "/v1/videos/image2video" if request.params.images else "/v1/videos/text2video"

    async def submit(self, request: GenerationRequest) -> Submitted:
        params, opts = request.params, request.params.options
        body: dict[str, Any] = {
            "model_name": request.upstream_model or request.spec.wire_name,
            "prompt": request.prompt,
            "aspect_ratio": params.aspect_ratio,
        }
        for name in ("negative_prompt", "mode", "cfg_scale", "sound"):
            if name in opts:
                body[name] = opts[name]
        if request.spec.kind is Kind.IMAGE:
            body["n"] = params.sample_count
            ref = request.image("reference")
            if ref is not None:
                body["image"] = ref.source_url or ref.b64()
        else:
            body["duration"] = str(params.duration_seconds or request.spec.default_duration)
            first, last = request.image("first_frame"), request.image("last_frame")
            if first is None and request.images and not params.roles:
                first = request.images[0]
            if first is not None:
                body["image"] = first.source_url or first.b64()  # Kling wants bare base64
            if last is not None:
                body["image_tail"] = last.source_url or last.b64()
        data = await self._call("POST", self._kind(request), body)
        if not isinstance(data.get("task_id"), str):
            raise UnavailableError(f"{self.name}: the create answer has no task_id")
        return Submitted(upstream_id=data["task_id"], poll_after=self._poll_s)

    async def _task(self, request: GenerationRequest, upstream_id: str) -> dict[str, Any]:
        return await self._call("GET", f"{self._kind(request)}/{upstream_id}")

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        data = await self._task(request, upstream_id)
        status = str(data.get("task_status") or "")
        if status == "succeed":
            result = obj(data.get("task_result"))
            items = result.get("images" if request.spec.kind is Kind.IMAGE else "videos") or []
            return self._finished(obj(i).get("url") for i in items)
        if status == "failed":
            raise UpstreamInvalidRequest(
                f"{self.name}: failed: {data.get('task_status_msg') or 'no reason given'}"
            )
        if status not in ("submitted", "processing"):
            raise UnavailableError(f"{self.name}: unknown task_status {status!r}")
        return Pending(progress=50 if status == "processing" else 1, poll_after=self._poll_s)

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        result = obj((await self._task(request, upstream_id)).get("task_result"))
        items = result.get("images" if request.spec.kind is Kind.IMAGE else "videos") or []
        if index >= len(items):
            return None
        url = str(obj(items[index]).get("url") or "")
        return await self._download(request, url)
