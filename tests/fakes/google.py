"""A fake of Google's media APIs, from the public docs: the Gemini API (Veo
``:predictLongRunning`` + operation GET + Files API download; Imagen ``:predict``) and
Vertex AI (the same under /v1/projects/…, polled with ``:fetchPredictOperation``).

Prompt tokens: ``[fake:filtered]`` finishes the operation with raiMediaFilteredCount and no
video; ``[fake:op-error]`` finishes it with a google.rpc error (code 13). ``polls`` is how
many polls an operation stays running."""

from __future__ import annotations

import base64
import itertools
import re
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor, sample_image, sample_mp4

MODEL = re.compile(r"^(veo|imagen)-[0-9a-z.-]+$")
VERTEX = re.compile(
    r"^/v1/projects/([^/]+)/locations/([^/]+)/publishers/google/models/([^/:]+):(\w+)$"
)
GEMINI = re.compile(r"^/v1beta/models/([^/:]+):(\w+)$")
OPERATION = re.compile(r"^/v1beta/(models/[^/]+/operations/[a-z0-9]+)$")
FILE = re.compile(r"^/v1beta/files/([a-z0-9]+):download$")


def rpc(status: int, name: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": status, "message": message, "status": name}}, status=status
    )


class FakeGoogle(FakeVendor):
    name = "google"

    def __init__(
        self, api_key: str = "goog-test-key", token: str = "ya29.test", polls: int = 2
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.token = token
        self.polls = polls
        self.operations: dict[str, dict[str, Any]] = {}
        self._seq = itertools.count(1)
        self.video = sample_mp4(1280, 720, 1)

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/v1beta/{tail:.*}", self.gemini)
        app.router.add_route("*", "/v1/{tail:.*}", self.vertex)

    # --- the Gemini API --------------------------------------------------------------------

    async def gemini(self, request: web.Request) -> web.StreamResponse:
        key = request.headers.get("x-goog-api-key") or request.query.get("key")
        if key != self.api_key:
            return rpc(403, "PERMISSION_DENIED", "API key not valid. Please pass a valid API key.")
        path = request.path
        if match := FILE.match(path):
            name = f"{match.group(1)}.mp4"
            if name not in self.files:
                return rpc(404, "NOT_FOUND", "file not found")
            request.match_info["name"] = name  # type: ignore[index]
            return await self.serve_file(request)
        if match := OPERATION.match(path):
            return self._poll(match.group(1), vertex=False)
        match = GEMINI.match(path)
        if not match or request.method != "POST":
            return rpc(404, "NOT_FOUND", f"no route {request.method} {path}")
        model, verb = match.groups()
        return await self._model_call(request, model, verb, f"models/{model}", vertex=False)

    # --- Vertex AI -------------------------------------------------------------------------

    async def vertex(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return rpc(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        match = VERTEX.match(request.path)
        if not match or request.method != "POST":
            return rpc(404, "NOT_FOUND", f"no route {request.method} {request.path}")
        project, location, model, verb = match.groups()
        prefix = f"projects/{project}/locations/{location}/publishers/google/models/{model}"
        if verb == "fetchPredictOperation":
            body = await request.json()
            return self._poll(str(body.get("operationName", "")), vertex=True)
        return await self._model_call(request, model, verb, prefix, vertex=True)

    # --- shared ----------------------------------------------------------------------------

    async def _model_call(
        self, request: web.Request, model: str, verb: str, prefix: str, vertex: bool
    ) -> web.Response:
        if not MODEL.match(model) or "retired" in model:
            return rpc(404, "NOT_FOUND", f"models/{model} is not found for API version v1beta")
        body = await request.json()
        instances = body.get("instances") or []
        if not instances or not isinstance(instances[0].get("prompt"), str):
            return rpc(400, "INVALID_ARGUMENT", "instances[0].prompt is required")
        params = body.get("parameters") or {}
        if verb == "predict":
            return self._imagen(instances[0]["prompt"], params)
        if verb != "predictLongRunning":
            return rpc(404, "NOT_FOUND", f"no method {verb}")
        image = instances[0].get("image")
        if image is not None and not (
            image.get("bytesBase64Encoded") or (image.get("inlineData") or {}).get("data")
        ):
            return rpc(400, "INVALID_ARGUMENT", "image needs bytesBase64Encoded")
        if str(params.get("aspectRatio", "16:9")) not in ("16:9", "9:16"):
            return rpc(400, "INVALID_ARGUMENT", "aspectRatio must be 16:9 or 9:16")
        name = f"{prefix}/operations/op{next(self._seq)}x"
        self.operations[name] = {
            "prompt": instances[0]["prompt"],
            "samples": int(params.get("sampleCount") or 1),
            "polls": 0,
        }
        return web.json_response({"name": name})

    def _imagen(self, prompt: str, params: dict[str, Any]) -> web.Response:
        count = int(params.get("sampleCount") or 1)
        if "[fake:filtered]" in prompt:
            return web.json_response({"predictions": [{"raiFilteredReason": "filtered by safety"}]})
        data = base64.b64encode(sample_image("PNG", (128, 72))).decode()
        predictions = [{"bytesBase64Encoded": data, "mimeType": "image/png"} for _ in range(count)]
        return web.json_response({"predictions": predictions})

    def _poll(self, name: str, vertex: bool) -> web.Response:
        op = self.operations.get(name)
        if op is None:
            return rpc(404, "NOT_FOUND", f"operation {name} not found")
        op["polls"] += 1
        if op["polls"] < self.polls:
            return web.json_response({"name": name, "done": False})
        if "[fake:op-error]" in op["prompt"]:
            return web.json_response({"name": name, "done": True,
                                      "error": {"code": 13, "message": "internal error"}})  # fmt: skip
        filtered = "[fake:filtered]" in op["prompt"]
        if vertex:
            videos = [] if filtered else [
                {"bytesBase64Encoded": base64.b64encode(self.video).decode(), "mimeType": "video/mp4"}
            ] * op["samples"]  # fmt: skip
            response: dict[str, Any] = {
                "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
                "videos": videos,
                "raiMediaFilteredCount": 1 if filtered else 0,
            }
        else:
            samples = []
            for i in range(0 if filtered else op["samples"]):
                file_id = f"{name.rsplit('/', 1)[-1]}f{i}"
                self.add_file(f"{file_id}.mp4", self.video, "video/mp4")
                uri = f"https://generativelanguage.googleapis.com/v1beta/files/{file_id}:download?alt=media"
                samples.append({"video": {"uri": uri}})
            inner: dict[str, Any] = {"generatedSamples": samples}
            if filtered:
                inner = {
                    "raiMediaFilteredCount": 1,
                    "raiMediaFilteredReasons": ["may violate our policies"],
                }
            response = {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": inner,
            }
        return web.json_response({"name": name, "done": True, "response": response})
