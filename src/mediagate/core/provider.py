"""The provider contract (in core: the engine depends on it, adapters implement it): the
adapter protocol every provider implements: submit, poll, fetch and cancel, all typed.

An adapter translates between mediagate's request and one upstream API. It gets its I/O
(HTTP session, credentials, clock) injected, never sleeps, never reads the environment,
holds no globals and raises only the ProviderError tree of ``mediagate.core.errors``.
Synchronous upstreams (Imagen, Seedream, OpenAI images) fit the same protocol: their
``submit`` does the work and returns ``Finished`` with the results, which the engine stores
in the same step (inline bytes, or links it streams through ``open``).

A task makes files and text. ``Ready`` may carry text outputs (a describe's prompts, lyrics)
and say there are no files at all. The engine stores the files in the step of the poll
that found the job done, with no commit in between. Where that status answer also links
them, ``Ready.results`` carries the links and the engine streams them through ``open``: no
second read of the job. Otherwise ``fetch`` is asked for file 0, 1, ... up to the model's
``max_files`` (or ``sample_count``) and returns None past the last one, so a vendor that
answers with two songs and their covers needs no count agreed in advance.

Optional, found by name: ``poll_many`` (``BulkPoller``) and ``inputs_on_poll(spec)``, true
when the adapter must see the task's inputs to report on it (the sandbox's describe).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Protocol

import msgspec

from mediagate.core.catalogue import GenerationParams, ModelSpec
from mediagate.core.errors import ProviderError

Clock = Callable[[], float]


class InputImage(msgspec.Struct, frozen=True):
    data: bytes
    content_type: str
    source_url: str | None = None  # the public http(s) URL it came from, if any

    def data_url(self) -> str:
        return f"data:{self.content_type};base64,{base64.b64encode(self.data).decode()}"

    def b64(self) -> str:
        return base64.b64encode(self.data).decode()


class GenerationRequest(msgspec.Struct, frozen=True):
    task_id: str
    spec: ModelSpec
    prompt: str
    params: GenerationParams
    seed: int
    images: tuple[InputImage, ...] = ()
    upstream_model: str = ""  # the route's model id at the vendor

    def image(self, role: str) -> InputImage | None:
        """The first input image in ``role`` (roles as the task's params name them)."""
        for i, r in enumerate(self.params.roles):
            if r == role and i < len(self.images):
                return self.images[i]
        return None

    def images_in(self, role: str) -> list[InputImage]:
        return [
            img
            for i, img in enumerate(self.images)
            if i < len(self.params.roles) and self.params.roles[i] == role
        ]


class Submitted(msgspec.Struct, frozen=True):
    upstream_id: str
    poll_after: float


class Pending(msgspec.Struct, frozen=True):
    progress: int
    poll_after: float


class TextResult(msgspec.Struct, frozen=True):
    """A text output: a describe's prompt, a song's lyrics, a shortened prompt."""

    text: str
    title: str = ""
    role: str = ""


class Result(msgspec.Struct, frozen=True):
    """A finished output: inline bytes, or a link to stream from (through ``open``)."""

    content_type: str
    data: bytes | None = None
    url: str | None = None


class Ready(msgspec.Struct, frozen=True):
    """The upstream has finished. ``results``: its files, when the status answer itself
    carries them (links, as most vendors' task objects do); otherwise they are fetched by
    index. ``files`` False: it made none, only ``texts``."""

    texts: tuple[TextResult, ...] = ()
    files: bool = True
    results: tuple[Result, ...] = ()


class Finished(msgspec.Struct, frozen=True):
    """What ``submit`` returns when the upstream answered with the media itself."""

    upstream_id: str
    results: tuple[Result, ...]
    texts: tuple[TextResult, ...] = ()


class MediaStream(msgspec.Struct, frozen=True):
    """One result file as a stream of chunks, with what is known about it."""

    content_type: str
    chunks: AsyncIterator[bytes]
    width: int
    height: int
    duration_seconds: float | None = None
    fps: int | None = None
    role: str = ""
    title: str = ""


class Provider(Protocol):
    """What the task engine needs from an upstream."""

    name: str

    async def submit(self, request: GenerationRequest) -> Submitted | Finished: ...

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready: ...

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        """File ``index`` of the finished job; None when it has no such file."""
        ...

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None: ...

    async def open(self, request: GenerationRequest, result: Result) -> MediaStream:
        """Stream a result that came as a link (in ``Finished`` or ``Ready``)."""
        ...


class BulkPoller(Protocol):
    """A provider that can report on many upstream jobs in one call (optional)."""

    name: str

    async def poll_many(
        self, upstream_ids: list[str]
    ) -> dict[str, Pending | Ready | ProviderError]:
        """State per upstream id (a failed job as its error); ids left out are polled
        one by one."""
        ...


CHUNK = 256 * 1024


async def chunks_of(data: bytes) -> AsyncIterator[bytes]:
    """Bytes already in memory as a MediaStream's chunks."""
    for i in range(0, len(data), CHUNK):
        yield data[i : i + CHUNK]
