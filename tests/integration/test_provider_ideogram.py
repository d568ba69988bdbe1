"""Ideogram: the adapter against the fake: legacy JSON and multipart, V3 multipart, the
describe texts, links streamed at once, and 422 as a content rejection."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import ContentRejectedError, ProviderAuthError
from mediagate.core.provider import Finished, GenerationRequest, InputImage
from mediagate.providers.http import Credentials
from mediagate.providers.ideogram import IdeogramProvider
from tests.fakes.base import sample_image
from tests.fakes.ideogram import FakeIdeogram

CAT = default_catalogue()


@pytest.fixture
def fake() -> Iterator[FakeIdeogram]:
    vendor = FakeIdeogram().start()
    yield vendor
    vendor.stop()


def request(
    model: str, action: str, prompt: str = "a fox", roles: tuple[str, ...] = (), **kw: object
) -> GenerationRequest:
    refs = ["https://example.com/a.png"] * len(roles)
    spec, params = CAT.validate(
        model, prompt, images=refs or None, roles=list(roles) or None, action=action,
        prompt_required=False, **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    images = tuple(InputImage(sample_image(), "image/png") for _ in refs)
    return GenerationRequest("t" * 24, spec, prompt, params, 3, images, "")


async def test_legacy_and_v3_calls(fake: FakeIdeogram, session: aiohttp.ClientSession) -> None:
    adapter = IdeogramProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0)
    options = {"style_type": "ANIME", "magic_prompt": "OFF"}
    ask = request("ideogram-v2", "generate", aspect_ratio="16:10", sample_count=2, options=options)
    done = await adapter.submit(ask)
    assert isinstance(done, Finished) and len(done.results) == 2
    sent = fake.seen[-1]
    assert sent["path"] == "/generate" and sent["aspect_ratio"] == "ASPECT_16_10"
    assert sent["model"] == "V_2" and sent["magic_prompt_option"] == "OFF"
    media = await adapter.open(request("ideogram-v2", "generate"), done.results[0])
    assert media.content_type == "image/png"
    await adapter.submit(request("ideogram-v3", "edit", roles=("edit", "mask")))
    assert fake.seen[-1]["path"] == "/v1/ideogram-v3/edit"
    assert fake.seen[-1]["files"] == ["image", "mask"]
    await adapter.submit(
        request("ideogram-v3", "reframe", roles=("edit",), aspect_ratio="1280x800")
    )
    assert fake.seen[-1]["resolution"] == "1280x800" and "prompt" not in fake.seen[-1]
    remix = request("ideogram-v2a", "remix", roles=("edit",), options={"image_weight": 70})
    await adapter.submit(remix)
    assert fake.seen[-1]["path"] == "/remix" and fake.seen[-1]["image_weight"] == 70
    said = await adapter.submit(request("ideogram-v3", "describe", "", roles=("edit",)))
    assert isinstance(said, Finished) and said.texts[0].text == "a small orange square"


async def test_refusals(fake: FakeIdeogram, session: aiohttp.ClientSession) -> None:
    adapter = IdeogramProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0)
    with pytest.raises(ContentRejectedError):
        await adapter.submit(request("ideogram-v3", "generate", "x [fake:unsafe]"))
    with pytest.raises(ProviderAuthError):
        await IdeogramProvider(session, Credentials("no", fake.url), lambda: 0.0).submit(
            request("ideogram-v3", "generate")
        )
