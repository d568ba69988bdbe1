"""The sandbox provider: behaves like an async upstream and makes real media offline.

Magic prompts (the way a payment sandbox has magic card numbers) make a task fail on
purpose once its simulated latency has passed; put the token anywhere in the prompt:

==============================  ==================  ==========================================
token                           error code          what a real upstream would have done
==============================  ==================  ==========================================
``[sandbox:content-rejected]``  content_rejected    the safety filter refused prompt or output
``[sandbox:upstream-error]``    upstream_error      the vendor failed (5xx) on every retry
``[sandbox:timeout]``           timeout             the vendor never finished
==============================  ==================  ==========================================
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import Executor
from functools import cache, partial
from importlib import import_module
from importlib.util import find_spec

from mediagate.core.catalogue import ImageInput, Kind, ModelSpec
from mediagate.core.errors import (
    ContentRejectedError,
    InputError,
    UnavailableError,
    UpstreamInvalidRequest,
    UpstreamTimeoutError,
)
from mediagate.core.numbers import is_digits
from mediagate.core.provider import (
    Clock,
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Result,
    Submitted,
)
from mediagate.providers.sandbox.plan import PlanFn

MAGIC_PROMPTS = {
    "[sandbox:content-rejected]": ContentRejectedError(
        "sandbox: the prompt was rejected by the content policy (magic prompt)"
    ),
    "[sandbox:upstream-error]": UnavailableError(
        "sandbox: the upstream provider returned an internal error (magic prompt)"
    ),
    "[sandbox:timeout]": UpstreamTimeoutError(
        "sandbox: the upstream provider did not finish in time (magic prompt)"
    ),
}
CHUNK = 256 * 1024
FORMATS = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp"}  # an output_format


class SandboxProvider:
    """Stateless: the upstream id carries the time the job is ready, so restarts are free."""

    name = "sandbox"

    def inputs_on_poll(self, spec: ModelSpec) -> bool:
        """A family's texts (Midjourney's describe) are read from its inputs as it ends."""
        return _family(spec.family) is not None

    def __init__(self, clock: Clock, latency_s: float, executor: Executor | None = None) -> None:
        self._clock = clock
        self._latency = latency_s
        self._executor = executor  # rendering is CPU work: a process pool keeps the API responsive

    def _poll_interval(self) -> float:
        return min(1.0, max(0.02, self._latency / 5))

    async def submit(self, request: GenerationRequest) -> Submitted:
        ready_ms = int((self._clock() + self._latency) * 1000)
        return Submitted(upstream_id=f"sbx-{request.task_id}-{ready_ms}", poll_after=0.0)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        ready_at = _ready_at(upstream_id)
        now = self._clock()
        if now < ready_at:
            elapsed = self._latency - (ready_at - now)
            progress = int(100 * elapsed / self._latency) if self._latency else 0
            return Pending(
                progress=max(1, min(99, progress)),
                poll_after=min(self._poll_interval(), ready_at - now),
            )
        for token, error in MAGIC_PROMPTS.items():
            if token in request.prompt:
                raise type(error)(error.message)
        family = _family(request.spec.family)
        if family is not None:
            plan = family(request)
            return Ready(texts=plan.texts, files=bool(plan.files))
        return Ready()

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        from mediagate.providers.sandbox import media  # PyAV and numpy: loaded when first used

        spec, params = request.spec, request.params
        loop = asyncio.get_running_loop()
        family = _family(spec.family)
        if family is not None:
            files = family(request).files
            if index >= len(files):
                return None
            f = files[index]
            data = await loop.run_in_executor(self._executor, f.render)
            return MediaStream(
                f.content_type,
                _chunks(data),
                f.width,
                f.height,
                f.duration_seconds,
                f.fps,
                role=f.role,
                title=f.title,
            )
        if index >= params.sample_count:
            return None
        seed = request.seed + index
        base = request.images[0].data if request.images else None
        if spec.kind is Kind.IMAGE:
            ar = params.aspect_ratio
            if base is not None and spec.image_input is ImageInput.EDIT:
                img = media.open_image(base)
                ar = nearest_ratio(img.width, img.height, spec.aspect_ratios)
            width, height = spec.size_for(ar)
            fmt = FORMATS.get(str(params.options.get("format", "")), spec.format)
            render = partial(media.render_image, width, height, seed, fmt, base)
            data = await loop.run_in_executor(self._executor, render)
            return MediaStream(f"image/{fmt}", _chunks(data), width, height)
        width, height = at_resolution(spec.size_for(params.aspect_ratio), params.options)
        seconds = params.duration_seconds or spec.default_duration or 1
        fps = int(str(params.options.get("fps", spec.fps or 24)))  # a model's fps option
        last = request.image("last_frame")
        if params.roles:  # images with roles: the first frame is the one so named
            first = request.image("first_frame")
            base = first.data if first else None
            source = request.image("source")
            if source is not None and not source.content_type.startswith("video/"):
                raise InputError(f"the video to continue is {source.content_type}, not a video")
            if source is not None and source.content_type == "video/mp4":
                base = media.last_frame_png(source.data)  # an extension starts where it ended
        render = partial(
            media.render_video, width, height, seconds, fps, seed, base, last.data if last else None
        )
        data = await loop.run_in_executor(self._executor, render)
        return MediaStream(spec.content_type, _chunks(data), width, height, float(seconds), fps)

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        return None

    async def open(self, request: GenerationRequest, result: Result) -> MediaStream:
        raise UpstreamInvalidRequest("sandbox: results are never links")


@cache
def _family(name: str) -> PlanFn | None:
    """The family's renderer, ``mediagate.providers.sandbox.<name>.plan``; None for a family
    whose media the generic images and videos cover (Runway, Luma, ...)."""
    if not name or find_spec(f"mediagate.providers.sandbox.{name}") is None:
        return None
    module = import_module(f"mediagate.providers.sandbox.{name}")
    plan: PlanFn = module.plan
    return plan


def _ready_at(upstream_id: str) -> float:
    try:
        return int(upstream_id.rsplit("-", 1)[1]) / 1000
    except (IndexError, ValueError):
        raise UpstreamInvalidRequest(f"sandbox: unknown job id {upstream_id!r}") from None


def at_resolution(size: tuple[int, int], options: Mapping[str, object]) -> tuple[int, int]:
    """The catalogue's size, scaled to the short side a ``resolution`` option asks for
    ("540p", "1080p", "4k"); even numbers, as H.264 wants."""
    wanted = str(options.get("resolution", ""))
    short = 2160 if wanted.lower() == "4k" else int(wanted[:-1]) if is_digits(wanted[:-1], 5) else 0
    width, height = size
    if not short or short == min(width, height):
        return size
    scale = short / min(width, height)
    return round(width * scale / 2) * 2, round(height * scale / 2) * 2


def nearest_ratio(width: int, height: int, ratios: list[str]) -> str:
    """The allowed aspect ratio closest to width:height."""

    def value(ar: str) -> float:
        a, b = ar.split(":")
        return int(a) / int(b)

    return min(ratios, key=lambda ar: abs(value(ar) - width / height))


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), CHUNK):
        yield data[i : i + CHUNK]
