"""Documents each dialect's real error bodies in the OpenAPI schema. Litestar would list its
own validation body for 400s; every dialect answers in its own shape instead."""

from __future__ import annotations

from typing import Any

import msgspec

from mediagate.api import gptunnel, openai_shared, unified
from mediagate.api.common import ERROR_BODIES


class PlainError(msgspec.Struct):
    """What routes outside the dialects (signed file links) answer on failure."""

    code: int
    message: str


class GptunnelError(gptunnel.ErrorBody):
    """gptunnel's error: non-zero ``code``, a message, and an OpenAI-style error object."""


class UnifiedError(unified.ErrorBody):
    """new-api's task error, with an OpenAI-style error object alongside."""


class OpenAIError(openai_shared.ErrorBody):
    """OpenAI's error: ``{"error": {message, type, param, code}}``."""


BODY_BY_TAG: dict[str, type[msgspec.Struct]] = {
    "gptunnel": GptunnelError,
    "account": GptunnelError,
    "webhooks": GptunnelError,
    "unified video (GPTNB / new-api)": UnifiedError,
    "OpenAI images": OpenAIError,
    "OpenAI videos": OpenAIError,
    "admin": OpenAIError,
    "files": PlainError,
}
STATUSES = {
    "400": "A field is missing or not allowed; the message names it and what is allowed",
    "401": "Missing, unknown or revoked API key",
    "402": "The account's balance or spend limit cannot cover the task",
    "403": "The key or account may not do this",
    "404": "No such task (or another key's)",
    "409": "An Idempotency-Key reused with a different request",
    "413": "The request body is too large",
    "429": "Over the key's request rate or queue depth; see Retry-After",
    "503": "Nothing on this deployment can serve the model for this key",
}
FILE_STATUSES = {"404": "No such file, or the signature does not match"}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    by_tag: dict[str, tuple[type[msgspec.Struct], dict[str, type[msgspec.Struct]]]] = {
        tag: (body, {}) for tag, body in BODY_BY_TAG.items()
    }
    by_tag.update(ERROR_BODIES)  # each family dialect's own
    every = {b for body, extra in by_tag.values() for b in (body, *extra.values())}
    bodies = sorted(every, key=lambda c: c.__name__)
    refs, components = msgspec.json.schema_components(
        bodies, ref_template="#/components/schemas/{name}"
    )
    schema.setdefault("components", {}).setdefault("schemas", {}).update(components)
    ref_of = dict(zip(bodies, refs, strict=True))
    for item in schema.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            tags = op.get("tags") or []
            found = by_tag.get(tags[0]) if tags else None
            if found is None:
                continue
            body, special = found
            responses = op.setdefault("responses", {})
            statuses = FILE_STATUSES if body is PlainError else STATUSES
            for code in [c for c in responses if c.startswith("4") or c.startswith("5")]:
                del responses[code]
            for code, text in statuses.items():
                shape = special.get(code, body)
                responses[code] = {
                    "description": text,
                    "content": {"application/json": {"schema": ref_of[shape]}},
                }
    return schema
