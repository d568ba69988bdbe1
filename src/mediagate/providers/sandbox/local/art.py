"""Art QR codes and art text of the ``local`` family.

An art QR code is a real QR code (segno: the asked version and error level) whose modules are
blended into a picture: each module's middle half is pure black or white, and the rest moves
toward it by ``strength``. The finder patterns ("eyes") are drawn whole in the asked style.
Every code is decoded with OpenCV's QR decoder before it is returned: one that does not read
back its payload fails the task rather than reach the caller.

Art text renders the words in the picture's own colours: filled with the picture's most vivid
version, outlined, and (``light``) lit by a glow, or (``hidden``) woven into the picture by
brightness alone."""

from __future__ import annotations

import io
import os

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from mediagate.core.errors import InputError
from mediagate.providers.sandbox.local.images import encode, open_rgb, opencv

EYES = ("square", "rounded", "dot")  # each decodes with OpenCV; round rings do not
QUIET = 4  # modules of quiet zone round the code, as the standard asks
TEXT_STYLES = ("art", "light", "hidden")


def qr_matrix(payload: str, version: int, error: str) -> NDArray[np.bool_]:
    import segno

    try:
        code = segno.make_qr(payload, version=version or None, error=error, boost_error=False)
    except (segno.DataOverflowError, ValueError) as exc:
        raise InputError(f"options.version: {exc}") from None
    return np.array([list(row) for row in code.matrix], bool)


def _eye(draw: ImageDraw.ImageDraw, x: int, y: int, m: int, style: str) -> None:
    """A 7x7-module finder pattern at (x, y) px: dark ring, light ring, dark 3x3 centre."""
    boxes = [(0, 0, 7, 0), (1, 1, 6, 255), (2, 2, 5, 0)]
    for a, b, c, fill in boxes:
        rect = (x + a * m, y + b * m, x + c * m - 1, y + c * m - 1)
        if style == "dot" and a == 2:  # square rings round a round centre
            draw.ellipse(rect, fill=fill)
        elif style == "rounded":
            draw.rounded_rectangle(rect, radius=max(1, (c - a) * m // 7), fill=fill)
        else:
            draw.rectangle(rect, fill=fill)


def painted(picture: bytes | None, seed: int, side: int) -> Image.Image:
    """The caller's picture, or one the sandbox renderer paints from ``seed``."""
    if picture is None:
        from mediagate.providers.sandbox import media

        picture = media.render_image(side, side, seed, "png")
    return open_rgb(picture).resize((side, side), Image.Resampling.LANCZOS)


def art_qr(payload: str, version: int, error: str, strength: float, eye: str,
           picture: bytes | None, seed: int = 0) -> bytes:  # fmt: skip
    matrix = qr_matrix(payload, version, error)
    n = matrix.shape[0]
    m = max(6, 1024 // (n + 2 * QUIET))
    side = (n + 2 * QUIET) * m
    pic = np.asarray(painted(picture, seed, side), np.float32)
    target = np.full((side, side), 255, np.uint8)  # what each pixel must read as: 0 or 255
    centre = np.zeros((side, side), bool)  # the middle half of each module
    c0, c1 = m // 4, m - m // 4
    for r, c in zip(*np.nonzero(matrix), strict=True):
        y, x = (r + QUIET) * m, (c + QUIET) * m
        target[y : y + m, x : x + m] = 0
    for r in range(n):
        for c in range(n):
            y, x = (r + QUIET) * m, (c + QUIET) * m
            centre[y + c0 : y + c1, x + c0 : x + c1] = True
    ink = Image.fromarray(target)
    draw = ImageDraw.Draw(ink)
    eyes = np.zeros((side, side), bool)
    for r, c in ((0, 0), (0, n - 7), (n - 7, 0)):
        y, x = (r + QUIET) * m, (c + QUIET) * m
        draw.rectangle((x, y, x + 7 * m - 1, y + 7 * m - 1), fill=255)
        _eye(draw, x, y, m, eye)
        eyes[y : y + 7 * m, x : x + 7 * m] = True
    want = np.asarray(ink, np.float32)[..., None]
    quiet = np.ones((side, side), bool)
    quiet[QUIET * m : (QUIET + n) * m, QUIET * m : (QUIET + n) * m] = False
    weight = np.where(centre | eyes, 1.0, strength)[..., None]
    weight = np.where(quiet[..., None], strength, weight)
    out = (pic * (1 - weight) + want * weight).astype(np.uint8)
    data = encode(Image.fromarray(out), "png", 0)
    if decode_qr(data) != payload:
        raise InputError(f"options.strength: {strength} is too weak for this picture to scan")
    return data


def decode_qr(data: bytes) -> str:
    """What OpenCV reads, as a phone's scanner would try it: the picture as it is, then
    smaller (a camera far away) and thresholded; with its classic detector, then its
    ArUco-based one (rounded eyes)."""
    cv2 = opencv()
    grey = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    small = cv2.resize(grey, (grey.shape[1] // 4, grey.shape[0] // 4), interpolation=cv2.INTER_AREA)
    _, flat = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    for view in (grey, small, flat):
        for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
            text, _, _ = detector.detectAndDecode(view)
            if text:
                return str(text)
    return ""


CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # fmt: skip


def _font(words: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own font for Latin text; for other scripts (Chinese art text) a CJK font
    where Debian's is installed, since Pillow's has no such glyphs."""
    if not words.isascii():
        for path in CJK_FONTS:
            if os.path.exists(path):
                return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def text_mask(words: str, size: int) -> tuple[Image.Image, int]:
    """The words in white on black, centred, as large as fits 86% of the width."""
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    lines = words.splitlines() or [words]
    font_size = max(12, size // (len(lines) + 1))
    font = _font(words, font_size)
    while font_size > 12 and max(draw.textlength(line, font=font) for line in lines) > size * 0.86:
        font_size = font_size * 9 // 10
        font = _font(words, font_size)
    draw.multiline_text((size // 2, size // 2), "\n".join(lines), fill=255, font=font,
                        anchor="mm", align="center", spacing=font_size // 4)  # fmt: skip
    return mask, font_size


def art_text(words: str, style: str, strength: float, picture: bytes | None, seed: int = 0,
             size: int = 1024) -> bytes:  # fmt: skip
    pic = painted(picture, seed, size)
    mask, font_size = text_mask(words, size)
    if style == "hidden":  # brightness alone: lighter inside the letters, darker round them
        lift = (np.asarray(mask, np.float32) / 255.0 - 0.5) * 2 * 90 * strength
        out = np.clip(np.asarray(pic, np.float32) + lift[..., None], 0, 255).astype(np.uint8)
        return encode(Image.fromarray(out), "png", 0)
    vivid = ImageEnhance.Contrast(ImageEnhance.Color(pic).enhance(2.2)).enhance(1.6)
    fill = Image.eval(vivid, lambda v: min(255, v + 70))
    backdrop = ImageEnhance.Brightness(pic).enhance(1 - 0.6 * strength)
    if style == "light":
        glow = mask.filter(ImageFilter.GaussianBlur(font_size // 5))
        light = Image.new("RGB", pic.size, (255, 236, 180))
        backdrop = Image.composite(light, backdrop, glow.point(lambda v: int(v * 0.8)))
    outline = mask.filter(ImageFilter.MaxFilter(5))
    backdrop = Image.composite(Image.new("RGB", pic.size, (10, 10, 10)), backdrop, outline)
    return encode(Image.composite(fill, backdrop, mask), "png", 0)
