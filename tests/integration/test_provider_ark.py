"""Ark: the official SDK (volcengine-ark-runtime) drives the fake, which proves the fake
speaks Ark's wire format; then the adapter runs against the same fake over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import msgspec
import pytest
import requests
from volcenginesdkarkruntime import Ark
from volcenginesdkarkruntime._exceptions import (
    ArkAuthenticationError,
    ArkBadRequestError,
    ArkNotFoundError,
)

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import (
    ContentRejectedError,
    ModelNotFoundError,
    ProviderAuthError,
    RateLimitedError,
    UnavailableError,
)
from mediagate.core.provider import Finished, GenerationRequest, InputImage, Pending, Ready
from mediagate.providers.ark import ArkProvider
from mediagate.providers.http import Credentials
from tests.fakes.ark import FakeArk
from tests.fakes.base import sample_image
from tests.media import probe

CAT = default_catalogue()


@pytest.fixture
def fake() -> Iterator[FakeArk]:
    vendor = FakeArk(polls=2).start()
    yield vendor
    vendor.stop()


def test_official_sdk_runs_a_seedance_task_and_a_seedream_image(fake: FakeArk) -> None:
    client = Ark(api_key=fake.api_key, base_url=fake.url + "/api/v3", max_retries=0)
    created = client.content_generation.tasks.create(
        model="doubao-seedance-1-0-lite-i2v-250428",
        content=[
            {"type": "text", "text": "a cat --rt 9:16 --dur 5"},
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/a.png"},
                "role": "first_frame",
            },
        ],
    )
    assert created.id.startswith("cgt-")
    task = client.content_generation.tasks.get(task_id=created.id)
    while task.status in ("queued", "running"):
        task = client.content_generation.tasks.get(task_id=created.id)
    assert task.status == "succeeded" and task.ratio == "9:16" and task.duration == 5
    video = requests.get(task.content.video_url, timeout=10)
    assert probe(video.content).codec == "h264"
    sent = fake.calls("POST", "/api/v3/contents")[0]
    assert sent["seed"] is None  # the SDK sends explicit nulls; the fake takes them as absent

    image = client.images.generate(
        model="doubao-seedream-3-0-t2i-250415", prompt="a fox", size="1024x768", watermark=False
    )
    assert (
        image.data[0].url
        and probe(requests.get(image.data[0].url, timeout=10).content).width == 1024
    )

    with pytest.raises(ArkBadRequestError):
        client.content_generation.tasks.create(
            model="doubao-seedance-1-0-lite-t2v-250428",
            content=[{"type": "text", "text": "[fake:input-rejected] x"}],
        )
    with pytest.raises(ArkNotFoundError):
        client.images.generate(model="dall-e-9", prompt="x")
    with pytest.raises(ArkAuthenticationError):
        Ark(api_key="wrong", base_url=fake.url + "/api/v3", max_retries=0).images.generate(
            model="doubao-seedream-3-0-t2i-250415", prompt="x"
        )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def adapter(fake: FakeArk, session: aiohttp.ClientSession, key: str = "") -> ArkProvider:
    creds = Credentials(api_key=key or fake.api_key, base_url=fake.url + "/api/v3")
    return ArkProvider(session, creds, clock=lambda: 0.0)


def video_request(prompt: str = "a dog", image: bool = False) -> GenerationRequest:
    spec, params = CAT.validate("seedance-1-lite-480P-5s", prompt, aspect_ratio="9:16")
    images = (InputImage(sample_image(), "image/png"),) if image else ()
    model = "seedance-1-0-lite-i2v-250428" if image else "seedance-1-0-lite-t2v-250428"
    return GenerationRequest("t" * 24, spec, prompt, params, 42, images, model)


async def drain(stream: object) -> bytes:
    return b"".join([c async for c in stream.chunks])  # type: ignore[attr-defined]


async def test_adapter_runs_a_video_through_the_fake(
    fake: FakeArk, session: aiohttp.ClientSession
) -> None:
    ark = adapter(fake, session)
    request = video_request(image=True)
    sub = await ark.submit(request)
    assert not isinstance(sub, Finished) and sub.upstream_id.startswith("cgt-")
    body = fake.calls("POST", "/api/v3/contents")[0]
    assert body["model"] == "seedance-1-0-lite-i2v-250428"
    assert "--ratio 9:16 --duration 5 --resolution 480p" in body["content"][0]["text"]
    assert body["content"][1]["role"] == "first_frame"
    assert body["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert (body["ratio"], body["duration"], body["resolution"]) == ("9:16", 5, "480p")
    assert isinstance(await ark.poll(request, sub.upstream_id), Pending)
    ready = await ark.poll(request, sub.upstream_id)
    # The answer that says "succeeded" links the video: it is streamed from that link,
    # with no second read of the task.
    assert isinstance(ready, Ready) and len(ready.results) == 1
    gets = len(fake.calls("GET", "/api/v3/contents"))
    media = await ark.open(request, ready.results[0])
    assert media.content_type == "video/mp4" and await drain(media) == fake.video
    assert media.duration_seconds == 5 and media.fps == request.spec.fps
    assert len(fake.calls("GET", "/api/v3/contents")) == gets
    # A task left at its fetch step (no link in hand) reads the task again for one.
    media = await ark.fetch(request, sub.upstream_id, 0)
    assert media.content_type == "video/mp4" and await drain(media) == fake.video


async def test_adapter_seedream_image_is_finished_at_submit(
    fake: FakeArk, session: aiohttp.ClientSession
) -> None:
    ark = adapter(fake, session)
    spec, params = CAT.validate("seedream-3", "a fox", aspect_ratio="16:9")
    request = GenerationRequest("t" * 24, spec, "a fox", params, 1, (), "seedream-3-0-t2i-250415")
    done = await ark.submit(request)
    assert isinstance(done, Finished) and done.results[0].url
    assert fake.calls("POST", "/api/v3/images")[0]["size"] == "1280x720"
    media = await ark.open(request, done.results[0])
    assert probe(await drain(media)).width == 1280


async def test_adapter_maps_failures_onto_the_error_tree(
    fake: FakeArk, session: aiohttp.ClientSession
) -> None:
    ark = adapter(fake, session)
    fake.fail_next(
        429, {"error": {"code": "RateLimitExceeded.EndpointRPMExceeded"}}, Retry_After="7"
    )
    with pytest.raises(RateLimitedError) as limited:
        await ark.submit(video_request())
    assert limited.value.retry_after == 7.0
    fake.fail_next(500, {"error": {"code": "InternalServiceError", "message": "boom"}})
    with pytest.raises(UnavailableError):
        await ark.submit(video_request())
    fake.malformed_next()
    with pytest.raises(UnavailableError, match="not JSON"):
        await ark.submit(video_request())
    with pytest.raises(ContentRejectedError):
        await ark.submit(video_request("[fake:input-rejected] x"))
    with pytest.raises(ProviderAuthError):
        await adapter(fake, session, key="wrong").submit(video_request())
    bad_model = msgspec.structs.replace(video_request(), upstream_model="veo-9")
    with pytest.raises(ModelNotFoundError):
        await ark.submit(bad_model)


async def test_adapter_reports_a_rejected_output_and_cancels(
    fake: FakeArk, session: aiohttp.ClientSession
) -> None:
    ark = adapter(fake, session)
    request = video_request("[fake:rejected] x")
    sub = await ark.submit(request)
    assert not isinstance(sub, Finished)
    await ark.poll(request, sub.upstream_id)
    with pytest.raises(ContentRejectedError, match="OutputVideoSensitiveContentDetected"):
        await ark.poll(request, sub.upstream_id)
    queued = await ark.submit(video_request())
    assert not isinstance(queued, Finished)
    await ark.cancel(video_request(), queued.upstream_id)
    assert fake.tasks[queued.upstream_id]["status"] == "cancelled"


async def test_a_slow_download_still_arrives_whole(
    fake: FakeArk, session: aiohttp.ClientSession
) -> None:
    fake.download_delay_s = 0.02  # a pause between every 64 KiB
    ark = adapter(fake, session)
    request = video_request()
    sub = await ark.submit(request)
    assert not isinstance(sub, Finished)
    while not isinstance(await ark.poll(request, sub.upstream_id), Ready):
        pass
    media = await ark.fetch(request, sub.upstream_id, 0)
    assert await drain(media) == fake.video


async def test_bulk_poll_reads_many_tasks_in_one_list_call(
    fake: FakeArk, session: aiohttp.ClientSession
) -> None:
    ark = adapter(fake, session)
    ok = await ark.submit(video_request("fine"))
    bad = await ark.submit(video_request("no [fake:rejected]"))
    assert not isinstance(ok, Finished) and not isinstance(bad, Finished)
    ids = [ok.upstream_id, bad.upstream_id, "cgt-unknown"]
    first = await ark.poll_many(ids)
    assert isinstance(first[ok.upstream_id], Pending) and "cgt-unknown" not in first
    second = await ark.poll_many(ids)
    done = second[ok.upstream_id]
    assert isinstance(done, Ready) and (done.results[0].url or "").startswith(fake.url)
    assert isinstance(second[bad.upstream_id], ContentRejectedError)
    assert fake.list_calls == 2 and len(fake.polled_at[ok.upstream_id]) == 2
    # The official SDK reads the same list endpoint the same way.
    client = Ark(api_key=fake.api_key, base_url=fake.url + "/api/v3", max_retries=0)
    listed = client.content_generation.tasks.list(page_size=10, task_ids=ids[:2])
    assert {t.id: t.status for t in listed.items} == {
        ok.upstream_id: "succeeded",
        bad.upstream_id: "failed",
    }
