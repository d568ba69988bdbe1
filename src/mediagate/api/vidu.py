"""Vidu's own API at /vidu/ent/v2, as Vidu documents it: POST text2video, img2video,
start-end2video and reference2video; GET /tasks/{id}/creations. Keys as
``Authorization: Token <key>`` (Vidu's scheme) or ``Bearer``.

Create answers the task as Vidu does (``{task_id, state: "created", model, images, prompt,
duration, seed, resolution, bgm, movement_amplitude, payload, created_at}``); creations are
``{id, state: created|queueing|processing|success|failed, err_code, credits, payload,
creations: [{id, url, cover_url}]}``. Errors: ``{"code": <status>, "reason", "message"}``.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection

from mediagate.api.common import (
    api_key,
    base_url,
    callback,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    key_guard,
    runtime_of,
    webhook_body,
)
from mediagate.api.files import videos_with_covers
from mediagate.core.catalogue import ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import image_ref
from mediagate.core.tasks import Status, Task, files
from mediagate.runtime import Runtime

ENDPOINTS = {  # endpoint -> (images it takes, their role)
    "text2video": (0, 0, ""),
    "img2video": (1, 1, "first_frame"),
    "start-end2video": (2, 2, ""),
    "reference2video": (1, 7, "reference"),
}
REASONS = {400: "BadRequest", 401: "Unauthorized", 402: "PaymentRequired", 403: "Forbidden",
           404: "NotFound", 409: "Conflict", 429: "TooManyRequests"}  # fmt: skip


def _token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    return header[6:] if header[:6].lower() == "token " else header


vidu_key = key_guard(_token)  # Authorization: Token <key> (Vidu's scheme) or Bearer <key>


class Body(msgspec.Struct):
    model: str
    prompt: str = ""
    images: list[str] = []
    duration: int | None = None
    seed: int | None = None
    resolution: str | None = None
    movement_amplitude: str | None = None
    bgm: bool | None = None
    payload: str | None = None
    callback_url: str | None = None
    aspect_ratio: str | None = None


class ViduError(msgspec.Struct):
    code: int
    reason: str
    message: str


FIELDS = {"duration_seconds": "duration", "images": "images"}


def _spec(rt: Runtime, model: str) -> ModelSpec:
    return rt.catalogue.family_model("vidu", model)


@post("/vidu/ent/v2/{endpoint:str}", status_code=200, summary="Vidu: create a video")
async def create(request: Request[Any, Any, Any], endpoint: str, data: Body) -> dict[str, Any]:
    if endpoint not in ENDPOINTS:
        raise InvalidRequestError("endpoint", f"{endpoint!r} is not one", sorted(ENDPOINTS))
    rt = runtime_of(request)
    spec = _spec(rt, data.model)
    low, high, role = ENDPOINTS[endpoint]
    if not low <= len(data.images) <= high:
        raise InvalidRequestError(
            "images", f"{endpoint} takes {low}..{high} images, got {len(data.images)}"
        )
    images = [image_ref(u, f"images[{i}]") for i, u in enumerate(data.images)]
    roles = ["first_frame", "last_frame"] if endpoint == "start-end2video" else [role] * len(images)
    if endpoint in ("text2video", "reference2video") and not data.prompt.strip():
        raise InvalidRequestError("prompt", f"is required by {endpoint}")
    if data.aspect_ratio is not None and endpoint not in ("text2video", "reference2video"):
        raise InvalidRequestError("aspect_ratio", f"{endpoint} takes the ratio of its images")
    options: dict[str, object] = {}
    for name in ("seed", "resolution", "movement_amplitude", "bgm", "payload"):
        if getattr(data, name) is not None:
            options[name] = getattr(data, name)
    task = await rt.tasks.create(
        api_key(request), spec.id, data.prompt, aspect_ratio=data.aspect_ratio,
        images=images or None, roles=roles or None, duration_seconds=data.duration,
        options=options, callback=callback(request, data.callback_url, "vidu"),
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    opts = task.params.options
    created = datetime.datetime.fromtimestamp(task.created_at, datetime.UTC)
    return {
        "task_id": task.id,
        "state": "created",
        "model": spec.wire_name,
        "images": data.images,
        "prompt": task.prompt,
        "duration": task.params.duration_seconds,
        "seed": opts.get("seed", task.seed % 2147483647),
        "resolution": opts.get("resolution"),
        "bgm": opts.get("bgm"),
        "movement_amplitude": opts.get("movement_amplitude"),
        "payload": opts.get("payload", ""),
        "created_at": created.isoformat().replace("+00:00", "Z"),
    }


STATE = {
    Status.WAITING: "created",
    Status.QUEUED: "queueing",
    Status.PROCESSING: "processing",
    Status.DONE: "success",
    Status.FAILED: "failed",
    Status.CANCELLED: "failed",
}
ERR_CODES = {"content_rejected": "AuditSubmitIllegal", "timeout": "TaskTimeout"}


async def render(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    pairs = await videos_with_covers(rt, root, task)
    creations = [
        {"id": f"{task.id}-{i}", "url": url, "cover_url": cover}
        for i, (url, cover) in enumerate(pairs)
    ]
    err = ""
    if task.error is not None:
        err = ERR_CODES.get(task.error.code, "InternalError")
    return {
        "id": task.id,
        "state": STATE[task.status],
        "err_code": err,
        "credits": task.price_micros // 10_000,
        "payload": task.params.options.get("payload", ""),
        "creations": creations,
    }


@webhook_body("vidu")
def webhook(rt: Runtime, task: Task) -> bytes:
    urls = [rt.link(task.public_base, o.key) for o in files(task.outputs)]
    body = {"id": task.id, "state": STATE[task.status], "creations": [{"url": u} for u in urls]}
    return msgspec.json.encode(body)


@get("/vidu/ent/v2/tasks/{task_id:str}/creations", summary="Vidu: a task's creations")
async def creations(request: Request[Any, Any, Any], task_id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    task = await rt.tasks.get(api_key(request), task_id)
    return await render(rt, base_url(request), task)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ViduError]:
    info = classify(exc, FIELDS)
    if info is None:
        raise exc
    body = ViduError(info.status, REASONS.get(info.status, "Error"), info.message)
    return Response(body, status_code=info.status, headers=info.headers)


TAG = "vidu (Vidu API)"
error_body(TAG, ViduError)
router = dialect_router([creations, create], handle_error, TAG, guard=vidu_key)
