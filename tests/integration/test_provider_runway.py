"""Runway: the official ``runwayml`` SDK drives the fake (so the fake speaks Runway's wire
format), then the adapter runs against the same fake over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest
import runwayml

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import ContentRejectedError, ProviderAuthError
from mediagate.core.provider import GenerationRequest, InputImage, Pending
from mediagate.providers.http import Credentials
from mediagate.providers.runway import RunwayProvider
from tests.fakes.base import sample_image
from tests.fakes.runway import FakeRunway
from tests.media import opens_linked_result, probe

CAT = default_catalogue()


@pytest.fixture
def fake() -> Iterator[FakeRunway]:
    vendor = FakeRunway(polls=2).start()
    yield vendor
    vendor.stop()


def test_the_official_sdk_speaks_to_the_fake(fake: FakeRunway) -> None:
    client = runwayml.RunwayML(api_key=fake.api_key, base_url=fake.url, max_retries=0)
    made = client.image_to_video.create(
        model="gen4_turbo", prompt_image="https://example.com/a.png", ratio="1280:720", duration=5
    )
    states = [client.tasks.retrieve(made.id).status for _ in range(3)]
    assert states == ["PENDING", "RUNNING", "SUCCEEDED"]
    done = client.tasks.retrieve(made.id)
    assert done.status == "SUCCEEDED" and done.output[0].startswith(fake.url)
    with pytest.raises(runwayml.BadRequestError):
        client.text_to_video.create(model="gen4.5", prompt_text="x", ratio="1:1", duration=5)  # type: ignore[arg-type]
    with pytest.raises(runwayml.AuthenticationError):
        runwayml.RunwayML(api_key="bad", base_url=fake.url, max_retries=0).tasks.retrieve(made.id)
    client.tasks.delete(made.id)
    assert client.tasks.retrieve(made.id).status == "CANCELLED"


def request(
    model: str, prompt: str = "a fox", image: bool = True, **kw: object
) -> GenerationRequest:
    images = [sample_image()] if image else []
    spec, params = CAT.validate(
        model, prompt, images=["https://example.com/a.png"] if image else None,
        roles=["first_frame"] if image else None, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    got = tuple(InputImage(d, "image/png", "https://example.com/a.png") for d in images)
    return GenerationRequest("t" * 24, spec, prompt, params, 3, got, "")


async def test_the_adapter_runs_a_task_on_the_fake(
    fake: FakeRunway, session: aiohttp.ClientSession
) -> None:
    adapter = RunwayProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0, poll_s=0)
    req = request("runway-gen4-turbo", aspect_ratio="960:960", duration_seconds=10)
    sub = await adapter.submit(req)
    sent = fake.calls("POST", "/v1/image_to_video")[-1]
    assert sent == {
        "model": "gen4_turbo",
        "ratio": "960:960",
        "promptText": "a fox",
        "duration": 10,
        "promptImage": [{"uri": "https://example.com/a.png", "position": "first"}],
    }
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    # Done: the answer links the file, opened in that step (fetch is for a task left at
    # its fetch step).
    assert (await opens_linked_result(adapter, fake, req, sub.upstream_id)).format == "mp4"
    media = await adapter.fetch(req, sub.upstream_id, 0)
    assert media is not None and media.content_type == "video/mp4"
    data = b"".join([c async for c in media.chunks])
    assert probe(data).format == "mp4"
    assert await adapter.fetch(req, sub.upstream_id, 1) is None
    await adapter.cancel(req, sub.upstream_id)
    assert fake.tasks[sub.upstream_id]["status"] == "CANCELLED"


async def test_text_only_and_images_and_failures(
    fake: FakeRunway, session: aiohttp.ClientSession
) -> None:
    adapter = RunwayProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0, poll_s=0)
    t2v = request("runway-gen4.5", "waves", image=False, aspect_ratio="720:1280")
    await adapter.submit(t2v)
    assert fake.calls("POST", "/v1/text_to_video")[-1]["model"] == "gen4.5"
    t2i = request("runway-gen4-image", "a kite", image=False, options={"seed": 7})
    await adapter.submit(t2i)
    assert fake.calls("POST", "/v1/text_to_image")[-1] == {
        "model": "gen4_image", "ratio": "1920:1080", "promptText": "a kite", "seed": 7,
    }  # fmt: skip
    unsafe = request("runway-gen4.5", "x [fake:unsafe]", image=False, aspect_ratio="720:1280")
    sub = await adapter.submit(unsafe)
    for _ in range(2):
        await adapter.poll(unsafe, sub.upstream_id)
    with pytest.raises(ContentRejectedError):
        await adapter.poll(unsafe, sub.upstream_id)
    bad = RunwayProvider(session, Credentials("nope", fake.url), lambda: 0.0)
    with pytest.raises(ProviderAuthError):
        await bad.submit(t2v)
