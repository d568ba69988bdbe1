"""BFL: the adapter against the fake; the returned polling_url is the one polled, and one
on another host is refused (our key never goes there)."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import (
    ContentRejectedError,
    ProviderAuthError,
    UnavailableError,
    UpstreamInvalidRequest,
)
from mediagate.core.provider import GenerationRequest, InputImage, Pending
from mediagate.providers.bfl import BflProvider
from mediagate.providers.http import Credentials
from tests.fakes.base import sample_image
from tests.fakes.bfl import FakeBfl
from tests.media import opens_linked_result, probe

CAT = default_catalogue()


@pytest.fixture
def fake() -> Iterator[FakeBfl]:
    vendor = FakeBfl(polls=2).start()
    yield vendor
    vendor.stop()


def request(model: str, prompt: str = "a fox", images: int = 0, **kw: object) -> GenerationRequest:
    refs = ["https://example.com/a.png"] * images
    role = CAT.get(model).image_roles[0]
    spec, params = CAT.validate(
        model,
        prompt,
        images=refs or None,
        roles=[role] * images or None,
        **kw,  # type: ignore[arg-type]
    )
    got = tuple(InputImage(sample_image(), "image/png", None) for _ in refs)
    return GenerationRequest("t" * 24, spec, prompt, params, 3, got, "")


async def test_a_job_on_the_fake(fake: FakeBfl, session: aiohttp.ClientSession) -> None:
    adapter = BflProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0, poll_s=0)
    req = request(
        "flux-2-pro", images=2, aspect_ratio="1024x768", options={"seed": 5, "format": "png"}
    )
    sub = await adapter.submit(req)
    assert "/us1/v1/get_result?id=" in sub.upstream_id  # the polling_url it was given
    sent = fake.calls("POST", "/v1/flux-2-pro")[-1]
    assert sent["width"] == 1024 and sent["height"] == 768 and sent["seed"] == 5
    assert sent["output_format"] == "png" and "input_image" in sent and "input_image_2" in sent
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    # Done: the answer links the file, opened in that step (fetch is for a task left at
    # its fetch step).
    assert (await opens_linked_result(adapter, fake, req, sub.upstream_id)).format == "jpeg"
    media = await adapter.fetch(req, sub.upstream_id, 0)
    assert media is not None
    assert probe(b"".join([c async for c in media.chunks])).format == "jpeg"
    ultra = request("flux-pro-1.1-ultra", aspect_ratio="21:9")
    await adapter.submit(ultra)
    assert fake.calls("POST", "/v1/flux-pro-1.1-ultra")[-1]["aspect_ratio"] == "21:9"


async def test_moderation_auth_and_a_foreign_polling_url(
    fake: FakeBfl, session: aiohttp.ClientSession
) -> None:
    adapter = BflProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0, poll_s=0)
    bad = request("flux-2-pro", "x [fake:moderated]")
    sub = await adapter.submit(bad)
    for _ in range(2):
        await adapter.poll(bad, sub.upstream_id)
    with pytest.raises(ContentRejectedError):
        await adapter.poll(bad, sub.upstream_id)
    with pytest.raises(ProviderAuthError):
        await BflProvider(session, Credentials("no", fake.url), lambda: 0.0).submit(bad)
    fake.polling_url = "https://evil.example/steal"
    with pytest.raises(UnavailableError, match="not BFL's host"):
        await adapter.submit(request("flux-2-pro"))
    with pytest.raises(UpstreamInvalidRequest):
        await adapter.poll(bad, "https://evil.example/steal")
