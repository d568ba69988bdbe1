"""Runway's own API at /runwayml/v1, so the official ``runwayml`` SDK works with only its base
URL (``http://HOST/runwayml``) and key changed: image_to_video, text_to_video, text_to_image,
and GET / DELETE /tasks/{id}. ``X-Runway-Version`` is accepted (any value, or none).

A task answers Runway's task object: ``{id, status: PENDING|THROTTLED|RUNNING|SUCCEEDED|
FAILED|CANCELLED, createdAt, progress (0..1 while RUNNING), output: [url], failure,
failureCode, estimatedCost|cost: {credits}}``; credits are the task's price at 0.01 each.
Errors are Runway's ``{"error": "<field>: <why>", "issues": [{"path": [...], "message"}]}``.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post

from mediagate.api.common import (
    api_key,
    callback,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    output_urls,
    runtime_of,
)
from mediagate.core.catalogue import Kind, ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import image_ref
from mediagate.core.tasks import Status, Task
from mediagate.runtime import Runtime

RETIRED = {"gen3a_turbo": "reached end of life on 2026-07-30; use gen4_turbo or gen4.5"}
TEXT_TO_VIDEO_RATIOS = ("1280:720", "720:1280")  # gen4.5 from text alone
CREDIT_MICROS = 10_000  # one Runway credit is 0.01 of the deployment's unit


class PromptImage(msgspec.Struct):
    uri: str
    position: str = "first"


class ImageToVideo(msgspec.Struct, rename="camel"):
    model: str
    prompt_image: str | list[PromptImage]
    ratio: str
    prompt_text: str = ""
    duration: int | None = None
    seed: int | None = None
    content_moderation: dict[str, Any] | None = None


class TextToVideo(msgspec.Struct, rename="camel"):
    model: str
    prompt_text: str
    ratio: str
    duration: int | None = None
    seed: int | None = None
    content_moderation: dict[str, Any] | None = None


class Reference(msgspec.Struct):
    uri: str
    tag: str | None = None


class TextToImage(msgspec.Struct, rename="camel"):
    model: str
    prompt_text: str
    ratio: str
    reference_images: list[Reference] | None = None
    seed: int | None = None
    content_moderation: dict[str, Any] | None = None


class Created(msgspec.Struct):
    id: str


class Issue(msgspec.Struct):
    path: list[str]
    message: str


class RunwayError(msgspec.Struct):
    error: str
    issues: list[Issue] = []


FIELDS = {
    "aspect_ratio": "ratio",
    "duration_seconds": "duration",
    "images": "promptImage",
    "prompt": "promptText",
    "sample_count": "model",
}


def _spec(rt: Runtime, model: str, kind: Kind) -> ModelSpec:
    if model in RETIRED:
        raise InvalidRequestError("model", f"{model} {RETIRED[model]}")
    return rt.catalogue.family_model("runway", model, kind=kind)


async def _create(
    request: Request[Any, Any, Any],
    spec: ModelSpec,
    prompt: str,
    ratio: str,
    duration: int | None,
    seed: int | None,
    images: list[str],
    roles: list[str],
) -> Created:
    rt = runtime_of(request)
    task = await rt.tasks.create(
        api_key(request),
        spec.id,
        prompt,
        aspect_ratio=ratio,
        images=images or None,
        roles=roles or None,
        duration_seconds=duration,
        options={"seed": seed} if seed is not None else None,
        idempotency_key=idempotency_key(request),
        callback=callback(request, None, "runway"),
    )
    return Created(id=task.id)


@post("/runwayml/v1/image_to_video", status_code=200, summary="Runway: image to video")
async def image_to_video(request: Request[Any, Any, Any], data: ImageToVideo) -> Created:
    spec = _spec(runtime_of(request), data.model, Kind.VIDEO)
    given = (
        [PromptImage(uri=data.prompt_image)]
        if isinstance(data.prompt_image, str)
        else data.prompt_image
    )
    if not given:
        raise InvalidRequestError("promptImage", "is required")
    images, roles = [], []
    for i, item in enumerate(given):
        if item.position != "first":
            raise InvalidRequestError(
                f"promptImage[{i}].position",
                f"{item.position!r}: only gen3a_turbo took a last frame, and it "
                + RETIRED["gen3a_turbo"],
                ["first"],
            )
        images.append(image_ref(item.uri, f"promptImage[{i}].uri"))
        roles.append("first_frame")
    return await _create(
        request, spec, data.prompt_text, data.ratio, data.duration, data.seed, images, roles
    )


@post("/runwayml/v1/text_to_video", status_code=200, summary="Runway: text to video")
async def text_to_video(request: Request[Any, Any, Any], data: TextToVideo) -> Created:
    spec = _spec(runtime_of(request), data.model, Kind.VIDEO)
    if spec.min_images:
        raise InvalidRequestError("model", f"{data.model} needs a promptImage: image_to_video")
    if data.ratio not in TEXT_TO_VIDEO_RATIOS:
        raise InvalidRequestError(
            "ratio", f"{data.ratio!r} is not a text-to-video ratio", list(TEXT_TO_VIDEO_RATIOS)
        )
    if not data.prompt_text.strip():
        raise InvalidRequestError("promptText", "must be a non-empty string")
    return await _create(
        request, spec, data.prompt_text, data.ratio, data.duration, data.seed, [], []
    )


@post("/runwayml/v1/text_to_image", status_code=200, summary="Runway: text to image")
async def text_to_image(request: Request[Any, Any, Any], data: TextToImage) -> Created:
    spec = _spec(runtime_of(request), data.model, Kind.IMAGE)
    refs = [
        image_ref(r.uri, f"referenceImages[{i}].uri")
        for i, r in enumerate(data.reference_images or [])
    ]
    return await _create(
        request,
        spec,
        data.prompt_text,
        data.ratio,
        None,
        data.seed,
        refs,
        ["reference"] * len(refs),
    )


STATUS = {
    Status.WAITING: "PENDING",
    Status.QUEUED: "PENDING",
    Status.PROCESSING: "RUNNING",
    Status.DONE: "SUCCEEDED",
    Status.FAILED: "FAILED",
    Status.CANCELLED: "CANCELLED",
}
FAILURE_CODES = {  # mediagate's task error code -> Runway's failureCode
    "content_rejected": "SAFETY.INPUT.TEXT",
    "timeout": "INTERNAL.TIMEOUT",
    "invalid_input": "INPUT_PREPROCESSING.INTERNAL",
}


def render(task: Task, urls: list[str]) -> dict[str, Any]:
    created = datetime.datetime.fromtimestamp(task.created_at, datetime.UTC)
    status = STATUS[task.status]
    credits = task.price_micros // CREDIT_MICROS
    body: dict[str, Any] = {
        "id": task.id,
        "status": status,
        "createdAt": created.isoformat().replace("+00:00", "Z"),
    }
    if task.status.terminal:
        body["cost"] = {"credits": credits if task.status is Status.DONE else 0}
    else:
        body["estimatedCost"] = {"credits": float(credits)}
    if status == "RUNNING":
        body["progress"] = round(task.progress / 100, 2)
    if task.status is Status.DONE:
        body["output"] = urls
    if task.status is Status.FAILED and task.error is not None:
        body["failure"] = task.error.message
        body["failureCode"] = FAILURE_CODES.get(task.error.code, "INTERNAL")
    return body


@get("/runwayml/v1/tasks/{task_id:str}", summary="Runway: a task")
async def retrieve(request: Request[Any, Any, Any], task_id: str) -> dict[str, Any]:
    task = await runtime_of(request).tasks.get(api_key(request), task_id)
    return render(task, output_urls(request, task))


@delete("/runwayml/v1/tasks/{task_id:str}", status_code=204, summary="Runway: cancel or delete")
async def cancel_or_delete(request: Request[Any, Any, Any], task_id: str) -> None:
    await runtime_of(request).tasks.delete(api_key(request), task_id)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[RunwayError]:
    info = classify(exc, FIELDS)
    if info is None:
        raise exc
    issues = [Issue(path=info.param.split("."), message=info.message)] if info.param else []
    body = RunwayError(error=info.message, issues=issues)
    return Response(body, status_code=info.status, headers=info.headers)


TAG = "runway (Runway API)"
error_body(TAG, RunwayError)
router = dialect_router(
    [image_to_video, text_to_video, text_to_image, retrieve, cancel_or_delete], handle_error, TAG
)
