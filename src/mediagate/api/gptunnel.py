"""The gptunnel dialect: POST /v1/media/create and GET|POST /v1/media/result, as the seeds show."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter

from mediagate.api.common import (
    api_key,
    callback,
    classify,
    dialect_router,
    idempotency_key,
    output_urls,
    poll_after_ms,
    runtime_of,
    urls_at,
    webhook_body,
)
from mediagate.core.errors import InvalidRequestError
from mediagate.core.tasks import Status, Task
from mediagate.runtime import Runtime

# gptunnel's numeric error codes on `code` (0 is success).
CODE_UNAUTHORIZED = 1
CODE_NOT_FOUND = 2
CODE_INVALID = 3
CODE_NOT_CONFIGURED = 5
CODE_BALANCE = 6
CODE_FORBIDDEN = 7
CODE_INTERNAL = 9

STATUS_NAMES = {
    Status.WAITING: "idle",
    Status.QUEUED: "idle",
    Status.PROCESSING: "processing",
    Status.DONE: "done",
    Status.FAILED: "failed",
    Status.CANCELLED: "cancelled",
}
# Core field names as this dialect spells them.
FIELD_NAMES = {"aspect_ratio": "ar"}


class CreateBody(msgspec.Struct):
    """gptunnel's create body, plus the unified format's video fields as extensions."""

    model: str
    prompt: str = ""  # the catalogue says which models need one (a tool may not)
    ar: str | None = None
    images: list[str] | None = None
    duration_seconds: int | None = None
    sample_count: int | None = None
    callback_url: str | None = None
    # An extension: the model's own parameters, as GET /v1/models lists them (checked
    # against the catalogue like every dialect's).
    options: dict[str, Any] | None = None


class ResultBody(msgspec.Struct):
    task_id: str | None = None


class MediaTask(msgspec.Struct, omit_defaults=True):
    """The task object both endpoints answer with. ``url`` is null until done."""

    code: int
    id: str
    model: str
    prompt: str
    created_at: int
    status: str
    url: str | None
    progress: int = 0
    urls: list[str] | None = None
    error: str | None = None
    error_code: str | None = None
    provider: str | None = None  # which upstream served it ("sandbox" for test keys)
    # An extension: the task's text outputs (an OCR's text is in its file; a deck's outline,
    # a compression's input size, a sandbox stand-in's label), each {text, role, title}.
    texts: list[dict[str, str]] | None = None


class TaskList(msgspec.Struct):
    object: str
    data: list[MediaTask]
    has_more: bool


class ErrorDetail(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str


class ErrorBody(msgspec.Struct):
    code: int
    message: str
    error: ErrorDetail


def echo_prompt(task: Task) -> str:
    return f"{task.prompt} --ar {task.params.aspect_ratio}" if task.params.ar_given else task.prompt


def render_task(request: Request[Any, Any, Any], task: Task) -> MediaTask:
    return render_with(task, output_urls(request, task))


@webhook_body("gptunnel")
def webhook(rt: Runtime, task: Task) -> bytes:
    return msgspec.json.encode(render_with(task, urls_at(rt, task.public_base, task)))


def render_with(task: Task, urls: list[str]) -> MediaTask:
    """The task in gptunnel's shape, with its result links (for answers and webhooks)."""
    return MediaTask(
        code=0,
        id=task.id,
        model=task.model,
        prompt=echo_prompt(task),
        created_at=int(task.created_at),
        status=STATUS_NAMES[task.status],
        url=urls[0] if urls else None,
        progress=task.progress,
        urls=urls if len(urls) > 1 else None,
        error=task.error.message if task.error else None,
        error_code=task.error.code if task.error else None,
        provider=task.provider,
        texts=[
            {"text": o.text, "role": o.role, "title": o.title}
            for o in task.outputs
            if o.text is not None
        ]
        or None,
    )


@post("/v1/media/create", status_code=200, summary="Create a generation task")
async def create(request: Request[Any, Any, Any], data: CreateBody) -> MediaTask:
    """Validates against the catalogue and answers at once; the task runs in the background.
    An ``Idempotency-Key`` header makes retries of the same request return the same task."""
    task = await runtime_of(request).tasks.create(
        api_key(request),
        data.model,
        data.prompt,
        aspect_ratio=data.ar,
        images=data.images,
        duration_seconds=data.duration_seconds,
        sample_count=data.sample_count,
        options=data.options,
        idempotency_key=idempotency_key(request),
        callback=callback(request, data.callback_url, "gptunnel"),
    )
    return render_task(request, task)


def _with_hint(request: Request[Any, Any, Any], task: Task) -> Response[MediaTask]:
    headers = {}
    if not task.status.terminal:
        headers["poll-after-ms"] = str(poll_after_ms(task, runtime_of(request).clock()))
    return Response(render_task(request, task), headers=headers)


async def _task_id_from(request: Request[Any, Any, Any], task_id: str | None) -> str:
    """task_id from the JSON body if there is one, else from the query."""
    raw = await request.body()
    if raw.strip():
        try:
            body = msgspec.json.decode(raw, type=ResultBody)
        except msgspec.ValidationError as exc:
            raise InvalidRequestError("task_id", str(exc).split(" - at ")[0]) from None
        except msgspec.DecodeError:
            raise InvalidRequestError("body", "is not valid JSON") from None
        task_id = body.task_id or task_id
    if not task_id:
        raise InvalidRequestError("task_id", "is required, in the query or the JSON body")
    return task_id


async def _result(request: Request[Any, Any, Any], task_id: str | None) -> Response[MediaTask]:
    if not task_id:
        raise InvalidRequestError("task_id", "is required, in the query or the JSON body")
    task = await runtime_of(request).tasks.get(api_key(request), task_id)
    return _with_hint(request, task)


@get("/v1/media/result", summary="Read a task (task_id in the query)")
async def result_get(
    request: Request[Any, Any, Any],
    task_id: str | None = Parameter(query="task_id", default=None),
) -> Response[MediaTask]:
    return await _result(request, task_id)


@post("/v1/media/result", status_code=200, summary="Read a task (task_id in body or query)")
async def result_post(
    request: Request[Any, Any, Any],
    task_id: str | None = Parameter(query="task_id", default=None),
) -> Response[MediaTask]:
    return await _result(request, await _task_id_from(request, task_id))


@post("/v1/media/cancel", status_code=200, summary="Cancel a queued or running task")
async def cancel(
    request: Request[Any, Any, Any],
    task_id: str | None = Parameter(query="task_id", default=None),
) -> MediaTask:
    """Ends in ``cancelled`` (and stops the upstream job where the vendor allows it). A task
    that already finished is returned as it is."""
    task_id = await _task_id_from(request, task_id)
    task = await runtime_of(request).tasks.cancel(api_key(request), task_id)
    return render_task(request, task)


@get("/v1/media/tasks", summary="List this key's tasks, newest first (mediagate extension)")
async def list_tasks(
    request: Request[Any, Any, Any],
    limit: int = Parameter(query="limit", default=20, ge=1, le=100),
    after: str | None = Parameter(query="after", default=None),
) -> TaskList:
    """Images and videos alike; ``after`` is the last id of the previous page."""
    page = await runtime_of(request).tasks.page(api_key(request), None, after, limit)
    return TaskList("list", [render_task(request, t) for t in page.tasks], page.has_more)


def _error(
    status: int, code: int, kind: str, err: str, message: str, param: str | None
) -> Response[ErrorBody]:
    body = ErrorBody(code=code, message=message, error=ErrorDetail(message, kind, param, err))
    return Response(body, status_code=status)


# gptunnel's numeric ``code`` per HTTP status of a failure.
_CODES = {
    401: CODE_UNAUTHORIZED,
    402: CODE_BALANCE,
    403: CODE_FORBIDDEN,
    404: CODE_NOT_FOUND,
    503: CODE_NOT_CONFIGURED,
}
_TYPES = {401: "unauthorized_request_error"}


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Core errors in gptunnel's shape: non-zero ``code``, a message, and an HTTP status."""
    info = classify(exc, FIELD_NAMES)
    if info is None:
        raise exc
    kind = _TYPES.get(info.status, info.type)
    code = _CODES.get(info.status, CODE_INVALID)
    body = ErrorBody(code, info.message, ErrorDetail(info.message, kind, info.param, info.code))
    return Response(body, status_code=info.status, headers=info.headers)


router = dialect_router(
    [create, result_get, result_post, cancel, list_tasks], handle_error, "gptunnel"
)
