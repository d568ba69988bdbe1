"""Kling's own API at /kling/v1, as Kling documents it and new-api and GPTNB pass it through:
POST /videos/text2video and /videos/image2video with their GETs, and POST
/images/generations with its GET. Keys as ``Authorization: Bearer <key>``.

Answers are Kling's ``{"code": 0, "message": "SUCCEED", "request_id", "data": {task_id,
task_status: submitted|processing|succeed|failed, task_status_msg, task_result: {videos:
[{id, url, duration}]} | {images: [{index, url}]}, created_at, updated_at}}`` (ms). Errors
keep that envelope with Kling's codes: 1201 a bad parameter (the message names it), 1000 a
bad key, 1102 no balance, 1301 unsafe content, 1302 too many requests.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter

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
from mediagate.core.catalogue import Kind, ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import image_ref
from mediagate.core.numbers import is_digits, shown
from mediagate.core.services import MAX_PAGE
from mediagate.core.tasks import Status, Task, files
from mediagate.runtime import Runtime

DEFAULT_VIDEO = "kling-v2-6"
DEFAULT_IMAGE = "kling-v2"
CODES = {400: 1201, 401: 1000, 402: 1102, 403: 1103, 404: 1203, 409: 1201, 429: 1302}


class VideoBody(msgspec.Struct):
    prompt: str = ""
    model_name: str | None = None
    model: str | None = None
    negative_prompt: str | None = None
    image: str | None = None
    image_tail: str | None = None
    mode: str | None = None
    duration: str | int | None = None
    aspect_ratio: str | None = None
    cfg_scale: float | None = None
    sound: str | None = None
    callback_url: str | None = None
    external_task_id: str | None = None
    camera_control: dict[str, Any] | None = None
    static_mask: str | None = None
    dynamic_masks: list[dict[str, Any]] | None = None


class ImageBody(msgspec.Struct):
    prompt: str
    model_name: str | None = None
    negative_prompt: str | None = None
    image: str | None = None
    n: int | None = None
    aspect_ratio: str | None = None
    callback_url: str | None = None


class Envelope(msgspec.Struct):
    code: int
    message: str
    request_id: str
    data: Any = None


FIELDS = {"duration_seconds": "duration", "images": "image", "sample_count": "n"}


def _spec(rt: Runtime, model: str, kind: Kind) -> ModelSpec:
    return rt.catalogue.family_model("kling", model, "model_name", kind)


def _duration(value: str | int | None) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not is_digits(text, 3):
        raise InvalidRequestError("duration", f"{shown(value)} is not a duration", ["5", "10"])
    return int(text)


async def _video(request: Request[Any, Any, Any], data: VideoBody, with_image: bool) -> Envelope:
    rt = runtime_of(request)
    spec = _spec(rt, data.model_name or data.model or DEFAULT_VIDEO, Kind.VIDEO)
    for unsupported in ("camera_control", "static_mask", "dynamic_masks"):
        if getattr(data, unsupported) is not None:
            raise InvalidRequestError(unsupported, "is not supported here")
    images, roles = [], []
    if with_image:
        if not data.image:
            raise InvalidRequestError("image", "is required by image2video")
        images, roles = [image_ref(data.image, "image")], ["first_frame"]
        if data.image_tail:
            images.append(image_ref(data.image_tail, "image_tail"))
            roles.append("last_frame")
    elif data.image or data.image_tail:
        raise InvalidRequestError("image", "text2video takes no image; use image2video")
    elif not data.prompt.strip():
        raise InvalidRequestError("prompt", "is required by text2video")
    options: dict[str, object] = {}
    ignored: list[str] = []
    for name in ("mode", "negative_prompt", "cfg_scale", "sound"):
        if getattr(data, name) is not None:
            options[name] = getattr(data, name)
    if "cfg_scale" in options and "cfg_scale" not in spec.params:
        # Kling's docs: cfg_scale is "not supported by Kling v2.x models" (it is ignored
        # there, not refused). Checked for range, then dropped, and the answer says so.
        scale = options.pop("cfg_scale")
        if not isinstance(scale, int | float) or not 0 <= scale <= 1:
            raise InvalidRequestError("cfg_scale", f"{shown(scale)} is out of range", ["0..1"])
        ignored.append("cfg_scale")
    task = await rt.tasks.create(
        api_key(request), spec.id, data.prompt, aspect_ratio=data.aspect_ratio,
        images=images or None, roles=roles or None, duration_seconds=_duration(data.duration),
        options=options, callback=callback(request, data.callback_url, "kling"),
        idempotency_key=idempotency_key(request) or data.external_task_id,
        ignored=tuple(ignored),
    )  # fmt: skip
    return Envelope(0, "SUCCEED", task.id, _data(rt, base_url(request), task))


@post("/kling/v1/videos/text2video", status_code=200, summary="Kling: text to video")
async def text2video(request: Request[Any, Any, Any], data: VideoBody) -> Envelope:
    return await _video(request, data, with_image=False)


@post("/kling/v1/videos/image2video", status_code=200, summary="Kling: image to video")
async def image2video(request: Request[Any, Any, Any], data: VideoBody) -> Envelope:
    return await _video(request, data, with_image=True)


@post("/kling/v1/images/generations", status_code=200, summary="Kling: images")
async def images(request: Request[Any, Any, Any], data: ImageBody) -> Envelope:
    rt = runtime_of(request)
    spec = _spec(rt, data.model_name or DEFAULT_IMAGE, Kind.IMAGE)
    refs = [image_ref(data.image, "image")] if data.image else []
    options: dict[str, object] | None = (
        {"negative_prompt": data.negative_prompt} if data.negative_prompt else None
    )
    task = await rt.tasks.create(
        api_key(request), spec.id, data.prompt, aspect_ratio=data.aspect_ratio,
        images=refs or None, roles=["reference"] * len(refs) or None, sample_count=data.n,
        options=options, callback=callback(request, data.callback_url, "kling"),
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    return Envelope(0, "SUCCEED", task.id, _data(rt, base_url(request), task))


STATUS = {
    Status.WAITING: "submitted",
    Status.QUEUED: "submitted",
    Status.PROCESSING: "processing",
    Status.DONE: "succeed",
    Status.FAILED: "failed",
    Status.CANCELLED: "failed",
}


def _data(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    spec = rt.catalogue.get(task.model)
    body: dict[str, Any] = {
        "task_id": task.id,
        "task_status": STATUS[task.status],
        "task_status_msg": task.error.message if task.error else "",
        "created_at": int(task.created_at * 1000),
        "updated_at": int(task.updated_at * 1000),
    }
    if task.params.ignored:  # accepted, and ignored as the vendor ignores them
        body["task_info"] = {"ignored_params": list(task.params.ignored)}
    if task.status is Status.DONE:
        urls = urls_at(rt, root, task)
        outs = files(task.outputs)
        if spec.kind is Kind.IMAGE:
            body["task_result"] = {"images": [{"index": i, "url": u} for i, u in enumerate(urls)]}
        else:
            videos = [
                {"id": f"{task.id}-{i}", "url": u, "duration": f"{o.duration_seconds or 0:.3f}"}
                for i, (u, o) in enumerate(zip(urls, outs, strict=False))
            ]
            body["task_result"] = {"videos": videos}
    return body


@webhook_body("kling")
def webhook(rt: Runtime, task: Task) -> bytes:
    return msgspec.json.encode(_data(rt, task.public_base, task))


async def _read(request: Request[Any, Any, Any], task_id: str, kind: Kind) -> Envelope:
    rt = runtime_of(request)
    task = await rt.tasks.get(api_key(request), task_id)
    if rt.catalogue.get(task.model).kind is not kind:
        raise InvalidRequestError("task_id", f"task {task_id} is not a {kind.value} task")
    return Envelope(0, "SUCCEED", task.id, _data(rt, base_url(request), task))


@get(
    ["/kling/v1/videos/text2video/{task_id:str}", "/kling/v1/videos/image2video/{task_id:str}"],
    summary="Kling: a video task",
)
async def video_task(request: Request[Any, Any, Any], task_id: str) -> Envelope:
    return await _read(request, task_id, Kind.VIDEO)


@get("/kling/v1/images/generations/{task_id:str}", summary="Kling: an image task")
async def image_task(request: Request[Any, Any, Any], task_id: str) -> Envelope:
    return await _read(request, task_id, Kind.IMAGE)


class ListEnvelope(msgspec.Struct):
    code: int
    message: str
    request_id: str
    data: list[dict[str, Any]]


async def _list(request: Request[Any, Any, Any], kind: Kind, page_num: int, size: int) -> Any:
    """Kling's task list: page ``pageNum`` (1..1000) of ``pageSize`` (1..100; Kling allows
    500, mediagate's pages stop at 100) of the key's own Kling tasks of this kind, newest
    first."""
    if not 1 <= page_num <= 1000:
        raise InvalidRequestError("pageNum", f"{page_num} is out of range", ["1..1000"])
    if not 1 <= size <= MAX_PAGE:
        raise InvalidRequestError("pageSize", f"{size} is out of range", [f"1..{MAX_PAGE}"])
    rt = runtime_of(request)
    key, after = api_key(request), None
    found: list[Task] = []
    for number in range(1, page_num + 1):  # cursor pages up to the one asked for
        page = await rt.tasks.page(key, kind, after, size, family="kling")
        if number == page_num:
            found = page.tasks
        elif not page.has_more:
            break
        else:
            after = page.tasks[-1].id
    rid = request.headers.get("x-request-id", "")
    return ListEnvelope(0, "SUCCEED", rid, [_data(rt, base_url(request), t) for t in found])


@get(["/kling/v1/videos/text2video", "/kling/v1/videos/image2video"], summary="Kling: list")
async def video_list(
    request: Request[Any, Any, Any],
    page_num: int = Parameter(query="pageNum", default=1),
    page_size: int = Parameter(query="pageSize", default=30),
) -> ListEnvelope:
    return await _list(request, Kind.VIDEO, page_num, page_size)  # type: ignore[no-any-return]


@get("/kling/v1/images/generations", summary="Kling: list image tasks")
async def image_list(
    request: Request[Any, Any, Any],
    page_num: int = Parameter(query="pageNum", default=1),
    page_size: int = Parameter(query="pageSize", default=30),
) -> ListEnvelope:
    return await _list(request, Kind.IMAGE, page_num, page_size)  # type: ignore[no-any-return]


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Envelope]:
    info = classify(exc, FIELDS)
    if info is None:
        raise exc
    code = 1301 if info.code == "banned_prompt" else CODES.get(info.status, 5000)
    rid = request.headers.get("x-request-id", "")
    return Response(
        Envelope(code, info.message, rid), status_code=info.status, headers=info.headers
    )


TAG = "kling (Kling API)"
error_body(TAG, Envelope)
router = dialect_router(
    [text2video, image2video, images, video_task, image_task, video_list, image_list],
    handle_error,
    TAG,
)
