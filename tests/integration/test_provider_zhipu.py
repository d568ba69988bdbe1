"""Zhipu: the official ``zhipuai`` SDK drives the fake, then the adapter runs on the fake."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest
import zhipuai

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import ContentRejectedError, ProviderAuthError, RateLimitedError
from mediagate.core.provider import Finished, GenerationRequest, InputImage, Pending
from mediagate.providers.http import Credentials
from mediagate.providers.zhipu import ZhipuProvider
from tests.fakes.base import sample_image
from tests.fakes.zhipu import FakeZhipu
from tests.media import opens_linked_result, probe

CAT = default_catalogue()


@pytest.fixture
def fake() -> Iterator[FakeZhipu]:
    vendor = FakeZhipu(polls=2).start()
    yield vendor
    vendor.stop()


def test_the_official_sdk_speaks_to_the_fake(fake: FakeZhipu) -> None:
    zai = zhipuai.ZhipuAI(api_key=fake.api_key, base_url=fake.url, max_retries=0)
    made = zai.videos.generations(model="cogvideox-3", prompt="a fox", size="1280x720")
    assert made.task_status == "PROCESSING"
    states = [zai.videos.retrieve_videos_result(id=str(made.id)).task_status for _ in range(3)]
    assert states == ["PROCESSING", "PROCESSING", "SUCCESS"]
    with pytest.raises(zhipuai.APIRequestFailedError):
        zai.videos.generations(model="cogvideox-3", prompt="x", size="1x1")
    with pytest.raises(zhipuai.APIAuthenticationError):
        zhipuai.ZhipuAI(api_key="no", base_url=fake.url, max_retries=0).videos.generations(
            model="cogvideox-3", prompt="x"
        )


def request(prompt: str = "a fox", frames: int = 0, **kw: object) -> GenerationRequest:
    refs = ["https://example.com/a.png"] * frames
    roles = ["first_frame", "last_frame"][:frames]
    spec, params = CAT.validate(
        "cogvideox-3",
        prompt,
        images=refs or None,
        roles=roles or None,
        **kw,  # type: ignore[arg-type]
    )
    images = tuple(InputImage(sample_image(), "image/png", None) for _ in refs)
    return GenerationRequest("t" * 24, spec, prompt, params, 3, images, "")


async def test_the_adapter_on_the_fake(fake: FakeZhipu, session: aiohttp.ClientSession) -> None:
    adapter = ZhipuProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0, poll_s=0)
    req = request(
        frames=2, aspect_ratio="1024x1024", duration_seconds=10,
        options={"fps": "60", "with_audio": True, "quality": "quality"},
    )  # fmt: skip
    sub = await adapter.submit(req)
    sent = fake.calls("POST", "/videos/generations")[-1]
    assert sent["model"] == "cogvideox-3" and sent["size"] == "1024x1024"
    assert sent["fps"] == 60 and sent["duration"] == 10 and sent["with_audio"] is True
    assert len(sent["image_url"]) == 2 and sent["image_url"][0].startswith("data:image/png")
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    assert isinstance(await adapter.poll(req, sub.upstream_id), Pending)
    # Done: the answer links the file, opened in that step (fetch is for a task left at
    # its fetch step).
    assert (await opens_linked_result(adapter, fake, req, sub.upstream_id)).format == "mp4"
    media = await adapter.fetch(req, sub.upstream_id, 0)
    assert media is not None
    assert probe(b"".join([c async for c in media.chunks])).format == "mp4"
    assert await adapter.fetch(req, sub.upstream_id, 1) is None


async def test_zhipu_codes_map_onto_the_error_tree(
    fake: FakeZhipu, session: aiohttp.ClientSession
) -> None:
    adapter = ZhipuProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0)
    with pytest.raises(ContentRejectedError):
        await adapter.submit(request("x [fake:unsafe]"))
    fake.rate_limit_next = 1
    with pytest.raises(RateLimitedError):
        await adapter.submit(request())
    with pytest.raises(ProviderAuthError):
        await ZhipuProvider(session, Credentials("no", fake.url), lambda: 0.0).submit(request())


def test_the_official_sdk_makes_a_cogview_image_on_the_fake(fake: FakeZhipu) -> None:
    zai = zhipuai.ZhipuAI(api_key=fake.api_key, base_url=fake.url, max_retries=0)
    made = zai.images.generations(model="cogview-4", prompt="a fox", size="864x1152")
    assert made.data[0].url and made.created
    with pytest.raises(zhipuai.APIRequestFailedError):
        zai.images.generations(model="cogview-4", prompt="a fox", size="5x5")


async def test_the_adapter_makes_a_cogview_image_at_once(
    fake: FakeZhipu, session: aiohttp.ClientSession
) -> None:
    adapter = ZhipuProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0)
    spec, params = CAT.validate(
        "cogview-4", "a fox", aspect_ratio="1344x768", options={"quality": "hd"}
    )
    req = GenerationRequest("t" * 24, spec, "a fox", params, 3, (), "")
    done = await adapter.submit(req)
    assert isinstance(done, Finished) and len(done.results) == 1
    sent = fake.calls("POST", "/images/generations")[-1]
    assert sent == {"model": "cogview-4", "prompt": "a fox", "size": "1344x768", "quality": "hd"}
    media = await adapter.open(req, done.results[0])
    info = probe(b"".join([c async for c in media.chunks]))
    assert (info.format, info.width, info.height) == ("png", 1344, 768)
    with pytest.raises(ContentRejectedError):
        await adapter.submit(GenerationRequest("t" * 24, spec, "[fake:unsafe]", params, 3, (), ""))
