"""Black Forest Labs' FLUX API at /flux/v1, as BFL documents it and aggregators pass it
through: ``POST /flux/v1/{endpoint}`` (flux-2-pro, flux-2-flex, flux-2-max, flux-pro-1.1,
flux-pro-1.1-ultra, flux-kontext-pro) with BFL's body, answering ``{id, polling_url}``;
``GET`` that ``polling_url`` or ``/flux/v1/get_result?id=`` for BFL's result
``{id, status: Pending|Ready|Request Moderated|Content Moderated|Error|Task not found,
result: {sample, seed, prompt, start_time, end_time, duration} | null, progress}``.

The key goes as ``x-key`` (BFL's header) or ``Authorization: Bearer``. Errors are BFL's
(FastAPI's) ``{"detail": [{"loc": ["body", field], "msg", "type"}]}`` with HTTP 422 for a
bad field, ``{"detail": "..."}`` otherwise.
"""

from __future__ import annotations

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
    key_guard,
    runtime_of,
    urls_at,
    webhook_body,
)
from mediagate.core.catalogue import ModelSpec
from mediagate.core.errors import (
    BannedPromptError,
    InvalidRequestError,
    NotFoundError,
)
from mediagate.core.images import image_ref
from mediagate.core.tasks import Status, Task
from mediagate.runtime import Runtime

IMAGE_FIELDS = ["input_image", *(f"input_image_{i}" for i in range(2, 10))]
FIELDS = {"aspect_ratio": "aspect_ratio", "images": "input_image", "format": "output_format"}


flux_key = key_guard(  # x-key (BFL's header) or Authorization: Bearer <key>
    lambda c: c.headers.get("x-key") or c.headers.get("authorization")
)


class FluxBody(msgspec.Struct):
    prompt: str = ""
    width: int | None = None
    height: int | None = None
    aspect_ratio: str | None = None
    seed: int | None = None
    prompt_upsampling: bool | None = None
    safety_tolerance: int | None = None
    output_format: str | None = None
    raw: bool | None = None
    image_prompt: str | None = None
    image_prompt_strength: float | None = None
    guidance: float | None = None
    steps: int | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    input_image: str | None = None
    input_image_2: str | None = None
    input_image_3: str | None = None
    input_image_4: str | None = None
    input_image_5: str | None = None
    input_image_6: str | None = None
    input_image_7: str | None = None
    input_image_8: str | None = None
    input_image_9: str | None = None


class Created(msgspec.Struct):
    id: str
    polling_url: str


class FieldError(msgspec.Struct):
    loc: list[str]
    msg: str
    type: str


class FluxError(msgspec.Struct):
    detail: str | list[FieldError]


def _spec(rt: Runtime, endpoint: str) -> ModelSpec:
    found = rt.catalogue.family_models("flux")
    if endpoint not in found:
        raise NotFoundError(f"no FLUX endpoint {endpoint!r}; there are {', '.join(sorted(found))}")
    return found[endpoint]


@post("/flux/v1/{endpoint:str}", status_code=200, summary="FLUX: make an image")
async def create(request: Request[Any, Any, Any], endpoint: str, data: FluxBody) -> Created:
    rt = runtime_of(request)
    spec = _spec(rt, endpoint)
    ratio = data.aspect_ratio
    if data.width is not None or data.height is not None:
        if ratio is not None:
            raise InvalidRequestError("width", "give width and height, or aspect_ratio")
        if not spec.free_sizes:
            raise InvalidRequestError("width", f"{endpoint} takes aspect_ratio, not a size")
        low, high, step = spec.free_sizes
        for name, value in (("width", data.width), ("height", data.height)):
            if value is not None and not (low <= value <= high and value % step == 0):
                raise InvalidRequestError(
                    name, f"{value} is not a size {spec.id} makes", [f"{low}..{high}, ×{step}"]
                )
        ratio = f"{data.width or 1024}x{data.height or 768}"
    given = [(f, getattr(data, f)) for f in IMAGE_FIELDS if getattr(data, f)]
    if data.image_prompt:
        given.append(("image_prompt", data.image_prompt))
    images = [image_ref(value, name) for name, value in given]
    role = "edit" if "edit" in spec.image_roles else "reference"
    options: dict[str, object] = {}
    for name in ("seed", "prompt_upsampling", "safety_tolerance", "raw", "guidance", "steps"):
        if getattr(data, name) is not None:
            options[name] = getattr(data, name)
    if data.image_prompt_strength is not None:
        options["image_prompt_strength"] = data.image_prompt_strength
    if data.output_format is not None:
        options["format"] = data.output_format
    if not data.prompt.strip():
        raise InvalidRequestError("prompt", "must be a non-empty string")
    task = await rt.tasks.create(
        api_key(request), spec.id, data.prompt, aspect_ratio=ratio, images=images or None,
        roles=[role] * len(images) or None, options=options,
        callback=callback(request, data.webhook_url, "flux"),
        idempotency_key=idempotency_key(request),
    )  # fmt: skip
    root = base_url(request)
    return Created(id=task.id, polling_url=f"{root}/flux/v1/get_result?id={task.id}")


STATUS = {
    Status.WAITING: "Pending",
    Status.QUEUED: "Pending",
    Status.PROCESSING: "Pending",
    Status.DONE: "Ready",
    Status.CANCELLED: "Error",
}


def render(rt: Runtime, root: str, task: Task) -> dict[str, Any]:
    status = STATUS.get(task.status, "Error")
    if task.status is Status.FAILED and task.error is not None:
        status = "Content Moderated" if task.error.code == "content_rejected" else "Error"
    result = None
    if task.status is Status.DONE:
        urls = urls_at(rt, root, task)
        result = {
            "sample": urls[0] if urls else None,
            "seed": task.params.options.get("seed", task.seed % 2**32),
            "prompt": task.prompt,
            "start_time": task.created_at,
            "end_time": task.finished_at,
            "duration": round((task.finished_at or task.created_at) - task.created_at, 3),
        }
    return {
        "id": task.id,
        "status": status,
        "result": result,
        "progress": 1.0 if task.status.terminal else round(task.progress / 100, 2),
        "details": {"error": task.error.message} if task.error else None,
    }


@webhook_body("flux")
def webhook(rt: Runtime, task: Task) -> bytes:
    return msgspec.json.encode(render(rt, task.public_base, task))


@get("/flux/v1/get_result", summary="FLUX: a result (polling_url)")
async def get_result(request: Request[Any, Any, Any], id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    try:
        task = await rt.tasks.get(api_key(request), id)
    except NotFoundError:
        return {"id": id, "status": "Task not found", "result": None, "progress": None}
    return render(rt, base_url(request), task)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[FluxError]:
    if isinstance(exc, BannedPromptError):
        return Response(FluxError(detail=f"Request Moderated: {exc.message}"), status_code=400)
    info = classify(exc, FIELDS)
    if info is None:
        raise exc
    if info.status == 400 and info.param:
        detail = [FieldError(loc=["body", info.param], msg=info.message, type="value_error")]
        return Response(FluxError(detail=detail), status_code=422)
    return Response(FluxError(detail=info.message), status_code=info.status, headers=info.headers)


TAG = "flux (BFL API)"
error_body(TAG, FluxError)
router = dialect_router([get_result, create], handle_error, TAG, guard=flux_key)
