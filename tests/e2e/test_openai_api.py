"""The OpenAI dialect, driven by the official `openai` SDK with only base_url and api_key set."""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Iterator

import openai
import pytest
import requests
from PIL import Image

from tests.helpers import Server
from tests.media import first_frame_rgb_mean, probe

VIDEO = "veo-3.0-generate-preview"


@pytest.fixture
def client(server: Server, key: str) -> Iterator[openai.OpenAI]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the SDK's videos.* warn
        with openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0) as c:
            yield c


def png(color: tuple[int, int, int], size: tuple[int, int] = (160, 120)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def test_images_generate_b64_with_size_mapped_to_a_ratio(client: openai.OpenAI) -> None:
    resp = client.images.generate(model="google-imagen-3", prompt="a fox", size="1792x1024")
    assert resp.data is not None and len(resp.data) == 1
    assert resp.data[0].url is None and resp.data[0].b64_json
    info = probe(base64.b64decode(resp.data[0].b64_json))
    assert (info.format, info.width, info.height) == ("webp", 1408, 768)  # 16:9
    assert resp.size == "1408x768" and resp.output_format == "webp"


def test_images_generate_urls_and_n(client: openai.OpenAI) -> None:
    resp = client.images.generate(
        model="google-imagen-3", prompt="three foxes", n=3, response_format="url", size="1024x1024"
    )
    assert resp.data is not None and len(resp.data) == 3
    blobs = [requests.get(d.url or "", timeout=10) for d in resp.data]
    assert all(b.status_code == 200 and b.headers["content-type"] == "image/webp" for b in blobs)
    assert len({b.content for b in blobs}) == 3  # three different samples
    assert probe(blobs[0].content).width == 1024


@pytest.mark.parametrize(
    ("kwargs", "param", "words"),
    [
        ({"model": "seedream-3", "size": "1536x1024"}, "size", "1024x1024"),
        ({"model": "seedream-3", "size": "big"}, "size", "WIDTHxHEIGHT"),
        ({"model": "seedream-3", "n": 2}, "n", "1..1"),
        ({"model": VIDEO}, "model", "POST /v1/videos"),
        ({"model": "dall-e-9"}, "model", "unknown model"),
        ({"model": "seedream-3", "response_format": "png"}, "response_format", "b64_json"),
    ],
)
def test_images_errors_raise_the_sdk_exception_with_the_field(
    client: openai.OpenAI, kwargs: dict[str, object], param: str, words: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(prompt="x", **kwargs)  # type: ignore[arg-type]
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == param
    assert words in body["message"]


def test_images_edit_multipart_uses_the_upload(client: openai.OpenAI) -> None:
    upload = ("square.png", png((20, 20, 220), (300, 300)), "image/png")
    resp = client.images.edit(model="seedream-3", image=upload, prompt="make it night")
    assert resp.data is not None and resp.data[0].b64_json
    info = probe(base64.b64decode(resp.data[0].b64_json))
    assert (info.width, info.height) == (1024, 1024)  # the edit keeps the input's 1:1 shape

    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(model="google-imagen-3", image=upload, prompt="x")
    assert "takes no image input" in str(caught.value)
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(model="seedream-3", image=("a.txt", b"hello", "text/plain"), prompt="x")
    assert "not an image" in str(caught.value)


def test_content_rejection_is_a_400_with_moderation_code(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model="seedream-3", prompt="[sandbox:content-rejected] x")
    assert caught.value.code == "moderation_blocked"
    assert "content policy" in caught.value.message


def test_video_create_poll_download(client: openai.OpenAI) -> None:
    video = client.videos.create(model=VIDEO, prompt="a cat", seconds="4", size="720x1280")
    assert video.status in ("queued", "in_progress") and video.object == "video"
    assert (video.seconds, video.size, video.model) == ("4", "720x1280", VIDEO)
    done = client.videos.poll(video.id)
    assert done.status == "completed" and done.progress == 100 and done.error is None
    assert done.completed_at is not None and done.completed_at >= done.created_at
    data = client.videos.download_content(video.id).content
    info = probe(data)
    assert (info.codec, info.width, info.height, info.duration) == ("h264", 720, 1280, 4.0)


def test_video_input_reference_file_is_the_first_frame(client: openai.OpenAI) -> None:
    ref = ("green.png", png((10, 200, 10), (1280, 720)), "image/png")
    video = client.videos.create_and_poll(
        model=VIDEO, prompt="grass", seconds="4", input_reference=ref
    )
    assert video.status == "completed"
    r, g, b = first_frame_rgb_mean(client.videos.download_content(video.id).content)
    assert g > 150 and r < 80 and b < 80


def test_video_retrieve_sends_a_poll_hint(server: Server, key: str) -> None:
    resp = requests.post(
        server.url + "/v1/videos",
        json={"model": VIDEO, "prompt": "json create", "seconds": 4, "size": "1280x720"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert resp.status_code == 200 and resp.json()["seconds"] == "4"
    assert 200 <= int(resp.headers["openai-poll-after-ms"]) <= 5000


def test_video_errors(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(model=VIDEO, prompt="x", seconds="12")  # type: ignore[arg-type]
    assert caught.value.param == "seconds" and "4, 6, 8" in caught.value.message  # type: ignore[attr-defined]
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(model=VIDEO, prompt="x", size="1024x1024")  # type: ignore[arg-type]
    assert "1280x720" in caught.value.message
    with pytest.raises(openai.BadRequestError):
        client.videos.create(model="seedream-3", prompt="x")  # type: ignore[arg-type]
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve("0" * 24)
    failed = client.videos.create_and_poll(
        model=VIDEO,
        prompt="[sandbox:content-rejected] x",
        seconds="4",  # type: ignore[arg-type]
    )
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "content_rejected"
    with pytest.raises(openai.BadRequestError):
        client.videos.download_content(failed.id)


def test_video_list_pages_and_delete(server: Server) -> None:
    key = server.key("test")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        c = openai.OpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0)
        ids = [
            c.videos.create(model=VIDEO, prompt=f"v{i}", seconds="4").id  # type: ignore[arg-type]
            for i in range(3)
        ]
        requests.post(  # an image task is not a video and is not listed
            server.url + "/v1/media/create",
            json={"model": "seedream-3", "prompt": "img"},
            headers={"Authorization": key},
            timeout=10,
        )
        page = c.videos.list(limit=2)
        assert [v.id for v in page.data] == ids[::-1][:2] and page.has_more
        assert [v.id for v in c.videos.list()] == ids[::-1]  # auto-paging over every page
        assert [v.id for v in c.videos.list(order="asc").data] == ids
        gone = c.videos.delete(ids[0])
        assert gone.deleted and gone.id == ids[0]
        with pytest.raises(openai.NotFoundError):
            c.videos.retrieve(ids[0])
        assert ids[0] not in [v.id for v in c.videos.list()]
        c.close()


def test_auth_errors_and_models(server: Server, client: openai.OpenAI) -> None:
    bad = openai.OpenAI(api_key="mg_test_wrong", base_url=server.url + "/v1", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.images.generate(model="seedream-3", prompt="x")
    models = {m.id: m for m in client.models.list()}
    assert {"seedream-3", "google-imagen-3", VIDEO} <= set(models)
    assert models["seedream-3"].owned_by == "byteplus" and models["seedream-3"].created > 0


def test_openai_model_names_and_defaults(client: openai.OpenAI, server: Server, key: str) -> None:
    """OpenAI's names are aliases of catalogue models; a call without a model gets the
    default; models.retrieve answers for both, and 404s in OpenAI's shape."""
    raw = client.images.with_raw_response.generate(
        model="dall-e-3", prompt="a fox", size="1024x1024"
    )
    task_id = raw.headers["x-mediagate-task-id"]
    stored = requests.get(
        server.url + "/v1/media/result", params={"task_id": task_id},
        headers={"Authorization": key}, timeout=10,
    ).json()  # fmt: skip
    assert stored["model"] == "google-imagen-3"  # the task records the catalogue's id
    plain = requests.post(
        server.url + "/v1/images/generations", headers={"Authorization": f"Bearer {key}"},
        json={"prompt": "no model given"}, timeout=60,
    )  # fmt: skip
    assert plain.status_code == 200 and plain.json()["data"]
    alias = client.models.retrieve("dall-e-3")
    assert (
        alias.id == "dall-e-3"
        and alias.model_extra
        and alias.model_extra["alias_of"] == "google-imagen-3"
    )
    assert client.models.retrieve(VIDEO).id == VIDEO
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("no-such-model")
    assert caught.value.code == "model_not_found"


def test_openai_gaps_answer_clearly(client: openai.OpenAI) -> None:
    """Streamed image generation, remix and unknown routes: a clear error in OpenAI's
    shape, raised as the SDK's usual exception."""
    with pytest.raises(openai.BadRequestError) as streamed:
        client.images.generate(model="seedream-3", prompt="x", stream=True)
    assert streamed.value.param == "stream"
    video = client.videos.create_and_poll(model=VIDEO, prompt="still", seconds="4")
    with pytest.raises(openai.BadRequestError) as remixed:
        client.videos.remix(video.id, prompt="again")
    assert "remix" in remixed.value.message
    with pytest.raises(openai.NotFoundError) as unknown:
        client.post("/no/such/route", cast_to=dict, body={})
    assert unknown.value.code == "unknown_url"
    thumb = client.videos.download_content(video.id, variant="thumbnail").read()
    image = Image.open(io.BytesIO(thumb))
    assert image.format == "JPEG" and max(image.size) <= 720 and image.size[0] > image.size[1]
    again = client.videos.download_content(video.id, variant="thumbnail").read()
    assert again == thumb  # made once, then kept
    with pytest.raises(openai.BadRequestError):
        client.videos.download_content(video.id, variant="spritesheet")
