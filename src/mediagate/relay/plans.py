"""What a relayed request is once checked: the routes the relay serves (their upstream path and
kind), the ``Plan`` a checked and held request runs by, and the status a failure is logged
with (each dialect renders the answer itself)."""

from __future__ import annotations

from typing import Any

import msgspec

from mediagate.core.errors import (
    InsufficientBalanceError,
    InvalidRequestError,
    NotConfiguredError,
    PermissionDeniedError,
    RateLimitedError,
    UpstreamInvalidRequest,
    UpstreamTimeoutError,
)
from mediagate.core.keys import KeyRecord
from mediagate.core.text import TextKind, TextModel, Usage
from mediagate.relay.upstreams import Upstream

ROUTES = {
    "chat.completions": ("/chat/completions", TextKind.CHAT),
    "completions": ("/completions", TextKind.COMPLETION),
    "embeddings": ("/embeddings", TextKind.EMBEDDING),
    "responses": ("/chat/completions", TextKind.CHAT),  # translated to a chat completion
    "messages": ("/messages", TextKind.CHAT),  # Anthropic's wire (``relay.messages``)
    "audio.speech": ("/audio/speech", TextKind.SPEECH),
    "audio.transcriptions": ("/audio/transcriptions", TextKind.TRANSCRIPTION),
    "audio.translations": ("/audio/translations", TextKind.TRANSCRIPTION),
}
STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (InvalidRequestError, 400),
    (InsufficientBalanceError, 402),
    (PermissionDeniedError, 403),
    (NotConfiguredError, 503),
    (UpstreamInvalidRequest, 400),
    (RateLimitedError, 429),
    (UpstreamTimeoutError, 504),
)


class Plan(msgspec.Struct, kw_only=True):
    """One request, checked and held, ready to run."""

    id: str
    key: KeyRecord
    route: str
    path: str
    model: TextModel
    body: dict[str, Any]
    stream: bool
    wants_usage: bool
    prompt: int
    held: int
    estimate: int  # tokens taken from the key's minute (the unused part is given back)
    upstreams: list[tuple[Upstream, str]]
    started: float  # perf_counter
    created_at: float
    images: list[str] = []
    fixed: Usage | None = None  # audio: what it uses is known before it runs (and charged)


def status_of(exc: Exception) -> int:
    """The status a failed request is logged with (the dialect renders the answer)."""
    for kind, status in STATUSES:
        if isinstance(exc, kind):
            return status
    return 502


def raise_missing(field: str) -> None:
    raise InvalidRequestError(field, "is required")


def raise_too_long(prompt: int, model: TextModel) -> None:
    raise InvalidRequestError(
        "messages", f"is {prompt} tokens, over {model.id}'s context of {model.context}"
    )
