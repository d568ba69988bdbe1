"""What every dialect shares: runtime lookup, auth, public URLs, error classification, hints."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request, Router
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers.base import BaseRouteHandler

from mediagate.core.errors import (
    AuthenticationError,
    ConflictError,
    InsufficientBalanceError,
    InvalidRequestError,
    MediagateError,
    NotConfiguredError,
    NotFoundError,
    PermissionDeniedError,
    TooManyRequestsError,
)
from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Mode, Status, Task, files
from mediagate.core.webhooks import Callback
from mediagate.runtime import Runtime


def runtime_of(request: Request[Any, Any, Any]) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


def key_guard(header_of: Callable[[ASGIConnection[Any, Any, Any, Any]], str | None]) -> Guard:
    """A route guard that reads the key where a dialect's clients send it (``x-key``,
    ``Api-Key``, ``Token <key>``, ``mj-api-secret``) and checks it like ``require_key``."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler | None = None
    ) -> None:
        await _authorize(connection, header_of(connection))

    return guard


async def require_key(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler | None = None
) -> None:
    """Route guard: authenticates before the body is parsed, so a bad key is always 401.
    Admin keys are refused here: they manage the gateway and never generate."""
    await _authorize(connection, _raw_header(connection, b"authorization"))


def _raw_header(connection: ASGIConnection[Any, Any, Any, Any], name: bytes) -> str | None:
    """One header straight from the ASGI scope, without building Litestar's Headers."""
    for key, value in connection.scope["headers"]:
        if key == name:  # ASGI servers give names in lower case
            return value.decode("latin-1")
    return None


async def _authorize(connection: ASGIConnection[Any, Any, Any, Any], header: str | None) -> None:
    rt: Runtime = connection.app.state.runtime
    key = await rt.keys.authenticate(header)
    if key.mode is Mode.ADMIN:
        raise PermissionDeniedError(
            "admin keys cannot be used for generation; use a test or live key"
        )
    await rt.limiter.check(key.id)
    connection.state.api_key = key


async def require_admin(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Route guard for /v1/admin: only an admin key (``mediagate keys create --admin``)."""
    rt: Runtime = connection.app.state.runtime
    key = await rt.keys.authenticate(connection.headers.get("authorization"))
    if key.mode is not Mode.ADMIN:
        raise PermissionDeniedError("the admin API needs an admin key")
    connection.state.api_key = key


def api_key(request: Request[Any, Any, Any]) -> KeyRecord:
    """The key ``require_key`` authenticated for this request."""
    key: KeyRecord = request.state.api_key
    return key


def base_url(request: Request[Any, Any, Any]) -> str:
    configured = runtime_of(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def output_urls(request: Request[Any, Any, Any], task: Task) -> list[str]:
    if task.status is not Status.DONE:  # no links yet: no base URL to work out
        return []
    return urls_at(runtime_of(request), base_url(request), task)


def urls_at(rt: Runtime, root: str, task: Task) -> list[str]:
    """The task's signed result links under ``root`` (empty until it is done)."""
    if task.status is not Status.DONE:
        return []
    return [rt.link(root, out.key) for out in files(task.outputs)]  # texts have no link


WebhookBody = Callable[[Runtime, Task], bytes]
WEBHOOK_BODIES: dict[str, WebhookBody] = {}  # dialect -> its webhook body (see register)


def webhook_body(dialect: str) -> Callable[[WebhookBody], WebhookBody]:
    """Registers a dialect's webhook body: a task created in that dialect is delivered in
    its shape. A dialect module registers its own; nothing else needs to know it."""

    def register(fn: WebhookBody) -> WebhookBody:
        WEBHOOK_BODIES[dialect] = fn
        return fn

    return register


# A dialect's error bodies for /openapi.json, by its tag: (the body of every 4xx/5xx, the
# body of particular statuses where it differs). A dialect module registers its own.
ERROR_BODIES: dict[str, tuple[type[msgspec.Struct], dict[str, type[msgspec.Struct]]]] = {}


def error_body(tag: str, body: type[msgspec.Struct], **by_status: type[msgspec.Struct]) -> None:
    """Document ``tag``'s error answers as ``body`` (``by_status``: ``s401=...`` where one
    status answers in another shape)."""
    ERROR_BODIES[tag] = (body, {k.removeprefix("s"): v for k, v in by_status.items()})


MSG_UTF8 = "body: is not valid UTF-8; send JSON and form fields in UTF-8"
MSG_DEEP = "body: is nested too deeply to be a request"
_PATH_RE = re.compile(r"at `\$\.?([^`]*)`")
_MISSING_RE = re.compile(r"missing required field `([^`]+)`")


def validation_field(exc: ValidationException) -> tuple[str, str]:
    """(field, message) from Litestar's msgspec validation error, for a dialect's body."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict) and item.get("source") == "body":
            key = str(item.get("key") or "body")
            msg = str(item.get("message") or exc.detail).split(" - at ")[0]
            missing = _MISSING_RE.search(msg)
            if missing:
                return missing.group(1), "is required"
            return ("body" if key == "data" else key), msg
    detail = str(exc.detail)
    match = _PATH_RE.search(detail)
    if match:
        return match.group(1) or "body", detail.split(" - at ")[0]
    return "body", detail


class ErrorInfo(msgspec.Struct, frozen=True):
    """A failure as every dialect needs it: HTTP status, type, code, message and field."""

    status: int
    type: str
    code: str
    message: str
    param: str | None = None
    headers: dict[str, str] | None = None


def dialect_name(param: str, field_names: dict[str, str]) -> str:
    """A field as the dialect names it, an index kept: ``images[1]`` is Midjourney's
    ``base64Array[1]``."""
    if param in field_names:
        return field_names[param]
    base, bracket, rest = param.partition("[")
    return f"{field_names[base]}[{rest}" if bracket and base in field_names else param


def classify(exc: Exception, field_names: dict[str, str]) -> ErrorInfo | None:
    """Map a request failure onto status and words, naming fields as the dialect does.
    None means the exception is not the caller's doing (the app's 500 handler takes it)."""
    if isinstance(exc, InvalidRequestError):
        param = dialect_name(exc.param, field_names)
        return ErrorInfo(400, "invalid_request_error", exc.code, exc.describe(param), param)
    if isinstance(exc, UnicodeDecodeError):  # a body or form field in another encoding
        return ErrorInfo(400, "invalid_request_error", "invalid_request", MSG_UTF8, "body")
    if isinstance(exc, RecursionError):  # JSON nested past the decoder's limit
        return ErrorInfo(400, "invalid_request_error", "invalid_request", MSG_DEEP, "body")
    if isinstance(exc, ValidationException):
        field, msg = validation_field(exc)
        field = field_names.get(field, field)
        return ErrorInfo(400, "invalid_request_error", "invalid_request", f"{field}: {msg}", field)
    if isinstance(exc, AuthenticationError):
        return ErrorInfo(401, "authentication_error", "invalid_api_key", exc.message)
    if isinstance(exc, InsufficientBalanceError):
        return ErrorInfo(402, "insufficient_balance_error", exc.code, exc.message)
    if isinstance(exc, PermissionDeniedError):
        return ErrorInfo(403, "permission_error", exc.code, exc.message)
    if isinstance(exc, NotFoundError):
        return ErrorInfo(404, "not_found_error", exc.code, exc.message, "task_id")
    if isinstance(exc, TooManyRequestsError):
        retry = {"Retry-After": str(int(exc.retry_after))}
        return ErrorInfo(429, "rate_limit_error", exc.code, exc.message, None, retry)
    if isinstance(exc, ConflictError):
        # The SDKs (openai, runwayml, lumaai) retry a 409 unless told: the same request
        # again would only conflict again.
        no_retry = {"x-should-retry": "false"}
        return ErrorInfo(409, "conflict_error", exc.code, exc.message, "Idempotency-Key", no_retry)
    if isinstance(exc, NotConfiguredError):
        return ErrorInfo(503, "service_unavailable_error", exc.code, exc.message, "model")
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        text = f"body: {exc.detail}" if exc.status_code == 400 else str(exc.detail)
        kind = "invalid_request_error" if exc.status_code in (400, 413, 415) else "http_error"
        headers = dict(exc.headers) if exc.headers else None
        body_param = "body" if exc.status_code == 400 else None
        return ErrorInfo(exc.status_code, kind, "invalid_request", text, body_param, headers)
    if isinstance(exc, MediagateError):
        return ErrorInfo(400, "invalid_request_error", exc.code, exc.message)
    return None


# What a failed task's error code means over HTTP, where a dialect needs a number.
TASK_ERROR_STATUS = {
    "invalid_input": 400,
    "upstream_invalid_request": 400,
    "content_rejected": 422,
    "cancelled": 499,
    "rate_limited": 429,
    "upstream_auth": 502,
    "upstream_error": 502,
    "timeout": 504,
    "internal_error": 500,
}


def poll_after_ms(task: Task, now: float) -> int:
    """A polling hint: often while a task is young, rarely once it has run a while."""
    age = max(0.0, now - task.created_at)
    return int(min(5000.0, max(200.0, age * 250.0)))


def callback(request: Request[Any, Any, Any], url: str | None, dialect: str) -> Callback | None:
    """A create's ``callback_url`` (every dialect takes one) as the core's Callback."""
    return Callback(url, dialect, base_url(request)) if url else None


def idempotency_key(request: Request[Any, Any, Any]) -> str | None:
    return request.headers.get("idempotency-key")


def dialect_router(handlers: list[Any], on_error: Any, tag: str, guard: Any = None) -> Router:
    """A dialect's routes behind the key guard, with its errors rendered by ``on_error``.

    The guard runs as the routes' ``before_request`` hook, which Litestar also calls before
    it reads the body: as a Litestar guard it cost a copy of the route handler per request
    (a tenth of a poll's time)."""
    check = guard or require_key

    async def authenticate(request: Request[Any, Any, Any]) -> None:
        await check(request, None)  # (connection, handler): the handler is not used

    return Router(
        path="/",
        route_handlers=handlers,
        before_request=authenticate,
        exception_handlers={
            MediagateError: on_error,
            ValidationException: on_error,
            UnicodeDecodeError: on_error,
            RecursionError: on_error,
            HTTPException: on_error,
        },
        tags=[tag],
    )
