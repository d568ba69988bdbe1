"""The local tools (issue 24) through gptunnel's /v1/media/create on a live server: every tool
on a test key (the sandbox runs the same code), the tools on a live key through the `local`
provider (charged, no credentials), a deck whose outline the sandbox's chat model drafted
reopened with python-pptx, and the bad inputs the issue lists: each a clear 4xx at create or
a failed task with a reason, never a 5xx."""

from __future__ import annotations

import base64
import io
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from PIL import Image, ImageDraw, ImageFont

from tests.fakes.pictask import FakePicTask
from tests.helpers import Server, wait_done


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def picture(mode: str = "RGB", size: tuple[int, int] = (320, 240), fmt: str = "PNG") -> bytes:
    img = Image.new("RGB", size, (230, 230, 235))
    draw = ImageDraw.Draw(img)
    draw.ellipse(
        (size[0] // 3, size[1] // 4, 2 * size[0] // 3, 3 * size[1] // 4), fill=(200, 40, 30)
    )
    buf = io.BytesIO()
    (img.convert(mode) if mode != "RGB" else img).save(buf, fmt)
    return buf.getvalue()


def words(text: str) -> bytes:
    img = Image.new("RGB", (760, 120), "white")
    ImageDraw.Draw(img).text((20, 30), text, fill="black", font=ImageFont.load_default(44))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def face() -> bytes:
    img = Image.new("RGB", (600, 800), (150, 170, 140))
    d = ImageDraw.Draw(img)
    cx, cy = 300, 320
    d.ellipse((cx - 130, cy - 190, cx + 130, cy + 90), fill=(40, 30, 25))
    d.rectangle((cx - 60, cy + 110, cx + 60, cy + 210), fill=(210, 170, 140))
    d.ellipse((cx - 100, cy - 130, cx + 100, cy + 130), fill=(225, 185, 155))
    d.rectangle((cx - 170, cy + 180, cx + 170, 800), fill=(40, 60, 120))
    for ex in (cx - 45, cx + 45):
        d.ellipse((ex - 22, cy - 30, ex + 22, cy - 12), fill=(255, 255, 255))
        d.ellipse((ex - 10, cy - 30, ex + 10, cy - 10), fill=(30, 20, 20))
        d.rectangle((ex - 28, cy - 52, ex + 28, cy - 44), fill=(60, 40, 30))
    d.polygon([(cx, cy - 10), (cx - 14, cy + 40), (cx + 14, cy + 40)], fill=(200, 150, 125))
    d.ellipse((cx - 40, cy + 62, cx + 40, cy + 82), fill=(160, 70, 70))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def create(server: Server, key: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(server.url + "/v1/media/create", json=body,
                         headers={"Authorization": key}, timeout=30)  # fmt: skip


def run(server: Server, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    made = create(server, key, body)
    assert made.status_code == 200, made.text
    done: dict[str, Any] = wait_done(server.url, key, made.json()["id"], timeout=90)  # type: ignore[assignment]
    assert done["status"] == "done", done
    return done, requests.get(done["url"], timeout=30).content


def mask() -> bytes:
    img = Image.new("L", (320, 240), 0)
    ImageDraw.Draw(img).rectangle((10, 10, 60, 40), fill=255)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("image-compress", {"options": {"format": "webp", "target_kb": 4}}, "WEBP"),
    ("image-sharpen", {"options": {"scale": "2"}}, "PNG"),
    ("image-cutout", {}, "PNG"),
    ("image-background", {"prompt": "a beach at dusk"}, "PNG"),
    ("image-colorize", {}, "PNG"),
    ("document-crop", {"options": {"format": "jpeg"}}, "JPEG"),
]


@pytest.mark.parametrize(("model", "extra", "fmt"), CASES)
def test_each_image_tool_on_a_test_key(server: Server, key: str, model: str,
                                       extra: dict[str, Any], fmt: str) -> None:  # fmt: skip
    source = picture(size=(640, 480)) if model == "document-crop" else picture()
    if model == "document-crop":  # a light page on a dark desk
        img = Image.new("RGB", (640, 480), (50, 60, 70))
        ImageDraw.Draw(img).polygon(
            [(150, 60), (500, 90), (470, 420), (120, 400)], fill=(245, 245, 240)
        )
        buf = io.BytesIO()
        img.save(buf, "PNG")
        source = buf.getvalue()
    done, out = run(server, key, {"model": model, "images": [data_url(source)], **extra})
    img = Image.open(io.BytesIO(out))
    assert img.format == fmt
    if model == "image-compress":
        assert len(out) <= 4 * 1024
        measured = json.loads(done["texts"][0]["text"])
        assert measured["input_bytes"] == len(source)
    if model == "image-sharpen":
        assert img.size == (640, 480)
    if model == "image-cutout":
        assert img.mode == "RGBA" and np.asarray(img)[0, 0, 3] == 0
    if model == "image-colorize":
        assert done["texts"][0]["role"] == "sandbox" and "sandbox" in done["texts"][0]["text"]
    if model == "document-crop":
        assert abs(img.width / img.height - 355 / 332) < 0.05, img.size


def test_inpaint_ocr_id_photo_and_qr_on_a_test_key(server: Server, key: str) -> None:
    source = picture()
    _, out = run(
        server, key, {"model": "image-inpaint", "images": [data_url(source), data_url(mask())]}
    )
    before, after = (
        np.asarray(Image.open(io.BytesIO(source))),
        np.asarray(Image.open(io.BytesIO(out))),
    )
    outside = np.asarray(Image.open(io.BytesIO(mask()))) == 0
    assert (before[outside] == after[outside]).all()

    page = data_url(words("Gateway 2026 ready"))
    _, out = run(
        server, key, {"model": "image-ocr", "images": [page], "options": {"language": "eng"}}
    )
    found = json.loads(out)
    assert found["text"] == "Gateway 2026 ready" and len(found["blocks"][0]["box"]) == 4

    _, out = run(server, key, {"model": "id-photo", "images": [data_url(face())],
                               "options": {"size": "2inch", "background": "blue"}})  # fmt: skip
    photo = Image.open(io.BytesIO(out)).convert("RGB")
    assert photo.size == (413, 579) and photo.getpixel((3, 3)) == (67, 142, 219)

    qr = {"strength": 0.75, "eye": "rounded", "template": 3}
    _, out = run(
        server, key, {"model": "art-qr", "prompt": "https://example.com/t?x=1", "options": qr}
    )
    from mediagate.providers.sandbox.local.art import decode_qr

    assert decode_qr(out) == "https://example.com/t?x=1"


def test_a_deck_from_a_topic_on_a_test_key(server: Server) -> None:
    """The outline is drafted by the sandbox's chat model through the relay (one chat request
    in the key's log); a retry with the same Idempotency-Key is the same task, not drafted
    again."""
    from pptx import Presentation

    key = server.key()
    body = {"model": "ppt", "prompt": "The history of tea", "options": {"template": "sunrise"}}
    headers = {"Authorization": key, "Idempotency-Key": "deck-1"}
    made = requests.post(server.url + "/v1/media/create", json=body, headers=headers, timeout=30)
    again = requests.post(server.url + "/v1/media/create", json=body, headers=headers, timeout=30)
    assert made.status_code == again.status_code == 200 and made.json()["id"] == again.json()["id"]
    done: dict[str, Any] = wait_done(server.url, key, made.json()["id"])  # type: ignore[assignment]
    out = requests.get(done["url"], timeout=30).content
    outline = next(t for t in done["texts"] if t["role"] == "outline")["text"]
    wanted = [line.lstrip("#").strip() for line in outline.splitlines() if line[:4] != "####"]
    deck = Presentation(io.BytesIO(out))
    titles = [s.shapes.title.text for s in deck.slides]
    assert titles == wanted and len(titles) >= 7  # the subject, 2+ chapters, 2+ pages each
    time.sleep(0.5)  # the request log is written in batches
    log = requests.get(server.url + "/v1/requests", headers={"Authorization": key}, timeout=10)
    assert [r["route"] for r in log.json()["data"]] == ["chat.completions"]


def test_a_deck_its_account_cannot_pay_for_is_refused_before_its_draft(server: Server) -> None:
    """A live account holding less than a deck's price (0.02) gets its 402 at create, before
    any chat request drafts an outline it would pay for."""
    live = server.funded_live_key(0.01)
    made = create(server, live, {"model": "ppt", "prompt": "The history of tea"})
    assert made.status_code == 402, made.text
    assert "costs 0.02" in made.json()["error"]["message"]
    time.sleep(0.5)  # the request log is written in batches
    log = requests.get(server.url + "/v1/requests", headers={"Authorization": live}, timeout=10)
    assert log.json()["data"] == []
    got = requests.get(server.url + "/v1/balance", headers={"Authorization": live}, timeout=10)
    assert int(got.json()["balance_micros"]) == 10_000


def test_live_keys_use_the_local_provider_and_pay(server: Server) -> None:
    """A live key runs the tools through each wire format on the `local` provider (no
    credentials) and pays each tool's price exactly: 0.003 + 0.004 + 0.002 + 0.02 + 0.02."""
    live = server.funded_live_key(5)

    def balance() -> int:
        got = requests.get(server.url + "/v1/balance", headers={"Authorization": live}, timeout=10)
        return int(got.json()["balance_micros"])

    before = balance()
    done, out = run(server, live, {"model": "image-cutout", "images": [data_url(picture())]})
    assert done["provider"] == "local" and Image.open(io.BytesIO(out)).mode == "RGBA"
    outline = "# Tea\n## Origins\n### China\n#### Shennong\n## Today\n### Markets\n- India"
    deck = {"outline": outline, "template": "forest"}
    done, out = run(server, live, {"model": "ppt", "prompt": "Tea", "options": deck})
    from pptx import Presentation

    titles = [s.shapes.title.text for s in Presentation(io.BytesIO(out)).slides]
    assert titles == ["Tea", "Origins", "China", "Today", "Markets"]
    auth = {"Authorization": f"Bearer {live}"}
    portrait = {"image_url": data_url(face()), "size": "295x413", "sync": "1"}
    photo = requests.post(server.url + "/task/pic/idphoto", headers=auth, timeout=60, data=portrait)
    assert photo.json()["data"]["state"] == 1, photo.text
    read = requests.post(server.url + "/task/pic/ocr", headers=auth, timeout=60,
                         json={"image_url": data_url(words("Live key 7")), "sync": 1})  # fmt: skip
    assert read.json()["data"]["text"] == "Live key 7"
    made = requests.post(server.url + "/docmee/v1/api/ppt/generatePptx", headers=auth,
                         timeout=60, json={"outlineContentMarkdown": outline})  # fmt: skip
    assert made.json()["code"] == 0 and made.json()["data"]["pptInfo"]["fileUrl"]
    for _ in range(50):
        if balance() == before - 49_000:
            break
        time.sleep(0.1)
    assert balance() == before - 49_000  # micro-units: each task's price, once
    server.cli("ledger", "check")


def gif_frames(n: int) -> bytes:
    frames = [Image.new("P", (16, 16), i % 256) for i in range(n)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=10)
    return buf.getvalue()


def test_bad_inputs_are_clear(server: Server, key: str) -> None:
    def refused(body: dict[str, Any], field: str) -> None:
        got = create(server, key, body)
        assert 400 <= got.status_code < 500, got.text
        assert field in got.text, got.text

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    refused({"model": "image-cutout", "images": [data_url(svg, "image/svg+xml")]}, "images")
    refused({"model": "image-cutout", "images": ["data:image/png;base64,"]}, "images")
    refused({"model": "art-qr", "prompt": "x", "options": {"strength": 0.65}}, "strength")
    refused({"model": "art-qr", "prompt": "x", "options": {"eye": "circle"}}, "eye")
    refused(
        {"model": "id-photo", "images": [data_url(face())], "options": {"size": "3inch"}}, "size"
    )
    small = Image.new("L", (100, 100))
    buf = io.BytesIO()
    small.save(buf, "PNG")
    refused({"model": "image-inpaint", "images": [data_url(picture()), data_url(buf.getvalue())]},
            "mask")  # fmt: skip
    # A 20,000 x 20,000 page for OCR: over the model's pixel cap, refused by its header.
    huge = Image.new("1", (20000, 20000), 1)
    buf = io.BytesIO()
    huge.save(buf, "PNG", optimize=True)
    refused({"model": "image-ocr", "images": [data_url(buf.getvalue())]}, "images")
    # No face: a failed task that says so. CMYK, 16-bit and a 10k-frame GIF: done.
    made = create(server, key, {"model": "id-photo", "images": [data_url(picture())]})
    failed = wait_done(server.url, key, made.json()["id"])
    assert failed["status"] == "failed" and "no face" in str(failed["error"])
    deep = np.linspace(0, 65535, 320 * 240, dtype=np.uint16).reshape(240, 320)
    buf = io.BytesIO()
    Image.fromarray(deep).save(buf, "PNG")
    for source, kind in ((picture("CMYK", fmt="JPEG"), "image/jpeg"), (buf.getvalue(), "image/png"),
                         (gif_frames(10000), "image/gif")):  # fmt: skip
        _, out = run(server, key, {"model": "image-sharpen", "images": [data_url(source, kind)],
                                      "options": {"scale": "1"}})  # fmt: skip
        assert Image.open(io.BytesIO(out)).mode == "RGB"


def test_colorizing_relays_to_an_upstream_on_a_live_key(tmp_path: Path) -> None:
    """Colorizing needs a model: a live key goes to GPTNB's image tools (the fake), and with
    no such channel it is refused at create, naming what to configure."""
    fake = FakePicTask().start()
    server = Server(tmp_path, MEDIAGATE_UPSTREAM_POLL_S="0.05",
                    MEDIAGATE_CHANNEL_REFRESH_S="0.3").start()  # fmt: skip
    try:
        live = server.funded_live_key(5)
        grey = picture("L")
        refused = create(server, live, {"model": "image-colorize", "images": [data_url(grey)]})
        assert refused.status_code in (400, 503) and "pictask" in refused.text
        admin = {"Authorization": server.key("admin")}
        made = requests.post(server.url + "/v1/admin/channels", headers=admin, timeout=10,
                             json={"provider": "pictask", "api_key": fake.api_key,
                                   "base_url": fake.url})  # fmt: skip
        assert made.status_code == 201, made.text
        time.sleep(0.6)
        done, out = run(server, live, {"model": "image-colorize", "images": [data_url(grey)]})
        assert done["provider"].startswith("pictask") and "texts" not in done
        rgb = np.asarray(Image.open(io.BytesIO(out)).convert("RGB")).astype(int)
        assert np.abs(rgb[..., 0] - rgb[..., 2]).mean() > 20  # colour, where it was grey
        (job,) = fake.jobs.values()
        assert job["tool"] == "colorize" and job["image"] == grey
        server.cli("ledger", "check")
    finally:
        server.stop()
        fake.stop()
