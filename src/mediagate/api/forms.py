"""Reading multipart form fields the way every dialect needs: a file part, text, a number."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import UploadFile

from mediagate.core.errors import InvalidRequestError
from mediagate.core.numbers import whole_number


async def read_upload(value: Any, param: str) -> bytes:
    if isinstance(value, UploadFile):
        return await value.read()
    raise InvalidRequestError(param, "must be a file part")


def form_text(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    return str(value)


def form_int(form: Any, name: str) -> int | None:
    return whole_number(form_text(form, name), name)


def require_multipart(content_type: str, route: str) -> None:
    """A route whose fields are form parts says so when sent JSON (or nothing), instead of
    reporting the first field it then finds missing."""
    if not content_type.startswith("multipart/form-data"):
        raise InvalidRequestError(
            "Content-Type",
            f"{content_type.split(';')[0] or 'none'} is not accepted: {route} takes "
            "multipart/form-data (each field a form part, images as file parts)",
            ["multipart/form-data"],
        )
