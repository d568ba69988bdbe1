"""Zhipu's CogVideoX in its own API at /cogvideox/v4, so the official ``zhipuai`` SDK works
with only its base URL (``http://HOST/cogvideox/v4``) and key changed:
``POST /videos/generations`` and ``GET /async-result/{id}``, and CogView's synchronous
``POST /images/generations`` (the SDK's ``images.generations``).

Create answers ``{id, request_id, model, task_status: "PROCESSING", video_result: []}``; a
result is ``{model, request_id, task_status: PROCESSING|SUCCESS|FAIL, video_result:
[{url, cover_image_url}]}``. ``image_url`` is one image (the first frame) or two (first and
last). Errors are Zhipu's ``{"error": {"code": "1214", "message": "<field>: <why>"}}``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post

from mediagate.api.common import (
    TASK_ERROR_STATUS,
    api_key,
    base_url,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    runtime_of,
    urls_at,
)
from mediagate.api.files import videos_with_covers
from mediagate.core.catalogue import Kind, ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import image_ref
from mediagate.core.tasks import Status, Task
from mediagate.runtime import Runtime

# Zhipu's error codes: 1214 a bad parameter, 1301 unsafe content, 1000s auth, 1113 balance.
CODES = {400: "1214", 401: "1000", 402: "1113", 403: "1220", 404: "1214", 429: "1302"}


class CreateBody(msgspec.Struct):
    model: str
    prompt: str = ""
    image_url: str | list[str] | None = None
    quality: str | None = None
    with_audio: bool | None = None
    watermark_enabled: bool | None = None
    size: str | None = None
    fps: int | None = None
    duration: int | None = None
    request_id: str | None = None
    user_id: str | None = None
    sensitive_word_check: dict[str, Any] | None = None


class ImageBody(msgspec.Struct):
    """Zhipu's images.generations (CogView), answered synchronously."""

    model: str
    prompt: str
    size: str | None = None
    quality: str | None = None
    user_id: str | None = None
    request_id: str | None = None


class ErrorDetail(msgspec.Struct):
    code: str
    message: str


class ZhipuError(msgspec.Struct):
    error: ErrorDetail


FIELDS = {"aspect_ratio": "size", "duration_seconds": "duration", "images": "image_url"}


def _spec(rt: Runtime, model: str, kind: Kind = Kind.VIDEO) -> ModelSpec:
    return rt.catalogue.family_model("cogvideox", model, kind=kind)


@post("/cogvideox/v4/videos/generations", status_code=200, summary="CogVideoX: create a video")
async def create(request: Request[Any, Any, Any], data: CreateBody) -> dict[str, Any]:
    rt = runtime_of(request)
    spec = _spec(rt, data.model)
    given = [data.image_url] if isinstance(data.image_url, str) else list(data.image_url or [])
    if len(given) > 2:
        raise InvalidRequestError("image_url", f"{len(given)} images; at most 2 (first, last)")
    images = [image_ref(u, f"image_url[{i}]") for i, u in enumerate(given)]
    roles = ["first_frame", "last_frame"][: len(images)]
    if not data.prompt.strip() and not images:
        raise InvalidRequestError("prompt", "prompt or image_url is required")
    options: dict[str, object] = {}
    for name in ("quality", "with_audio", "watermark_enabled"):
        if getattr(data, name) is not None:
            options[name] = getattr(data, name)
    if data.fps is not None:
        options["fps"] = str(data.fps)
    task = await rt.tasks.create(
        api_key(request), spec.id, data.prompt, aspect_ratio=data.size,
        images=images or None, roles=roles or None, duration_seconds=data.duration,
        options=options, idempotency_key=idempotency_key(request) or data.request_id,
    )  # fmt: skip
    return {
        "id": task.id,
        "request_id": data.request_id or task.id,
        "model": spec.wire_name,
        "task_status": "PROCESSING",
        "video_result": [],
    }


WAIT_MARGIN_S = 30.0


@post("/cogvideox/v4/images/generations", status_code=200, summary="CogView: an image")
async def images(request: Request[Any, Any, Any], data: ImageBody) -> Response[Any]:
    """Zhipu's images.generations: the request waits for the image and answers
    ``{created, data: [{url}], content_filter}``, as Zhipu does."""
    rt = runtime_of(request)
    spec = _spec(rt, data.model, Kind.IMAGE)
    options: dict[str, object] | None = {"quality": data.quality} if data.quality else None
    key = api_key(request)
    task = await rt.tasks.create(
        key, spec.id, data.prompt, aspect_ratio=data.size, options=options,
        idempotency_key=idempotency_key(request) or data.request_id,
    )  # fmt: skip
    task = await rt.tasks.wait(key, task.id, spec.deadline_s + WAIT_MARGIN_S)
    if task.status is not Status.DONE:
        error = task.error
        status = TASK_ERROR_STATUS.get(error.code, 500) if error else 504
        code = "1301" if error and error.code == "content_rejected" else CODES.get(status, "500")
        message = error.message if error else f"task {task.id} is still running"
        body = ZhipuError(error=ErrorDetail(code=code, message=message))
        return Response(body, status_code=status, headers={"x-mediagate-task-id": task.id})
    root = base_url(request)
    data_out = [{"url": url} for url in urls_at(rt, root, task)]
    answer = {"created": int(task.created_at), "data": data_out, "content_filter": []}
    return Response(answer, headers={"x-mediagate-task-id": task.id})


STATUS = {Status.DONE: "SUCCESS", Status.FAILED: "FAIL", Status.CANCELLED: "FAIL"}


async def render(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    pairs = await videos_with_covers(rt, root, task)
    results = [{"url": url, "cover_image_url": cover} for url, cover in pairs]
    body: dict[str, Any] = {
        "id": task.id,
        "model": rt.catalogue.get(task.model).wire_name,
        "request_id": task.id,
        "task_status": STATUS.get(task.status, "PROCESSING"),
        "video_result": results,
    }
    if task.error is not None:
        body["error"] = {"code": task.error.code, "message": task.error.message}
    return body


@get("/cogvideox/v4/async-result/{task_id:str}", summary="CogVideoX: a video's result")
async def result(request: Request[Any, Any, Any], task_id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    task = await rt.tasks.get(api_key(request), task_id)
    return await render(rt, base_url(request), task)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ZhipuError]:
    info = classify(exc, FIELDS)
    if info is None:
        raise exc
    code = "1301" if info.code == "banned_prompt" else CODES.get(info.status, "500")
    body = ZhipuError(error=ErrorDetail(code=code, message=info.message))
    return Response(body, status_code=info.status, headers=info.headers)


TAG = "cogvideox (Zhipu API)"
error_body(TAG, ZhipuError)
router = dialect_router([create, result, images], handle_error, TAG)
