"""Request ids and access logs: every request gets an id (the caller's ``X-Request-Id`` when
it is sane), echoed in the answer and bound to every log line of that request. Logs name
the key's id, never the key itself."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("mediagate.access")
SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
QUIET = ("/healthz", "/docs/assets/")
# Status polls come many times a second; they log at debug, so info shows what happened.
POLLS = re.compile(r"^/v1/(media/result|video/generations/[^/]+|videos/[^/]+)$")


# On every answer, pages, files and JSON alike: no framing (clickjacking in the console), no
# type sniffing (a stored result served as what it is, never run as a page), and no Referer
# to other sites, so a signed link in a page's address never leaks (same-origin rather than
# no-referrer: with no-referrer a browser sends "Origin: null" on its own forms).
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
FRAME_CSP = (b"content-security-policy", b"frame-ancestors 'none'")


async def security_headers(message: Message, scope: Scope) -> None:
    """The app's ``before_send`` hook, on every answer: also those no route matched (a 404 or
    405 never passes through the route middleware above), which get a request id here."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", []))
    names = {k.lower() for k, _ in headers}
    if b"x-request-id" not in names:
        headers.append((b"x-request-id", uuid.uuid4().hex.encode()))
    headers += SECURITY_HEADERS
    if b"content-security-policy" not in names:
        headers.append(FRAME_CSP)
    message["headers"] = headers


def is_poll(method: str, path: str) -> bool:
    return (
        method in ("GET", "POST")
        and bool(POLLS.match(path))
        and (method == "GET" or path == "/v1/media/result")
    )


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if SANE_ID.match(given) else uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await app(scope, receive, send_with_id)
        finally:
            path: str = scope.get("path", "")
            elapsed = time.perf_counter() - started
            runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
            metrics = getattr(runtime, "metrics", None)
            if metrics is not None:  # route templates, never raw paths: bounded cardinality
                route = str(scope.get("path_template") or "unmatched")
                metrics.request(route, path, str(scope.get("method")), status, elapsed)
            if not path.startswith(QUIET):
                state: Any = scope.get("state") or {}
                key = state.get("api_key") if isinstance(state, dict) else None
                method = str(scope.get("method"))
                emit = log.debug if is_poll(method, path) and status < 400 else log.info
                emit(
                    "request",
                    method=method,
                    path=path,  # control characters escaped by logs.escape_controls
                    status=status,
                    ms=round(elapsed * 1000, 1),
                    key_id=getattr(key, "id", None),
                )
            structlog.contextvars.unbind_contextvars("request_id")

    return middleware
