"""Luma Dream Machine's own API at /luma/dream-machine/v1, so the official ``lumaai`` SDK works
with only its base URL (``http://HOST/luma/dream-machine/v1``) and key changed: POST
/generations (also /generations/video) and /generations/image, GET /generations/{id}, GET
/generations (a page), DELETE /generations/{id}.

A generation is ``{id, generation_type, state: queued|dreaming|completed|failed,
failure_reason, created_at, assets: {video|image}, model, request}``. Keyframes: ``frame0``
and ``frame1`` of ``{"type": "image", "url"}`` open and end the video; ``frame0`` of
``{"type": "generation", "id"}`` extends that earlier video (a follow-up task). Errors are
``{"detail": "<field>: <why>"}``; ``callback_url`` gets the generation when it ends.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post

from mediagate.api.common import (
    api_key,
    base_url,
    callback,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    runtime_of,
    urls_at,
    webhook_body,
)
from mediagate.api.files import videos_with_covers
from mediagate.core.actions import act
from mediagate.core.catalogue import Kind, ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import image_ref
from mediagate.core.numbers import is_digits, shown
from mediagate.core.tasks import Status, Task
from mediagate.runtime import Runtime

ROOT = "/luma/dream-machine/v1"
RETIRED = {"ray-1-6": "is legacy at Luma; use ray-2 or ray-flash-2"}


class Frame(msgspec.Struct):
    type: str
    url: str | None = None
    id: str | None = None


class Keyframes(msgspec.Struct):
    frame0: Frame | None = None
    frame1: Frame | None = None


class VideoBody(msgspec.Struct):
    model: str
    prompt: str = ""
    aspect_ratio: str | None = None
    resolution: str | None = None
    duration: str | None = None
    loop: bool | None = None
    keyframes: Keyframes | None = None
    callback_url: str | None = None
    generation_type: str | None = None
    concepts: list[dict[str, Any]] | None = None


class Ref(msgspec.Struct):
    url: str
    weight: float | None = None


class ImageBody(msgspec.Struct):
    model: str
    prompt: str = ""
    aspect_ratio: str | None = None
    format: str | None = None
    image_ref: list[Ref] | None = None
    style_ref: list[Ref] | None = None
    character_ref: dict[str, Any] | None = None
    modify_image_ref: dict[str, Any] | None = None
    callback_url: str | None = None
    generation_type: str | None = None
    sync: bool | None = None


class LumaError(msgspec.Struct):
    detail: str


FIELDS = {"duration_seconds": "duration", "images": "keyframes"}


def _spec(rt: Runtime, model: str, kind: Kind) -> ModelSpec:
    if model in RETIRED:
        raise InvalidRequestError("model", f"{model} {RETIRED[model]}")
    return rt.catalogue.family_model("luma", model, kind=kind)


def _seconds(duration: str | None) -> int | None:
    if duration is None:
        return None
    if not duration.endswith("s") or not is_digits(duration[:-1], 3):
        raise InvalidRequestError("duration", f"{shown(duration)} is not a duration", ["5s", "9s"])
    return int(duration[:-1])


@post([f"{ROOT}/generations", f"{ROOT}/generations/video"], status_code=201, summary="Luma: video")
async def create_video(request: Request[Any, Any, Any], data: VideoBody) -> dict[str, Any]:
    rt = runtime_of(request)
    spec = _spec(rt, data.model, Kind.VIDEO)
    options: dict[str, object] = {}
    if data.resolution is not None:
        options["resolution"] = data.resolution
    if data.loop is not None:
        options["loop"] = data.loop
    images, roles, parent = [], [], None
    frames = data.keyframes or Keyframes()
    for name, frame, role in (
        ("frame0", frames.frame0, "first_frame"),
        ("frame1", frames.frame1, "last_frame"),
    ):
        if frame is None:
            continue
        if frame.type == "image" and frame.url:
            images.append(image_ref(frame.url, f"keyframes.{name}.url"))
            roles.append(role)
        elif frame.type == "generation" and frame.id and name == "frame0":
            parent = frame.id
        elif frame.type == "generation":
            raise InvalidRequestError(
                f"keyframes.{name}", "extending backwards (a generation as frame1) is not supported"
            )
        else:
            raise InvalidRequestError(
                f"keyframes.{name}", "needs type image with a url, or type generation with an id"
            )
    hook = callback(request, data.callback_url, "luma")
    seconds = _seconds(data.duration)
    if parent is not None:
        task = await act(
            rt.tasks, api_key(request), parent, "extend", prompt=data.prompt,
            options=options, images=images or None, roles=roles or None, callback=hook,
            idempotency_key=idempotency_key(request),
        )  # fmt: skip
    else:
        if not data.prompt.strip() and not images:
            raise InvalidRequestError("prompt", "is required without keyframes")
        task = await rt.tasks.create(
            api_key(request), spec.id, data.prompt, aspect_ratio=data.aspect_ratio,
            images=images or None, roles=roles or None, duration_seconds=seconds,
            options=options, callback=hook, idempotency_key=idempotency_key(request),
        )  # fmt: skip
    return render(rt, base_url(request), task)


@post(f"{ROOT}/generations/image", status_code=201, summary="Luma: image")
async def create_image(request: Request[Any, Any, Any], data: ImageBody) -> dict[str, Any]:
    rt = runtime_of(request)
    spec = _spec(rt, data.model, Kind.IMAGE)
    for unsupported in ("character_ref", "modify_image_ref"):
        if getattr(data, unsupported) is not None:
            raise InvalidRequestError(unsupported, "is not supported here; use image_ref")
    refs = [*(data.image_ref or []), *(data.style_ref or [])]
    images = [image_ref(r.url, f"image_ref[{i}].url") for i, r in enumerate(refs)]
    for i, r in enumerate(refs):
        if r.weight is not None and not 0 <= r.weight <= 1:
            raise InvalidRequestError(f"image_ref[{i}].weight", "must be 0..1")
    options: dict[str, object] | None = {"format": data.format} if data.format else None
    task = await rt.tasks.create(
        api_key(request), spec.id, data.prompt, aspect_ratio=data.aspect_ratio,
        images=images or None, roles=["reference"] * len(images) or None, options=options,
        callback=callback(request, data.callback_url, "luma"),
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    return render(rt, base_url(request), task)


STATE = {
    Status.WAITING: "queued",
    Status.QUEUED: "queued",
    Status.PROCESSING: "dreaming",
    Status.DONE: "completed",
    Status.FAILED: "failed",
    Status.CANCELLED: "failed",
}


def _keyframes(task: Task) -> dict[str, Any] | None:
    """The keyframes as the caller gave them: image URLs, or the generation extended."""
    frames: dict[str, Any] = {}
    if task.params.parent_id:
        frames["frame0"] = {"type": "generation", "id": task.params.parent_id}
    for ref, role in zip(task.params.images, task.params.roles, strict=False):
        name = {"first_frame": "frame0", "last_frame": "frame1"}.get(role)
        if name and name not in frames and ref.startswith(("http://", "https://")):
            frames[name] = {"type": "image", "url": ref}
    return frames or None


def render(rt: Runtime, root: str, task: Task, cover: str | None = None) -> dict[str, Any]:
    """Luma's generation object. ``cover``: the video's still, where the caller made one
    (its first frame, made on first request); ``progress_video`` is the video itself once
    done (mediagate streams no preview while it renders)."""
    spec = rt.catalogue.get(task.model)
    urls = urls_at(rt, root, task)
    kind = "image" if spec.kind is Kind.IMAGE else "video"
    created = datetime.datetime.fromtimestamp(task.created_at, datetime.UTC)
    request: dict[str, Any] = {
        "generation_type": kind,
        "model": spec.wire_name,
        "prompt": task.prompt,
        "aspect_ratio": task.params.aspect_ratio,
    }
    assets: dict[str, Any] | None = None
    if kind == "video":
        request["duration"] = f"{task.params.duration_seconds}s"
        request["resolution"] = task.params.options.get("resolution", "720p")
        request["loop"] = bool(task.params.options.get("loop", False))
        request["keyframes"] = _keyframes(task)
        if urls:
            assets = {"video": urls[0], "image": cover, "progress_video": urls[0]}
    elif urls:
        assets = {"image": urls[0]}
    if task.callback_url:
        request["callback_url"] = task.callback_url
    return {
        "id": task.id,
        "generation_type": kind,
        "state": STATE[task.status],
        "failure_reason": task.error.message if task.error else None,
        "created_at": created.isoformat().replace("+00:00", "Z"),
        "assets": assets,
        "model": spec.wire_name,
        "request": request,
    }


async def shown_with_cover(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    """``render`` with the video's still in ``assets.image`` (a finished video only)."""
    covers = (
        await videos_with_covers(rt, root, task)
        if rt.catalogue.get(task.model).kind is Kind.VIDEO
        else []
    )
    return render(rt, root, task, covers[0][1] if covers else None)


@webhook_body("luma")
def webhook(rt: Runtime, task: Task) -> bytes:
    return msgspec.json.encode(render(rt, task.public_base, task))


@get(f"{ROOT}/credits", summary="Luma: credits")
async def credits(request: Request[Any, Any, Any]) -> dict[str, float]:
    """The key's account balance as Luma's ``credit_balance`` (in cents of the unit)."""
    account = await runtime_of(request).accounts.get(api_key(request).account_id)
    return {"credit_balance": account.balance_micros / 10_000}


@get(f"{ROOT}/ping", summary="Luma: ping")
async def ping(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {"message": "pong"}


@get(f"{ROOT}/generations/{{generation_id:str}}", summary="Luma: a generation")
async def retrieve(request: Request[Any, Any, Any], generation_id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    task = await rt.tasks.get(api_key(request), generation_id)
    return await shown_with_cover(rt, base_url(request), task)


@get(f"{ROOT}/generations", summary="Luma: generations, newest first")
async def list_generations(
    request: Request[Any, Any, Any], limit: int = 10, offset: int = 0
) -> dict[str, Any]:
    rt = runtime_of(request)
    if not 1 <= limit <= 100:
        raise InvalidRequestError("limit", f"{limit} is out of range", ["1..100"])
    if not 0 <= offset <= 1000:
        raise InvalidRequestError("offset", f"{offset} is out of range", ["0..1000"])
    page = await rt.tasks.page(api_key(request), None, None, min(100, offset + limit))
    found = [t for t in page.tasks if rt.catalogue.get(t.model).family == "luma"][offset:]
    root = base_url(request)
    return {
        "generations": [await shown_with_cover(rt, root, t) for t in found[:limit]],
        "count": len(found[:limit]),
        "has_more": page.has_more or len(found) > limit,
        "limit": limit,
        "offset": offset,
    }


@delete(f"{ROOT}/generations/{{generation_id:str}}", status_code=204, summary="Luma: delete")
async def remove(request: Request[Any, Any, Any], generation_id: str) -> None:
    await runtime_of(request).tasks.delete(api_key(request), generation_id)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[LumaError]:
    info = classify(exc, FIELDS)
    if info is None:
        raise exc
    return Response(LumaError(detail=info.message), status_code=info.status, headers=info.headers)


TAG = "luma (Luma Dream Machine API)"
error_body(TAG, LumaError)
router = dialect_router(
    [create_video, create_image, retrieve, list_generations, remove, credits, ping],
    handle_error,
    TAG,
)
