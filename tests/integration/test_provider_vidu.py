"""Vidu: the adapter against the fake: the endpoint follows the images, Token auth, and an
Audit* err_code is a content rejection."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import ContentRejectedError, ProviderAuthError
from mediagate.core.provider import GenerationRequest, InputImage, Pending, Ready
from mediagate.providers.http import Credentials
from mediagate.providers.vidu import ViduProvider
from tests.fakes.base import sample_image
from tests.fakes.vidu import FakeVidu
from tests.media import probe

CAT = default_catalogue()


@pytest.fixture
def fake() -> Iterator[FakeVidu]:
    vendor = FakeVidu(polls=2).start()
    yield vendor
    vendor.stop()


def request(prompt: str = "a kite", roles: tuple[str, ...] = (), **kw: object) -> GenerationRequest:
    refs = ["https://example.com/a.png"] * len(roles)
    spec, params = CAT.validate(
        "viduq2",
        prompt,
        images=refs or None,
        roles=list(roles) or None,
        **kw,  # type: ignore[arg-type]
    )
    images = tuple(
        InputImage(sample_image(), "image/png", "https://example.com/a.png") for _ in refs
    )
    return GenerationRequest("t" * 24, spec, prompt, params, 3, images, "")


@pytest.mark.parametrize(
    ("roles", "endpoint"),
    [
        ((), "text2video"),
        (("first_frame",), "img2video"),
        (("first_frame", "last_frame"), "start-end2video"),
        (("reference", "reference", "reference"), "reference2video"),
    ],
)
async def test_the_endpoint_follows_the_images(
    fake: FakeVidu, session: aiohttp.ClientSession, roles: tuple[str, ...], endpoint: str
) -> None:
    adapter = ViduProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0, poll_s=0)
    req = request(roles=roles, duration_seconds=4, options={"resolution": "1080p", "bgm": True})
    sub = await adapter.submit(req)
    sent = fake.calls("POST", f"/ent/v2/{endpoint}")[-1]
    assert sent["model"] == "viduq2" and sent["duration"] == 4 and sent["resolution"] == "1080p"
    assert len(sent.get("images", [])) == len(roles)
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    assert isinstance(await adapter.poll(req, sub.upstream_id), Ready)
    media = await adapter.fetch(req, sub.upstream_id, 0)
    assert media is not None
    assert probe(b"".join([c async for c in media.chunks])).format == "mp4"


async def test_audit_and_auth(fake: FakeVidu, session: aiohttp.ClientSession) -> None:
    adapter = ViduProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0, poll_s=0)
    bad = request("x [fake:audit]")
    sub = await adapter.submit(bad)
    for _ in range(2):
        await adapter.poll(bad, sub.upstream_id)
    with pytest.raises(ContentRejectedError):
        await adapter.poll(bad, sub.upstream_id)
    with pytest.raises(ProviderAuthError):
        await ViduProvider(session, Credentials("no", fake.url), lambda: 0.0).submit(request())
