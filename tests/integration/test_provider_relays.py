"""OpenAI images (fake driven by the official `openai` SDK), gptunnel and new-api as
upstreams: each adapter against its fake over loopback HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator

import aiohttp
import msgspec
import openai
import pytest

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import (
    ContentRejectedError,
    ModelNotFoundError,
    ProviderAuthError,
    UnavailableError,
    UpstreamInvalidRequest,
)
from mediagate.core.provider import Finished, GenerationRequest, InputImage, Pending, Ready
from mediagate.providers.http import Credentials
from mediagate.providers.openai import OpenAIImagesProvider
from mediagate.providers.relays import GptunnelProvider, NewApiProvider
from tests.fakes.base import sample_image, sample_mp4
from tests.fakes.openai import FakeOpenAI
from tests.fakes.relays import FakeGptunnel, FakeNewApi
from tests.media import probe

CAT = default_catalogue()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def oai() -> Iterator[FakeOpenAI]:
    vendor = FakeOpenAI().start()
    yield vendor
    vendor.stop()


def request(model: str, upstream: str, prompt: str = "a fox", image: bool = False,
            source_url: str | None = None, **kw: object) -> GenerationRequest:  # fmt: skip
    spec, params = CAT.validate(model, prompt, **kw)  # type: ignore[arg-type]
    images = (InputImage(sample_image(), "image/png", source_url),) if image else ()
    return GenerationRequest("t" * 24, spec, prompt, params, 3, images, upstream)


async def drain(stream: object) -> bytes:
    return b"".join([c async for c in stream.chunks])  # type: ignore[attr-defined]


def test_official_openai_sdk_speaks_to_the_fake(oai: FakeOpenAI) -> None:
    client = openai.OpenAI(api_key=oai.api_key, base_url=oai.url + "/v1", max_retries=0)
    made = client.images.generate(model="gpt-image-1", prompt="a fox", n=2, size="1536x1024")
    assert made.data is not None and len(made.data) == 2
    assert probe(base64.b64decode(made.data[0].b64_json or "")).format == "png"
    edit = client.images.edit(model="gpt-image-1", image=[("a.png", sample_image(), "image/png")],
                              prompt="night")  # fmt: skip
    assert edit.data and oai.edits[-1]["images"] == 1
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model="gpt-image-1", prompt="[fake:rejected] x")
    assert caught.value.code == "moderation_blocked"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="bad", base_url=oai.url + "/v1", max_retries=0).images.generate(
            model="gpt-image-1", prompt="x"
        )


async def test_openai_adapter_generates_and_edits(
    oai: FakeOpenAI, session: aiohttp.ClientSession
) -> None:
    provider = OpenAIImagesProvider(session, Credentials(oai.api_key, oai.url + "/v1"), lambda: 0)
    done = await provider.submit(request("seedream-3", "gpt-image-1", aspect_ratio="16:9"))
    assert isinstance(done, Finished) and done.results[0].content_type == "image/png"
    assert oai.calls("POST", "/v1/images/generations")[0]["size"] == "1536x1024"
    edited = await provider.submit(request("seedream-3", "gpt-image-1", image=True))
    assert isinstance(edited, Finished) and oai.edits[-1] == {"model": "gpt-image-1", "images": 1}
    with pytest.raises(ContentRejectedError):
        await provider.submit(request("seedream-3", "gpt-image-1", "[fake:rejected] x"))
    with pytest.raises(ModelNotFoundError):
        await provider.submit(request("veo-3.0-generate-preview", "sora-2"))
    bad = OpenAIImagesProvider(session, Credentials("bad", oai.url + "/v1"), lambda: 0)
    with pytest.raises(ProviderAuthError):
        await bad.submit(request("seedream-3", "gpt-image-1"))


async def test_gptunnel_adapter_through_its_fake(session: aiohttp.ClientSession) -> None:
    fake = FakeGptunnel().start()
    try:
        provider = GptunnelProvider(session, Credentials(fake.api_key, fake.url), lambda: 0)
        req = request("seedance-1-lite-480P-5s", "seedance-1-lite-480P-5s", aspect_ratio="9:16")
        sub = await provider.submit(req)
        assert not isinstance(sub, Finished)
        assert fake.calls("POST", "/v1/media/create")[0] == {
            "model": "seedance-1-lite-480P-5s", "prompt": "a fox", "ar": "9:16"}  # fmt: skip
        assert isinstance(await provider.poll(req, sub.upstream_id), Pending)
        assert isinstance(await provider.poll(req, sub.upstream_id), Ready)
        assert await drain(await provider.fetch(req, sub.upstream_id, 0)) == sample_mp4()

        with pytest.raises(UpstreamInvalidRequest, match="code 3"):  # HTTP 200, code != 0
            await provider.submit(request("seedream-3", "no-such-model"))
        failing = request("seedream-3", "seedream-3", "[fake:error] x")
        sub = await provider.submit(failing)
        assert not isinstance(sub, Finished)
        await provider.poll(failing, sub.upstream_id)
        with pytest.raises(UnavailableError, match="task error"):
            await provider.poll(failing, sub.upstream_id)
        with pytest.raises(ModelNotFoundError, match="public URLs"):
            await provider.submit(request("seedream-3", "seedream-3", image=True))
        linked = await provider.submit(
            request("seedream-3", "seedream-3", image=True, source_url="https://img.example/a.png")
        )
        assert not isinstance(linked, Finished)
        assert fake.calls("POST", "/v1/media/create")[-1]["images"] == ["https://img.example/a.png"]
    finally:
        fake.stop()


@pytest.mark.parametrize(("bare", "shouting"), [(False, False), (True, True)],
                         ids=["wrapped", "bare-uppercase"])  # fmt: skip
async def test_newapi_adapter_accepts_both_answer_shapes(
    session: aiohttp.ClientSession, bare: bool, shouting: bool
) -> None:
    fake = FakeNewApi(bare=bare, shouting=shouting).start()
    try:
        provider = NewApiProvider(session, Credentials(fake.api_key, fake.url), lambda: 0)
        req = request("veo-3.0-generate-preview", "veo-3.0-generate-preview", image=True,
                      duration_seconds=6)  # fmt: skip
        sub = await provider.submit(req)
        assert not isinstance(sub, Finished) and sub.upstream_id.startswith("task_")
        sent = fake.calls("POST", "/v1/video/generations")[0]
        assert sent["duration_seconds"] == 6 and sent["image"].startswith("data:image/png;base64,")
        assert isinstance(await provider.poll(req, sub.upstream_id), Pending)
        assert isinstance(await provider.poll(req, sub.upstream_id), Ready)
        assert await drain(await provider.fetch(req, sub.upstream_id, 0)) == sample_mp4()
        failing = msgspec.structs.replace(req, prompt="[fake:error] x")
        sub = await provider.submit(failing)
        assert not isinstance(sub, Finished)
        await provider.poll(failing, sub.upstream_id)
        with pytest.raises(UnavailableError, match="upstream generation failed"):
            await provider.poll(failing, sub.upstream_id)
    finally:
        fake.stop()
