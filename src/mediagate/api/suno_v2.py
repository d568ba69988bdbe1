"""Suno in its own format (GPTNB's "Suno 官方格式(v2)"): the clip objects of suno.com's studio
API, behind four calls, each under the spellings aggregators use:

- generations: POST /suno/v2/generate (also /suno/generate): ``{prompt, gpt_description_prompt,
  mv, title, tags, make_instrumental, continue_clip_id, continue_at, task, cover_clip_id}``
  answers ``{id, clips: [2 clips], metadata, major_model_version, status, created_at,
  batch_size}``. ``task`` is ``extend`` (continue a clip at ``continue_at``), ``cover`` (the
  clip's song in another style, ``cover_clip_id``), ``upload_extend`` / ``upload_cover`` (the
  same, of an uploaded clip); with neither, custom lyrics (``prompt``), a description
  (``gpt_description_prompt``) or, with ``make_instrumental``, music alone.
- feed: GET /suno/v2/feed?ids=a,b (also /suno/feed/a,b): the key's clips by id.
- upload: POST /suno/uploads/audio-url ``{url}`` (new-api's answer ``{code, message, data:
  <task id>}``; the clip is ``<task id>-0`` once done) and POST /suno/v2/upload ``{audioUrl}``
  (``{taskId, clip_id}``).
- concat: POST /suno/v2/concat and /suno/submit/concat ``{clip_id, is_infill}``: the chain of
  an extended clip as one song, a new clip.

Sources: 1vjqqujfr3.apifox.cn api-201653788 (``/suno/v2/generate`` and the clip object),
docs.yutoai.net api-208365072 (upload by URL), api-208365078 (concat), api-290935683 (feed
by ids), api-294753410 (``task: upload_extend``), docs.mountsea.ai (``/suno/v2/upload``).
A clip is ``<task id>-<n>``; another key's clips are 404, as absent ones are. Errors are
``{"detail": "<field>: <why>"}`` (suno.com's shape) with the failure's status."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Request, Response, get, post

from mediagate.api import suno
from mediagate.api.common import (
    api_key,
    base_url,
    callback,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    runtime_of,
)
from mediagate.api.suno import Envelope, MusicBody, _status, check_clip, clips, spec_for_mv
from mediagate.core.actions import act
from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.core.images import BLOB_REF
from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Status, Task, files
from mediagate.runtime import Runtime

UPLOAD = "suno-upload"
TASKS = ("extend", "upload_extend", "cover", "upload_cover")


class GenerateBody(MusicBody):
    """new-api's music body, and what Suno's own generate adds."""

    negative_tags: str = ""
    task: str = ""
    cover_clip_id: str = ""


class UploadBody(msgspec.Struct):
    url: str = ""
    audioUrl: str = ""


class ConcatBody(msgspec.Struct):
    clip_id: str
    is_infill: bool = False


class SunoError(msgspec.Struct):
    detail: str


class ClipNotFound(NotFoundError):
    code = "clip_not_found"


async def clip_task(rt: Runtime, key: KeyRecord, clip_id: str, param: str) -> tuple[Task, int]:
    """The key's task a clip id names, and the clip's index; 404 for another key's clips
    and for clips there are not."""
    task_id, dash, index = clip_id.rpartition("-")
    if not dash or index not in ("0", "1"):
        raise ClipNotFound(f"{param}: no clip {clip_id!r}")
    try:
        task = await rt.tasks.get(key, task_id)
    except NotFoundError:
        raise ClipNotFound(f"{param}: no clip {clip_id!r}") from None
    if task.status is not Status.DONE or int(index) >= len(files(task.outputs, "clip")):
        raise ClipNotFound(f"{param}: clip {clip_id!r} is not ready")
    return task, int(index)


async def _follow(
    rt: Runtime, request: Request[Any, Any, Any], body: GenerateBody, options: dict[str, object]
) -> Task:
    """An extension or a cover of a clip: on the clip's own task, or, for an uploaded clip,
    a new task on ``mv``'s model that starts from it."""
    key = api_key(request)
    extend = body.task.endswith("extend")
    name, clip_id = ("continue_clip_id", body.continue_clip_id) if extend else (
        "cover_clip_id", body.cover_clip_id or body.continue_clip_id)  # fmt: skip
    if not clip_id:
        raise InvalidRequestError(name, f"is required by task {body.task}")
    parent, index = await clip_task(rt, key, clip_id, name)
    action = "continue" if extend else "cover"
    options.update({name: clip_id, "task": body.task})
    if extend:
        if body.continue_at is None:
            raise InvalidRequestError("continue_at", "is required to extend a clip")
        check_clip(parent, clip_id, body.continue_at)
        options["continue_at"] = body.continue_at
    hook = callback(request, body.notify_hook, "suno")
    idem = idempotency_key(request)
    if parent.model != UPLOAD:
        if body.mv and spec_for_mv(rt, body.mv).id != parent.model:
            raise InvalidRequestError("mv", f"a {action} keeps its song's model, {parent.model}")
        return await act(rt.tasks, key, parent.id, action, options=options, prompt=body.prompt,
                         callback=hook, idempotency_key=idem)  # fmt: skip
    spec = spec_for_mv(rt, body.mv)
    song = files(parent.outputs, "clip")[index]
    return await rt.tasks.create(
        key, spec.id, body.prompt, images=[BLOB_REF + song.key], roles=["source"],
        options=options, action=action, parent=parent, own_images=1, callback=hook,
        idempotency_key=idem,
    )  # fmt: skip


def _batch(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    status = _status(task)
    created = datetime.datetime.fromtimestamp(task.created_at, datetime.UTC).isoformat()
    found = [msgspec.to_builtins(c) for c in clips(rt, root, task, status)]
    return {
        "id": task.id, "clips": found, "metadata": {"type": task.action or "gen"},
        "major_model_version": rt.catalogue.get(task.model).wire_name,
        "status": "complete" if task.status is Status.DONE else "running",
        "created_at": created, "batch_size": len(found),
    }  # fmt: skip


@post(["/suno/v2/generate", "/suno/generate"], status_code=200, summary="Suno (v2): generations")
async def generate(request: Request[Any, Any, Any], data: GenerateBody) -> dict[str, Any]:
    rt = runtime_of(request)
    options: dict[str, object] = {"make_instrumental": data.make_instrumental}
    for name in ("title", "tags", "gpt_description_prompt"):
        if getattr(data, name):
            options[name] = getattr(data, name)
    if data.task and data.task not in TASKS:
        raise InvalidRequestError("task", f"{data.task!r} is not one", list(TASKS))
    if data.task or data.continue_clip_id:
        data.task = data.task or "extend"
        task = await _follow(rt, request, data, options)
    else:
        spec = spec_for_mv(rt, data.mv)
        wordless = not data.gpt_description_prompt.strip() and not data.prompt.strip()
        if wordless and not (data.make_instrumental and data.tags.strip()):
            raise InvalidRequestError(
                "prompt", "give gpt_description_prompt, prompt (lyrics), or tags to play"
            )
        task = await rt.tasks.create(
            api_key(request), spec.id, data.prompt, options=options, action="music",
            callback=callback(request, data.notify_hook, "suno"),
            idempotency_key=idempotency_key(request),
        )  # fmt: skip
    return _batch(rt, base_url(request), task)


def _ids(raw: str) -> list[str]:
    found = [i.strip() for i in raw.split(",") if i.strip()]
    if not 1 <= len(found) <= 20:
        raise InvalidRequestError("ids", f"has {len(found)} clip ids", ["1..20, comma-separated"])
    return found


async def _feed(request: Request[Any, Any, Any], raw: str) -> list[dict[str, Any]]:
    rt = runtime_of(request)
    key, root = api_key(request), base_url(request)
    wanted = _ids(raw)
    owners = [i.rpartition("-")[0] for i in wanted]
    tasks = {t.id: t for t in await rt.tasks.get_many(key, owners)}
    found = []
    for clip_id in wanted:
        task = tasks.get(clip_id.rpartition("-")[0])
        for clip in clips(rt, root, task, _status(task)) if task else []:
            if clip.id == clip_id:
                found.append(msgspec.to_builtins(clip))
    if not found:
        raise ClipNotFound(f"ids: no clip of {', '.join(wanted)[:200]}")
    return found


@get("/suno/v2/feed", summary="Suno (v2): clips by id")
async def feed(request: Request[Any, Any, Any], ids: str) -> list[dict[str, Any]]:
    return await _feed(request, ids)


@get("/suno/feed/{ids:str}", summary="Suno (v2): clips by id, in the path")
async def feed_path(request: Request[Any, Any, Any], ids: str) -> list[dict[str, Any]]:
    return await _feed(request, ids)


async def _upload(request: Request[Any, Any, Any], url: str, param: str) -> Task:
    if not url.startswith(("http://", "https://")):
        raise InvalidRequestError(param, "must be an http(s) link to the song")
    rt = runtime_of(request)
    return await rt.tasks.create(
        api_key(request), UPLOAD, "", images=[url], roles=["source"], action="upload",
        idempotency_key=idempotency_key(request),
    )  # fmt: skip


@post("/suno/uploads/audio-url", status_code=200, summary="Suno: a song by link, as a clip")
async def upload(request: Request[Any, Any, Any], data: UploadBody) -> Envelope:
    return Envelope("success", "", (await _upload(request, data.url, "url")).id)


@post("/suno/v2/upload", status_code=201, summary="Suno (v2): a song by link, as a clip")
async def upload_v2(request: Request[Any, Any, Any], data: UploadBody) -> dict[str, str]:
    task = await _upload(request, data.audioUrl or data.url, "audioUrl")
    return {"taskId": task.id, "clip_id": f"{task.id}-0"}


async def _concat(request: Request[Any, Any, Any], data: ConcatBody) -> Task:
    rt = runtime_of(request)
    key = api_key(request)
    parent, _ = await clip_task(rt, key, data.clip_id, "clip_id")
    if parent.action != "continue":
        raise InvalidRequestError("clip_id", "is not an extension: only an extended clip concats")
    return await act(rt.tasks, key, parent.id, "concat", options={"clip_id": data.clip_id},
                     idempotency_key=idempotency_key(request))  # fmt: skip


@post("/suno/submit/concat", status_code=200, summary="Suno: concat an extended clip's chain")
async def concat(request: Request[Any, Any, Any], data: ConcatBody) -> Envelope:
    return Envelope("success", "", (await _concat(request, data)).id)


@post("/suno/v2/concat", status_code=200, summary="Suno (v2): concat an extended clip's chain")
async def concat_v2(request: Request[Any, Any, Any], data: ConcatBody) -> dict[str, Any]:
    task = await _concat(request, data)
    rt = runtime_of(request)
    clip: dict[str, Any] = msgspec.to_builtins(clips(rt, base_url(request), task, _status(task))[0])
    clip["metadata"]["concat_history"] = [{"id": data.clip_id}]
    return clip


FIELDS = {"images": "url"}


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[SunoError]:
    info = classify(exc, FIELDS)
    if info is None:
        raise exc
    return Response(SunoError(info.message), status_code=info.status, headers=info.headers)


TAG = "suno (official format v2)"
error_body(TAG, SunoError)
router = dialect_router([generate, feed, feed_path, upload_v2, concat_v2], handle_error, TAG)
# Upload by link and concat also answer in new-api's shape, beside its other Suno routes.
newapi_router = dialect_router([upload, concat], suno.handle_error, suno.TAG)
