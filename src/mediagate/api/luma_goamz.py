"""Luma in GoAmzAI's format, as GPTNB and other aggregators serve it ("Luma → GoAmzAI格式",
paid and free): POST /luma/generations to make a video, GET /luma/generations/{id} to read it,
POST /luma/generations/{id}/extend to continue it. Each path also answers under /luma/v1 and
/luma/V1 (GoAmz's own spellings) and, for the paid variant, under /vip and /pro
(``/vip/luma/generations``); Bearer keys.

Sources (README, reference): openxs.apifox.cn api-230469153 and apiai.apifox.cn api-196118997
(the body: ``user_prompt``, ``aspect_ratio``, ``expand_prompt``, ``loop``, ``image_url``,
``image_end_url``, ``notify_hook``; the 201 answer ``{id, prompt, state: "pending",
created_at, video: null, thumbnail, last_frame, estimate_wait_seconds, liked}``),
crazyrouter's Luma page (``model_name`` ray-v1/ray-v2, ``duration``, ``resolution``, the GET
and the extend, ``video: {url, download_url}``). The free variant runs on Luma Ray Flash 2,
the paid one (or ``model_name: ray-v2``) on Luma Ray 2: the catalogue's own Luma rows, with
their prices and limits. Errors are ``{"detail": "<field>: <why>"}``, as Luma's own API."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Request, Response, get, post

from mediagate.api.common import (
    api_key,
    base_url,
    callback,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    runtime_of,
    webhook_body,
)
from mediagate.api.files import videos_with_covers
from mediagate.core.actions import act
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import image_ref
from mediagate.core.numbers import is_digits, shown
from mediagate.core.tasks import Status, Task, files
from mediagate.runtime import Runtime

FREE, PAID = "luma-ray-flash-2", "luma-ray-2"
MODELS = {"ray-v2": PAID, "ray-2": PAID, "ray-flash-2": FREE, "ray-v1": FREE}
BASES = ["/luma", "/luma/v1", "/luma/V1"]
ROOTS = [*BASES, *(p + b for p in ("/vip", "/pro") for b in BASES)]
STATE = {
    Status.WAITING: "pending",
    Status.QUEUED: "pending",
    Status.PROCESSING: "processing",
    Status.DONE: "completed",
    Status.FAILED: "failed",
    Status.CANCELLED: "failed",
}


class Body(msgspec.Struct):
    user_prompt: str = ""
    aspect_ratio: str | None = None
    expand_prompt: bool | None = None
    loop: bool | None = None
    image_url: str | None = None
    image_end_url: str | None = None
    notify_hook: str | None = None
    model_name: str | None = None
    duration: str | int | None = None
    resolution: str | None = None


class GoAmzError(msgspec.Struct):
    detail: str


FIELDS = {"prompt": "user_prompt", "duration_seconds": "duration", "images": "image_url"}


def _model(request: Request[Any, Any, Any], data: Body) -> str:
    if data.model_name is not None:
        if data.model_name not in MODELS:
            raise InvalidRequestError("model_name", f"{shown(data.model_name)}", sorted(MODELS))
        return MODELS[data.model_name]
    return PAID if request.url.path.startswith(("/vip/", "/pro/")) else FREE


def _seconds(value: str | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    text = value[:-1] if value.endswith("s") else value
    if not is_digits(text, 3):
        raise InvalidRequestError("duration", f"{shown(value)} is not a duration", ["5", "9"])
    return int(text)


def _options(data: Body) -> dict[str, object]:
    options: dict[str, object] = {}
    if data.loop is not None:
        options["loop"] = data.loop
    if data.resolution is not None:
        options["resolution"] = data.resolution
    return options


def _frames(data: Body) -> tuple[list[str], list[str]]:
    images, roles = [], []
    for field, url, role in (("image_url", data.image_url, "first_frame"),
                             ("image_end_url", data.image_end_url, "last_frame")):  # fmt: skip
        if url:
            images.append(image_ref(url, field))
            roles.append(role)
    return images, roles


def operation_id(handler: Any, method: Any, components: list[Any]) -> str:
    """An operation id per path (Litestar's own would name /luma/v1 and /luma/V1 alike)."""
    parts = [c if isinstance(c, str) else getattr(c, "name", "param") for c in components]
    return f"{str(method).lower()}_" + "_".join(parts)


@post([f"{r}/generations" for r in ROOTS], status_code=201, summary="Luma (GoAmzAI): a video",
      operation_id=operation_id)  # fmt: skip
async def create(request: Request[Any, Any, Any], data: Body) -> dict[str, Any]:
    rt = runtime_of(request)
    model = _model(request, data)
    images, roles = _frames(data)
    if not data.user_prompt.strip() and not images:
        raise InvalidRequestError("user_prompt", "is required without image_url")
    task = await rt.tasks.create(
        api_key(request), model, data.user_prompt, aspect_ratio=data.aspect_ratio,
        images=images or None, roles=roles or None, duration_seconds=_seconds(data.duration),
        options=_options(data), callback=callback(request, data.notify_hook, "luma-goamz"),
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    return await render(rt, base_url(request), task)


@post([f"{r}/generations/{{task_id:str}}/extend" for r in ROOTS], status_code=201,
      summary="Luma (GoAmzAI): extend a video", operation_id=operation_id)  # fmt: skip
async def extend(request: Request[Any, Any, Any], task_id: str, data: Body) -> dict[str, Any]:
    rt = runtime_of(request)
    images, roles = _frames(data)
    task = await act(
        rt.tasks, api_key(request), task_id, "extend", prompt=data.user_prompt,
        options=_options(data), images=images or None, roles=roles or None,
        callback=callback(request, data.notify_hook, "luma-goamz"),
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    return await render(rt, base_url(request), task)


async def render(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    """GoAmz's generation object: the video (and its still) once completed."""
    pairs = await videos_with_covers(rt, root, task) if task.status is Status.DONE else []
    created = datetime.datetime.fromtimestamp(task.created_at, datetime.UTC)
    video, still = pairs[0] if pairs else (None, None)
    width, height = rt.catalogue.get(task.model).size_for(task.params.aspect_ratio)
    return {
        "id": task.id,
        "prompt": task.prompt,
        "state": STATE[task.status],
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "estimate_wait_seconds": None,
        "video": {"url": video, "download_url": video, "width": width, "height": height}
        if video
        else None,
        "thumbnail": {"url": still} if still else None,
        "last_frame": None,
        "liked": None,
        "failure_reason": task.error.message if task.error else None,
    }


@webhook_body("luma-goamz")
def webhook(rt: Runtime, task: Task) -> bytes:
    urls = [rt.link(task.public_base, o.key) for o in files(task.outputs)]
    video = {"url": urls[0], "download_url": urls[0]} if urls else None
    return msgspec.json.encode({"id": task.id, "state": STATE[task.status], "video": video})


@get([f"{r}/generations/{{task_id:str}}" for r in ROOTS], summary="Luma (GoAmzAI): a video",
     operation_id=operation_id)  # fmt: skip
async def read(request: Request[Any, Any, Any], task_id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    return await render(rt, base_url(request), await rt.tasks.get(api_key(request), task_id))


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[GoAmzError]:
    info = classify(exc, FIELDS)
    if info is None:
        raise exc
    return Response(GoAmzError(info.message), status_code=info.status, headers=info.headers)


TAG = "luma (GoAmzAI format)"
error_body(TAG, GoAmzError)
router = dialect_router([create, extend, read], handle_error, TAG)
