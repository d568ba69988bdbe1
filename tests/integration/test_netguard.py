"""The SSRF guard against a real listener: every spelling of a private address that aiohttp
would normalise and connect to is refused at the connection, redirects included, and the
listener never sees a request. Errors say nothing about what answered where."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from mediagate.core.errors import InputError
from mediagate.jobs.inputs import InputResolver
from mediagate.jobs.netguard import allow_all, is_public_address
from mediagate.providers.sandbox import media
from mediagate.storage.blobs import BlobStore
from mediagate.storage.signing import UrlSigner

PNG = media.render_image(8, 8, 1, "png")
SPELLINGS = [
    "127.0.0.1",
    "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # fullwidth digits
    "\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11",  # ...and fullwidth full stops
    "127\u30020\u30020\u30021",  # ideographic full stops
    "127\uff610\uff610\uff611",  # halfwidth ideographic full stops
    "\U0001d7cf\U0001d7d0\U0001d7d5.0.0.1",  # mathematical bold digits
    "\u2460\u2461\u2466.0.0.1",  # circled digits
    "127.0.0.1.",  # trailing dot
    "2130706433",
    "0x7f.0.0.1",
    "0177.0.0.01",
    "127.1",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "localhost",
    "LOCALHOST.",
]


class Listener:
    def __init__(self) -> None:
        self.hits: list[str] = []


@pytest.fixture
async def internal() -> AsyncIterator[tuple[Listener, int]]:
    """An 'internal service' on 127.0.0.1 that serves a PNG and JSON."""
    seen = Listener()

    async def png(request: web.Request) -> web.Response:
        seen.hits.append(request.path)
        return web.Response(body=PNG, content_type="image/png")

    async def secret(request: web.Request) -> web.Response:
        seen.hits.append(request.path)
        return web.json_response({"secret": 1})

    runner, port = await serve("127.0.0.1", {"/x.png": png, "/healthz": secret})
    yield seen, port
    await runner.cleanup()


async def serve(host: str, routes: dict[str, Any]) -> tuple[web.AppRunner, int]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


def resolver(tmp_path: Path, allow: object = is_public_address) -> InputResolver:
    return InputResolver(BlobStore.local(tmp_path), UrlSigner(b"k" * 32), 1 << 20, allow)  # type: ignore[arg-type]


@pytest.mark.parametrize("host", SPELLINGS)
async def test_every_spelling_of_loopback_is_refused_before_connecting(
    tmp_path: Path, internal: tuple[Listener, int], host: str
) -> None:
    seen, port = internal
    for path in ("/x.png", "/healthz"):
        with pytest.raises(InputError) as caught:
            await resolver(tmp_path).load("t1", (f"http://{host}:{port}{path}",))
        assert "not a public address" in caught.value.message
        assert "json" not in caught.value.message
    assert seen.hits == []


async def test_the_spellings_do_reach_the_listener_when_private_is_allowed(
    tmp_path: Path, internal: tuple[Listener, int]
) -> None:
    """Proof the refusals above are the guard's doing: the same URLs fetch when allowed."""
    seen, port = internal
    fullwidth = SPELLINGS[1]
    images = await resolver(tmp_path, allow_all).load("t2", (f"http://{fullwidth}:{port}/x.png",))
    assert images[0].data == PNG and seen.hits == ["/x.png"]


async def test_a_redirect_to_a_spelled_private_address_is_refused(
    tmp_path: Path, internal: tuple[Listener, int]
) -> None:
    """A 'public' host (127.0.0.2 here, by the policy under test) redirects to the internal
    one in fullwidth digits: the connection to it is refused."""
    seen, port = internal

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"http://{SPELLINGS[1]}:{port}/healthz")

    runner, hop_port = await serve("127.0.0.2", {"/hop": hop})
    try:
        with pytest.raises(InputError, match="not a public address"):
            await resolver(tmp_path, lambda addr: addr == "127.0.0.2").load(
                "t3", (f"http://127.0.0.2:{hop_port}/hop",)
            )
    finally:
        await runner.cleanup()
    assert seen.hits == []


async def test_a_closed_port_and_an_open_one_read_the_same_when_refused(
    tmp_path: Path, internal: tuple[Listener, int]
) -> None:
    """No port scanning through error messages: with the spelling that once got through
    (fullwidth digits), an open internal port answered "is application/json, not an
    image" and a closed one "Connect call failed"."""
    _, port = internal
    messages = set()
    for target in (port, 9):
        url = f"http://{SPELLINGS[1]}:{target}/healthz"
        with pytest.raises(InputError) as caught:
            await resolver(tmp_path).load("t4", (url,))
        messages.add(caught.value.message.replace(str(target), "PORT"))
    assert len(messages) == 1 and "json" not in next(iter(messages))
