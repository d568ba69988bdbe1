"""Document tools of the ``local`` family: OCR by Tesseract (Debian's ``tesseract-ocr`` with
English and Simplified Chinese data, installed by ``scripts/ensure-tesseract.sh``), and the
smart crop: a page's edges found by contours and warped flat to a rectangle."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import unicodedata

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from mediagate.core.errors import InputError, ModelNotFoundError
from mediagate.providers.sandbox.local.images import encode, open_rgb, opencv

OCR_LANGUAGES = ("eng", "chi_sim", "eng+chi_sim")
OCR_TIMEOUT_S = 120


def _cjk(text: str) -> bool:
    return bool(text) and all(unicodedata.east_asian_width(c) in "WF" for c in text)


def _join(words: list[str]) -> str:
    out = ""
    for word in words:  # Chinese is written without spaces; Tesseract puts one per glyph
        out += word if out and _cjk(out[-1]) and _cjk(word[0]) else (" " if out else "") + word
    return out


def ocr(data: bytes, language: str) -> bytes:
    """JSON ``{"text", "blocks": [{"text", "box": [x, y, w, h], "confidence"}]}``, a block a
    line, in reading order."""
    if shutil.which("tesseract") is None:
        raise ModelNotFoundError(
            "OCR needs Tesseract, which this install lacks: run scripts/ensure-tesseract.sh "
            "(the container: build with --build-arg TOOLS=1), or route the model upstream"
        )
    img = open_rgb(data, "L")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    run = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", language, "--psm", "3", "tsv"],
        input=buf.getvalue(), capture_output=True, timeout=OCR_TIMEOUT_S, check=False,
    )  # fmt: skip
    if run.returncode != 0:
        raise InputError(f"OCR failed: {run.stderr.decode(errors='replace')[-200:]}")
    lines: dict[tuple[int, int, int], list[tuple[str, int, int, int, int, float]]] = {}
    for row in run.stdout.decode().splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        key = (int(cols[2]), int(cols[3]), int(cols[4]))
        x, y, w, h = (int(c) for c in cols[6:10])
        lines.setdefault(key, []).append((cols[11].strip(), x, y, w, h, float(cols[10])))
    blocks = []
    for words in lines.values():
        x0, y0 = min(w[1] for w in words), min(w[2] for w in words)
        x1, y1 = max(w[1] + w[3] for w in words), max(w[2] + w[4] for w in words)
        conf = sum(w[5] for w in words) / len(words)
        blocks.append({"text": _join([w[0] for w in words]), "box": [x0, y0, x1 - x0, y1 - y0],
                       "confidence": round(conf, 1)})  # fmt: skip
    text = "\n".join(str(b["text"]) for b in blocks)
    return json.dumps({"text": text, "blocks": blocks}, ensure_ascii=False).encode()


def order_corners(points: NDArray[np.float32]) -> NDArray[np.float32]:
    """Top-left, top-right, bottom-right, bottom-left."""
    s, d = points.sum(axis=1), np.diff(points, axis=1).ravel()
    return np.array(
        [points[np.argmin(s)], points[np.argmin(d)], points[np.argmax(s)], points[np.argmax(d)]],
        np.float32,
    )


def find_page(rgb: NDArray[np.uint8]) -> NDArray[np.float32] | None:
    """The page's four corners (ordered), or None when no quadrilateral covers a tenth of the
    picture: edges (Canny), closed, the largest contour, simplified to four points."""
    cv2 = opencv()
    grey = cv2.GaussianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(grey, 40, 120), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    least = 0.1 * rgb.shape[0] * rgb.shape[1]
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        if cv2.contourArea(contour) < least:
            break
        hull = cv2.convexHull(contour)
        quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(quad) == 4:
            return order_corners(quad.reshape(4, 2).astype(np.float32))
    return None


def crop(data: bytes, fmt: str) -> bytes:
    cv2 = opencv()
    rgb = np.asarray(open_rgb(data))
    corners = find_page(rgb)
    if corners is None:
        raise InputError("images[0]: no document edges were found")
    tl, tr, br, bl = corners
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    warp = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    flat = cv2.warpPerspective(rgb, warp, (width, height), flags=cv2.INTER_CUBIC)
    return encode(Image.fromarray(flat), fmt, 92)
