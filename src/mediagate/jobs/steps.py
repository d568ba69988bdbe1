"""The task steps: submit, poll and fetch. Each is short, never sleeps, says when to run next."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import msgspec
import structlog

from mediagate.core.accounts import price_micros
from mediagate.core.catalogue import Catalogue, ModelSpec
from mediagate.core.errors import (
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UpstreamTimeoutError,
)
from mediagate.core.ports import NullObserver, Observer
from mediagate.core.provider import (
    Finished,
    GenerationRequest,
    InputImage,
    MediaStream,
    Provider,
    Ready,
    Result,
    TextResult,
    chunks_of,
)
from mediagate.core.tasks import Output, Status, Step, Task, TaskError, TaskUpdate, texts
from mediagate.jobs.bulk import BulkPolls
from mediagate.jobs.inputs import InputResolver
from mediagate.jobs.probe import IMAGE_HEAD, PROBE_BYTES, probe
from mediagate.providers.registry import ProviderRegistry
from mediagate.storage.blobs import BlobStore

log = structlog.get_logger("mediagate.steps")

# Held around a step's downloads: the step slots of the engine, for a step that runs without
# one (a bulk-answered poll that finds its job done, and now stores its files).
Slot = Callable[[], AbstractAsyncContextManager[None]]

MAX_ATTEMPTS = 5  # transient failures of one step before the task fails
ROUTE_ATTEMPTS = 3  # ...or before it moves to the next route, when there is one
SLOT_WAIT_S = 1.0  # how often a task waiting for a running slot looks again
FETCH_WAIT_S = 0.5  # ...or for a download slot for its inputs
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0
EXT = {
    "image/webp": "webp",
    "image/png": "png",
    "image/jpeg": "jpg",
    "video/mp4": "mp4",
    "audio/mpeg": "mp3",
}


def backoff(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Full-jitter exponential backoff, never sooner than the upstream's Retry-After."""
    delay = rng.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))
    return max(delay, retry_after or 0.0)


class StepRunner:
    """Runs one step of one leased task and returns the update to commit."""

    def __init__(
        self,
        catalogue: Catalogue,
        providers: ProviderRegistry,
        blobs: BlobStore,
        inputs: InputResolver,
        clock: Callable[[], float],
        rng: random.Random | None = None,
        slots: Callable[[Task], Awaitable[bool]] | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._observer: Observer = observer or NullObserver()
        self._slots = slots
        self._bulk = BulkPolls()
        self._catalogue = catalogue
        self._providers = providers
        self._blobs = blobs
        self._inputs = inputs
        self._clock = clock
        self._rng = rng or random.Random()

    def coalesced(self, task: Task) -> bool:
        """True for a poll step answered by a bulk call (``BulkPolls``): it waits on that
        call, which bounds the upstream I/O itself, so it takes no per-step slot."""
        if task.step is not Step.POLL:
            return False
        try:
            return hasattr(self._providers.get(task.provider), "poll_many")
        except UnavailableError:
            return False  # the step itself will fail over

    async def prepare(self, task: Task) -> TaskUpdate | None:
        """Download a submit step's remote inputs in the fetch pool, before the step takes a
        provider slot. None: go on to ``run``; else the update to commit instead (try again
        shortly when the key has its share of downloads running, or failed)."""
        refs = task.params.images
        if task.step is not Step.SUBMIT or not refs or not self._inputs.remote(refs):
            return None
        if not self._inputs.slots.take(task.key_id):
            return TaskUpdate(
                status=task.status, step=Step.SUBMIT, next_run_at=self._clock() + FETCH_WAIT_S
            )
        try:
            spec = self._catalogue.get(task.model)
            await self._inputs.load(task.id, refs, spec.max_input_pixels, takes_media(spec))
        except ProviderError as exc:
            return _failed(exc)
        finally:
            self._inputs.slots.give(task.key_id)
        return None

    async def run(self, task: Task, slot: Slot = contextlib.nullcontext) -> TaskUpdate:
        """The step's update. ``slot``: taken before downloading, where the step holds none."""
        now = self._clock()
        spec = self._catalogue.get(task.model)
        if task.step is Step.CANCEL:
            return await self._cancel_upstream(task, spec)
        if now > task.created_at + spec.deadline_s:
            update = _failed(
                UpstreamTimeoutError(f"the task did not finish within {spec.deadline_s} s"),
            )
            if task.upstream_id:  # stop the upstream job too, in a step of its own
                update = msgspec.structs.replace(update, step=Step.CANCEL, next_run_at=now)
            return update
        try:
            return await self._step(task, spec, now, slot)
        except ProviderError as exc:
            self._observer.upstream_error(task.provider, exc.code)
            moved = self._failover(task, exc, now)
            if moved is not None:
                return moved
            if exc.retryable and task.attempts + 1 < MAX_ATTEMPTS:
                retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
                delay = backoff(task.attempts, retry_after, self._rng)
                return TaskUpdate(
                    status=task.status,
                    step=task.step,
                    next_run_at=now + delay,
                    attempts=task.attempts + 1,
                    detail=f"retry {task.attempts + 1} after {exc.code}: {exc.message}",
                )
            return _failed(exc)

    def _failover(self, task: Task, exc: ProviderError, now: float) -> TaskUpdate | None:
        """Move a live task to its next configured route when this one is down, rate-limited
        or does not know the model, even after the vendor accepted it: the task is submitted
        again there. A failure retrying may fix gets ROUTE_ATTEMPTS tries first."""
        if not exc.failover or task.route < 0:
            return None
        if exc.retryable and task.attempts + 1 < ROUTE_ATTEMPTS:
            return None
        sibling = self._providers.sibling(task.provider)  # another channel of this provider
        if sibling is not None:
            return TaskUpdate(
                status=Status.QUEUED,
                step=Step.SUBMIT,
                next_run_at=now,
                progress=0,
                attempts=0,
                provider=sibling,
                clear_upstream=True,
                detail=f"failover from {task.provider} to {sibling} after {exc.code}: "
                f"{exc.message}",
            )
        current, _ = self._providers.locate(task.model, task.route, task.route_name)
        found = self._providers.next_route(task.model, current)
        if found is None:
            return None
        index, route = found
        return TaskUpdate(
            status=Status.QUEUED,
            step=Step.SUBMIT,
            next_run_at=now,
            progress=0,
            attempts=0,
            provider=self._providers.choose(route.provider),
            route=index,
            route_name=route.key,
            clear_upstream=True,
            detail=f"failover from {task.provider} to {route.provider} after {exc.code}: "
            f"{exc.message}",
        )

    def _request(
        self, task: Task, spec: ModelSpec, images: tuple[InputImage, ...]
    ) -> GenerationRequest:
        _, route = self._providers.locate(task.model, task.route, task.route_name)
        return GenerationRequest(
            task_id=task.id,
            spec=spec,
            prompt=task.prompt,
            params=task.params,
            seed=task.seed,
            images=images,
            upstream_model=route.upstream_model(bool(images)) if route else spec.id,
        )

    async def _cancel_upstream(self, task: Task, spec: ModelSpec) -> TaskUpdate:
        """Best effort: a vendor that cannot cancel, or fails to, leaves a note in the log."""
        request = self._request(task, spec, ())
        detail = "cancelled upstream"
        try:
            await self._providers.get(task.provider).cancel(request, task.upstream_id or "")
        except ProviderError as exc:
            detail = f"upstream cancel failed: {exc.code}: {exc.message}"
        return TaskUpdate(status=task.status, step=None, next_run_at=None, detail=detail)

    async def _step(self, task: Task, spec: ModelSpec, now: float, slot: Slot) -> TaskUpdate:
        if task.step is Step.SUBMIT and self._slots is not None and not await self._slots(task):
            # Over the key's or the provider's cap of tasks running at once: wait here, in
            # mediagate's queue, and try again shortly (not an error, not an attempt).
            return TaskUpdate(status=task.status, step=Step.SUBMIT, next_run_at=now + SLOT_WAIT_S)
        provider = self._providers.get(task.provider)
        # A provider that reads its inputs to report (the sandbox describes an image as it
        # finishes) says so with ``inputs_on_poll``; others' polls read no inputs.
        needs_images = task.step in (Step.SUBMIT, Step.FETCH) or (
            task.step is Step.POLL
            and hasattr(provider, "inputs_on_poll")
            and provider.inputs_on_poll(spec)
        )
        images = (
            await self._inputs.load(
                task.id, task.params.images, spec.max_input_pixels, takes_media(spec)
            )
            if needs_images
            else ()
        )
        request = self._request(task, spec, images)
        if task.step is Step.SUBMIT:
            sub = await provider.submit(request)
            if isinstance(sub, Finished):  # a synchronous upstream: store the media now
                streams = [await self._open(provider, request, r) for r in sub.results]
                said = _texts(sub.texts)
                return await self._store(task, streams, f"answered by {provider.name}", said)
            return TaskUpdate(
                status=Status.PROCESSING,
                step=Step.POLL,
                next_run_at=now + sub.poll_after,
                progress=1,
                attempts=0,
                upstream_id=sub.upstream_id,
                detail=f"submitted to {provider.name} as {sub.upstream_id}",
            )
        upstream_id = task.upstream_id or ""
        if task.step is Step.POLL:
            if hasattr(provider, "poll_many"):
                state = await self._bulk.poll(
                    provider,  # type: ignore[arg-type]
                    upstream_id,
                    lambda: provider.poll(request, upstream_id),
                )
            else:
                state = await provider.poll(request, upstream_id)
            if isinstance(state, Ready):
                return await self._finish(task, spec, provider, request, state, slot)
            return TaskUpdate(
                status=Status.PROCESSING,
                step=Step.POLL,
                next_run_at=now + state.poll_after,
                progress=state.progress,
                attempts=0,
            )
        # A task left at its fetch step (by a version that committed "upstream finished"
        # first): its texts were committed then.
        streams = await self._fetch_all(provider, request, spec, task)
        said = tuple(texts(task.outputs))
        return await self._store(task, streams, f"from {provider.name}", said)

    async def _finish(
        self,
        task: Task,
        spec: ModelSpec,
        provider: Provider,
        request: GenerationRequest,
        state: Ready,
        slot: Slot,
    ) -> TaskUpdate:
        """The poll found the job done: store its files in this same step (no commit of
        "upstream finished" first), opening the links its answer gave, or else fetching
        them by index. Inside ``slot``: a bulk-answered poll holds no step slot until now.
        A crash or a failed download here repeats the poll, which finds it done again."""
        said = _texts(state.texts)
        if not state.files:  # text only: done now
            return await self._store(task, [], f"from {provider.name}", said)
        async with slot():
            if state.results:
                streams = [await self._open(provider, request, r) for r in state.results]
            else:
                if task.params.images and not request.images:  # fetch may read the inputs
                    images = await self._inputs.load(
                        task.id, task.params.images, spec.max_input_pixels, takes_media(spec)
                    )
                    request = msgspec.structs.replace(request, images=images)
                streams = await self._fetch_all(provider, request, spec, task)
            return await self._store(task, streams, f"from {provider.name}", said)

    async def _fetch_all(
        self, provider: Provider, request: GenerationRequest, spec: ModelSpec, task: Task
    ) -> list[MediaStream]:
        streams = []
        for index in range(spec.max_files or task.params.sample_count):
            media = await provider.fetch(request, task.upstream_id or "", index)
            if media is None:  # the job made fewer files than it could
                break
            streams.append(media)
        return streams

    async def _open(
        self, provider: Provider, request: GenerationRequest, result: Result
    ) -> MediaStream:
        spec = request.spec
        width, height = spec.size_for(request.params.aspect_ratio)
        if result.data is not None:
            return MediaStream(
                content_type=result.content_type,
                chunks=chunks_of(result.data),
                width=width,
                height=height,
            )
        return await provider.open(request, result)

    def _cost(self, task: Task) -> int:
        _, route = self._providers.locate(task.model, task.route, task.route_name)
        if route is None:
            return 0
        return price_micros(self._catalogue.get(task.model), task.params, route.cost)

    async def _store(
        self,
        task: Task,
        streams: list[MediaStream],
        source: str,
        said: tuple[Output, ...] = (),
    ) -> TaskUpdate:
        """Stream each result into storage (one chunk in memory at a time); each file is
        described from its own bytes. ``said``: the text outputs, kept before the files."""
        if not streams and not said:
            raise UnavailableError("the upstream finished without any result")
        outputs = list(said)
        for index, media in enumerate(streams):
            key = f"t/{task.id}/{index}.{EXT.get(media.content_type, 'bin')}"
            head = bytearray()
            keep = IMAGE_HEAD if media.content_type.startswith("image/") else PROBE_BYTES
            info = await self._blobs.put(key, _keep_head(media.chunks, head, keep))
            found = await probe(bytes(head), info.size)
            outputs.append(
                Output(
                    key=key,
                    content_type=media.content_type,
                    bytes=info.size,
                    width=found.width if found else media.width,
                    height=found.height if found else media.height,
                    duration_seconds=(
                        found.duration if found and found.duration else media.duration_seconds
                    ),
                    fps=found.fps if found and found.fps else media.fps,
                    role=media.role,
                    title=media.title,
                    codec=found.codec if found else "",
                )
            )
        return TaskUpdate(
            status=Status.DONE,
            step=None,
            next_run_at=None,
            progress=100,
            outputs=tuple(outputs),
            cost_micros=self._cost(task),
            detail=f"{len(outputs)} result(s) stored, {source}",
        )


async def _keep_head(
    chunks: AsyncIterator[bytes], head: bytearray, keep: int
) -> AsyncIterator[bytes]:
    """Pass ``chunks`` on, keeping their first ``keep`` bytes in ``head`` for ``probe`` (an
    image's header; a song or a video whole, up to PROBE_BYTES)."""
    async for chunk in chunks:
        if len(head) < keep:
            head += chunk[: keep - len(head)]
        yield chunk


def _texts(results: tuple[TextResult, ...]) -> tuple[Output, ...]:
    return tuple(
        Output(
            key="",
            content_type="text/plain",
            bytes=len(r.text.encode()),
            width=0,
            height=0,
            role=r.role,
            title=r.title,
            text=r.text,
        )
        for r in results
    )


def _failed(exc: ProviderError) -> TaskUpdate:
    return TaskUpdate(
        status=Status.FAILED,
        step=None,
        next_run_at=None,
        error=TaskError(code=exc.code, message=exc.message),
        detail=f"failed: {exc.code}",
    )


def takes_media(spec: ModelSpec) -> bool:
    """A model whose ``source`` input may be a video or a song fetched by link."""
    return "source" in spec.image_roles
