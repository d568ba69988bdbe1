"""The adapters' shared HTTP layer under hostile upstreams: a hang, an endless body, a wrong
content type, a truncated download. Each ends as a clear ProviderError, never a hang."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from mediagate.core.errors import UnavailableError
from mediagate.providers.http import call_json, download
from tests.fakes.base import FakeVendor


class Hostile(FakeVendor):
    name = "hostile"

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/hang", self.hang)
        app.router.add_get("/endless", self.endless)
        app.router.add_get("/html", self.html)

    async def hang(self, request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response({})

    async def endless(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        await resp.write(b'{"data": "')
        while True:
            await resp.write(b"x" * 65536)

    async def html(self, request: web.Request) -> web.Response:
        return web.Response(text="<html>login</html>", content_type="text/html")


@pytest.fixture
async def hostile() -> AsyncIterator[tuple[Hostile, aiohttp.ClientSession]]:
    vendor = Hostile().start()
    async with aiohttp.ClientSession() as session:
        yield vendor, session
    vendor.stop()


async def test_a_hanging_upstream_times_out(hostile: tuple[Hostile, aiohttp.ClientSession]) -> None:
    vendor, session = hostile
    quick = aiohttp.ClientTimeout(total=1)
    with pytest.raises(UnavailableError, match="no answer in time"):
        await call_json(session, "hostile", "GET", vendor.url + "/hang", client_timeout=quick)


async def test_an_endless_body_is_cut_off(hostile: tuple[Hostile, aiohttp.ClientSession]) -> None:
    vendor, session = hostile
    with pytest.raises(UnavailableError, match="over 1048576 bytes"):
        await call_json(session, "hostile", "GET", vendor.url + "/endless", limit=1 << 20)


async def test_wrong_types_and_truncation(hostile: tuple[Hostile, aiohttp.ClientSession]) -> None:
    vendor, session = hostile
    with pytest.raises(UnavailableError, match="not JSON"):
        await call_json(session, "hostile", "GET", vendor.url + "/html")
    with pytest.raises(UnavailableError, match="not media"):
        await download(session, "hostile", vendor.url + "/html")
    url = vendor.add_file("clip.mp4", b"\x00" * 300_000, "video/mp4")
    vendor.truncate_downloads = 1
    media = await download(session, "hostile", url)
    with pytest.raises(UnavailableError):
        async for _ in media.chunks:
            pass
