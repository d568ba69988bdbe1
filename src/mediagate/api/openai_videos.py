"""OpenAI's videos endpoints: create (multipart or JSON), retrieve, content, list, delete."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter

from mediagate.api.common import (
    api_key,
    callback,
    dialect_router,
    idempotency_key,
    poll_after_ms,
    runtime_of,
    webhook_body,
)
from mediagate.api.files import blob_response, still_of
from mediagate.api.forms import form_int, form_text, read_upload
from mediagate.api.openai_shared import (
    error_response,
    make_handler,
    ratio_for_size,
    size_text,
    wrong_kind,
)
from mediagate.core.catalogue import Kind, ModelSpec
from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.core.images import data_url, image_ref
from mediagate.core.numbers import whole_number
from mediagate.core.tasks import Status, Task, files
from mediagate.runtime import Runtime

FIELD_NAMES = {
    "duration_seconds": "seconds",
    "aspect_ratio": "size",
    "images": "input_reference",
    "sample_count": "n",
}
STATUS_NAMES = {
    Status.WAITING: "queued",
    Status.QUEUED: "queued",
    Status.PROCESSING: "in_progress",
    Status.DONE: "completed",
    Status.FAILED: "failed",
    Status.CANCELLED: "failed",
}
VARIANTS = ["video", "thumbnail"]
# What OpenAI's own video models do when the call leaves seconds and size out: Sora's
# defaults are 4 seconds at 720x1280 (platform.openai.com/docs/api-reference/videos/create).
SORA_DEFAULTS = {"sora-2": ("4", "720x1280"), "sora-2-pro": ("4", "720x1280")}
ORDERS = ["asc", "desc"]


class InputReference(msgspec.Struct):
    image_url: str | None = None


class CreateJson(msgspec.Struct):
    prompt: str
    model: str | None = None
    seconds: str | int | None = None
    size: str | None = None
    input_reference: InputReference | str | None = None
    aspect_ratio: str | None = None  # mediagate extensions
    n: int | None = None
    callback_url: str | None = None


class VideoError(msgspec.Struct):
    code: str
    message: str


class Video(msgspec.Struct):
    id: str
    object: str
    model: str
    status: str
    progress: int
    created_at: int
    completed_at: int | None
    expires_at: int | None
    prompt: str
    seconds: str
    size: str
    remixed_from_video_id: str | None
    error: VideoError | None


class VideoList(msgspec.Struct):
    object: str
    data: list[Video]
    first_id: str | None
    last_id: str | None
    has_more: bool


class Deleted(msgspec.Struct):
    id: str
    object: str
    deleted: bool


def render(request: Request[Any, Any, Any], task: Task) -> Video:
    return render_with(runtime_of(request).catalogue.get(task.model), task)


@webhook_body("openai")
def webhook(rt: Runtime, task: Task) -> bytes:
    return msgspec.json.encode(render_with(rt.catalogue.get(task.model), task))


def render_with(spec: ModelSpec, task: Task) -> Video:
    """The task as OpenAI's video object (for answers and webhooks)."""
    error = VideoError(task.error.code, task.error.message) if task.error else None
    return Video(
        id=task.id,
        object="video",
        model=task.params.asked_as or task.model,  # the name the caller used
        status=STATUS_NAMES[task.status],
        progress=task.progress,
        created_at=int(task.created_at),
        completed_at=int(task.finished_at) if task.finished_at else None,
        expires_at=None,  # mediagate keeps results; links do not expire unless configured
        prompt=task.prompt,
        seconds=str(task.params.duration_seconds or ""),
        size=size_text(spec.size_for(task.params.aspect_ratio)),
        remixed_from_video_id=None,
        error=error,
    )


def _respond(request: Request[Any, Any, Any], task: Task) -> Response[Video]:
    hint = poll_after_ms(task, runtime_of(request).clock()) if not task.status.terminal else 0
    return Response(render(request, task), headers={"openai-poll-after-ms": str(hint or 1000)})


def _seconds(value: str | int | None) -> int | None:
    return whole_number(value, "seconds")


async def _reference(value: Any, name: str) -> str:
    if isinstance(value, UploadFile):
        return data_url(await read_upload(value, name), name)
    if isinstance(value, InputReference):
        if not value.image_url:
            raise InvalidRequestError(name, "needs image_url (file_id is not supported)")
        return image_ref(value.image_url, f"{name}.image_url")
    return image_ref(str(value), name)


async def _parse(request: Request[Any, Any, Any]) -> CreateJson:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            return msgspec.json.decode(await request.body(), type=CreateJson)
        except msgspec.ValidationError as exc:
            raise InvalidRequestError("body", str(exc)) from None
        except msgspec.DecodeError:
            raise InvalidRequestError("body", "is not valid JSON") from None
    if not ctype.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise InvalidRequestError(
            "Content-Type", f"{ctype or 'none'} is not accepted", ["multipart/form-data", "json"]
        )
    form = await request.form()
    prompt = form_text(form, "prompt")
    if not prompt:
        raise InvalidRequestError("prompt", "is required")
    ref: Any = form.get("input_reference")
    if ref is None and form.get("input_reference[image_url]") is not None:
        ref = InputReference(image_url=form_text(form, "input_reference[image_url]"))
    body = CreateJson(
        prompt=prompt,
        model=form_text(form, "model"),
        seconds=form_text(form, "seconds"),
        size=form_text(form, "size"),
        aspect_ratio=form_text(form, "aspect_ratio"),
        n=form_int(form, "n"),
        callback_url=form_text(form, "callback_url"),
    )
    if ref is not None:
        body.input_reference = await _reference(ref, "input_reference")
    return body


@post("/v1/videos", status_code=200, summary="Create a video (OpenAI format)")
async def create(request: Request[Any, Any, Any]) -> Response[Video]:
    """``seconds`` and ``size`` are checked against the model's durations and sizes;
    ``input_reference`` (a file, or ``{image_url}``) becomes the first frame."""
    rt = runtime_of(request)
    body = await _parse(request)
    videos = sorted(m.id for m in rt.catalogue.models.values() if m.kind is Kind.VIDEO)
    spec = rt.catalogue.get(body.model or rt.settings.default_video_model)
    if spec.kind is not Kind.VIDEO:
        raise wrong_kind(spec, videos)
    asked = body.model or rt.settings.default_video_model
    if asked in SORA_DEFAULTS and not body.aspect_ratio:
        seconds, size = SORA_DEFAULTS[asked]
        body.seconds = body.seconds if body.seconds is not None else seconds
        body.size = body.size or size
    ref = body.input_reference
    images = [await _reference(ref, "input_reference")] if ref is not None else None
    task = await rt.tasks.create(
        api_key(request),
        asked,  # an alias is recorded, so the answer names the model as it was asked for
        body.prompt,
        aspect_ratio=body.aspect_ratio or ratio_for_size(spec, body.size),
        images=images,
        duration_seconds=_seconds(body.seconds),
        sample_count=body.n,
        idempotency_key=idempotency_key(request),
        callback=callback(request, body.callback_url, "openai"),
    )
    return _respond(request, task)


@get("/v1/videos/{video_id:str}", summary="Retrieve a video (OpenAI format)")
async def retrieve(request: Request[Any, Any, Any], video_id: str) -> Response[Video]:
    task = await runtime_of(request).tasks.get(api_key(request), video_id)
    return _respond(request, task)


@get("/v1/videos/{video_id:str}/content", summary="Download a video's bytes (OpenAI format)")
async def content(
    request: Request[Any, Any, Any],
    video_id: str,
    variant: str = Parameter(query="variant", default="video"),
    index: int = Parameter(query="index", default=0, ge=0),
) -> Response[Any]:
    """``variant=video`` (the MP4) or ``thumbnail`` (its first frame, JPEG); ``index`` (an
    extension) picks one of several samples."""
    if variant not in VARIANTS:
        raise InvalidRequestError("variant", f"{variant!r} is not available", VARIANTS)
    rt = runtime_of(request)
    task = await rt.tasks.get(api_key(request), video_id)
    if task.status is not Status.DONE:
        raise InvalidRequestError(
            "video_id", f"video {video_id} is {STATUS_NAMES[task.status]}, not completed"
        )
    found = files(task.outputs)
    if index >= len(found):
        raise InvalidRequestError("index", f"{index} is out of range", [f"0..{len(found) - 1}"])
    key = found[index].key
    if variant == "thumbnail":
        still = await still_of(rt, key)
        if still is None:
            raise NotFoundError(f"video {video_id} has no frame to make a thumbnail of")
        key = still
    return await blob_response(request, key)


@post("/v1/videos/{video_id:str}/remix", status_code=200, summary="Remix (not supported)")
async def remix(request: Request[Any, Any, Any], video_id: str) -> Response[Video]:
    """Answered with a clear error in OpenAI's shape (after the usual 404 for a video that
    is not the caller's): mediagate's models make each video from its prompt."""
    await runtime_of(request).tasks.get(api_key(request), video_id)
    raise InvalidRequestError(
        "video_id",
        "remixing a video is not supported here; create a new video with POST /v1/videos and "
        "the new prompt",
    )


NOT_SERVED = {
    "edits": "editing a video",
    "extensions": "extending a video",
    "characters": "characters",
}


@post(
    ["/v1/videos/edits", "/v1/videos/extensions", "/v1/videos/characters"],
    status_code=404,
    summary="Not served here (404 in OpenAI's shape)",
)
async def not_served(request: Request[Any, Any, Any]) -> Response[Any]:
    """OpenAI's video edits, extensions and characters: no model here does them. A 404 in
    OpenAI's shape (the SDK raises NotFoundError), not a 405 from the router."""
    what = NOT_SERVED[request.url.path.rstrip("/").rsplit("/", 1)[-1]]
    return error_response(
        404,
        "invalid_request_error",
        "unknown_url",
        f"{what} is not supported here ({request.method} {request.url.path}); create a new "
        "video with POST /v1/videos",
    )


@get("/v1/videos/characters/{character_id:str}", summary="Not served here (404)")
async def no_character(request: Request[Any, Any, Any], character_id: str) -> Response[Any]:
    return error_response(
        404, "invalid_request_error", "unknown_url", f"no character {character_id!r}: "
        "characters are not supported here",
    )  # fmt: skip


@get("/v1/videos", summary="List videos (OpenAI format)")
async def list_videos(
    request: Request[Any, Any, Any],
    after: str | None = Parameter(query="after", default=None),
    limit: int = Parameter(query="limit", default=20),
    order: str = Parameter(query="order", default="desc"),
) -> VideoList:
    if order not in ORDERS:
        raise InvalidRequestError("order", f"{order!r} is not supported", ORDERS)
    page = await runtime_of(request).tasks.page(
        api_key(request), Kind.VIDEO, after, limit, newest_first=order == "desc"
    )
    data = [render(request, t) for t in page.tasks]
    return VideoList(
        object="list",
        data=data,
        first_id=data[0].id if data else None,
        last_id=data[-1].id if data else None,
        has_more=page.has_more,
    )


@delete("/v1/videos/{video_id:str}", status_code=200, summary="Cancel or delete a video")
async def remove(request: Request[Any, Any, Any], video_id: str) -> Deleted:
    """An unfinished video is cancelled (upstream too); its record and files are removed."""
    task = await runtime_of(request).tasks.delete(api_key(request), video_id)
    return Deleted(id=task.id, object="video.deleted", deleted=True)


_handle = make_handler(FIELD_NAMES)

router = dialect_router(
    [create, retrieve, content, list_videos, remove, remix, not_served, no_character],
    _handle,
    "OpenAI videos",
)
