"""Image tools and presentations done for real on the gateway's own CPU (GPTNB's "其他图像API"
and PPT, issue 24): the ``local`` family. Test keys run them through the sandbox and live keys
through the ``local`` provider (``providers/local.py``): the same code, in the render pool
(bounded, each process under its memory cap), so the event loop never does the work.

``plan`` turns a task into its files: each a picklable call of a pure function of bytes, by
the model's ``wire_name``. The tools themselves are in ``images``, ``photo``, ``document``,
``art`` and ``ppt``."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

import msgspec

from mediagate.children import memory_cap
from mediagate.core.errors import InputError
from mediagate.core.images import image_size
from mediagate.core.provider import GenerationRequest, InputImage, TextResult
from mediagate.providers.sandbox.local import art, document, images, photo, ppt
from mediagate.providers.sandbox.plan import FilePlan, Plan

PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TOOL_MEMORY_BYTES = 1536 << 20  # what one tool's work may add to its pool process
SANDBOX_NOTE = "sandbox result: a tint, not a colorization model (route a live key upstream)"


def _source(request: GenerationRequest, required: bool = True) -> InputImage | None:
    source = request.image("edit") or (request.images[0] if request.images else None)
    if source is None and required:
        raise InputError("images[0]: the image to work on is required")
    return source


def _size(source: InputImage) -> tuple[int, int]:
    size = image_size(source.data)
    if size is None:
        raise InputError("images[0]: is not a PNG, JPEG, WebP or GIF image")
    return size


def _picture(request: GenerationRequest) -> tuple[bytes | None, int]:
    """The picture an art code or text goes into: the caller's, or else the seed the sandbox
    renderer paints one from (a template's number, or the task's seed), in the pool."""
    given = _source(request, required=False)
    if given is not None:
        _size(given)
        return given.data, 0
    template = int(str(request.params.options.get("template", 0)))
    return None, template * 7919 or request.seed


def capped(render: Callable[[], bytes]) -> bytes:
    """A tool's work under the pool's memory cap: an input that would need more fails its
    task with a clear reason instead of taking the host's memory."""
    try:
        with memory_cap(TOOL_MEMORY_BYTES):
            return render()
    except MemoryError:
        most = TOOL_MEMORY_BYTES >> 20
        raise InputError(
            f"the input needs more than {most} MiB to work on; send a smaller one"
        ) from None


def plan(request: GenerationRequest) -> Plan:
    found = _plan(request)
    files = [msgspec.structs.replace(f, render=partial(capped, f.render)) for f in found.files]
    return msgspec.structs.replace(found, files=files)


def _plan(request: GenerationRequest) -> Plan:
    opts, tool = request.params.options, request.spec.wire_name
    fmt = str(opts.get("format", "png"))
    if tool == "art-qr":
        render = partial(art.art_qr, request.prompt, int(str(opts.get("version", 0))),
                         str(opts.get("error", "h")).lower(), float(str(opts.get("strength", 0.6))),
                         str(opts.get("eye", "square")), *_picture(request))  # fmt: skip
        return Plan(files=[FilePlan("image/png", render, role="qr")])
    if tool == "art-text":
        render = partial(art.art_text, request.prompt, str(opts.get("style", "art")),
                         float(str(opts.get("strength", 0.6))), *_picture(request))  # fmt: skip
        return Plan(files=[FilePlan("image/png", render, 1024, 1024)])
    if tool == "ppt":
        deck = ppt.parse_outline(str(opts.get("outline", "")), str(opts.get("template", "classic")))
        outline = TextResult(ppt.outline_markdown(deck), title=deck.subject, role="outline")
        return Plan(files=[FilePlan(PPTX, partial(ppt.render, deck), title=deck.subject)],
                    texts=(outline,))  # fmt: skip
    source = _source(request)
    assert source is not None
    width, height = _size(source)
    if tool == "compress":
        fmt = str(opts.get("format", "jpeg"))
        render = partial(images.compress, source.data, fmt, int(str(opts.get("quality", 80))),
                         int(str(opts.get("target_kb", 0))))  # fmt: skip
        measure = TextResult(json.dumps({"input_bytes": len(source.data)}), role="input")
        return Plan(files=[FilePlan(f"image/{fmt}", render, width, height)], texts=(measure,))
    if tool == "sharpen":
        scale = int(str(opts.get("scale", 2)))
        render = partial(images.sharpen, source.data, scale)
        return Plan(files=[FilePlan("image/png", render, width * scale, height * scale)])
    if tool == "inpaint":
        mask = request.image("mask") or (request.images[1] if len(request.images) > 1 else None)
        if mask is None:
            raise InputError("images[1]: the mask (white where to repaint) is required")
        if image_size(mask.data) != (width, height):
            raise InputError(f"images[1]: the mask must be {width}x{height}, the image's size")
        render = partial(images.inpaint, source.data, mask.data, int(str(opts.get("radius", 5))))
        return Plan(files=[FilePlan("image/png", render, width, height)])
    if tool == "background":
        files = [
            FilePlan("image/png", partial(photo.background, source.data, request.seed + i),
                     width, height)
            for i in range(request.params.sample_count)
        ]  # fmt: skip
        return Plan(files=files)
    if tool == "id-photo":
        size = photo.ID_SIZES[str(opts.get("size", "1inch"))]
        render = partial(photo.id_photo, source.data, str(opts.get("size", "1inch")),
                         str(opts.get("background", "white")), fmt)  # fmt: skip
        return Plan(files=[FilePlan(f"image/{fmt}", render, size.width, size.height)])
    if tool == "colorize":
        note = TextResult(SANDBOX_NOTE, role="sandbox")
        return Plan(files=[FilePlan("image/png", partial(photo.tint, source.data), width, height)],
                    texts=(note,))  # fmt: skip
    if tool == "ocr":
        render = partial(document.ocr, source.data, str(opts.get("language", "eng+chi_sim")))
        return Plan(files=[FilePlan("application/json", render, role="ocr")])
    if tool == "crop":
        return Plan(files=[FilePlan(f"image/{fmt}", partial(document.crop, source.data, fmt))])
    return Plan(files=[FilePlan("image/png", partial(images.cutout, source.data), width, height)])
