"""What OpenAI's images and videos endpoints share: the error body, sizes and form parsing."""

from __future__ import annotations

import math
from math import gcd
from typing import Any

import msgspec
from litestar import Request, Response

from mediagate.api.common import TASK_ERROR_STATUS, classify
from mediagate.core.catalogue import PLURAL, Kind, ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.numbers import is_digits, shown
from mediagate.core.tasks import TaskError

RATIO_TOLERANCE = 0.02  # a requested WxH within 2 % of a catalogue ratio maps onto it


class ErrorDetail(msgspec.Struct):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


def error_response(
    status: int, kind: str, code: str, message: str, param: str | None = None
) -> Response[ErrorBody]:
    return Response(ErrorBody(ErrorDetail(message, kind, param, code)), status_code=status)


def make_handler(field_names: dict[str, str]) -> Any:
    """An exception handler rendering core errors in OpenAI's shape, so the official SDK
    raises its usual class for the status (BadRequestError, NotFoundError, ...)."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
        info = classify(exc, field_names)
        if info is None:
            raise exc
        code = "invalid_api_key" if info.status == 401 else info.code
        resp = error_response(info.status, info.type, code, info.message, info.param)
        if info.headers:
            resp.headers.update(info.headers)
        return resp

    return handle


def task_failure(error: TaskError | None, task_id: str) -> Response[ErrorBody]:
    """A failed generation on a synchronous endpoint, with the status its reason deserves."""
    if error is None:
        return error_response(500, "server_error", "internal_error", f"task {task_id} failed")
    status = TASK_ERROR_STATUS.get(error.code, 500)
    if error.code == "content_rejected":
        status, kind, code = 400, "invalid_request_error", "moderation_blocked"
    else:
        kind, code = ("server_error" if status >= 500 else "invalid_request_error"), error.code
    return error_response(status, kind, code, f"{error.message} (task {task_id})")


def size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def ratio_for_size(spec: ModelSpec, size: str | None, param: str = "size") -> str | None:
    """The catalogue aspect ratio a WxH asks for: an exact catalogue size, or the same shape
    within 2 %. None (and "auto") keep the model's default."""
    if size is None or size == "auto":
        return None
    allowed = [size_text(spec.size_for(ar)) for ar in spec.aspect_ratios] + ["auto"]
    w_text, sep, h_text = size.lower().partition("x")
    ok = sep and is_digits(w_text, 5) and is_digits(h_text, 5)
    if not ok or not int(w_text) * int(h_text):
        raise InvalidRequestError(param, f"{shown(size)} is not WIDTHxHEIGHT", allowed)
    width, height = int(w_text), int(h_text)
    for ar in spec.aspect_ratios:
        if spec.size_for(ar) == (width, height):
            return ar
    want = width / height
    for ar in spec.aspect_ratios:
        aw, ah = (int(x) for x in ar.split(":"))
        if abs(want - aw / ah) <= RATIO_TOLERANCE * (aw / ah):
            return ar
    g = gcd(width, height)
    raise InvalidRequestError(
        param, f"{size} ({width // g}:{height // g}) is not a shape {spec.id} can make", allowed
    )


# Where OpenAI's API serves each kind of model, for the error that sends a caller there.
OPENAI_ROUTES = {Kind.IMAGE: "POST /v1/images/generations", Kind.VIDEO: "POST /v1/videos"}


def wrong_kind(spec: ModelSpec, allowed: list[str]) -> InvalidRequestError:
    """The 400 for a model this route does not serve: the route that does, or that no
    OpenAI route does (and where else mediagate serves it)."""
    route = OPENAI_ROUTES.get(spec.kind)
    where = (
        f"use {route}"
        if route
        else f"no OpenAI route serves {PLURAL[spec.kind]}: use POST /v1/media/create"
        + (" or the /suno/* routes" if spec.family == "suno" else "")
    )
    return InvalidRequestError("model", f"{spec.id} makes {PLURAL[spec.kind]}; {where}", allowed)


def nearest_ratio(spec: ModelSpec, size: str | None, param: str = "size") -> str | None:
    """For a model asked for by another name (gpt-image-1's 1536x1024): the catalogue ratio
    nearest the size's shape, so what the name accepts is accepted. None: the default."""
    if size is None or size == "auto":
        return None
    w_text, sep, h_text = size.lower().partition("x")
    if not (sep and is_digits(w_text, 5) and is_digits(h_text, 5)) or not int(w_text) * int(h_text):
        raise InvalidRequestError(param, f"{shown(size)} is not WIDTHxHEIGHT or auto")
    want = math.log(int(w_text) / int(h_text))

    def distance(ar: str) -> float:
        width, height = spec.size_for(ar)
        return abs(math.log(width / height) - want)

    return min(spec.aspect_ratios, key=distance)
