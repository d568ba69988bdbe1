"""Ideogram's own API, synchronous, as Ideogram documents it and aggregators pass it on:

* legacy: ``POST /ideogram/generate`` (JSON ``{"image_request": {...}}``), and multipart
  ``/ideogram/remix``, ``/ideogram/upscale`` (``image_request`` as a JSON string plus
  ``image_file``) and ``/ideogram/describe`` (``image_file``);
* V3: multipart ``POST /ideogram/v1/ideogram-v3/generate|edit|remix|reframe``.

Answers are ``{"created", "data": [{url, prompt, resolution, is_image_safe, seed,
style_type}]}`` (describe: ``{"descriptions": [{"text"}]}``). Keys as ``Api-Key`` (Ideogram's
header) or ``Authorization: Bearer``. Errors: ``{"detail": "<field>: <why>"}`` (400; 422 for
a prompt that fails the safety check).
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from litestar import Request, Response, post

from mediagate.api.common import (
    TASK_ERROR_STATUS,
    api_key,
    base_url,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    key_guard,
    runtime_of,
    urls_at,
)
from mediagate.api.forms import form_text, read_upload, require_multipart
from mediagate.core.catalogue import ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import data_url
from mediagate.core.numbers import is_digits
from mediagate.core.tasks import Status, Task, files, texts
from mediagate.runtime import Runtime

LEGACY_DEFAULT = "V_2"
V3 = "V_3"
WAIT_MARGIN_S = 30.0
OPTION_NAMES = {  # Ideogram's field -> the catalogue's parameter
    "magic_prompt_option": "magic_prompt", "magic_prompt": "magic_prompt",
    "style_type": "style_type", "negative_prompt": "negative_prompt", "seed": "seed",
    "image_weight": "image_weight", "resemblance": "resemblance", "detail": "detail",
    "rendering_speed": "rendering_speed",
}  # fmt: skip
NUMBERS = ("seed", "image_weight", "resemblance", "detail", "num_images")


ideogram_key = key_guard(  # Api-Key (Ideogram's header) or Authorization: Bearer <key>
    lambda c: c.headers.get("api-key") or c.headers.get("authorization")
)


class GenerateBody(msgspec.Struct):
    image_request: dict[str, Any]


class IdeogramError(msgspec.Struct):
    detail: str


def ratio(value: Any, field: str) -> str | None:
    """ASPECT_16_9 (legacy), 16x9 (V3) or 16:9, as the catalogue's 16:9."""
    if value is None:
        return None
    text = str(value).removeprefix("ASPECT_").replace("_", ":").replace("x", ":")
    if not is_digits(text.replace(":", ""), 8) or text.count(":") != 1:
        raise InvalidRequestError(field, f"{value!r} is not an aspect ratio")
    return text


def _spec(rt: Runtime, wire: str) -> ModelSpec:
    return rt.catalogue.family_model("ideogram", wire)


def _options(given: dict[str, Any]) -> dict[str, object]:
    options: dict[str, object] = {}
    for name, param in OPTION_NAMES.items():
        if given.get(name) is not None:
            options[param] = given[name]
    return options


async def _run(
    request: Request[Any, Any, Any],
    spec: ModelSpec,
    action: str,
    prompt: str,
    given: dict[str, Any],
    images: list[str],
    roles: list[str],
    aspect: str | None,
) -> Response[Any]:
    rt = runtime_of(request)
    key = api_key(request)
    count = given.get("num_images")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        raise InvalidRequestError("num_images", f"must be a whole number, got {count!r}"[:80])
    task = await rt.tasks.create(
        key, spec.id, prompt, aspect_ratio=aspect, images=images or None,
        roles=roles or None, options=_options(given), action=action,
        sample_count=count,
        prompt_required=action in ("generate", "remix", "edit"),
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    task = await rt.tasks.wait(key, task.id, spec.deadline_s + WAIT_MARGIN_S)
    if task.status is not Status.DONE:
        if task.error is not None and task.error.code == "content_rejected":
            return Response(IdeogramError("Prompt failed the safety check."), status_code=422)
        message = task.error.message if task.error else f"task {task.id} is still running"
        if task.error is not None and TASK_ERROR_STATUS.get(task.error.code) == 400:
            return Response(IdeogramError(message), status_code=400)  # the caller's input
        return Response(IdeogramError(message), status_code=502)
    if action == "describe":
        return Response({"descriptions": [{"text": t.text} for t in texts(task.outputs)]})
    return Response(render(rt, base_url(request), task), headers={"x-mediagate-task-id": task.id})


def render(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    urls = urls_at(rt, root, task)
    created = datetime.datetime.fromtimestamp(task.created_at, datetime.UTC).isoformat()
    seed = task.params.options.get("seed", task.seed % 2147483647)
    return {
        "created": created,
        "data": [
            {
                "url": url,
                "prompt": task.prompt,
                "resolution": f"{out.width}x{out.height}",
                "is_image_safe": True,
                "seed": seed,
                "style_type": task.params.options.get("style_type", "AUTO"),
            }
            for url, out in zip(urls, files(task.outputs), strict=False)
        ],
    }


@post("/ideogram/generate", status_code=200, summary="Ideogram (legacy): generate")
async def generate(request: Request[Any, Any, Any], data: GenerateBody) -> Response[Any]:
    ask = data.image_request
    spec = _spec(runtime_of(request), str(ask.get("model") or LEGACY_DEFAULT))
    if ask.get("resolution") is not None:
        raise InvalidRequestError("resolution", "is not supported here; use aspect_ratio")
    prompt = ask.get("prompt")
    if not isinstance(prompt, str):
        raise InvalidRequestError("prompt", "is required (image_request.prompt)")
    return await _run(
        request,
        spec,
        "generate",
        prompt,
        ask,
        [],
        [],
        ratio(ask.get("aspect_ratio"), "aspect_ratio"),
    )


async def _legacy_form(request: Request[Any, Any, Any]) -> tuple[dict[str, Any], Any, str]:
    require_multipart(request.headers.get("content-type", ""), request.url.path)
    form = await request.form()
    raw = form_text(form, "image_request") or "{}"
    try:
        ask = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise InvalidRequestError("image_request", "must be a JSON object") from None
    if not isinstance(ask, dict):
        raise InvalidRequestError("image_request", "must be a JSON object")
    image = data_url(await read_upload(form.get("image_file"), "image_file"), "image_file")
    return ask, form, image


@post(["/ideogram/remix", "/ideogram/upscale", "/ideogram/describe"], status_code=200)
async def legacy_image(request: Request[Any, Any, Any]) -> Response[Any]:
    """Ideogram (legacy) remix, upscale and describe: an ``image_file`` and, but for
    describe, an ``image_request``."""
    action = request.url.path.rsplit("/", 1)[1]
    ask, _, image = await _legacy_form(request)
    default = LEGACY_DEFAULT if action == "remix" else V3
    spec = _spec(runtime_of(request), str(ask.get("model") or default))
    prompt = str(ask.get("prompt") or "")
    aspect = ratio(ask.get("aspect_ratio"), "aspect_ratio") if action == "remix" else None
    return await _run(request, spec, action, prompt, ask, [image], ["edit"], aspect)


@post("/ideogram/v1/ideogram-v3/{action:str}", status_code=200, summary="Ideogram 3.0")
async def v3(request: Request[Any, Any, Any], action: str) -> Response[Any]:
    """generate, edit (``image`` + ``mask``: black marks what to repaint), remix (``image``,
    ``image_weight``) and reframe (``image`` + ``resolution``), multipart."""
    if action not in ("generate", "edit", "remix", "reframe"):
        raise InvalidRequestError("action", f"{action!r}", ["generate", "edit", "remix", "reframe"])
    require_multipart(request.headers.get("content-type", ""), request.url.path)
    form = await request.form()
    given: dict[str, Any] = {}
    for name in (*OPTION_NAMES, "num_images"):
        value = form_text(form, name)
        if value is not None:
            given[name] = _number(name, value) if name in NUMBERS else value
    images, roles = [], []
    if action != "generate":
        images.append(data_url(await read_upload(form.get("image"), "image"), "image"))
        roles.append("edit")
    if action == "edit":
        images.append(data_url(await read_upload(form.get("mask"), "mask"), "mask"))
        roles.append("mask")
    aspect = ratio(form_text(form, "aspect_ratio"), "aspect_ratio")
    if action == "reframe":
        resolution = form_text(form, "resolution")
        if not resolution:
            raise InvalidRequestError("resolution", "is required by reframe")
        aspect = resolution
    spec = _spec(runtime_of(request), V3)
    prompt = form_text(form, "prompt") or ""
    return await _run(request, spec, action, prompt, given, images, roles, aspect)


def _number(name: str, value: str) -> int:
    if not is_digits(value, 12):
        raise InvalidRequestError(name, f"must be a whole number, got {value[:20]!r}")
    return int(value)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[IdeogramError]:
    names = {"sample_count": "num_images", "magic_prompt": "magic_prompt", "images": "image_file"}
    info = classify(exc, names)
    if info is None:
        raise exc
    if info.code == "banned_prompt":
        return Response(
            IdeogramError(f"Prompt failed the safety check: {info.message}"), status_code=422
        )
    return Response(IdeogramError(info.message), status_code=info.status, headers=info.headers)


TAG = "ideogram (Ideogram API)"
error_body(TAG, IdeogramError)
router = dialect_router([generate, legacy_image, v3], handle_error, TAG, guard=ideogram_key)
