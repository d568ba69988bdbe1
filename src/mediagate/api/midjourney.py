"""The Midjourney dialect, as midjourney-proxy, new-api and GPTNB expose it: /mj/submit/*,
/mj/task/*, /mj/image/{id}, also under /mj-fast, /mj-relax and /mj-turbo.

Submit answers ``{code, description, result, properties}`` with midjourney-proxy's codes:
1 accepted, 21 a modal is needed first (Vary Region, Custom Zoom: then /mj/submit/modal),
23 queue full, 24 banned prompt. A request error is new-api's body with HTTP 400:
``{"code": 4, "description": "<field>: <why>", "type": "invalid_request"}``. Tasks are the
midjourney-proxy task object, with buttons whose customIds follow Discord's grammar
(``MJ::JOB::upsample::2::<task id>``), acted on by /mj/submit/action.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect

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
from mediagate.api.midjourney_wire import (
    WAITING_TEXT,
    ActionBody,
    AuthErrorDetail,
    Blend,
    ChangeBody,
    Describe,
    Ids,
    ImageNotFound,
    Imagine,
    MjAuthError,
    MjError,
    MjTask,
    ModalBody,
    Shorten,
    SimpleChange,
    SubmitResult,
    Swap,
    Upload,
    parse_custom_id,
    parse_prompt,
    render,
)
from mediagate.core.actions import act
from mediagate.core.errors import (
    BannedPromptError,
    InvalidRequestError,
    NotFoundError,
)
from mediagate.core.images import check_pixels, image_ref
from mediagate.core.tasks import Status, Task, files
from mediagate.core.webhooks import EVERY_CHANGE
from mediagate.runtime import Runtime

MODEL = "midjourney"
MODES = {"mj-fast": "fast", "mj-relax": "relax", "mj-turbo": "turbo"}
EVERY_CHANGE.add("midjourney")  # notifyHook hears of every status change


def paths(tail: str) -> list[str]:
    return [f"/mj/{tail}", f"/{{mode:str}}/mj/{tail}"]


async def mj_key(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """``Authorization: Bearer <key>``, or ``mj-api-secret`` when Authorization is empty or
    says ``midjourney-proxy`` (as new-api reads it). Unknown ``/{mode}/mj`` prefixes 404."""
    mode = connection.path_params.get("mode")
    if mode is not None and mode not in MODES:
        raise NotFoundError(f"no such mode {mode!r}; use one of {sorted(MODES)}")
    await _mj_secret(connection, handler)


def _secret(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    header = connection.headers.get("authorization", "")
    if not header.strip() or header.strip().lower() == "midjourney-proxy":
        return connection.headers.get("mj-api-secret", "")
    return header


_mj_secret = key_guard(_secret)


@webhook_body("midjourney")
def webhook(rt: Runtime, task: Task) -> bytes:
    return msgspec.json.encode(render(rt, task.public_base, task))


def _root(request: Request[Any, Any, Any]) -> str:
    return base_url(request)


def _ok(task: Task, code: int = 1, description: str = "Submit success") -> SubmitResult:
    return SubmitResult(code=code, description=description, result=task.id, properties={})


def _extra(
    request: Request[Any, Any, Any], state: str | None, bot: str | None = None
) -> dict[str, object]:
    mode = request.path_params.get("mode")
    extra: dict[str, object] = {}
    if mode:
        extra["speed"] = MODES[mode]
    if state:
        extra["state"] = state
    if bot:
        extra["bot"] = bot
    return extra


async def _create(
    request: Request[Any, Any, Any],
    action: str,
    prompt: str,
    hook: str | None,
    options: dict[str, object],
    images: list[str] | None = None,
    roles: list[str] | None = None,
    ratio: str | None = None,
) -> Task:
    rt = runtime_of(request)
    return await rt.tasks.create(
        api_key(request),
        MODEL,
        prompt,
        aspect_ratio=ratio,
        images=images,
        roles=roles,
        options=options,
        action=action,
        prompt_required=action in ("imagine", "shorten"),
        idempotency_key=idempotency_key(request),
        callback=callback(request, hook, "midjourney"),
    )


@post(paths("submit/imagine"), status_code=200, summary="Midjourney: imagine")
async def imagine(request: Request[Any, Any, Any], data: Imagine) -> SubmitResult:
    refs = [image_ref(r, f"base64Array[{i}]") for i, r in enumerate(data.base64_array or [])]
    if data.base64:
        refs.append(image_ref(data.base64, "base64"))
    parsed = parse_prompt(data.prompt)
    if not parsed.text and not refs:
        raise InvalidRequestError("prompt", "is required")
    options = {**parsed.options, **_extra(request, data.state, data.bot_type)}
    request.state.mj_names = parsed.names
    request.state.mj_prompt = data.prompt
    task = await _create(
        request, "imagine", data.prompt, data.notify_hook, options,
        refs or None, ["reference"] * len(refs) or None, parsed.aspect_ratio,
    )  # fmt: skip
    return _ok(task)


async def _act(
    request: Request[Any, Any, Any],
    parent_id: str,
    action: str,
    index: int | None,
    options: dict[str, object],
    state: str | None,
    hook: str | None,
) -> SubmitResult:
    rt = runtime_of(request)
    task = await act(
        rt.tasks, api_key(request), parent_id, action, index=index,
        options={**options, **_extra(request, state)},
        callback=callback(request, hook, "midjourney"),
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    if task.status is Status.WAITING:
        return _ok(task, 21, WAITING_TEXT)
    return _ok(task)


@post(paths("submit/action"), status_code=200, summary="Midjourney: press a button")
async def action(request: Request[Any, Any, Any], data: ActionBody) -> SubmitResult:
    name, index, options, digest = parse_custom_id(data.custom_id)
    if digest and digest != data.task_id:
        raise InvalidRequestError("customId", f"belongs to task {digest}, not {data.task_id}")
    return await _act(request, data.task_id, name, index, options, data.state, data.notify_hook)


CHANGES = {"UPSCALE": "upscale", "VARIATION": "variation", "REROLL": "reroll"}


@post(paths("submit/change"), status_code=200, summary="Midjourney: U/V/R by index")
async def change(request: Request[Any, Any, Any], data: ChangeBody) -> SubmitResult:
    name = CHANGES.get(data.action.upper())
    if name is None:
        raise InvalidRequestError("action", f"{data.action!r} is not supported", sorted(CHANGES))
    index = None if name == "reroll" else data.index
    return await _act(request, data.task_id, name, index, {}, data.state, data.notify_hook)


@post(paths("submit/simple-change"), status_code=200, summary="Midjourney: '<id> U2'")
async def simple_change(request: Request[Any, Any, Any], data: SimpleChange) -> SubmitResult:
    match = re.fullmatch(r"\s*(\S+)\s+([UV])([1-4])\s*|\s*(\S+)\s+R\s*", data.content)
    if match is None:
        raise InvalidRequestError("content", "must be '<taskId> U1..U4', 'V1..V4' or 'R'")
    if match.group(4):
        return await _act(request, match.group(4), "reroll", None, {}, data.state, data.notify_hook)
    name = "upscale" if match.group(2) == "U" else "variation"
    index = int(match.group(3))
    return await _act(request, match.group(1), name, index, {}, data.state, data.notify_hook)


@post(paths("submit/modal"), status_code=200, summary="Midjourney: confirm a modal")
async def modal(request: Request[Any, Any, Any], data: ModalBody) -> SubmitResult:
    rt = runtime_of(request)
    key = api_key(request)
    task = await rt.tasks.get(key, data.task_id)
    options: dict[str, object] = {}
    images, roles = None, None
    prompt = data.prompt if data.prompt and data.prompt.strip() else None
    if task.action == "inpaint":
        if not data.mask_base64:
            raise InvalidRequestError("maskBase64", "is required for Vary (Region)")
        images, roles = [await check_mask(rt, task.model, data.mask_base64)], ["mask"]
    elif task.action == "custom_zoom":
        parsed = parse_prompt(prompt or "")
        if "zoom" not in parsed.options:
            raise InvalidRequestError("prompt", "Custom Zoom needs --zoom 1..2 in the prompt")
        options["zoom"] = parsed.options["zoom"]
        request.state.mj_names = parsed.names
    resumed = await rt.tasks.resume(key, task.id, options, images, roles, prompt)
    return _ok(resumed)


async def check_mask(rt: Runtime, model: str, value: str) -> str:
    """A mask must be an image with some white (the area to repaint) in it. Its header is
    checked here against the model's pixel cap; it decodes off the event loop, in the
    render pool (``Decoder``). That it is its image's size is checked by the task service."""
    import base64

    ref = image_ref(value, "maskBase64")
    if not ref.startswith("data:"):
        raise InvalidRequestError("maskBase64", "must be a base64 image (data URL or bare)")
    try:
        raw = base64.b64decode(ref.partition(",")[2], validate=True)
    except ValueError:
        raise InvalidRequestError("maskBase64", "is not valid base64") from None
    cap = rt.tasks.max_pixels(rt.catalogue.get(model))
    check_pixels(raw, "maskBase64", cap)
    white = await rt.decoder.has_white(raw, cap)
    if white is None:
        raise InvalidRequestError("maskBase64", "is not a readable image")
    if not white:
        raise InvalidRequestError("maskBase64", "has no white area: white marks what to repaint")
    return ref


@post(paths("submit/describe"), status_code=200, summary="Midjourney: describe an image")
async def describe(request: Request[Any, Any, Any], data: Describe) -> SubmitResult:
    source = data.base64 or data.link
    if not source:
        raise InvalidRequestError("base64", "is required (or link)")
    ref = image_ref(source, "base64" if data.base64 else "link")
    options = _extra(request, data.state)
    task = await _create(request, "describe", "", data.notify_hook, options, [ref], ["reference"])
    return _ok(task)


@post(paths("submit/blend"), status_code=200, summary="Midjourney: blend 2 to 5 images")
async def blend(request: Request[Any, Any, Any], data: Blend) -> SubmitResult:
    if not 2 <= len(data.base64_array) <= 5:
        raise InvalidRequestError(
            "base64Array", f"{len(data.base64_array)} images given; blend takes 2 to 5", ["2..5"]
        )
    refs = [image_ref(r, f"base64Array[{i}]") for i, r in enumerate(data.base64_array)]
    options = {**_extra(request, data.state), "dimensions": data.dimensions}
    task = await _create(
        request, "blend", "", data.notify_hook, options, refs, ["reference"] * len(refs)
    )
    return _ok(task)


@post(paths("submit/shorten"), status_code=200, summary="Midjourney: shorten a prompt")
async def shorten(request: Request[Any, Any, Any], data: Shorten) -> SubmitResult:
    options = _extra(request, data.state)
    task = await _create(request, "shorten", data.prompt, data.notify_hook, options)
    return _ok(task)


@post(["/mj/insight-face/swap", "/{mode:str}/mj/insight-face/swap"], status_code=200)
async def swap(request: Request[Any, Any, Any], data: Swap) -> SubmitResult:
    """Insight-face swap: the face of ``sourceBase64`` onto ``targetBase64``."""
    face = image_ref(data.source_base64, "sourceBase64")
    target = image_ref(data.target_base64, "targetBase64")
    options = _extra(request, data.state)
    task = await _create(
        request, "swap_face", "", data.notify_hook, options, [target, face], ["source", "face"]
    )
    return _ok(task)


@post(paths("submit/upload-discord-images"), status_code=200, summary="Midjourney: upload")
async def upload(request: Request[Any, Any, Any], data: Upload) -> SubmitResult:
    """Keeps the images and answers links to them (what Discord's CDN did for the proxy):
    links the files route serves, usable as a later task's image. Each image must decode
    (checked off the event loop) and fit the pixel cap; they count against the key's
    daily upload quota."""
    from mediagate.core.images import inline_image

    rt = runtime_of(request)
    if not 1 <= len(data.base64_array) <= 5:
        raise InvalidRequestError("base64Array", "takes 1 to 5 images", ["1..5"])
    kept = []
    for i, value in enumerate(data.base64_array):
        param = f"base64Array[{i}]"
        found = inline_image(image_ref(value, param), param, rt.settings.input_max_bytes)
        if found is None:
            raise InvalidRequestError(param, "must be a base64 image")
        check_pixels(found[1], param, rt.uploads.max_pixels)
        if await rt.decoder.verify(found[1], rt.uploads.max_pixels) is None:
            raise InvalidRequestError(param, "is not a readable image")
        kept.append((param, found[1]))
    keys = await rt.uploads.keep(api_key(request), kept)
    links = [rt.link(_root(request), key) for key in keys]
    return SubmitResult(code=1, description="Submit success", result=links, properties={})


@get(paths("task/{task_id:str}/fetch"), summary="Midjourney: one task")
async def fetch(request: Request[Any, Any, Any], task_id: str) -> MjTask:
    rt = runtime_of(request)
    return render(rt, _root(request), await rt.tasks.get(api_key(request), task_id))


@post(paths("task/list-by-condition"), status_code=200, summary="Midjourney: tasks by ids")
async def list_by_condition(request: Request[Any, Any, Any], data: Ids) -> list[MjTask]:
    rt = runtime_of(request)
    found = await rt.tasks.get_many(api_key(request), data.ids)
    return [render(rt, _root(request), t) for t in found]


@get(paths("task/{task_id:str}/image-seed"), summary="Midjourney: a task's seed")
async def image_seed(request: Request[Any, Any, Any], task_id: str) -> SubmitResult:
    task = await runtime_of(request).tasks.get(api_key(request), task_id)
    seed = task.params.options.get("seed", task.seed % 2**32)
    return SubmitResult(code=1, description="成功", result=str(seed), properties={})


@get(paths("image/{task_id:str}"), summary="Midjourney: a task's image")
async def image(request: Request[Any, Any, Any], task_id: str) -> Response[Any]:
    """No key, as in new-api: the task id is the secret. So that an id seen in any link is
    no key to every file, this serves a Midjourney task's first image only, never another
    dialect's or family's; nothing of a revoked key's tasks; and, where result links expire
    (``url_ttl_s``), not after that long from the task's end. It answers a redirect to the
    signed link, so the file is served under the link's own expiry and headers. Anything
    else is the same 404, whether the task exists or not."""
    rt = runtime_of(request)
    try:
        task: Task | None = await rt.tasks.get_any(task_id)
    except NotFoundError:
        task = None
    if request.path_params.get("mode", "mj-fast") not in MODES:
        task = None  # /{mode}/mj/image with no such mode: the same 404
    found = files(task.outputs) if task and task.status is Status.DONE else []
    ttl = rt.settings.url_ttl_s
    if (
        task is None
        or not found
        or rt.catalogue.get(task.model).family != "midjourney"
        or (ttl and (task.finished_at or task.updated_at) + ttl < rt.clock())
        or await rt.keys.active(task.key_id) is None
    ):
        return Response(ImageNotFound(error="midjourney_task_not_found"), status_code=404)
    return Redirect(rt.link(_root(request), found[0].key), status_code=302)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    names: dict[str, str] = {
        "aspect_ratio": "--ar",
        "images": "base64Array",
        "mask": "maskBase64",
        **getattr(request.state, "mj_names", {}),
    }
    if isinstance(exc, BannedPromptError):  # midjourney-proxy's code 24, an HTTP 200
        props = {"promptEn": getattr(request.state, "mj_prompt", ""), "bannedWord": exc.word}
        return Response(SubmitResult(24, f"banned prompt: {exc.word}", None, props))
    info = classify(exc, names)
    if info is None:
        raise exc
    if info.status == 401:  # new-api's auth errors are OpenAI's shape
        detail = AuthErrorDetail(message=info.message, type="authentication_error")
        return Response(MjAuthError(error=detail), status_code=401)
    if info.code == "queue_full":
        return Response(SubmitResult(23, info.message, None), status_code=200)
    if info.status == 404 and "task" in info.message:
        return Response(
            MjError(4, f"task_not_found: {info.message}", "upstream_error"), status_code=400
        )
    return Response(
        MjError(4 if info.status < 500 else 9, info.message, info.type),
        status_code=info.status if info.status != 404 else 404,
        headers=info.headers,
    )


async def no_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """``/mj/image`` takes no key (its handler answers every refusal with the same 404)."""


TAG = "midjourney (midjourney-proxy / new-api)"
IMAGE_TAG = "midjourney images"
error_body(TAG, MjError, s401=MjAuthError)
error_body(IMAGE_TAG, MjError, s404=ImageNotFound)
_image_router = dialect_router([image], handle_error, IMAGE_TAG, guard=no_guard)
router = dialect_router(
    [imagine, action, change, simple_change, modal, describe, blend, shorten, swap, upload,
     fetch, list_by_condition, image_seed],
    handle_error,
    TAG,
    guard=mj_key,
)  # fmt: skip
routers = [router, _image_router]
