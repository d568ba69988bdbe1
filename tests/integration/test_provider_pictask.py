"""The relay to GPTNB's image tools against its fake over loopback HTTP: a mask goes as
``mask_file`` with the tool's fields, an OCR's text comes back as the JSON result file, a
failed upstream task is the caller's error, and a wrong key is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import ProviderAuthError
from mediagate.core.provider import GenerationRequest, InputImage, Pending, Ready
from mediagate.providers.http import Credentials
from mediagate.providers.pictask import PicTaskProvider
from tests.fakes.base import sample_image
from tests.fakes.pictask import FakePicTask

CAT = default_catalogue()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def request(model: str, tool: str, n: int = 1, **options: object) -> GenerationRequest:
    images = [f"https://example.com/{i}.png" for i in range(n)]
    spec, params = CAT.validate(model, "", images=images, options=options or None)
    found = tuple(InputImage(sample_image(), "image/png") for _ in range(n))
    return GenerationRequest("t" * 24, spec, "", params, 3, found, tool)


async def finish(adapter: PicTaskProvider, req: GenerationRequest) -> str:
    job = await adapter.submit(req)
    for _ in range(5):
        if isinstance(await adapter.poll(req, job.upstream_id), Ready):
            return job.upstream_id
    raise AssertionError("never ready")


async def test_ocr_and_inpaint_through_the_relay(session: aiohttp.ClientSession) -> None:
    fake = FakePicTask().start()
    try:
        adapter = PicTaskProvider(session, Credentials(fake.api_key, fake.url), lambda: 0.0)
        req = request("image-ocr", "ocr", language="eng")
        job = await finish(adapter, req)
        found = await adapter.fetch(req, job, 0)
        assert found is not None and found.content_type == "application/json"
        body = json.loads(b"".join([c async for c in found.chunks]))
        assert body == {"text": "fake text", "blocks": [{"text": "fake text", "box": [1, 2, 3, 4]}]}
        assert await adapter.fetch(req, job, 1) is None
        req = request("image-inpaint", "inpaint", n=2, radius=7)
        job = await finish(adapter, req)
        got = fake.jobs[job]
        assert got["tool"] == "inpaint" and got["fields"]["radius"] == "7"
        assert isinstance(await adapter.poll(req, job), Ready | Pending)
        bad = PicTaskProvider(session, Credentials("wrong", fake.url), lambda: 0.0)
        with pytest.raises(ProviderAuthError):
            await bad.submit(request("image-cutout", "segmentation"))
    finally:
        fake.stop()
