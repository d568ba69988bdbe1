"""The Suno dialect, as new-api and Suno-API servers expose it: POST /suno/submit/music and
/suno/submit/lyrics, POST /suno/fetch (``{ids}``) and GET /suno/fetch/{id}.

Answers are ``{"code": "success", "message": "", "data": ...}``; errors keep that shape
with the HTTP status of the failure and a string code (``{"code": "invalid_request",
"message": "tags: ...", "data": null}``). ``mv`` picks the catalogue model whose
``wire_name`` it is (chirp-v3-5, chirp-v4, chirp-auk, chirp-bluejay, chirp-crow), so each
version's limits apply. Three modes: inspiration (``gpt_description_prompt``), custom
(``prompt`` as lyrics, ``tags``, ``title``) and continuation (``task_id``,
``continue_clip_id``, ``continue_at``). Each song task makes two clips, each with a cover.
"""

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
from mediagate.core.actions import act
from mediagate.core.catalogue import Kind, ModelSpec
from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.core.tasks import Output, Status, Task, files, texts
from mediagate.runtime import Runtime

DEFAULT_MV = "chirp-v4"  # new-api's default, chirp-v3-0, is retired (see models/suno.toml)
LYRICS_MODEL = "suno-lyrics"


class MusicBody(msgspec.Struct):
    prompt: str = ""
    gpt_description_prompt: str = ""
    mv: str = ""
    title: str = ""
    tags: str = ""
    make_instrumental: bool = False
    task_id: str = ""
    continue_clip_id: str = ""
    continue_at: float | None = None
    notify_hook: str | None = None
    callBackUrl: str | None = None


class FetchBody(msgspec.Struct):
    ids: list[str] = []
    action: str = ""


class Meta(msgspec.Struct):
    tags: str
    prompt: str
    gpt_description_prompt: str
    type: str
    duration: float | None
    error_type: str | None
    error_message: str | None
    audio_prompt_id: str | None = None
    history: list[dict[str, Any]] | None = None


class Clip(msgspec.Struct):
    id: str
    status: str
    title: str
    audio_url: str
    image_url: str
    image_large_url: str
    video_url: str
    is_video_pending: bool
    model_name: str
    major_model_version: str
    created_at: str
    duration: float | None
    metadata: Meta


class Lyrics(msgspec.Struct):
    id: str
    status: str
    title: str
    text: str


class TaskDto(msgspec.Struct):
    task_id: str
    action: str
    status: str
    fail_reason: str
    submit_time: int
    start_time: int
    finish_time: int
    progress: str
    data: list[Clip] | Lyrics | None


class Envelope(msgspec.Struct):
    code: str
    message: str
    data: Any


def spec_for_mv(rt: Runtime, mv: str) -> ModelSpec:
    """The catalogue model a ``mv`` names; a clear error listing the ones there are."""
    return rt.catalogue.family_model("suno", mv or DEFAULT_MV, "mv", kind=Kind.AUDIO)


@post("/suno/submit/{action:str}", status_code=200, summary="Suno: submit music or lyrics")
async def submit(request: Request[Any, Any, Any], action: str, data: MusicBody) -> Envelope:
    rt = runtime_of(request)
    kind = action.upper()
    if kind not in ("MUSIC", "LYRICS"):
        raise InvalidRequestError("action", f"invalid_action {action!r}", ["music", "lyrics"])
    body = data
    hook = callback(request, body.notify_hook or body.callBackUrl, "suno")
    key = api_key(request)
    if kind == "LYRICS":
        if not body.prompt.strip():
            raise InvalidRequestError("prompt", "is required for lyrics")
        task = await rt.tasks.create(
            key, LYRICS_MODEL, body.prompt, action="lyrics", callback=hook,
            idempotency_key=idempotency_key(request),
        )  # fmt: skip
        return Envelope("success", "", task.id)
    spec = spec_for_mv(rt, body.mv)
    options: dict[str, object] = {"make_instrumental": body.make_instrumental}
    for name in ("title", "tags", "gpt_description_prompt"):
        if getattr(body, name):
            options[name] = getattr(body, name)
    if body.continue_clip_id or body.task_id:
        if not body.task_id:
            raise InvalidRequestError("task_id", "is required with continue_clip_id")
        if not body.continue_clip_id:
            raise InvalidRequestError("continue_clip_id", "is required with task_id")
        if body.continue_at is None:
            raise InvalidRequestError("continue_at", "is required to continue a song")
        try:
            parent = await rt.tasks.get(key, body.task_id)
        except NotFoundError:
            raise InvalidRequestError("task_id", "task_not_exist") from None
        check_clip(parent, body.continue_clip_id, body.continue_at)
        if parent.model != spec.id and body.mv:
            raise InvalidRequestError(
                "mv", f"a continuation keeps its song's model, {parent.model}"
            )
        options.update(continue_clip_id=body.continue_clip_id, continue_at=body.continue_at)
        task = await act(
            rt.tasks, key, body.task_id, "continue", options=options, prompt=body.prompt,
            callback=hook, idempotency_key=idempotency_key(request),
        )  # fmt: skip
        return Envelope("success", "", task.id)
    wordless = not body.gpt_description_prompt.strip() and not body.prompt.strip()
    if wordless and not (body.make_instrumental and body.tags.strip()):
        raise InvalidRequestError(
            "prompt", "give gpt_description_prompt (inspiration) or prompt (custom lyrics)"
        )
    task = await rt.tasks.create(
        key, spec.id, body.prompt, options=options, action="music", callback=hook,
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    return Envelope("success", "", task.id)


def check_clip(parent: Task, clip_id: str, at: float) -> None:
    """The clip must be one of the finished parent's songs, and ``at`` inside it."""
    clips = files(parent.outputs, "clip")
    ids = [f"{parent.id}-{i}" for i in range(len(clips))]
    if parent.status is not Status.DONE:
        raise InvalidRequestError(
            "task_id", f"task {parent.id} is {parent.status.value}; only a finished song continues"
        )
    if clip_id not in ids:
        raise InvalidRequestError("continue_clip_id", f"is not a clip of task {parent.id}", ids)
    length = clips[ids.index(clip_id)].duration_seconds or 0.0
    if not 0 < at < length:
        raise InvalidRequestError(
            "continue_at", f"{at} is outside the clip", [f"0..{length:.2f} (exclusive)"]
        )


STATUS = {
    Status.WAITING: "NOT_START",
    Status.QUEUED: "NOT_START",
    Status.DONE: "SUCCESS",
    Status.FAILED: "FAILURE",
    Status.CANCELLED: "FAILURE",
}
CLIP_STATUS = {"SUCCESS": "complete", "FAILURE": "error", "IN_PROGRESS": "streaming"}
CLIP_TYPES = {"continue": "concat", "concat": "concat", "upload": "upload", "cover": "cover"}


def _status(task: Task) -> str:
    if task.status is Status.PROCESSING:
        return "SUBMITTED" if task.progress <= 1 else "IN_PROGRESS"
    return STATUS[task.status]


def render(rt: Runtime, root: str, task: Task) -> TaskDto:
    status = _status(task)
    progress = "100%" if task.status.terminal else f"{task.progress}%"
    data: list[Clip] | Lyrics | None
    if task.action == "lyrics":
        said = texts(task.outputs)
        data = Lyrics(
            id=task.id,
            status=CLIP_STATUS.get(status, "submitted"),
            title=said[0].title if said else "",
            text=said[0].text or "" if said else "",
        )
    else:
        data = clips(rt, root, task, status)
    return TaskDto(
        task_id=task.id,
        action="LYRICS" if task.action == "lyrics" else "MUSIC",
        status=status,
        fail_reason=task.error.message if task.error else "",
        submit_time=int(task.created_at),
        start_time=int(task.created_at) if task.status is not Status.QUEUED else 0,
        finish_time=int(task.finished_at) if task.finished_at else 0,
        progress=progress,
        data=data,
    )


def clips(rt: Runtime, root: str, task: Task, status: str) -> list[Clip]:
    spec = rt.catalogue.get(task.model)
    songs, covers = files(task.outputs, "clip"), files(task.outputs, "cover")
    opts = task.params.options
    created = datetime.datetime.fromtimestamp(task.created_at, datetime.UTC).isoformat()
    out = []
    for i in range(1 if task.action in ("upload", "concat") else 2):  # one song, or two
        song: Output | None = songs[i] if i < len(songs) else None
        cover: Output | None = covers[i] if i < len(covers) else None
        image = rt.link(root, cover.key) if cover else ""
        history = None
        if task.action == "continue":
            history = [{"id": opts.get("continue_clip_id"), "continue_at": opts.get("continue_at")}]
        out.append(
            Clip(
                id=f"{task.id}-{i}",
                status=CLIP_STATUS.get(status, "submitted"),
                title=(song.title if song else str(opts.get("title", ""))),
                audio_url=rt.link(root, song.key) if song else "",
                image_url=image,
                image_large_url=image,
                video_url="",
                is_video_pending=False,
                model_name=spec.wire_name,
                major_model_version=str(opts.get("major", "")),
                created_at=created,
                duration=song.duration_seconds if song else None,
                metadata=Meta(
                    tags=str(opts.get("tags", "")),
                    prompt=task.prompt,
                    gpt_description_prompt=str(opts.get("gpt_description_prompt", "")),
                    type=CLIP_TYPES.get(task.action, "gen"),
                    duration=song.duration_seconds if song else None,
                    error_type=task.error.code if task.error else None,
                    error_message=task.error.message if task.error else None,
                    history=history,
                ),
            )
        )
    return out


@webhook_body("suno")
def webhook(rt: Runtime, task: Task) -> bytes:
    return msgspec.json.encode(Envelope("success", "", render(rt, task.public_base, task)))


@post("/suno/fetch", status_code=200, summary="Suno: tasks by ids")
async def fetch_many(request: Request[Any, Any, Any], data: FetchBody) -> Envelope:
    rt = runtime_of(request)
    found = await rt.tasks.get_many(api_key(request), data.ids)
    if data.action:
        want = data.action.upper()
        found = [t for t in found if ("LYRICS" if t.action == "lyrics" else "MUSIC") == want]
    return Envelope("success", "", [render(rt, base_url(request), t) for t in found])


@get("/suno/fetch/{task_id:str}", summary="Suno: one task")
async def fetch_one(request: Request[Any, Any, Any], task_id: str) -> Envelope:
    rt = runtime_of(request)
    try:
        task = await rt.tasks.get(api_key(request), task_id)
    except NotFoundError:
        raise InvalidRequestError("task_id", "task_not_exist") from None
    return Envelope("success", "", render(rt, base_url(request), task))


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    info = classify(exc, {"prompt": "prompt"})
    if info is None:
        raise exc
    code = "task_not_exist" if "task_not_exist" in info.message else info.code
    body = Envelope(code=code, message=info.message, data=None)
    return Response(body, status_code=info.status, headers=info.headers)


TAG = "suno (new-api)"
error_body(TAG, Envelope)
router = dialect_router([submit, fetch_many, fetch_one], handle_error, TAG)
