"""Google: the official google-genai SDK drives the Gemini-API fake (Veo and Imagen); the
adapter then runs in both modes, Gemini API and Vertex AI, against the same fake."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator

import aiohttp
import msgspec
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import (
    ContentRejectedError,
    ModelNotFoundError,
    ProviderAuthError,
    UnavailableError,
)
from mediagate.core.provider import Finished, GenerationRequest, InputImage, Pending, Ready
from mediagate.providers.google import GoogleProvider
from mediagate.providers.http import Credentials
from tests.fakes.base import sample_image
from tests.fakes.google import FakeGoogle
from tests.media import probe

CAT = default_catalogue()


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    vendor = FakeGoogle(polls=2).start()
    yield vendor
    vendor.stop()


def test_official_sdk_makes_a_veo_video_and_imagen_images(fake: FakeGoogle) -> None:
    client = genai.Client(api_key=fake.api_key, http_options=types.HttpOptions(base_url=fake.url))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        op = client.models.generate_videos(
            model="veo-3.1-fast-generate-preview",
            prompt="a cat",
            image=types.Image(image_bytes=sample_image(), mime_type="image/png"),
            config=types.GenerateVideosConfig(aspect_ratio="9:16", duration_seconds=8),
        )
    while not op.done:
        op = client.operations.get(op)
    assert op.response is not None and op.response.generated_videos
    video = op.response.generated_videos[0].video
    assert video is not None
    data = client.files.download(file=video)
    assert probe(data).codec == "h264"
    sent = fake.calls("POST", "/v1beta/models/veo")[0]
    assert sent["parameters"]["aspectRatio"] == "9:16"
    assert sent["instances"][0]["image"]["mimeType"] == "image/png"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # generate_images is marked deprecated in the SDK
        images = client.models.generate_images(
            model="imagen-4.0-generate-001",
            prompt="a fox",
            config=types.GenerateImagesConfig(number_of_images=2, aspect_ratio="16:9"),
        )
    assert images.generated_images and len(images.generated_images) == 2
    first = images.generated_images[0].image
    assert first is not None and probe(first.image_bytes or b"").format == "png"

    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_images(model="imagen-retired-1", prompt="x")
    assert caught.value.code == 404
    bad = genai.Client(api_key="nope", http_options=types.HttpOptions(base_url=fake.url))
    with pytest.raises(genai_errors.ClientError) as denied:
        bad.models.generate_images(model="imagen-4.0-generate-001", prompt="x")
    assert denied.value.code == 403


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def adapter(fake: FakeGoogle, session: aiohttp.ClientSession, vertex: bool) -> GoogleProvider:
    creds = Credentials(
        api_key=fake.token if vertex else fake.api_key,
        base_url=fake.url,
        project="proj",
        location="us-central1",
    )
    return GoogleProvider(session, creds, clock=lambda: 0.0, vertex=vertex)


def video(prompt: str = "waves", ar: str = "16:9", samples: int = 1) -> GenerationRequest:
    spec, params = CAT.validate(
        "veo-3.0-generate-preview",
        prompt,
        aspect_ratio=ar,
        duration_seconds=4,
        sample_count=samples,
    )
    image = (InputImage(sample_image(), "image/png"),)
    return GenerationRequest("t" * 24, spec, prompt, params, 5, image, "veo-3.1-generate-001")


async def drain(stream: object) -> bytes:
    return b"".join([c async for c in stream.chunks])  # type: ignore[attr-defined]


@pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])
async def test_adapter_runs_veo_in_both_apis(
    fake: FakeGoogle, session: aiohttp.ClientSession, vertex: bool
) -> None:
    google = adapter(fake, session, vertex)
    request = video(samples=2)
    sub = await google.submit(request)
    assert not isinstance(sub, Finished) and "/operations/" in sub.upstream_id
    if vertex:
        assert sub.upstream_id.startswith("projects/proj/locations/us-central1/")
    assert isinstance(await google.poll(request, sub.upstream_id), Pending)
    assert isinstance(await google.poll(request, sub.upstream_id), Ready)
    for index in (0, 1):
        media = await google.fetch(request, sub.upstream_id, index)
        assert media.content_type == "video/mp4" and await drain(media) == fake.video


@pytest.mark.parametrize("vertex", [False, True], ids=["gemini", "vertex"])
async def test_adapter_imagen_failures_and_filters(
    fake: FakeGoogle, session: aiohttp.ClientSession, vertex: bool
) -> None:
    google = adapter(fake, session, vertex)
    spec, params = CAT.validate("google-imagen-3", "a fox", aspect_ratio="4:3", sample_count=3)
    request = GenerationRequest("t" * 24, spec, "a fox", params, 1, (), "imagen-4.0-generate-001")
    done = await google.submit(request)
    assert isinstance(done, Finished) and len(done.results) == 3
    assert probe(done.results[0].data or b"").format == "png"
    with pytest.raises(ModelNotFoundError, match="not 21:9"):
        await google.submit(
            msgspec.structs.replace(
                request, params=msgspec.structs.replace(params, aspect_ratio="21:9")
            )
        )
    with pytest.raises(ContentRejectedError):
        await google.submit(msgspec.structs.replace(request, prompt="[fake:filtered] x"))
    with pytest.raises(ModelNotFoundError):
        await google.submit(msgspec.structs.replace(request, upstream_model="imagen-retired-1"))

    filtered = video("[fake:filtered] x")
    sub = await google.submit(filtered)
    assert not isinstance(sub, Finished)
    await google.poll(filtered, sub.upstream_id)
    with pytest.raises(ContentRejectedError):
        await google.poll(filtered, sub.upstream_id)
    broken = video("[fake:op-error] x")
    sub = await google.submit(broken)
    assert not isinstance(sub, Finished)
    await google.poll(broken, sub.upstream_id)
    with pytest.raises(UnavailableError, match="operation failed"):
        await google.poll(broken, sub.upstream_id)
    with pytest.raises(ModelNotFoundError, match="not 1:1"):
        await google.submit(
            msgspec.structs.replace(
                video(), params=msgspec.structs.replace(video().params, aspect_ratio="1:1")
            )
        )
    wrong = GoogleProvider(session, Credentials("bad", fake.url, "p", "l"), lambda: 0.0, vertex)
    with pytest.raises(ProviderAuthError):
        await wrong.submit(video())
