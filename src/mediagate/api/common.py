"""What every dialect shares: the runtime lookup, auth, public URLs and field-path parsing."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler

from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Task
from mediagate.runtime import Runtime


def runtime_of(request: Request[Any, Any, Any]) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


async def require_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Route guard: authenticates before the body is parsed, so a bad key is always 401."""
    rt: Runtime = connection.app.state.runtime
    key = await rt.keys.authenticate(connection.headers.get("authorization"))
    connection.state.api_key = key


def api_key(request: Request[Any, Any, Any]) -> KeyRecord:
    """The key ``require_key`` authenticated for this request."""
    key: KeyRecord = request.state.api_key
    return key


def base_url(request: Request[Any, Any, Any]) -> str:
    configured = runtime_of(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def output_urls(request: Request[Any, Any, Any], task: Task) -> list[str]:
    rt = runtime_of(request)
    root = base_url(request)
    return [root + rt.signer.path(out.key) for out in task.outputs]


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
