"""Luma: the official ``lumaai`` SDK drives the fake, then the adapter runs on the fake."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import lumaai
import pytest

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import ContentRejectedError, ModelNotFoundError
from mediagate.core.provider import GenerationRequest, InputImage, Pending
from mediagate.providers.http import Credentials
from mediagate.providers.luma import LumaProvider
from tests.fakes.base import sample_image
from tests.fakes.luma import FakeLuma
from tests.media import opens_linked_result, probe

CAT = default_catalogue()
URL = "https://example.com/a.png"
FRAME = {"type": "image", "url": URL}


@pytest.fixture
def fake() -> Iterator[FakeLuma]:
    vendor = FakeLuma(polls=2).start()
    yield vendor
    vendor.stop()


def test_the_official_sdk_speaks_to_the_fake(fake: FakeLuma) -> None:
    client = lumaai.LumaAI(auth_token=fake.api_key, base_url=fake.url, max_retries=0)
    made = client.generations.create(model="ray-2", prompt="a fox", duration="5s")
    assert made.state == "queued"
    states = [client.generations.get(str(made.id)).state for _ in range(3)]
    assert states == ["dreaming", "dreaming", "completed"]
    done = client.generations.get(str(made.id))
    assert done.assets is not None and str(done.assets.video).startswith(fake.url)
    image = client.generations.image.create(model="photon-1", prompt="a fox")
    assert image.generation_type == "image"
    with pytest.raises(lumaai.AuthenticationError):
        lumaai.LumaAI(auth_token="x", base_url=fake.url, max_retries=0).generations.get("a")
    client.generations.delete(str(made.id))
    with pytest.raises(lumaai.NotFoundError):
        client.generations.get(str(made.id))


def request(
    model: str,
    prompt: str = "a fox",
    urls: tuple[str | None, ...] = (URL,),
    roles: tuple[str, ...] = ("first_frame",),
    **kw: object,
) -> GenerationRequest:
    spec, params = CAT.validate(
        model,
        prompt,
        images=[URL] * len(urls) or None,
        roles=list(roles) or None,
        **kw,  # type: ignore[arg-type]
    )
    images = tuple(InputImage(sample_image(), "image/png", u) for u in urls)
    return GenerationRequest("t" * 24, spec, prompt, params, 3, images, "")


async def test_the_adapter_on_the_fake(fake: FakeLuma, session: aiohttp.ClientSession) -> None:
    adapter = LumaProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0, poll_s=0)
    req = request(
        "luma-ray-flash-2", urls=(URL, URL), roles=("first_frame", "last_frame"),
        duration_seconds=9, options={"resolution": "1080p", "loop": True},
    )  # fmt: skip
    sub = await adapter.submit(req)
    sent = fake.calls("POST", "/generations/video")[-1]
    assert sent == {
        "model": "ray-flash-2", "prompt": "a fox", "aspect_ratio": "16:9", "duration": "9s",
        "resolution": "1080p", "loop": True,
        "keyframes": {"frame0": FRAME, "frame1": FRAME},
    }  # fmt: skip
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    # Done: the answer links the file, opened in that step (fetch is for a task left at
    # its fetch step).
    assert (await opens_linked_result(adapter, fake, req, sub.upstream_id)).format == "mp4"
    media = await adapter.fetch(req, sub.upstream_id, 0)
    assert media is not None
    assert probe(b"".join([c async for c in media.chunks])).format == "mp4"
    assert await adapter.fetch(req, sub.upstream_id, 1) is None
    await adapter.cancel(req, sub.upstream_id)
    assert sub.upstream_id not in fake.gens


async def test_inline_images_move_on_and_moderation_is_a_rejection(
    fake: FakeLuma, session: aiohttp.ClientSession
) -> None:
    adapter = LumaProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0, poll_s=0)
    with pytest.raises(ModelNotFoundError):  # failover: Luma takes public URLs only
        await adapter.submit(request("luma-ray-2", urls=(None,)))
    bad = request("luma-photon-1", "x [fake:moderated]", urls=(), roles=())
    sub = await adapter.submit(bad)
    assert fake.calls("POST", "/generations/image")[-1]["model"] == "photon-1"
    for _ in range(2):
        await adapter.poll(bad, sub.upstream_id)
    with pytest.raises(ContentRejectedError):
        await adapter.poll(bad, sub.upstream_id)
