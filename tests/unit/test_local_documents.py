"""The local family's photo, document, art and deck tools on pictures whose truth is known:
OCR gives back rendered text exactly (English and Chinese), the smart crop finds a skewed
page's corners within 2% of the truth, ID photos have the standard's size and background with
the face where the rule puts it (and a picture with no face is refused), every art QR code
decodes to its payload at every strength and eye the catalogue offers, and a deck reopens with
its outline's titles on its slides."""

from __future__ import annotations

import io
import json
import os
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import InputError
from mediagate.providers.sandbox.local import art, document, photo, ppt
from tests.e2e.test_local_tools import face


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="scripts/ensure-tesseract.sh installs it"
)


@needs_tesseract
def test_ocr_reads_rendered_text_exactly_with_boxes() -> None:
    img = Image.new("RGB", (900, 220), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(40)
    draw.text((30, 30), "The quick brown fox jumps", fill="black", font=font)
    draw.text((30, 120), "over the lazy dog 12345", fill="black", font=font)
    found = json.loads(document.ocr(png(img), "eng+chi_sim"))
    assert found["text"] == "The quick brown fox jumps\nover the lazy dog 12345"
    first, second = (b["box"] for b in found["blocks"])
    assert 20 <= first[0] <= 40 and 25 <= first[1] <= 50 and second[1] > first[1] + first[3]


@needs_tesseract
def test_ocr_reads_simplified_chinese() -> None:
    font = ImageFont.truetype(CJK_FONT, 60)  # Debian's fonts-wqy-microhei, with Tesseract
    img = Image.new("RGB", (700, 140), "white")
    ImageDraw.Draw(img).text((30, 30), "春节快乐万事如意", fill="black", font=font)
    assert json.loads(document.ocr(png(img), "chi_sim"))["text"] == "春节快乐万事如意"


def page_scene() -> tuple[bytes, np.ndarray]:
    page = Image.new("RGB", (500, 700), (245, 245, 240))
    draw = ImageDraw.Draw(page)
    for i in range(12):
        draw.text(
            (40, 40 + i * 50),
            f"Line of text number {i}",
            fill="black",
            font=ImageFont.load_default(24),
        )
    src = np.float32([[0, 0], [499, 0], [499, 699], [0, 699]])
    dst = np.float32([[310, 120], [820, 190], [760, 830], [240, 760]])
    warp = cv2.getPerspectiveTransform(src, dst)
    desk = np.random.default_rng(1).integers(40, 90, (900, 1200, 3), dtype=np.uint8)
    flat = cv2.warpPerspective(np.asarray(page), warp, (1200, 900))
    inside = cv2.warpPerspective(np.full((700, 500), 255, np.uint8), warp, (1200, 900)) > 0
    return png(Image.fromarray(np.where(inside[..., None], flat, desk))), dst


def test_smart_crop_finds_a_skewed_page_within_two_percent() -> None:
    data, truth = page_scene()
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    corners = document.find_page(rgb)
    assert corners is not None
    assert np.abs(corners - truth).max() / np.hypot(1200, 900) < 0.02
    out = Image.open(io.BytesIO(document.crop(data, "png")))
    true_w = max(np.linalg.norm(truth[1] - truth[0]), np.linalg.norm(truth[2] - truth[3]))
    true_h = max(np.linalg.norm(truth[3] - truth[0]), np.linalg.norm(truth[2] - truth[1]))
    assert abs(out.width - true_w) / true_w < 0.02 and abs(out.height - true_h) / true_h < 0.02
    with pytest.raises(InputError, match="no document edges"):
        document.crop(png(Image.new("RGB", (300, 300), (90, 90, 90))), "png")


@pytest.mark.parametrize("size", sorted(photo.ID_SIZES))
def test_id_photos_follow_their_standard(size: str) -> None:
    spec = photo.ID_SIZES[size]
    out = Image.open(io.BytesIO(photo.id_photo(face(), size, "blue", "png"))).convert("RGB")
    assert out.size == (spec.width, spec.height)
    assert out.getpixel((2, 2)) == out.getpixel((spec.width - 3, 2)) == photo.BACKGROUNDS["blue"]
    found = photo.find_face(np.asarray(out))
    assert found is not None
    x, _, w, h = found
    assert abs(x + w / 2 - spec.width / 2) < spec.width * 0.05  # centred
    head = 1.35 * h / spec.height
    assert abs(head - spec.head) < 0.08, (head, spec.head)  # the head's share, by the rule


def test_a_picture_without_a_face_is_refused() -> None:
    with pytest.raises(InputError, match="no face"):
        photo.id_photo(png(Image.new("RGB", (400, 500), (200, 200, 210))), "1inch", "white", "png")


def offered(param: str) -> tuple[float, float]:
    spec = default_catalogue().get("art-qr").params[param]
    assert spec.min is not None and spec.max is not None
    return spec.min, spec.max


@pytest.mark.parametrize("eye", art.EYES)
def test_every_offered_art_qr_decodes(eye: str) -> None:
    low, high = offered("strength")
    for strength in np.linspace(low, high, 3):
        for seed, payload, version, error in ((5, "https://example.com/a?b=1", 0, "h"),
                                              (17, "mediagate", 6, "q")):  # fmt: skip
            data = art.art_qr(payload, version, error, float(strength), eye, None, seed)
            assert art.decode_qr(data) == payload
    assert default_catalogue().get("art-qr").params["eye"].values == list(art.EYES)


def test_a_strength_that_breaks_the_code_fails_clearly() -> None:
    low, _ = offered("strength")
    with pytest.raises(InputError, match="strength"):  # far below the offered floor
        art.art_qr("https://example.com/a?b=1", 0, "l", 0.1, "square", None, 11)
    assert low >= 0.7
    with pytest.raises(InputError, match="version"):  # too much for version 1
        art.art_qr("x" * 200, 1, "h", 0.8, "square", None, 1)


@pytest.mark.parametrize("style", art.TEXT_STYLES)
def test_art_text_writes_the_words_into_the_picture(style: str) -> None:
    out = np.asarray(
        Image.open(io.BytesIO(art.art_text("HELLO", style, 0.6, None, 7, 512))).convert("L")
    )
    glyphs = np.asarray(art.text_mask("HELLO", 512)[0]) > 0
    assert 0.02 < glyphs.mean() < 0.5
    assert out[glyphs].mean() > out[~glyphs].mean() + 25  # the letters stand out of the picture


def test_a_deck_reopens_with_its_outline() -> None:
    outline = (
        "# 春节习俗\n## 起源\n### 年兽传说\n#### 贴春联\n#### 放鞭炮\n### 历史\n- 汉代\n"
        "## Today\n### Travel"
    )
    deck = ppt.parse_outline(outline, "midnight")
    data = ppt.render(deck)
    back = ppt.read(data)
    assert back.titles == ["春节习俗", "起源", "年兽传说", "历史", "Today", "Travel"]
    assert back.template == "midnight" and back.chapters[0].pages[0].points == ["贴春联", "放鞭炮"]
    again = ppt.deck_from_json(ppt.deck_json(back))
    assert ppt.read(ppt.render(again)).titles == back.titles
    with pytest.raises(InputError, match="outline"):
        ppt.parse_outline("just words", "classic")
    with pytest.raises(InputError, match="pptx"):
        ppt.read(b"PK not a deck")


def test_chinese_art_text_has_real_glyphs() -> None:
    """Missing glyphs render as identical boxes, so swapping two characters would change
    nothing; real glyphs differ. (Needs Debian's fonts-wqy-microhei, as the OCR test does.)"""
    forward, _ = art.text_mask("春节", 512)
    swapped, _ = art.text_mask("节春", 512)
    assert (np.asarray(forward) != np.asarray(swapped)).mean() > 0.02
    assert os.path.exists(CJK_FONT)
