"""The sandbox's Midjourney: real PNGs for every action, deterministic from prompt and seed.

imagine, variation, reroll, zoom, pan, blend and Vary Region make a 2x2 grid of four visibly
different images; an upscale is one quadrant at full size; describe reads the image and
writes four prompts; shorten analyses the prompt's words; swap puts one face on another
picture. Vary Region changes only the masked area (white in the mask), pixel for pixel.
"""

from __future__ import annotations

import io
import math
import re
from functools import partial

import numpy as np
from PIL import Image

from mediagate.core.provider import GenerationRequest, TextResult
from mediagate.providers.sandbox.media import canvas, canvas_image, cover
from mediagate.providers.sandbox.plan import FilePlan, Plan

GRID_ACTIONS = ("imagine", "variation", "reroll", "low_variation", "high_variation", "blend")
BLEND_RATIOS = {"PORTRAIT": "2:3", "SQUARE": "1:1", "LANDSCAPE": "3:2"}
STOP = {"a", "an", "the", "of", "in", "on", "with", "and", "at", "to", "for", "by", "is"}


def plan(request: GenerationRequest) -> Plan:
    spec, params = request.spec, request.params
    action = params.action or "imagine"
    opts = params.options
    seed = int(opts["seed"]) if "seed" in opts else request.seed
    ratio = params.aspect_ratio
    if action == "blend":
        ratio = BLEND_RATIOS[str(opts.get("dimensions", "SQUARE"))]
    width, height = spec.size_for(ratio)
    source = request.image("source")
    src = source.data if source else None
    refs = tuple(i.data for i in request.images_in("reference"))

    def png(fn: partial[bytes], w: int, h: int, role: str = "grid") -> FilePlan:
        return FilePlan("image/png", fn, w, h, role=role)

    if action == "shorten":
        return Plan(files=[], texts=(TextResult(shorten(request.prompt), role="analysis"),))
    if action == "describe":
        image = refs[0] if refs else b""
        prompts = describe(image, seed)
        img = Image.open(io.BytesIO(image))
        return Plan(
            files=[png(partial(_same, image), img.width, img.height, "image")],
            texts=(TextResult(prompts, role="prompts"),),
        )
    if action == "upscale":
        index = int(opts.get("index", 1))
        return Plan([png(partial(upscale, src, index, width, height), width, height, "image")])
    if action in ("upscale_subtle", "upscale_creative"):
        fn = partial(upscale_2x, src, seed, action == "upscale_creative")
        w, h = _size(src)
        return Plan([png(fn, w * 2, h * 2, "image")])
    if action == "swap_face":
        face = request.image("face")
        fn = partial(swap_face, src, face.data if face else b"")
        w, h = _size(src)
        return Plan([png(fn, w, h, "image")])
    if action in ("zoom", "custom_zoom"):
        factor = float(opts.get("zoom", 2.0))
        return Plan([png(partial(zoom_grid, src, factor, seed, width, height), width, height)])
    if action == "pan":
        direction = str(opts.get("direction", "left"))
        w, h = pan_size(width, height, direction)
        return Plan([png(partial(pan_grid, src, direction, seed, w, h), w, h)])
    if action == "inpaint":
        mask = request.image("mask")
        fn = partial(inpaint_grid, src, mask.data if mask else b"", seed, width, height)
        return Plan([png(fn, width, height)])
    strength = {"variation": 0.3, "low_variation": 0.15, "high_variation": 0.45}.get(action)
    if strength is not None and action == "variation":
        index = int(opts.get("index", 1))
        fn = partial(variation_grid, src, index, strength, seed, width, height)
    elif strength is not None:
        fn = partial(variation_grid, src, 0, strength, seed, width, height)
    else:  # imagine, reroll, blend
        fn = partial(grid, seed, width, height, refs)
    return Plan([png(fn, width, height)])


def _same(data: bytes) -> bytes:
    return data


def _size(data: bytes | None) -> tuple[int, int]:
    if not data:
        return 1024, 1024
    with Image.open(io.BytesIO(data)) as img:
        return img.width, img.height


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _open(data: bytes | None) -> Image.Image:
    if not data:
        raise ValueError("sandbox midjourney: the action has no source image")
    img = Image.open(io.BytesIO(data))
    return img.convert("RGB")


def _cells(width: int, height: int) -> tuple[int, int]:
    return width // 2, height // 2


def _tile(cells: list[np.ndarray], width: int, height: int) -> bytes:
    cw, ch = _cells(width, height)
    out = np.zeros((ch * 2, cw * 2, 3), dtype=np.uint8)
    for i, cell in enumerate(cells):
        y, x = divmod(i, 2)
        out[y * ch : (y + 1) * ch, x * cw : (x + 1) * cw] = cell[:ch, :cw]
    return _png(Image.fromarray(out, "RGB"))


def grid(seed: int, width: int, height: int, refs: tuple[bytes, ...] = ()) -> bytes:
    """Four different pictures; with reference images (imagine's base64Array, blend's
    inputs) each picture mixes them, in its own proportions."""
    cw, ch = _cells(width, height)
    cells = []
    for k in range(4):
        art = canvas(cw, ch, seed + 7919 * k).astype(np.float32)
        if refs:
            weights = np.random.default_rng(seed + k).dirichlet(np.ones(len(refs)))
            layers = [cover(_open(r), cw, ch).astype(np.float32) for r in refs]
            mix = sum(w * layer for w, layer in zip(weights, layers, strict=True))
            art = 0.75 * mix + 0.25 * art
        cells.append(art.astype(np.uint8))
    return _tile(cells, width, height)


def quadrant(grid_png: bytes | None, index: int) -> Image.Image:
    """Quadrant 1..4 of a grid (1 top left, 2 top right, 3 bottom left, 4 bottom right)."""
    img = _open(grid_png)
    cw, ch = img.width // 2, img.height // 2
    y, x = divmod(index - 1, 2)
    return img.crop((x * cw, y * ch, (x + 1) * cw, (y + 1) * ch))


def upscale(grid_png: bytes | None, index: int, width: int, height: int) -> bytes:
    return _png(quadrant(grid_png, index).resize((width, height), Image.Resampling.BICUBIC))


def upscale_2x(image: bytes | None, seed: int, creative: bool) -> bytes:
    img = _open(image)
    big = img.resize((img.width * 2, img.height * 2), Image.Resampling.LANCZOS)
    if creative:  # new detail over the same picture
        noise = canvas(big.width, big.height, seed).astype(np.float32)
        mixed = 0.85 * np.asarray(big, dtype=np.float32) + 0.15 * noise
        big = Image.fromarray(mixed.astype(np.uint8), "RGB")
    return _png(big)


def variation_grid(
    source: bytes | None, index: int, strength: float, seed: int, width: int, height: int
) -> bytes:
    """Four pictures close to quadrant ``index`` of a grid (0: the whole single image)."""
    cw, ch = _cells(width, height)
    base = quadrant(source, index) if index else _open(source)
    near = np.asarray(base.resize((cw, ch), Image.Resampling.BILINEAR), dtype=np.float32)
    cells = [
        ((1 - strength) * near + strength * canvas(cw, ch, seed + 31 * k)).astype(np.uint8)
        for k in range(4)
    ]
    return _tile(cells, width, height)


def zoom_grid(source: bytes | None, factor: float, seed: int, width: int, height: int) -> bytes:
    """Zoom out: the picture shrinks by ``factor`` in the middle of new surroundings."""
    cw, ch = _cells(width, height)
    inner = _open(source).resize(
        (max(2, round(cw / factor)), max(2, round(ch / factor))), Image.Resampling.BILINEAR
    )
    cells = []
    for k in range(4):
        cell = canvas_image(cw, ch, seed + 101 * k)
        cell.paste(inner, ((cw - inner.width) // 2, (ch - inner.height) // 2))
        cells.append(np.asarray(cell, dtype=np.uint8))
    return _tile(cells, width, height)


def pan_size(width: int, height: int, direction: str) -> tuple[int, int]:
    """Pan widens (left, right) or heightens (up, down) the canvas by half."""
    if direction in ("left", "right"):
        return (width * 3 // 2) // 4 * 4, height
    return width, (height * 3 // 2) // 4 * 4


def pan_grid(source: bytes | None, direction: str, seed: int, width: int, height: int) -> bytes:
    """The picture stays where it was and new canvas grows on the ``direction`` side."""
    cw, ch = _cells(width, height)
    img = _open(source)
    wide = direction in ("left", "right")
    keep = (round(cw * 2 / 3), ch) if wide else (cw, round(ch * 2 / 3))
    inner = img.resize(keep, Image.Resampling.BILINEAR)
    at = {"left": (cw - keep[0], 0), "right": (0, 0), "up": (0, ch - keep[1]), "down": (0, 0)}
    cells = []
    for k in range(4):
        cell = canvas_image(cw, ch, seed + 53 * k)
        cell.paste(inner, at[direction])
        cells.append(np.asarray(cell, dtype=np.uint8))
    return _tile(cells, width, height)


def mask_at(mask_png: bytes, width: int, height: int) -> np.ndarray:
    """The mask as booleans at width x height: True where it is white (to be changed)."""
    m = Image.open(io.BytesIO(mask_png)).convert("L").resize((width, height))
    return np.asarray(m) > 127


def inpaint_grid(
    source: bytes | None, mask_png: bytes, seed: int, width: int, height: int
) -> bytes:
    """Vary Region: four pictures in which only the masked area is painted anew."""
    cw, ch = _cells(width, height)
    base = np.asarray(_open(source).resize((cw, ch), Image.Resampling.BILINEAR), dtype=np.uint8)
    inside = mask_at(mask_png, cw, ch)[:, :, None]
    cells = [np.where(inside, canvas(cw, ch, seed + 67 * k), base) for k in range(4)]
    return _tile(cells, width, height)


def swap_face(target: bytes | None, face: bytes) -> bytes:
    """The face picture's middle, cut as an ellipse, replaces the target's middle."""
    img = _open(target)
    w, h = img.width, img.height
    fw, fh = max(2, w * 2 // 5), max(2, h * 1 // 2)
    patch = Image.fromarray(cover(_open(face), fw, fh), "RGB")
    oval = Image.new("L", (fw, fh), 0)
    from PIL import ImageDraw

    ImageDraw.Draw(oval).ellipse((0, 0, fw - 1, fh - 1), fill=255)
    img.paste(patch, ((w - fw) // 2, (h - fh) // 3), oval)
    return _png(img)


_HUES = [
    (0, "red"), (30, "orange"), (55, "golden"), (90, "green"), (170, "teal"),
    (200, "blue"), (260, "violet"), (300, "magenta"), (340, "crimson"),
]  # fmt: skip


def describe(image: bytes, seed: int) -> str:
    """Four prompts for the image, from its own colours, light and shape."""
    img = Image.open(io.BytesIO(image)).convert("RGB")
    small = np.asarray(img.resize((64, 64)), dtype=np.float32)
    r, g, b = (float(small[..., i].mean()) for i in range(3))
    light = (r + g + b) / 3
    hsv = np.asarray(img.resize((64, 64)).convert("HSV"), dtype=np.float32)
    hue = float(np.median(hsv[..., 0])) * 360 / 255
    colour = min(_HUES, key=lambda h: min(abs(h[0] - hue), 360 - abs(h[0] - hue)))[1]
    mood = "bright, airy" if light > 150 else "moody, low-key" if light < 90 else "balanced"
    shape = (
        "panoramic"
        if img.width > img.height * 1.2
        else ("tall portrait" if img.height > img.width * 1.2 else "square")
    )
    styles = ["digital painting", "photograph, 35mm", "watercolor illustration", "3d render"]
    rng = np.random.default_rng(seed)
    order = rng.permutation(4)
    g = math.gcd(img.width, img.height)  # --ar 1:1, not 512:512: imagine takes it back
    lines = [
        f"{i + 1}\ufe0f\u20e3 a {shape} composition of {colour} shapes on a gradient, "
        f"{mood} light, {styles[int(order[i])]} --ar {img.width // g}:{img.height // g}"
        for i in range(4)
    ]
    return "\n\n".join(lines)


def shorten(prompt: str) -> str:
    """Midjourney's /shorten, deterministically: the words that carry the prompt, ranked, and
    five shorter prompts made of them."""
    words = [w for w in re.findall(r"[\w'-]+", prompt.split(" --")[0].lower()) if w]
    content = [w for w in words if w not in STOP]
    ranked: list[str] = []
    for w in sorted(content, key=lambda w: (-len(w), content.index(w))):
        if w not in ranked:
            ranked.append(w)
    lines = [
        "**Important tokens**",
        ", ".join(ranked[:10]) or "(none)",
        "",
        "**Shortened prompts**",
    ]
    for n in range(5):
        keep = max(1, len(ranked) - n * max(1, len(ranked) // 6))
        chosen = [w for w in content if w in ranked[:keep]]
        lines.append(f"{n + 1}\ufe0f\u20e3 {' '.join(dict.fromkeys(chosen)) or prompt[:40]}")
    return "\n".join(lines)
