"""The pixel tools of the ``local`` family, each a pure function of bytes run in the render pool:

- ``image-compress``: JPEG, WebP or PNG at a quality, or the best quality under a target size.
- ``image-sharpen``: a Lanczos upscale (1x or 2x) and an unsharp mask.
- ``image-inpaint``: OpenCV's inpainting (Telea) of the mask's white part; nothing outside
  the mask changes.
- ``image-cutout``: the subject on a transparent background: GrabCut, seeded with the frame
  less a margin as "probably background" and the centre as "probably subject"."""

from __future__ import annotations

import io
from types import ModuleType

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from mediagate.core.errors import InputError, ModelNotFoundError

FORMATS = {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG"}
MAX_PIXELS = 40_000_000


def open_rgb(data: bytes, mode: str = "RGB") -> Image.Image:
    """The image's first frame in ``mode``: CMYK converted, 16-bit scaled to 8, a palette's
    transparency kept; anything over the pixel cap or unreadable is an InputError."""
    try:
        img: Image.Image = Image.open(io.BytesIO(data))
        if img.width * img.height > MAX_PIXELS:
            raise InputError(f"the image is {img.width}x{img.height}, over {MAX_PIXELS} pixels")
        img.load()
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        raise InputError(f"the image cannot be read: {exc}") from None
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: keep the top 8 bits
        deep = np.asarray(img, dtype=np.uint32)
        img = Image.fromarray((deep >> (8 if deep.max() > 255 else 0)).astype(np.uint8), "L")
    elif img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return img.convert(mode)


def encode(img: Image.Image, fmt: str, quality: int) -> bytes:
    buf = io.BytesIO()
    if fmt == "png":
        img.save(buf, "PNG", optimize=True)
    else:
        img.save(buf, FORMATS[fmt], quality=quality)
    return buf.getvalue()


def compress(data: bytes, fmt: str, quality: int, target_kb: int) -> bytes:
    """The image at ``quality``, or, with ``target_kb``, at the best quality whose file fits
    it (a PNG: its colours reduced, then its size, until it fits)."""
    img = open_rgb(data, "RGB" if fmt == "jpeg" else "RGBA")
    if not target_kb:
        return encode(img, fmt, quality)
    limit = target_kb * 1024
    if fmt == "png":  # fewer colours, then (if still too big) fewer pixels
        while True:
            for colours in (256, 128, 64, 32, 16, 8):
                out = encode(img.quantize(colours), "png", 0)
                if len(out) <= limit:
                    return out
            if min(img.size) <= 16:
                return out
            img = img.resize((img.width * 3 // 4, img.height * 3 // 4), Image.Resampling.LANCZOS)
    low, high, best = 1, 95, encode(img, fmt, 1)
    while low <= high:
        mid = (low + high) // 2
        out = encode(img, fmt, mid)
        if len(out) <= limit:
            best, low = out, mid + 1
        else:
            high = mid - 1
    return best


def sharpen(data: bytes, scale: int) -> bytes:
    img = open_rgb(data)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.LANCZOS)
    img = img.filter(ImageFilter.UnsharpMask(radius=2, percent=160, threshold=2))
    return encode(img, "png", 0)


def opencv() -> ModuleType:
    """OpenCV, which the tools that find things in pictures need (faces, subjects, pages, QR
    codes). An install without the ``tools`` extra (the container unless built with TOOLS=1)
    fails those tasks over to their relay routes, or fails them saying what is missing."""
    try:
        import cv2
    except ImportError:
        raise ModelNotFoundError(
            "this tool needs OpenCV, which this install leaves out: install mediagate[tools] "
            "(the container: build with --build-arg TOOLS=1), or route the model upstream"
        ) from None
    return cv2


def inpaint(data: bytes, mask_data: bytes, radius: int) -> bytes:
    cv2 = opencv()
    img = np.asarray(open_rgb(data))
    mask = np.asarray(open_rgb(mask_data, "L"))
    if mask.shape != img.shape[:2]:
        raise InputError("the mask's size is not the image's")
    holes = (mask >= 128).astype(np.uint8) * 255
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    done = cv2.inpaint(bgr, holes, max(1, radius), cv2.INPAINT_TELEA)
    out = cv2.cvtColor(done, cv2.COLOR_BGR2RGB)
    out[holes == 0] = img[holes == 0]  # outside the mask, exactly the input
    return encode(Image.fromarray(out), "png", 0)


def subject_mask(rgb: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Where the subject is: GrabCut from a margin of background round a probable subject."""
    cv2 = opencv()
    h, w = rgb.shape[:2]
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    mx, my = max(1, w // 20), max(1, h // 20)
    mask[:my, :], mask[-my:, :], mask[:, :mx], mask[:, -mx:] = (cv2.GC_BGD,) * 4
    mask[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = cv2.GC_PR_FGD
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    models = (np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64))
    cv2.grabCut(bgr, mask, (0, 0, 0, 0), *models, 6, cv2.GC_INIT_WITH_MASK)
    found = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return np.asarray(found)


def cutout(data: bytes) -> bytes:
    rgb = np.asarray(open_rgb(data))
    found = subject_mask(rgb)
    rgba = np.dstack([rgb, (found * 255).astype(np.uint8)])
    return encode(Image.fromarray(rgba, "RGBA"), "png", 0)
