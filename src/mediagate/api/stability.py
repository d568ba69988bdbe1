"""Stability AI's Stable Image API, as Stability documents it and GPTNB serves it at /sd:
``POST /sd/v2beta/stable-image/generate/{ultra|core|sd3}`` (also without the /sd prefix),
multipart/form-data, synchronous: the request waits for the image.

``accept: image/*`` (the default) answers the bytes, with ``seed`` and ``finish-reason``
headers; ``accept: application/json`` answers ``{image: <base64>, finish_reason, seed}``.
The SD3 endpoint takes ``model`` (sd3.5-large, sd3.5-large-turbo, sd3.5-medium) and
``mode`` (text-to-image, image-to-image). Errors are Stability's ``{id, name, errors:
["<field>: <why>"]}``; a moderated prompt is a 403 named ``content_moderation``.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

import msgspec
from litestar import Request, Response, post

from mediagate.api.common import (
    TASK_ERROR_STATUS,
    api_key,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    runtime_of,
)
from mediagate.api.forms import form_text, read_upload
from mediagate.core.catalogue import ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import data_url
from mediagate.core.tasks import Status, files
from mediagate.runtime import Runtime

ENDPOINTS = {"ultra": "stability-ultra", "core": "stability-core"}
SD3_DEFAULT = "sd3.5-large"
TEXT_FIELDS = ("negative_prompt", "style_preset")
NUMBER_FIELDS = {"seed": int, "strength": float, "cfg_scale": float}
WAIT_MARGIN_S = 30.0
FIELDS = {"format": "output_format", "images": "image"}


class StabilityError(msgspec.Struct):
    id: str
    name: str
    errors: list[str]


def _spec(rt: Runtime, endpoint: str, model: str | None) -> ModelSpec:
    if endpoint in ENDPOINTS:
        if model:
            raise InvalidRequestError("model", f"the {endpoint} endpoint takes no model")
        return rt.catalogue.get(ENDPOINTS[endpoint])
    if endpoint != "sd3":
        raise InvalidRequestError(
            "endpoint", f"{endpoint!r} is not an endpoint", ["ultra", "core", "sd3"]
        )
    sd3 = sorted(m.wire_name for m in rt.catalogue.models.values() if m.wire_name.startswith("sd3"))
    name = model or SD3_DEFAULT
    if name not in sd3:
        raise InvalidRequestError("model", f"{name!r} is not an SD3 model here", sd3)
    return rt.catalogue.get(name)


def _number(form: Any, name: str, kind: type) -> float | int | None:
    text = form_text(form, name)
    if text is None or text == "":
        return None
    try:
        return kind(text)  # type: ignore[no-any-return]
    except ValueError:
        raise InvalidRequestError(name, f"must be a number, got {text[:20]!r}") from None


@post(
    [
        "/sd/v2beta/stable-image/generate/{endpoint:str}",
        "/v2beta/stable-image/generate/{endpoint:str}",
    ],
    status_code=200,
    summary="Stability: generate an image (multipart)",
)
async def generate(request: Request[Any, Any, Any], endpoint: str) -> Response[Any]:
    rt = runtime_of(request)
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise InvalidRequestError(
            "content-type", f"{ctype or 'none'} is not accepted", ["multipart/form-data"]
        )
    form = await request.form()
    spec = _spec(rt, endpoint, form_text(form, "model"))
    prompt = form_text(form, "prompt") or ""
    if not prompt.strip():
        raise InvalidRequestError("prompt", "is required")
    options: dict[str, object] = {}
    for name in TEXT_FIELDS:
        if (value := form_text(form, name)) is not None:
            options[name] = value
    for name, kind in NUMBER_FIELDS.items():
        if (number := _number(form, name, kind)) is not None:
            options[name] = number
    if (fmt := form_text(form, "output_format")) is not None:
        options["format"] = fmt
    images = []
    if form.get("image") is not None:
        images = [data_url(await read_upload(form.get("image"), "image"), "image")]
        if "strength" not in options:
            raise InvalidRequestError("strength", "is required with an image")
    if form_text(form, "mode") == "image-to-image" and not images:
        raise InvalidRequestError("image", "is required in image-to-image mode")
    key = api_key(request)
    task = await rt.tasks.create(
        key, spec.id, prompt, aspect_ratio=form_text(form, "aspect_ratio"),
        images=images or None, roles=["edit"] * len(images) or None, options=options,
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    task = await rt.tasks.wait(key, task.id, spec.deadline_s + WAIT_MARGIN_S)
    if task.status is not Status.DONE:
        if task.error is not None and task.error.code == "content_rejected":
            refused = StabilityError(task.id, "content_moderation", [task.error.message])
            return Response(refused, status_code=403)
        message = task.error.message if task.error else f"task {task.id} is still running"
        if task.error is not None and TASK_ERROR_STATUS.get(task.error.code) == 400:
            # the caller's input (an image that does not decode): theirs to fix, not ours
            return Response(StabilityError(task.id, "bad_request", [message]), status_code=400)
        return Response(StabilityError(task.id, "server_error", [message]), status_code=502)
    out = files(task.outputs)[0]
    data = await rt.blobs.read(out.key)
    seed = str(task.params.options.get("seed", task.seed % 4294967294))
    headers = {"seed": seed, "finish-reason": "SUCCESS", "x-mediagate-task-id": task.id}
    if "application/json" in request.headers.get("accept", ""):
        body = {
            "image": base64.b64encode(data).decode(),
            "finish_reason": "SUCCESS",
            "seed": int(seed),
        }
        return Response(body, headers=headers)
    return Response(data, media_type=out.content_type, headers=headers)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[StabilityError]:
    info = classify(
        exc, {"aspect_ratio": "aspect_ratio", "format": "output_format", "images": "image"}
    )
    if info is None:
        raise exc
    names = {400: "bad_request", 401: "unauthorized", 402: "payment_required", 403: "forbidden",
             404: "not_found", 413: "payload_too_large", 429: "too_many_requests"}  # fmt: skip
    name = "content_moderation" if info.code == "banned_prompt" else names.get(info.status, "error")
    status = 403 if info.code == "banned_prompt" else info.status
    body = StabilityError(uuid.uuid4().hex, name, [info.message])
    return Response(body, status_code=status, headers=info.headers)


TAG = "stability (Stability AI API)"
error_body(TAG, StabilityError)
router = dialect_router([generate], handle_error, TAG)
