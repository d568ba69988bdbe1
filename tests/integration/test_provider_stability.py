"""Stability: the adapter against the fake: multipart fields, synchronous results, and
CONTENT_FILTERED and content_moderation as content rejections."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import ContentRejectedError, ProviderAuthError, UpstreamInvalidRequest
from mediagate.core.provider import Finished, GenerationRequest, InputImage
from mediagate.providers.http import Credentials
from mediagate.providers.stability import StabilityProvider
from tests.fakes.base import sample_image
from tests.fakes.stability import FakeStability

CAT = default_catalogue()


@pytest.fixture
def fake() -> Iterator[FakeStability]:
    vendor = FakeStability().start()
    yield vendor
    vendor.stop()


def request(
    model: str, prompt: str = "a fox", image: bool = False, **kw: object
) -> GenerationRequest:
    spec, params = CAT.validate(
        model, prompt, images=["https://e.com/a.png"] if image else None,
        roles=["edit"] if image else None, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    got = (InputImage(sample_image(), "image/png"),) if image else ()
    return GenerationRequest("t" * 24, spec, prompt, params, 3, got, "")


async def test_multipart_and_a_synchronous_answer(
    fake: FakeStability, session: aiohttp.ClientSession
) -> None:
    adapter = StabilityProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0)
    req = request(
        "sd3.5-large", image=True, aspect_ratio="3:2",
        options={"strength": 0.6, "style_preset": "anime", "seed": 9, "format": "png"},
    )  # fmt: skip
    done = await adapter.submit(req)
    assert isinstance(done, Finished) and done.results[0].data and done.upstream_id == "123"
    form = fake.forms[-1]
    assert form["endpoint"] == "sd3" and form["model"] == "sd3.5-large"
    assert form["mode"] == "image-to-image" and form["strength"] == "0.6"
    assert form["aspect_ratio"] == "3:2" and form["image"].startswith("<file ")
    await adapter.submit(request("stability-core"))
    assert fake.forms[-1]["endpoint"] == "core" and "model" not in fake.forms[-1]


async def test_refusals(fake: FakeStability, session: aiohttp.ClientSession) -> None:
    adapter = StabilityProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0)
    with pytest.raises(ContentRejectedError):
        await adapter.submit(request("stability-ultra", "x [fake:filtered]"))
    with pytest.raises(ContentRejectedError):
        await adapter.submit(request("stability-ultra", "x [fake:moderated]"))
    with pytest.raises(ProviderAuthError):
        await StabilityProvider(session, Credentials("no", fake.url), lambda: 0.0).submit(
            request("stability-ultra")
        )
    import msgspec

    odd = request("stability-ultra")
    odd = msgspec.structs.replace(
        odd, params=msgspec.structs.replace(odd.params, aspect_ratio="7:1")
    )  # a ratio only the vendor refuses: its 400 names the field
    with pytest.raises(UpstreamInvalidRequest, match="aspect_ratio"):
        await adapter.submit(odd)
