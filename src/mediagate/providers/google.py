"""Google's media models, in both of their APIs:

* the Gemini API (``vertex=False``): Veo via ``models/{m}:predictLongRunning`` then a GET on
  the operation, videos downloaded from the Files API with the key; Imagen via ``:predict``
  (inline base64). Auth ``x-goog-api-key``.
* Vertex AI (``vertex=True``): the same calls under
  ``/v1/projects/{p}/locations/{l}/publishers/google/models/{m}``, polled with a POST to
  ``:fetchPredictOperation``; videos come back as base64 or a Cloud Storage link. Auth is a
  bearer token.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import aiohttp

from mediagate.core.catalogue import Kind
from mediagate.core.errors import (
    ContentRejectedError,
    ModelNotFoundError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UpstreamInvalidRequest,
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
from mediagate.providers.http import Credentials, call_json, decode_b64, download, inline, obj

VIDEO_RATIOS = ("16:9", "9:16")
IMAGE_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
POLL_S = 10.0
FILE_ID = re.compile(r"files/([a-z0-9]+)")
# google.rpc.Code values an operation's error may carry.
RPC_INVALID, RPC_NOT_FOUND, RPC_EXHAUSTED = 3, 5, 8


def rpc_error(name: str, error: dict[str, Any]) -> ProviderError:
    code = error.get("code")
    text = f"{name}: operation failed ({code}): {error.get('message', '')}"
    if code == RPC_INVALID:
        return UpstreamInvalidRequest(text)
    if code == RPC_NOT_FOUND:
        return ModelNotFoundError(text)
    if code == RPC_EXHAUSTED:
        return RateLimitedError(text)
    return UnavailableError(text)


class GoogleProvider:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        creds: Credentials,
        clock: Clock,
        vertex: bool = False,
        poll_s: float | None = None,
    ) -> None:
        self.name = "vertex" if vertex else "gemini"
        self._poll_s = POLL_S if poll_s is None else poll_s
        self._session = session
        self._creds = creds
        self._clock = clock
        self._vertex = vertex

    # --- wire details ----------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self._vertex:
            return {"Authorization": f"Bearer {self._creds.api_key}"}
        return {"x-goog-api-key": self._creds.api_key}

    def _model_url(self, model: str) -> str:
        base = self._creds.base_url.rstrip("/")
        if self._vertex:
            c = self._creds
            where = f"projects/{c.project}/locations/{c.location}"
            return f"{base}/v1/{where}/publishers/google/models/{model}"
        return f"{base}/v1beta/models/{model}"

    async def _call(self, method: str, url: str, body: Any = None) -> dict[str, Any]:
        answer = await call_json(
            self._session, self.name, method, url, headers=self._headers(), json=body
        )
        return obj(answer)

    @staticmethod
    def _image(request: GenerationRequest) -> dict[str, str]:
        image = request.images[0]
        return {"bytesBase64Encoded": image.b64(), "mimeType": image.content_type}

    # --- the protocol ----------------------------------------------------------------------

    async def submit(self, request: GenerationRequest) -> Submitted | Finished:
        params = request.params
        if request.spec.kind is Kind.IMAGE:
            return await self._imagen(request)
        if params.aspect_ratio not in VIDEO_RATIOS:
            raise ModelNotFoundError(
                f"{self.name}: Veo makes {' or '.join(VIDEO_RATIOS)}, not {params.aspect_ratio}"
            )
        instance: dict[str, Any] = {"prompt": request.prompt}
        if request.images:
            instance["image"] = self._image(request)
        parameters: dict[str, Any] = {
            "sampleCount": params.sample_count,
            "durationSeconds": params.duration_seconds or 8,
            "aspectRatio": params.aspect_ratio,
            "resolution": "720p",
        }
        if self._vertex:
            parameters["seed"] = request.seed % 2**32
        url = f"{self._model_url(request.upstream_model)}:predictLongRunning"
        answer = await self._call("POST", url, {"instances": [instance], "parameters": parameters})
        name = answer.get("name")
        if not isinstance(name, str) or not name:
            raise UnavailableError(f"{self.name}: the answer has no operation name")
        return Submitted(upstream_id=name, poll_after=self._poll_s)

    async def _imagen(self, request: GenerationRequest) -> Finished:
        ratio = request.params.aspect_ratio
        if ratio not in IMAGE_RATIOS:
            raise ModelNotFoundError(
                f"{self.name}: Imagen makes {', '.join(IMAGE_RATIOS)}, not {ratio}"
            )
        body = {
            "instances": [{"prompt": request.prompt}],
            "parameters": {"sampleCount": request.params.sample_count, "aspectRatio": ratio},
        }
        answer = await self._call(
            "POST", f"{self._model_url(request.upstream_model)}:predict", body
        )
        results, filtered = [], []
        for item in answer.get("predictions") or []:
            item = obj(item)
            if isinstance(item.get("bytesBase64Encoded"), str):
                data = decode_b64(self.name, item["bytesBase64Encoded"])
                results.append(
                    Result(content_type=str(item.get("mimeType") or "image/png"), data=data)
                )
            elif item.get("raiFilteredReason"):
                filtered.append(str(item["raiFilteredReason"]))
        if not results:
            reason = "; ".join(filtered) or "no image came back"
            raise ContentRejectedError(f"{self.name}: {reason}")
        return Finished(upstream_id=f"{request.upstream_model}:predict", results=tuple(results))

    async def _operation(self, request: GenerationRequest, upstream_id: str) -> dict[str, Any]:
        if self._vertex:
            url = f"{self._model_url(request.upstream_model)}:fetchPredictOperation"
            return await self._call("POST", url, {"operationName": upstream_id})
        return await self._call("GET", f"{self._creds.base_url.rstrip('/')}/v1beta/{upstream_id}")

    def _samples(self, op: dict[str, Any]) -> list[dict[str, Any]]:
        """The finished operation's videos; raises for an error or a filtered result."""
        if isinstance(op.get("error"), dict):
            raise rpc_error(self.name, op["error"])
        response = obj(op.get("response"))
        if self._vertex:
            videos = [obj(v) for v in response.get("videos") or []]
        else:
            inner = obj(response.get("generateVideoResponse"))
            videos = [obj(obj(s).get("video")) for s in inner.get("generatedSamples") or []]
            response = inner
        if not videos:
            reasons = response.get("raiMediaFilteredReasons") or []
            if response.get("raiMediaFilteredCount"):
                raise ContentRejectedError(
                    f"{self.name}: {'; '.join(map(str, reasons)) or 'filtered'}"
                )
            raise UnavailableError(f"{self.name}: the operation finished without a video")
        return videos

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        op = await self._operation(request, upstream_id)
        if not op.get("done"):
            return Pending(progress=50, poll_after=self._poll_s)
        self._samples(op)
        return Ready()

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int) -> MediaStream:
        videos = self._samples(await self._operation(request, upstream_id))
        if index >= len(videos):
            raise UnavailableError(
                f"{self.name}: {len(videos)} video(s) came back, not {index + 1}"
            )
        video = videos[index]
        width, height = request.spec.size_for(request.params.aspect_ratio)
        seconds = float(request.params.duration_seconds or 0) or None
        encoded = video.get("bytesBase64Encoded") or video.get("encodedVideo")
        if isinstance(encoded, str):
            data = decode_b64(self.name, encoded)
            ctype = str(video.get("mimeType") or video.get("encoding") or "video/mp4")
            return MediaStream(ctype, inline(data), width, height, seconds, request.spec.fps)
        return await download(
            self._session,
            self.name,
            self._video_url(video),
            headers=self._headers(),
            content_type="video/mp4",
            width=width,
            height=height,
            duration_seconds=seconds,
            fps=request.spec.fps,
        )

    def _video_url(self, video: dict[str, Any]) -> str:
        uri = str(video.get("uri") or video.get("gcsUri") or "")
        if uri.startswith("gs://"):
            bucket, _, path = uri[5:].partition("/")
            return (
                "https://storage.googleapis.com/download/storage/v1/b/"
                f"{bucket}/o/{quote(path, safe='')}?alt=media"
            )
        match = FILE_ID.search(uri)
        if not match:
            raise UnavailableError(f"{self.name}: the video link {uri!r} is not a Files API link")
        # As Google's SDK does: the file id, fetched from the configured endpoint.
        return (
            f"{self._creds.base_url.rstrip('/')}/v1beta/files/{match.group(1)}:download?alt=media"
        )

    async def open(self, request: GenerationRequest, result: Result) -> MediaStream:
        raise UnavailableError(f"{self.name}: images come inline, never as links")

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        """Neither API documents cancelling a Veo operation; the task ends on our side."""
        return None
