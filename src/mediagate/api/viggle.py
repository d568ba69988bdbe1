"""Viggle in GPTNB's format ("Viggle(开发中)"), with the asset library it implies: a key
uploads character images and driving videos once, then makes Mix, Move and Multi videos from
them (or from one of Viggle's templates) by id.

Pinned (gpt-best.apifox.cn project 3868318: api-208350214, api-208350175, api-208350176,
api-208350215): POST /viggle/asset/image (multipart ``file``) answers ``{code: 0, message:
"ok", ts, reason, data: {id, name, url, width, height}}``; POST
/pro/viggle/asset/video/{imageID} (multipart ``file``) the same with ``coverURL``; POST
/pro/viggle/video-task ``{bgMode, modelInfoID, imageID, templateID, videoID}`` answers
``data: {taskID, mqType}``; POST /viggle/video-task/by-ids ``{ids}`` answers ``data: [{taskID,
name, status, image, template, ...}]``. Designed here in the same style, nothing public to
pin: ``mode`` (mix, move, multi; ``imageIDs`` for multi) on the video task, GET
/viggle/asset/image|video (the library), DELETE /viggle/asset/{id}, GET /viggle/templates
(``?mode=``), GET /viggle/credits (the key's balance in credits of 0.01), and the task's
``status``: 0 waiting, 1 running, 2 done, 3 failed, with ``result: {url, coverURL}``. Each path
also answers without ``/pro``. Errors: ``{code: <HTTP status>, message, ts, reason, data:
null}``."""

from __future__ import annotations

from importlib import resources
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.datastructures import UploadFile

from mediagate.api.common import (
    api_key,
    base_url,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    runtime_of,
)
from mediagate.api.files import videos_with_covers
from mediagate.core.assets import Asset
from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.core.tasks import Status, Task
from mediagate.runtime import Runtime

MODES = ("mix", "move", "multi")
STATUS = {Status.WAITING: 0, Status.QUEUED: 0, Status.PROCESSING: 1, Status.DONE: 2,
          Status.FAILED: 3, Status.CANCELLED: 3}  # fmt: skip


class Template(msgspec.Struct, frozen=True):
    id: str
    command: str
    webCommand: str
    description: str
    mode: str


class _Templates(msgspec.Struct):
    templates: list[Template]


TEMPLATES = msgspec.toml.decode(
    resources.files("mediagate.api").joinpath("viggle_templates.toml").read_bytes(),
    type=_Templates,
).templates


class TaskBody(msgspec.Struct):
    bgMode: int = 0
    modelInfoID: int | None = None
    imageID: str = ""
    imageIDs: list[str] = []
    templateID: str = ""
    videoID: str = ""
    mode: str = "mix"


class IdsBody(msgspec.Struct):
    ids: list[str]


def ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "ok", "ts": "", "reason": "", "data": data}


def shown(rt: Runtime, root: str, asset: Asset) -> dict[str, Any]:
    found = {"id": asset.id, "name": asset.name, "url": rt.link(root, asset.blob),
             "width": asset.width, "height": asset.height}  # fmt: skip
    if asset.kind == "video":
        found["coverURL"] = None
    return found


async def _file(request: Request[Any, Any, Any]) -> tuple[str, bytes]:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequestError("file", "is required: the file, as a multipart part")
    return upload.filename or "asset", await upload.read()


@post("/viggle/asset/image", status_code=200, summary="Viggle: keep a character image")
async def add_image(request: Request[Any, Any, Any]) -> dict[str, Any]:
    rt = runtime_of(request)
    name, data = await _file(request)
    if data and await rt.decoder.verify(data, rt.uploads.max_pixels) is None:
        raise InvalidRequestError("file", "is not a readable image", ["png", "jpeg", "webp"])
    asset = await rt.assets.keep(api_key(request), "image", name.rsplit(".", 1)[0], data)
    return ok(shown(rt, base_url(request), asset))


@post(["/pro/viggle/asset/video/{image_id:str}", "/viggle/asset/video/{image_id:str}"],
      status_code=200, summary="Viggle: keep a driving video")  # fmt: skip
async def add_video(request: Request[Any, Any, Any], image_id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    await rt.assets.get(api_key(request), image_id, "image")  # the character it is for
    name, data = await _file(request)
    asset = await rt.assets.keep(api_key(request), "video", name, data)
    return ok(shown(rt, base_url(request), asset))


@get(["/viggle/asset/image", "/viggle/asset/video"], summary="Viggle: the key's library")
async def library(request: Request[Any, Any, Any]) -> dict[str, Any]:
    rt = runtime_of(request)
    kind = request.url.path.rsplit("/", 1)[1]
    found = await rt.assets.list(api_key(request), kind)
    return ok([shown(rt, base_url(request), a) for a in found])


@delete("/viggle/asset/{asset_id:str}", status_code=200, summary="Viggle: delete an asset")
async def forget(request: Request[Any, Any, Any], asset_id: str) -> dict[str, Any]:
    gone = await runtime_of(request).assets.delete(api_key(request), asset_id)
    return ok({"id": gone.id})


@get("/viggle/templates", summary="Viggle: templates")
async def templates(mode: str = "") -> dict[str, Any]:
    return ok([msgspec.to_builtins(t) for t in TEMPLATES if not mode or t.mode == mode])


@get("/viggle/credits", summary="Viggle: credits left")
async def credits(request: Request[Any, Any, Any]) -> dict[str, Any]:
    account = await runtime_of(request).accounts.get(api_key(request).account_id)
    return ok({"credits": account.balance_micros // 10_000})


@post(["/pro/viggle/video-task", "/viggle/video-task"], status_code=200,
      summary="Viggle: a Mix, Move or Multi video")  # fmt: skip
async def create(request: Request[Any, Any, Any], data: TaskBody) -> dict[str, Any]:
    rt = runtime_of(request)
    key, root = api_key(request), base_url(request)
    if data.mode not in MODES:
        raise InvalidRequestError("mode", f"{data.mode!r}", list(MODES))
    ids = data.imageIDs or ([data.imageID] if data.imageID else [])
    if not 1 <= len(ids) <= (4 if data.mode == "multi" else 1):
        most = 4 if data.mode == "multi" else 1
        raise InvalidRequestError("imageID", f"takes 1..{most} characters, got {len(ids)}")
    characters = [await rt.assets.get(key, i, "image") for i in ids]
    links, roles = [rt.link(root, c.blob) for c in characters], ["reference"] * len(characters)
    options: dict[str, object] = {"bg_mode": data.bgMode, "image_id": ",".join(ids)}
    if data.videoID:
        video = await rt.assets.get(key, data.videoID, "video")
        links.append(rt.link(root, video.blob))
        roles.append("source")
        options["video_id"] = video.id
    elif data.templateID:
        if not any(t.id == data.templateID for t in TEMPLATES):
            raise InvalidRequestError("templateID", "is not a template (GET /viggle/templates)")
        options["template_id"] = data.templateID
    else:
        raise InvalidRequestError("videoID", "give a videoID (your video) or a templateID")
    if data.modelInfoID is not None:
        options["model_info_id"] = data.modelInfoID
    task = await rt.tasks.create(
        key, f"viggle-{data.mode}", "", images=links, roles=roles, options=options,
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    return ok({"taskID": task.id, "mqType": 0})


async def view(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    opts = task.params.options
    template = next((t for t in TEMPLATES if t.id == opts.get("template_id")), None)
    pairs = await videos_with_covers(rt, root, task)
    return {
        "taskID": task.id, "name": task.model, "status": STATUS[task.status],
        "image": {"id": opts.get("image_id")}, "videoID": opts.get("video_id"),
        "template": msgspec.to_builtins(template) if template else None,
        "result": {"url": pairs[0][0], "coverURL": pairs[0][1]} if pairs else None,
        "error": task.error.message if task.error else None,
    }  # fmt: skip


@post("/viggle/video-task/by-ids", status_code=200, summary="Viggle: tasks by id")
async def by_ids(request: Request[Any, Any, Any], data: IdsBody) -> dict[str, Any]:
    rt = runtime_of(request)
    found = await rt.tasks.get_many(api_key(request), data.ids[:50])
    viggle = [t for t in found if t.model.startswith("viggle-")]
    if data.ids and not viggle:
        raise NotFoundError(f"ids: no task of {', '.join(data.ids)[:200]}")
    return ok([await view(rt, base_url(request), t) for t in viggle])


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    info = classify(exc, {"images": "imageID"})
    if info is None:
        raise exc
    body = {"code": info.status, "message": info.message, "ts": "", "reason": info.code,
            "data": None}  # fmt: skip
    return Response(body, status_code=info.status, headers=info.headers)


TAG = "viggle (GPTNB format)"
error_body(TAG, msgspec.defstruct("ViggleError", [("code", int), ("message", str)]))
router = dialect_router(
    [add_image, add_video, library, forget, templates, credits, create, by_ids],
    handle_error, TAG,
)  # fmt: skip
