"""The GPTNB / new-api unified video dialect: POST and GET /v1/video/generations.

The query answer is new-api's wrapped ``VideoTaskResponse`` and is a stable contract, since
new-api instances chained behind mediagate decode it into Go structs::

    {"code": "success", "message": "", "data": {
        "task_id": str, "status": "queued"|"processing"|"succeeded"|"failed",
        "url": str|null, "urls": [str], "format": "mp4", "progress": int,
        "metadata": {"duration": float, "fps": int, "width": int, "height": int, "seed": int},
        "error": {"code": int, "message": str, "type": str} | null,
        "provider": str}}   (which upstream served it; "sandbox" for test keys)

``error.code`` is an HTTP-like number (new-api declares it ``int``); ``error.type`` carries
mediagate's string code (``content_rejected``, ``timeout``, ...).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post

from mediagate.api.common import (
    TASK_ERROR_STATUS,
    api_key,
    callback,
    classify,
    dialect_router,
    idempotency_key,
    output_urls,
    poll_after_ms,
    runtime_of,
    urls_at,
    webhook_body,
)
from mediagate.core.catalogue import PLURAL, Kind, ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import image_ref
from mediagate.core.tasks import Status, Task, files, format_of
from mediagate.runtime import Runtime

STATUS_NAMES = {
    Status.WAITING: "queued",
    Status.QUEUED: "queued",
    Status.PROCESSING: "processing",
    Status.DONE: "succeeded",
    Status.FAILED: "failed",
    Status.CANCELLED: "failed",
}
FIELD_NAMES: dict[str, str] = {}


class CreateBody(msgspec.Struct):
    """Seed 004's body; ``duration``/``n``/``images`` are new-api's spellings, also taken."""

    model: str
    prompt: str
    duration_seconds: int | None = None
    duration: int | None = None
    aspect_ratio: str | None = None
    sample_count: int | None = None
    n: int | None = None
    image: str | None = None
    images: list[str] | None = None
    callback_url: str | None = None


class Submitted(msgspec.Struct):
    task_id: str


class Metadata(msgspec.Struct):
    duration: float
    fps: int
    width: int
    height: int
    seed: int


class TaskErrorBody(msgspec.Struct):
    code: int
    message: str
    type: str


class VideoTask(msgspec.Struct):
    task_id: str
    status: str
    url: str | None
    urls: list[str]
    format: str
    progress: int
    metadata: Metadata
    error: TaskErrorBody | None
    provider: str


class Envelope(msgspec.Struct):
    code: str
    message: str
    data: VideoTask | None


class ErrorBody(msgspec.Struct):
    """new-api's TaskError shape, with OpenAI's error object alongside for generic clients."""

    code: str
    message: str
    data: None
    error: dict[str, str | None]


def _images(data: CreateBody) -> list[str] | None:
    refs = [image_ref(data.image, "image")] if data.image else []
    refs += [image_ref(ref, f"images[{i}]") for i, ref in enumerate(data.images or [])]
    return refs or None


@post("/v1/video/generations", status_code=200, summary="Submit a video task (unified format)")
async def create(request: Request[Any, Any, Any], data: CreateBody) -> Submitted:
    """``image`` is an http(s) URL, a data URL or bare base64, and becomes the first frame."""
    rt = runtime_of(request)
    spec = rt.catalogue.get(data.model)
    if spec.kind is not Kind.VIDEO:
        videos = sorted(m.id for m in rt.catalogue.models.values() if m.kind is Kind.VIDEO)
        raise InvalidRequestError(
            "model",
            f"{spec.id} makes {PLURAL[spec.kind]}; use /v1/media/create or its own dialect",
            videos,
        )
    task = await rt.tasks.create(
        api_key(request),
        data.model,
        data.prompt,
        aspect_ratio=data.aspect_ratio,
        images=_images(data),
        duration_seconds=data.duration_seconds if data.duration is None else data.duration,
        sample_count=data.sample_count if data.n is None else data.n,
        idempotency_key=idempotency_key(request),
        callback=callback(request, data.callback_url, "unified"),
    )
    return Submitted(task_id=task.id)


def render(request: Request[Any, Any, Any], task: Task) -> VideoTask:
    return render_with(
        runtime_of(request).catalogue.get(task.model), task, output_urls(request, task)
    )


@webhook_body("unified")
def webhook(rt: Runtime, task: Task) -> bytes:
    data = render_with(rt.catalogue.get(task.model), task, urls_at(rt, task.public_base, task))
    return msgspec.json.encode(Envelope(code="success", message="", data=data))


def render_with(spec: ModelSpec, task: Task, urls: list[str]) -> VideoTask:
    """The task in new-api's shape, with its result links (for answers and webhooks)."""
    width, height = spec.size_for(task.params.aspect_ratio)
    found = files(task.outputs)
    first = found[0] if found else None
    error = None
    if task.error is not None:
        status = TASK_ERROR_STATUS.get(task.error.code, 500)
        error = TaskErrorBody(code=status, message=task.error.message, type=task.error.code)
    return VideoTask(
        task_id=task.id,
        status=STATUS_NAMES[task.status],
        url=urls[0] if urls else None,
        urls=urls,
        format=format_of(task.outputs, spec.format),
        progress=task.progress,
        metadata=Metadata(
            duration=float(
                first.duration_seconds
                if first and first.duration_seconds
                else task.params.duration_seconds or 0
            ),
            fps=(first.fps if first and first.fps else spec.fps) or 0,
            width=first.width if first else width,
            height=first.height if first else height,
            seed=task.seed,
        ),
        error=error,
        provider=task.provider,
    )


@get("/v1/video/generations/{task_id:str}", summary="Query a video task (unified format)")
async def result(request: Request[Any, Any, Any], task_id: str) -> Response[Envelope]:
    rt = runtime_of(request)
    task = await rt.tasks.get(api_key(request), task_id)
    headers = {}
    if not task.status.terminal:
        headers["poll-after-ms"] = str(poll_after_ms(task, rt.clock()))
    return Response(
        Envelope(code="success", message="", data=render(request, task)), headers=headers
    )


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    info = classify(exc, FIELD_NAMES)
    if info is None:
        raise exc
    detail: dict[str, str | None] = {
        "message": info.message,
        "type": info.type,
        "param": info.param,
        "code": info.code,
    }
    body = ErrorBody(code=info.code, message=info.message, data=None, error=detail)
    return Response(body, status_code=info.status, headers=info.headers)


router = dialect_router([create, result], handle_error, "unified video (GPTNB / new-api)")
