"""The sandbox's Ideogram: real PNGs for generate, remix, edit (only the mask's black
area changes), reframe (the picture kept whole on a canvas of the new size) and upscale (twice
the size), and a description for describe; deterministic from prompt and seed."""

from __future__ import annotations

import io
from functools import partial

import numpy as np
from PIL import Image

from mediagate.core.provider import GenerationRequest, TextResult
from mediagate.providers.sandbox.media import canvas, canvas_image, cover, render_image
from mediagate.providers.sandbox.midjourney import describe, mask_at, upscale_2x
from mediagate.providers.sandbox.plan import FilePlan, Plan


def plan(request: GenerationRequest) -> Plan:
    spec, params = request.spec, request.params
    action = params.action or "generate"
    seed = int(params.options.get("seed", request.seed))
    width, height = spec.size_for(params.aspect_ratio)
    source = request.image("edit")
    src = source.data if source else None
    if action == "describe":
        first = describe(src or b"", seed).split("\n\n")[0]
        text = first.split(" ", 1)[1].split(" --ar")[0]  # without its number and --ar
        return Plan(files=[], texts=(TextResult(text, role="description"),))
    if action == "upscale":
        w, h = _size(src)
        return Plan([FilePlan("image/png", partial(upscale_2x, src, seed, False), w * 2, h * 2)])
    files = []
    for k in range(params.sample_count):
        s = seed + 7919 * k
        if action == "remix":
            weight = int(params.options.get("image_weight", 50)) / 100
            fn = partial(remix, src, s, width, height, weight)
        elif action == "edit":
            mask = request.image("mask")
            fn = partial(edit, src, mask.data if mask else b"", s)
            width, height = _size(src)
        elif action == "reframe":
            fn = partial(reframe, src, s, width, height)
        else:
            fn = partial(render_image, width, height, s, "png", None)
        files.append(FilePlan("image/png", fn, width, height))
    return Plan(files)


def _size(data: bytes | None) -> tuple[int, int]:
    if not data:
        return 1024, 1024
    with Image.open(io.BytesIO(data)) as img:
        return img.width, img.height


def _png(art: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(art.astype(np.uint8), "RGB").save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _rgb(data: bytes | None) -> Image.Image:
    if not data:
        raise ValueError("sandbox ideogram: the action needs an image")
    return Image.open(io.BytesIO(data)).convert("RGB")


def remix(source: bytes | None, seed: int, width: int, height: int, weight: float) -> bytes:
    """The image at ``weight``, the prompt's own picture at the rest."""
    base = cover(_rgb(source), width, height).astype(np.float32)
    return _png(weight * base + (1 - weight) * canvas(width, height, seed))


def edit(source: bytes | None, mask_png: bytes, seed: int) -> bytes:
    """Ideogram's masks are the other way round from Midjourney's: the black area is
    painted anew; where the mask is white the pixels stay exactly as they were."""
    img = np.asarray(_rgb(source), dtype=np.uint8)
    h, w = img.shape[:2]
    inside = ~mask_at(mask_png, w, h)[:, :, None]
    return _png(np.where(inside, canvas(w, h, seed), img))


def reframe(source: bytes | None, seed: int, width: int, height: int) -> bytes:
    """The whole picture, scaled to fit, in the middle of a canvas of the new size."""
    img = _rgb(source)
    scale = min(width / img.width, height / img.height)
    inner = img.resize((max(2, int(img.width * scale)), max(2, int(img.height * scale))))
    out = canvas_image(width, height, seed)
    out.paste(inner, ((width - inner.width) // 2, (height - inner.height) // 2))
    return _png(np.asarray(out))
