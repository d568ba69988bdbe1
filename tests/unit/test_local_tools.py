"""The local image tools (issue 24) on synthetic pictures whose truth is known: a cutout's
mask overlaps the subject (IoU >= 0.9) on a plain and on a textured background; sharpening
raises the variance of the Laplacian; inpainting leaves everything outside the mask as it was
and removes a stroke; compression honours its target size."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from mediagate.core.errors import InputError
from mediagate.providers.sandbox.local import images as local


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def scene(textured: bool) -> tuple[bytes, np.ndarray]:
    rng = np.random.default_rng(3)
    if textured:
        noise = rng.integers(90, 150, (300, 400, 3), dtype=np.uint8)
        stripes = (np.arange(400)[None, :, None] // 12 % 2 * 40).astype(np.uint8)
        img = Image.fromarray(np.clip(noise + stripes, 0, 255).astype(np.uint8))
    else:
        img = Image.new("RGB", (400, 300), (235, 235, 240))
    truth = Image.new("L", (400, 300), 0)
    for canvas, fill in ((ImageDraw.Draw(img), (200, 40, 30)), (ImageDraw.Draw(truth), 255)):
        canvas.ellipse((130, 60, 270, 240), fill=fill)  # type: ignore[arg-type]
        canvas.rectangle((180, 200, 220, 260), fill=fill)  # type: ignore[arg-type]
    return png(img), np.asarray(truth) > 0


@pytest.mark.parametrize("textured", [False, True])
def test_a_cutout_finds_the_subject(textured: bool) -> None:
    data, truth = scene(textured)
    out = Image.open(io.BytesIO(local.cutout(data)))
    assert out.mode == "RGBA" and out.size == (400, 300)
    found = np.asarray(out)[..., 3] > 127
    iou = (found & truth).sum() / (found | truth).sum()
    assert iou >= 0.9, iou


def sharpness(data: bytes) -> float:
    grey = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float64)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def test_sharpening_raises_the_laplacian_variance() -> None:
    data, _ = scene(textured=True)
    soft = png(
        Image.open(io.BytesIO(data)).filter(
            __import__("PIL.ImageFilter").ImageFilter.GaussianBlur(2)
        )
    )
    same = local.sharpen(soft, 1)
    bigger = local.sharpen(soft, 2)
    assert sharpness(same) > sharpness(soft) * 1.5
    assert Image.open(io.BytesIO(bigger)).size == (800, 600)


def test_inpainting_removes_a_stroke_and_changes_nothing_else() -> None:
    base = Image.new("RGB", (200, 150), (40, 120, 200))
    stroked = base.copy()
    ImageDraw.Draw(stroked).line((20, 75, 180, 75), fill=(255, 255, 0), width=6)
    mask = Image.new("L", (200, 150), 0)
    ImageDraw.Draw(mask).line((20, 75, 180, 75), fill=255, width=10)
    out = np.asarray(Image.open(io.BytesIO(local.inpaint(png(stroked), png(mask), 5))))
    holes = np.asarray(mask) >= 128
    assert (out[~holes] == np.asarray(stroked)[~holes]).all()  # outside: exactly as given
    assert np.abs(out[holes].astype(int) - (40, 120, 200)).max() < 30  # the stroke is gone
    with pytest.raises(InputError):
        local.inpaint(png(stroked), png(Image.new("L", (10, 10))), 5)


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "png"])
def test_compression_honours_its_target(fmt: str) -> None:
    data, _ = scene(textured=True)
    small = local.compress(data, fmt, 90, 20)
    assert len(small) <= 20 * 1024 and Image.open(io.BytesIO(small)).format.lower() == fmt
    assert len(local.compress(data, fmt, 90, 0)) > len(small) or fmt == "png"


def hungry() -> bytes:
    return bytes(np.ones(3 << 30, np.uint8))  # 3 GiB: over what a tool may take


def test_a_tool_past_the_memory_cap_fails_clearly_in_the_pool() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from mediagate.providers.sandbox.local import capped

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        with pytest.raises(InputError, match="MiB"):
            pool.submit(partial(capped, hungry)).result(timeout=60)
        assert pool.submit(partial(capped, partial(bytes, 4))).result(timeout=60) == bytes(4)


def test_without_opencv_a_tool_says_what_is_missing_and_may_fail_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An install without the ``tools`` extra (the slim container) fails the tools that need
    OpenCV with a reason naming it, as an error another route may serve (failover, no retry
    of the same route); the tools that need none still work."""
    from mediagate.core.errors import ModelNotFoundError

    monkeypatch.setitem(__import__("sys").modules, "cv2", None)  # import cv2 -> ImportError
    source, _ = scene(textured=False)
    with pytest.raises(ModelNotFoundError, match=r"needs OpenCV.*TOOLS=1") as caught:
        local.cutout(source)
    assert caught.value.failover and not caught.value.retryable
    assert Image.open(io.BytesIO(local.compress(source, "jpeg", 80, 0))).format == "JPEG"
