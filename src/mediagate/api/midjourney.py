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

from mediagate.api.common import (
    api_key,
    callback,
    classify,
    dialect_router,
    idempotency_key,
    runtime_of,
    urls_at,
    webhook_body,
)
from mediagate.api.files import blob_response
from mediagate.core.actions import act
from mediagate.core.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from mediagate.core.images import image_ref
from mediagate.core.tasks import Mode, Status, Task, files, texts
from mediagate.core.webhooks import EVERY_CHANGE
from mediagate.runtime import Runtime

MODEL = "midjourney"
MODES = {"mj-fast": "fast", "mj-relax": "relax", "mj-turbo": "turbo"}
WAITING_TEXT = "Waiting for window confirm"
EVERY_CHANGE.add("midjourney")  # notifyHook hears of every status change


def paths(tail: str) -> list[str]:
    return [f"/mj/{tail}", f"/{{mode:str}}/mj/{tail}"]


async def mj_key(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """``Authorization: Bearer <key>``, or ``mj-api-secret`` when Authorization is empty or
    says ``midjourney-proxy`` (as new-api reads it). Unknown ``/{mode}/mj`` prefixes 404."""
    mode = connection.path_params.get("mode")
    if mode is not None and mode not in MODES:
        raise NotFoundError(f"no such mode {mode!r}; use one of {sorted(MODES)}")
    header = connection.headers.get("authorization", "")
    if not header.strip() or header.strip().lower() == "midjourney-proxy":
        header = connection.headers.get("mj-api-secret", "")
    rt: Runtime = connection.app.state.runtime
    key = await rt.keys.authenticate(header)
    if key.mode is Mode.ADMIN:
        raise PermissionDeniedError("admin keys cannot be used for generation")
    await rt.limiter.check(key.id)
    connection.state.api_key = key


# -- prompt parameters -------------------------------------------------------------------------

FLAGS = {  # --flag -> the catalogue parameter it sets
    "ar": "aspect_ratio", "aspect": "aspect_ratio", "v": "version", "version": "version",
    "niji": "niji", "no": "no", "seed": "seed", "q": "quality", "quality": "quality",
    "s": "stylize", "stylize": "stylize", "c": "chaos", "chaos": "chaos", "tile": "tile",
    "iw": "image_weight", "weird": "weird", "w": "weird", "style": "style", "zoom": "zoom",
}  # fmt: skip
SPEEDS = {"fast", "relax", "turbo"}
_FLAG = re.compile(r"(?:^|\s)--([A-Za-z]+)((?:\s+(?!--)[^\s]+)*)")


class Prompt(msgspec.Struct):
    text: str  # without its parameters
    aspect_ratio: str | None
    options: dict[str, object]
    names: dict[str, str]  # catalogue parameter -> how the prompt spelled it


def parse_prompt(prompt: str) -> Prompt:
    """Split ``a cat --ar 16:9 --v 6.1 --no dogs --tile`` into text and parameters."""
    head = prompt.split(" --", 1)[0] if not prompt.startswith("--") else ""
    options: dict[str, object] = {}
    names: dict[str, str] = {}
    ratio = None
    for match in _FLAG.finditer(prompt):
        flag, value = match.group(1).lower(), match.group(2).strip()
        if flag in SPEEDS:
            options["speed"] = flag
            continue
        param = FLAGS.get(flag)
        if param is None:
            raise InvalidRequestError(
                f"--{flag}", "is not a Midjourney parameter", sorted(f"--{f}" for f in FLAGS)
            )
        names[param] = f"--{flag}"
        if param == "tile":
            options["tile"] = True
        elif not value:
            raise InvalidRequestError(f"--{flag}", "needs a value")
        elif param == "aspect_ratio":
            ratio = value
        elif param == "niji" and value in ("5", "6"):
            options["niji"] = value
        else:
            options[param] = value
    return Prompt(head.strip(), ratio, options, names)


# -- wire shapes ---------------------------------------------------------------------------------


class Imagine(msgspec.Struct, rename="camel"):
    prompt: str
    base64_array: list[str] | None = None
    base64: str | None = None
    bot_type: str | None = None
    state: str | None = None
    notify_hook: str | None = None


class ActionBody(msgspec.Struct, rename="camel"):
    task_id: str
    custom_id: str
    state: str | None = None
    notify_hook: str | None = None


class ChangeBody(msgspec.Struct, rename="camel"):
    task_id: str
    action: str
    index: int | None = None
    state: str | None = None
    notify_hook: str | None = None


class SimpleChange(msgspec.Struct, rename="camel"):
    content: str
    state: str | None = None
    notify_hook: str | None = None


class ModalBody(msgspec.Struct, rename="camel"):
    task_id: str
    prompt: str | None = None
    mask_base64: str | None = None


class Describe(msgspec.Struct, rename="camel"):
    base64: str | None = None
    link: str | None = None
    state: str | None = None
    notify_hook: str | None = None


class Blend(msgspec.Struct, rename="camel"):
    base64_array: list[str]
    dimensions: str = "SQUARE"
    state: str | None = None
    notify_hook: str | None = None


class Shorten(msgspec.Struct, rename="camel"):
    prompt: str
    state: str | None = None
    notify_hook: str | None = None


class Swap(msgspec.Struct, rename="camel"):
    source_base64: str
    target_base64: str
    state: str | None = None
    notify_hook: str | None = None


class Upload(msgspec.Struct, rename="camel"):
    base64_array: list[str]


class Ids(msgspec.Struct):
    ids: list[str] = []


class SubmitResult(msgspec.Struct):
    code: int
    description: str
    result: str | list[str] | None
    properties: dict[str, Any] = {}


class Button(msgspec.Struct):
    customId: str
    emoji: str
    label: str
    type: int = 2
    style: int = 2


class MjTask(msgspec.Struct):
    id: str
    action: str
    customId: str
    botType: str
    prompt: str
    promptEn: str
    description: str
    state: str
    submitTime: int
    startTime: int | None
    finishTime: int | None
    imageUrl: str
    status: str
    progress: str
    failReason: str
    buttons: list[Button]
    maskBase64: str
    properties: dict[str, Any]


# -- buttons ---------------------------------------------------------------------------------

GRID_BUTTONS = [(f"MJ::JOB::upsample::{i}::{{h}}", "", f"U{i}") for i in range(1, 5)]
GRID_BUTTONS += [("MJ::JOB::reroll::0::{h}::SOLO", "🔄", "")]
GRID_BUTTONS += [(f"MJ::JOB::variation::{i}::{{h}}", "", f"V{i}") for i in range(1, 5)]
SINGLE_BUTTONS = [
    ("MJ::JOB::upsample_v6_2x_subtle::1::{h}::SOLO", "", "Upscale (Subtle)"),
    ("MJ::JOB::upsample_v6_2x_creative::1::{h}::SOLO", "", "Upscale (Creative)"),
    ("MJ::JOB::low_variation::1::{h}::SOLO", "🪄", "Vary (Subtle)"),
    ("MJ::JOB::high_variation::1::{h}::SOLO", "🪄", "Vary (Strong)"),
    ("MJ::Inpaint::1::{h}::SOLO", "🖌️", "Vary (Region)"),
    ("MJ::Outpaint::50::1::{h}::SOLO", "🔍", "Zoom Out 2x"),
    ("MJ::Outpaint::75::1::{h}::SOLO", "🔍", "Zoom Out 1.5x"),
    ("MJ::CustomZoom::1::{h}", "🔍", "Custom Zoom"),
    ("MJ::JOB::pan_left::1::{h}::SOLO", "⬅️", ""),
    ("MJ::JOB::pan_right::1::{h}::SOLO", "➡️", ""),
    ("MJ::JOB::pan_up::1::{h}::SOLO", "⬆️", ""),
    ("MJ::JOB::pan_down::1::{h}::SOLO", "⬇️", ""),
]


def parse_custom_id(custom_id: str) -> tuple[str, int | None, dict[str, object], str]:
    """(action, index, options, the task hash) from a button's customId, the way new-api
    reads it; an unknown one is a code-4 error naming it."""
    parts = custom_id.split("::")
    if len(parts) < 4 or parts[0] != "MJ":
        raise InvalidRequestError("customId", f"unknown_action:{custom_id}")
    if parts[1] == "JOB":
        name, number, digest = parts[2], parts[3], parts[4] if len(parts) > 4 else ""
        if name == "upsample":
            return "upscale", _index(custom_id, number), {}, digest
        if "upsample" in name:
            return (
                ("upscale_creative" if "creative" in name else "upscale_subtle"),
                None,
                {},
                digest,
            )
        if name == "variation":
            return "variation", _index(custom_id, number), {}, digest
        if name in ("low_variation", "high_variation", "reroll"):
            return name, None, {}, digest
        if name.startswith("pan_") and name[4:] in ("left", "right", "up", "down"):
            return "pan", None, {"direction": name[4:]}, digest
    elif parts[1] == "Outpaint" and parts[2] in ("50", "75") and len(parts) > 4:
        return "zoom", None, {"zoom": 2.0 if parts[2] == "50" else 1.5}, parts[4]
    elif parts[1] == "CustomZoom":
        return "custom_zoom", None, {}, parts[3]
    elif parts[1] == "Inpaint":
        return "inpaint", None, {}, parts[3]
    raise InvalidRequestError("customId", f"unknown_action:{custom_id}")


def _index(custom_id: str, number: str) -> int:
    if number not in ("1", "2", "3", "4"):
        raise InvalidRequestError("customId", f"unknown_action:{custom_id}")
    return int(number)


def buttons_for(rt: Runtime, task: Task) -> list[Button]:
    """The buttons a finished task offers: those whose action may follow its own."""
    if task.status is not Status.DONE:
        return []
    spec = rt.catalogue.get(task.model)
    found = []
    for template, emoji, label in GRID_BUTTONS + SINGLE_BUTTONS:
        action, _, _, _ = parse_custom_id(template.format(h=task.id))
        if task.action in spec.actions[action].after:
            found.append(Button(customId=template.format(h=task.id), emoji=emoji, label=label))
    return found


# -- rendering ---------------------------------------------------------------------------------

STATUS = {
    Status.WAITING: "MODAL",
    Status.DONE: "SUCCESS",
    Status.FAILED: "FAILURE",
    Status.CANCELLED: "CANCEL",
}


def _status(task: Task) -> str:
    if task.status is Status.QUEUED:
        return "NOT_START"
    if task.status is Status.PROCESSING:
        return "SUBMITTED" if task.progress <= 1 else "IN_PROGRESS"
    return STATUS[task.status]


def render(rt: Runtime, root: str, task: Task) -> MjTask:
    spec = rt.catalogue.get(task.model)
    urls = urls_at(rt, root, task)
    said = texts(task.outputs)
    action = spec.actions[task.action].title if task.action in spec.actions else "IMAGINE"
    final = said[0].text if said and said[0].text else task.prompt
    progress = "100%" if task.status.terminal else f"{task.progress}%"
    started = task.created_at if task.status is not Status.QUEUED else None
    return MjTask(
        id=task.id,
        action=action,
        customId="",
        botType=str(task.params.options.get("bot", "MID_JOURNEY")),
        prompt=task.prompt,
        promptEn=task.prompt,
        description="Submit success"
        if task.status is not Status.WAITING
        else "Waiting for window confirm",
        state=str(task.params.options.get("state", "")),
        submitTime=int(task.created_at * 1000),
        startTime=int(started * 1000) if started else None,
        finishTime=int(task.finished_at * 1000) if task.finished_at else None,
        imageUrl=urls[0] if urls and files(task.outputs) else "",
        status=_status(task),
        progress=progress if task.status is not Status.FAILED else "",
        failReason=task.error.message if task.error else "",
        buttons=buttons_for(rt, task),
        maskBase64="",
        properties={"finalPrompt": final, "finalZhPrompt": ""},
    )


@webhook_body("midjourney")
def webhook(rt: Runtime, task: Task) -> bytes:
    return msgspec.json.encode(render(rt, task.public_base, task))


def _root(request: Request[Any, Any, Any]) -> str:
    from mediagate.api.common import base_url

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
        images, roles = [check_mask(data.mask_base64)], ["mask"]
    elif task.action == "custom_zoom":
        parsed = parse_prompt(prompt or "")
        if "zoom" not in parsed.options:
            raise InvalidRequestError("prompt", "Custom Zoom needs --zoom 1..2 in the prompt")
        options["zoom"] = parsed.options["zoom"]
        request.state.mj_names = parsed.names
    resumed = await rt.tasks.resume(key, task.id, options, images, roles, prompt)
    return _ok(resumed)


def check_mask(value: str) -> str:
    """A mask must be an image with some white (the area to repaint) in it."""
    import base64
    import io

    ref = image_ref(value, "maskBase64")
    if not ref.startswith("data:"):
        raise InvalidRequestError("maskBase64", "must be a base64 image (data URL or bare)")
    from PIL import Image, UnidentifiedImageError

    try:
        raw = base64.b64decode(ref.partition(",")[2], validate=True)
        with Image.open(io.BytesIO(raw)) as img:
            low_high = img.convert("L").getextrema()
    except (ValueError, UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidRequestError("maskBase64", "is not a readable image") from None
    if not isinstance(low_high, tuple) or float(low_high[1]) < 128:  # type: ignore[arg-type]
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
    """Keeps the images and answers links to them (what Discord's CDN did for the proxy)."""
    from mediagate.core.images import inline_image

    rt = runtime_of(request)
    if not 1 <= len(data.base64_array) <= 5:
        raise InvalidRequestError("base64Array", "takes 1 to 5 images", ["1..5"])
    links = []
    for i, value in enumerate(data.base64_array):
        ref = image_ref(value, f"base64Array[{i}]")
        found = inline_image(ref, f"base64Array[{i}]", rt.settings.input_max_bytes)
        if found is None:
            raise InvalidRequestError(f"base64Array[{i}]", "must be a base64 image")
        await rt.blobs.put(found[0], found[1])
        links.append(rt.link(_root(request), found[0]))
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
    """No key, as in new-api: the task id (64 random bits) is the secret."""
    rt = runtime_of(request)
    task = await rt.tasks.get_any(task_id) if task_id else None
    found = files(task.outputs) if task and task.status is Status.DONE else []
    if not found:
        return Response({"error": "midjourney_task_not_found"}, status_code=400)
    return await blob_response(request, found[0].key)


class MjError(msgspec.Struct):
    code: int
    description: str
    type: str
    result: None = None


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    names: dict[str, str] = {
        "aspect_ratio": "--ar",
        "images": "base64Array",
        **getattr(request.state, "mj_names", {}),
    }
    info = classify(exc, names)
    if info is None:
        raise exc
    if info.status == 401:  # new-api's auth errors are OpenAI's shape
        body = {"error": {"message": info.message, "type": "authentication_error"}}
        return Response(body, status_code=401)
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


async def no_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    mode = connection.path_params.get("mode")
    if mode is not None and mode not in MODES:
        raise NotFoundError(f"no such mode {mode!r}; use one of {sorted(MODES)}")


_image_router = dialect_router([image], handle_error, "midjourney", guard=no_key)
router = dialect_router(
    [imagine, action, change, simple_change, modal, describe, blend, shorten, swap, upload,
     fetch, list_by_condition, image_seed],
    handle_error,
    "midjourney (midjourney-proxy / new-api)",
    guard=mj_key,
)  # fmt: skip
routers = [router, _image_router]
