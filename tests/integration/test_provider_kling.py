"""Kling: the adapter against the fake, which checks every JWT (HS256, iss, nbf, exp);
tokens are made again before they expire, on the adapter's injected clock."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import ContentRejectedError, ProviderAuthError, RateLimitedError
from mediagate.core.provider import GenerationRequest, InputImage, Pending
from mediagate.providers.http import Credentials
from mediagate.providers.kling import KlingProvider, jwt_hs256
from tests.fakes.base import sample_image
from tests.fakes.kling import FakeKling
from tests.media import opens_linked_result, probe

CAT = default_catalogue()


@pytest.fixture
def fake() -> Iterator[FakeKling]:
    vendor = FakeKling(polls=2).start()
    yield vendor
    vendor.stop()


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def request(model: str, prompt: str = "a fox", frames: int = 0, **kw: object) -> GenerationRequest:
    refs = ["https://example.com/a.png"] * frames
    roles = ["first_frame", "last_frame"][:frames]
    spec, params = CAT.validate(
        model,
        prompt,
        images=refs or None,
        roles=roles or None,
        **kw,  # type: ignore[arg-type]
    )
    images = tuple(InputImage(sample_image(), "image/png", None) for _ in refs)
    return GenerationRequest("t" * 24, spec, prompt, params, 3, images, "")


def test_the_token_is_kling_s_hs256() -> None:
    import base64
    import json

    token = jwt_hs256("ak", "sk", 1000.0)
    head, body, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    assert json.loads(base64.urlsafe_b64decode(head + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert claims == {"iss": "ak", "exp": 2800, "nbf": 995}


async def test_a_video_on_the_fake(fake: FakeKling, session: aiohttp.ClientSession) -> None:
    clock = Clock()
    fake.now = clock
    creds = Credentials("ak", fake.url, secrets={"secret_key": "sk"})
    adapter = KlingProvider(session, creds, clock, poll_s=0)
    req = request(
        "kling-v2-1", frames=2, aspect_ratio="9:16", duration_seconds=10,
        options={"mode": "pro", "negative_prompt": "blur"},
    )  # fmt: skip
    sub = await adapter.submit(req)
    sent = fake.calls("POST", "/v1/videos/image2video")[-1]
    assert sent["model_name"] == "kling-v2-1" and sent["mode"] == "pro"
    assert sent["duration"] == "10" and sent["aspect_ratio"] == "9:16"
    assert sent["image"] == InputImage(sample_image(), "image/png").b64()  # bare base64
    assert "image_tail" in sent and sent["negative_prompt"] == "blur"
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    clock.t += 1000  # the same token still serves
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    clock.t += 700  # within 5 minutes of its expiry: a new one
    # Done: the answer links the file, opened in that step (fetch is for a task left at
    # its fetch step).
    assert (await opens_linked_result(adapter, fake, req, sub.upstream_id)).format == "mp4"
    assert len(set(fake.tokens)) == 2
    media = await adapter.fetch(req, sub.upstream_id, 0)
    assert media is not None
    assert probe(b"".join([c async for c in media.chunks])).format == "mp4"
    assert await adapter.fetch(req, sub.upstream_id, 1) is None


async def test_images_and_codes(fake: FakeKling, session: aiohttp.ClientSession) -> None:
    creds = Credentials("ak", fake.url, secrets={"secret_key": "sk"})
    adapter = KlingProvider(session, creds, lambda: fake.now(), poll_s=0)
    img = request("kling-image-v2", sample_count=2)
    await adapter.submit(img)
    assert fake.calls("POST", "/v1/images/generations")[-1]["n"] == 2
    with pytest.raises(ContentRejectedError):
        await adapter.submit(request("kling-v2-6", "x [fake:unsafe]"))
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitedError):
        await adapter.submit(request("kling-v2-6"))
    wrong = Credentials("ak", fake.url, secrets={"secret_key": "other"})
    with pytest.raises(ProviderAuthError):
        await KlingProvider(session, wrong, lambda: fake.now()).submit(request("kling-v2-6"))
