"""The adapter protocol every provider implements: submit, poll, fetch and cancel, all typed.

An adapter translates between mediagate's request and one upstream API. It gets its I/O
(HTTP session, credentials, clock) injected, never sleeps, never reads the environment,
holds no globals and raises only the ProviderError tree of ``mediagate.core.errors``.
Synchronous upstreams fit the same protocol: their ``submit`` does the work and the first
``poll`` answers Ready.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

import msgspec

from mediagate.core.catalogue import GenerationParams, ModelSpec

Clock = Callable[[], float]


class InputImage(msgspec.Struct, frozen=True):
    data: bytes
    content_type: str


class GenerationRequest(msgspec.Struct, frozen=True):
    task_id: str
    spec: ModelSpec
    prompt: str
    params: GenerationParams
    seed: int
    images: tuple[InputImage, ...] = ()


class Submitted(msgspec.Struct, frozen=True):
    upstream_id: str
    poll_after: float


class Pending(msgspec.Struct, frozen=True):
    progress: int
    poll_after: float


class Ready(msgspec.Struct, frozen=True):
    """The upstream has finished; results are fetched by index, one per sample."""


class MediaStream(msgspec.Struct, frozen=True):
    """One result file as a stream of chunks, with what is known about it."""

    content_type: str
    chunks: AsyncIterator[bytes]
    width: int
    height: int
    duration_seconds: float | None = None
    fps: int | None = None


class Provider(Protocol):
    """What the task engine needs from an upstream."""

    name: str

    async def submit(self, request: GenerationRequest) -> Submitted: ...

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready: ...

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream: ...

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None: ...
