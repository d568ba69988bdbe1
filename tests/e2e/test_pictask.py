"""GPTNB's image-tool format (/task/pic/<tool> and /task/{id}) on a live server: multipart
uploads and links, sync and polled results, ID photos by pixel size and background colour, OCR
text and boxes in the answer, the compression ratio, the art QR code, the tool list, the
callback in the format's own shape, and errors that name the form's fields."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
import requests
from PIL import Image

from tests.e2e.test_local_tools import data_url, face, picture, words
from tests.e2e.test_webhooks import Receiver
from tests.helpers import Server


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.http.shutdown()


def until_done(server: Server, auth: dict[str, str], task_id: str) -> dict[str, object]:
    for _ in range(600):
        got = requests.get(server.url + f"/task/{task_id}", headers=auth, timeout=10).json()
        if got["data"]["state"] != 0:
            return got["data"]  # type: ignore[no-any-return]
        __import__("time").sleep(0.1)
    raise AssertionError(f"task {task_id} never ended")


def test_tools_in_gptnb_format(server: Server, key: str, receiver: Receiver) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    cut = requests.post(server.url + "/task/pic/segmentation", headers=auth, timeout=90,
                        files={"image_file": ("p.png", picture(), "image/png")},
                        data={"sync": "1", "callback_url": receiver.url}).json()  # fmt: skip
    assert cut["status"] == 200 and cut["data"]["state"] == 1, cut
    png = Image.open(io.BytesIO(requests.get(cut["data"]["image"], timeout=10).content))
    assert png.mode == "RGBA"
    (_, body), *_ = receiver.wait(1)
    hooked = json.loads(body)
    assert hooked["status"] == 200 and hooked["data"]["task_id"] == cut["data"]["task_id"]
    assert hooked["data"]["state"] == 1 and hooked["data"]["image"]

    photo = requests.post(server.url + "/task/pic/idphoto", headers=auth, timeout=30,
                          data={"image_url": data_url(face()), "size": "413x579",
                                "bg_color": "438EDB", "format": "jpg"}).json()  # fmt: skip
    done = until_done(server, auth, photo["data"]["task_id"])
    img = Image.open(io.BytesIO(requests.get(str(done["image"]), timeout=10).content))
    assert img.format == "JPEG" and img.size == (413, 579)

    ocr = requests.post(server.url + "/task/pic/ocr", headers=auth, timeout=90,
                        json={"image_url": data_url(words("Invoice 42 paid")),
                              "language": "eng", "sync": 1}).json()  # fmt: skip
    assert ocr["data"]["text"] == "Invoice 42 paid" and ocr["data"]["blocks"][0]["box"]

    noise = __import__("numpy").random.default_rng(2).integers(0, 255, (300, 400, 3), "uint8")
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "PNG")  # a photograph's worth of detail
    small = requests.post(server.url + "/task/pic/compress", headers=auth, timeout=90,
                          files={"image_file": ("p.png", buf.getvalue(), "image/png")},
                          data={"format": "jpg", "quality": "40", "sync": "1"}).json()  # fmt: skip
    assert 0 < small["data"]["ratio"] < 1

    qr = requests.post(server.url + "/task/pic/art_qr", headers=auth, timeout=90,
                       json={"prompt": "https://example.com/qr", "eye": "dot", "template": 2,
                             "strength": 0.8, "sync": 1}).json()  # fmt: skip
    from mediagate.providers.sandbox.local.art import decode_qr

    assert (
        decode_qr(requests.get(qr["data"]["image"], timeout=10).content) == "https://example.com/qr"
    )
    listed = requests.get(server.url + "/task/pic/models", headers=auth, timeout=10).json()
    assert {t["tool"] for t in listed["data"]} >= {"segmentation", "idphoto", "ocr", "art_qr"}


def test_errors_name_the_form_fields(server: Server, key: str, other_key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    bad = requests.post(server.url + "/task/pic/idphoto", headers=auth, timeout=10,
                        data={"image_url": data_url(face()), "bg_color": "00FF00"})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["param"] == "bg_color"
    assert "438EDB" in bad.json()["message"]
    bad = requests.post(server.url + "/task/pic/idphoto", headers=auth, timeout=10,
                        data={"image_url": data_url(face()), "size": "300x400"})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["param"] == "size"
    bad = requests.post(server.url + "/task/pic/inpaint", headers=auth, timeout=10,
                        data={"image_url": data_url(picture())})  # fmt: skip
    assert bad.status_code == 400 and bad.json()["param"] == "mask_file"
    bad = requests.post(server.url + "/task/pic/segmentation", headers=auth, timeout=10, data={})
    assert bad.status_code == 400 and "image" in bad.json()["message"]
    assert requests.post(server.url + "/task/pic/nope", headers=auth, timeout=10).status_code == 404
    made = requests.post(server.url + "/task/pic/segmentation", headers=auth, timeout=10,
                         data={"image_url": data_url(picture())}).json()  # fmt: skip
    theirs = requests.get(server.url + f"/task/{made['data']['task_id']}", timeout=10,
                          headers={"Authorization": f"Bearer {other_key}"})  # fmt: skip
    assert theirs.status_code == 404 and theirs.json()["data"] is None
    assert requests.get(server.url + "/task/pic/models", timeout=10).status_code == 401
