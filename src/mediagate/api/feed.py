"""The aggregators' generate/feed format (GPTNB's "Runway v1格式", "Pixverse" and "Pika"):

- Runway v1 and PixVerse: POST /runway/v1/pro/generate and /pixverse/v1/pro/generate (also
  without ``/v1``), then GET .../feed?task_id=. Answers are ``{code: 200, msg, data,
  exec_time}``; a task's ``data`` is ``{task_id, state: pending|running|succeeded|error,
  status: "0".."3" (NOT_START, IN_PROGRESS, FAILURE, SUCCESS), prompt, video_url, image_url,
  poster, msg, point, refund, create_time, update_time}``; ``callback_url`` gets that ``data``
  when the task ends (PixVerse's callback notes). Sources: docs.yutoai.net api-259399395,
  api-260301783, api-260252178; CometAPI's Runway "reverse format" pages.
- Pika: POST /pika/generate (``promptText``, ``model``, ``options{aspectRatio, frameRate,
  camera, parameters{guidanceScale, motion, negativePrompt, seed}, extend}``, ``image``,
  ``video``, ``pikaffect``) answers ``{id}``; GET /pika/feed/{id} answers ``{id, promptText,
  params, videos: [{id, status: queued|pending|finished|failed, seed, resultUrl, sharingUrl,
  videoPoster, progress}]}``. Sources: docs.yutoai.net doc-5923404, gpt.morphogen.top.

Runway's ``model`` gen4 runs on runway-gen4-turbo with an image and runway-gen4.5 without one
(gen2 and gen3 are retired at Runway); ratios map onto Runway's output sizes. Errors keep
each shape, with the HTTP status of the failure and the field named."""

from __future__ import annotations

import time
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
from mediagate.core.catalogue import ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import image_ref
from mediagate.core.numbers import shown
from mediagate.core.tasks import Status, Task, files
from mediagate.runtime import Runtime

RUNWAY_RATIOS = {"16:9": "1280:720", "9:16": "720:1280", "1:1": "960:960", "4:3": "1104:832",
                 "3:4": "832:1104", "21:9": "1584:672"}  # fmt: skip
RETIRED = {"gen2": "Runway retired Gen-2", "gen3": "Runway retired Gen-3 Alpha on 2026-07-30"}
STATE = {Status.WAITING: ("pending", "0"), Status.QUEUED: ("pending", "0"),
         Status.PROCESSING: ("running", "1"), Status.DONE: ("succeeded", "3"),
         Status.FAILED: ("error", "2"), Status.CANCELLED: ("error", "2")}  # fmt: skip
PIKA = {Status.WAITING: "queued", Status.QUEUED: "queued", Status.PROCESSING: "pending",
        Status.DONE: "finished", Status.FAILED: "failed", Status.CANCELLED: "failed"}  # fmt: skip


class Options(msgspec.Struct):
    seconds: int | None = None
    motion_vector: dict[str, float] | None = None


class ProBody(msgspec.Struct):
    prompt: str = ""
    ratio: str | None = None
    style: str | None = None
    model: str | None = None
    image: str | None = None
    options: Options | None = None
    callback_url: str | None = None
    seed: int | None = None
    negative_prompt: str | None = None
    template_id: int | None = None
    duration: int | None = None
    quality: str | None = None


class ProError(msgspec.Struct):
    code: int
    msg: str
    data: None = None
    exec_time: float = 0.0


def _envelope(data: Any, started: float) -> dict[str, Any]:
    return {"code": 200, "msg": "成功", "data": data,
            "exec_time": round(time.perf_counter() - started, 6)}  # fmt: skip


def _runway(data: ProBody) -> tuple[str, str | None]:
    model = data.model or "gen4"
    if model in RETIRED:
        raise InvalidRequestError("model", f"{model}: {RETIRED[model]}", ["gen4", "gen4.5"])
    if model not in ("gen4", "gen4.5", "gen4_turbo"):
        raise InvalidRequestError("model", f"{shown(model)} is not one", ["gen4", "gen4.5"])
    ratio = RUNWAY_RATIOS.get(data.ratio or "16:9")
    if ratio is None:
        raise InvalidRequestError("ratio", f"{shown(data.ratio)} is not one", list(RUNWAY_RATIOS))
    if model == "gen4.5" or not data.image:
        return "runway-gen4.5", ratio
    return "runway-gen4-turbo", ratio


def _family(rt: Runtime, wire: str, vendor: str) -> ModelSpec:
    """The feed family's model of ``vendor`` that the format names ``wire``."""
    found = {w: m for w, m in rt.catalogue.family_models("feed").items() if m.vendor == vendor}
    if wire not in found:
        raise InvalidRequestError("model", f"{shown(wire)} is not a {vendor} model", sorted(found))
    return found[wire]


async def _pro(request: Request[Any, Any, Any], family: str, data: ProBody) -> dict[str, Any]:
    started = time.perf_counter()
    rt = runtime_of(request)
    options: dict[str, object] = {}
    if family == "runway":
        model, ratio = _runway(data)
        seconds = data.options.seconds if data.options else None
    else:
        model, ratio = _family(rt, data.model or "v5", "pixverse").id, data.ratio
        seconds = data.duration
        for name in ("style", "negative_prompt", "seed", "template_id"):
            if getattr(data, name) is not None:
                options[name] = getattr(data, name)
        if data.quality is not None:
            options["resolution"] = data.quality
    images = [image_ref(data.image, "image")] if data.image else []
    task = await rt.tasks.create(
        api_key(request), model, data.prompt, aspect_ratio=ratio, images=images or None,
        roles=["first_frame"] * len(images) or None, duration_seconds=seconds,
        options=options, callback=callback(request, data.callback_url, "feed"),
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    return _envelope({"task_id": task.id}, started)


@post(["/runway/v1/pro/generate", "/runway/pro/generate"], status_code=200,
      summary="Runway (v1 format): generate")  # fmt: skip
async def runway_generate(request: Request[Any, Any, Any], data: ProBody) -> dict[str, Any]:
    return await _pro(request, "runway", data)


@post(["/pixverse/v1/pro/generate", "/pixverse/pro/generate"], status_code=200,
      summary="PixVerse: generate")  # fmt: skip
async def pixverse_generate(request: Request[Any, Any, Any], data: ProBody) -> dict[str, Any]:
    return await _pro(request, "pixverse", data)


async def task_data(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    """A task as the feed shows it (and as its callback is sent)."""
    pairs = await videos_with_covers(rt, root, task)
    video, poster = pairs[0] if pairs else (None, None)
    state, status = STATE[task.status]
    return {
        "task_id": task.id, "state": state, "status": status, "prompt": task.prompt,
        "video_url": video, "image_url": poster, "poster": poster,
        "msg": task.error.message if task.error else None,
        "point": str(task.price_micros // 10_000), "refund": "1" if task.error else "0",
        "create_time": str(int(task.created_at)),
        "update_time": str(int(task.finished_at or task.created_at)),
    }  # fmt: skip


@get(["/runway/v1/pro/feed", "/runway/pro/feed", "/pixverse/v1/pro/feed", "/pixverse/pro/feed"],
     summary="Runway v1 / PixVerse: a task")  # fmt: skip
async def feed(request: Request[Any, Any, Any], task_id: str) -> dict[str, Any]:
    started = time.perf_counter()
    rt = runtime_of(request)
    task = await rt.tasks.get(api_key(request), task_id)
    return _envelope(await task_data(rt, base_url(request), task), started)


@webhook_body("feed")
def webhook(rt: Runtime, task: Task) -> bytes:
    urls = [rt.link(task.public_base, o.key) for o in files(task.outputs)]
    state, status = STATE[task.status]
    body = {"task_id": task.id, "state": state, "status": status, "prompt": task.prompt,
            "video_url": urls[0] if urls else None,
            "msg": task.error.message if task.error else None}  # fmt: skip
    return msgspec.json.encode(body)


class PikaParameters(msgspec.Struct):
    guidanceScale: int | None = None
    motion: int | None = None
    negativePrompt: str | None = None
    seed: int | None = None


class PikaOptions(msgspec.Struct):
    aspectRatio: float | None = None
    frameRate: int | None = None
    camera: dict[str, Any] | None = None
    parameters: PikaParameters | None = None
    extend: bool = False


class PikaBody(msgspec.Struct):
    promptText: str = ""
    model: str = "2.2"
    options: PikaOptions | None = None
    image: str | None = None
    video: str | None = None
    pikaffect: str | None = None
    callback_url: str | None = None


def _ratio(spec: ModelSpec, value: float | None) -> str | None:
    """Pika's width/height number as the nearest of the model's ratios."""
    if value is None:
        return None
    if not 0.4 <= value <= 2.5:
        raise InvalidRequestError("options.aspectRatio", f"{value} is out of range", ["0.4..2.5"])

    def of(ar: str) -> float:
        a, b = ar.split(":")
        return int(a) / int(b)

    return min(spec.aspect_ratios, key=lambda ar: abs(of(ar) - value))


@post("/pika/generate", status_code=200, summary="Pika: generate")
async def pika_generate(request: Request[Any, Any, Any], data: PikaBody) -> dict[str, Any]:
    rt = runtime_of(request)
    spec = _family(rt, data.model, "pika")
    opts = data.options or PikaOptions()
    params = opts.parameters or PikaParameters()
    options: dict[str, object] = {}
    for name, value in (("negative_prompt", params.negativePrompt), ("seed", params.seed),
                        ("guidance_scale", params.guidanceScale), ("motion", params.motion),
                        ("pikaffect", data.pikaffect or None),
                        ("extend", True if data.video and opts.extend else None)):  # fmt: skip
        if value is not None:
            options[name] = value
    images, roles = [], []
    if data.image:
        images.append(image_ref(data.image, "image"))
        roles.append("first_frame")
    if data.video:
        if not data.video.startswith(("http://", "https://")):
            raise InvalidRequestError("video", "must be an http(s) link to an MP4")
        images.append(data.video)
        roles.append("source")
    hook = callback(request, data.callback_url, "pika")
    task = await rt.tasks.create(
        api_key(request), spec.id, data.promptText, aspect_ratio=_ratio(spec, opts.aspectRatio),
        images=images or None, roles=roles or None, options=options, callback=hook,
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    return {"id": task.id}


async def pika_task(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    pairs = await videos_with_covers(rt, root, task)
    video, poster = pairs[0] if pairs else (None, None)
    return {
        "id": task.id, "promptText": task.prompt, "params": dict(task.params.options),
        "videos": [{
            "id": task.id, "status": PIKA[task.status], "seed": task.seed % 4294967295,
            "resultUrl": video, "sharingUrl": video, "videoPoster": poster,
            "progress": task.progress, "error": task.error.message if task.error else None,
        }],
    }  # fmt: skip


@get("/pika/feed/{task_id:str}", summary="Pika: a task")
async def pika_feed(request: Request[Any, Any, Any], task_id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    return await pika_task(rt, base_url(request), await rt.tasks.get(api_key(request), task_id))


@webhook_body("pika")
def pika_webhook(rt: Runtime, task: Task) -> bytes:
    urls = [rt.link(task.public_base, o.key) for o in files(task.outputs)]
    video = {"id": task.id, "status": PIKA[task.status], "resultUrl": urls[0] if urls else None}
    return msgspec.json.encode({"id": task.id, "videos": [video]})


FIELDS = {"duration_seconds": "options.seconds", "aspect_ratio": "ratio", "images": "image"}


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ProError]:
    info = classify(exc, FIELDS)
    if info is None:
        raise exc
    return Response(ProError(info.status, info.message), status_code=info.status,
                    headers=info.headers)  # fmt: skip


class PikaError(msgspec.Struct):
    error: str
    code: int
    success: bool = False


def pika_error(request: Request[Any, Any, Any], exc: Exception) -> Response[PikaError]:
    info = classify(exc, {"prompt": "promptText", "images": "image"})
    if info is None:
        raise exc
    return Response(PikaError(info.message, info.status), status_code=info.status,
                    headers=info.headers)  # fmt: skip


TAG, PIKA_TAG = "generate/feed (Runway v1, PixVerse)", "pika (aggregators' format)"
error_body(TAG, ProError)
error_body(PIKA_TAG, PikaError)
router = dialect_router([runway_generate, pixverse_generate, feed], handle_error, TAG)
pika_router = dialect_router([pika_generate, pika_feed], pika_error, PIKA_TAG)
