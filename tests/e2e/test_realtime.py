"""OpenAI's Realtime API on mediagate (issue 22): the official ``openai`` SDK's realtime
client on a test key (the sandbox speaks the protocol, text and audio), the key checked
before the upgrade, bad frames and floods ending the session with an error event and a
close code, and a live key relayed to the fake upstream's WebSocket, each response charged
on its ``response.done``, with a spend limit that ends the session mid-way."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import openai
import pytest
import requests
import websockets

from tests.fakes.openai_text import FakeOpenAIText
from tests.helpers import Server

ASK = {"type": "message", "role": "user",
       "content": [{"type": "input_text", "text": "tell me about lighthouses"}]}  # fmt: skip


async def exchange(conn: Any, modalities: list[str]) -> tuple[str, bytes, Any]:
    await conn.session.update(session={"type": "realtime", "output_modalities": modalities})
    await conn.conversation.item.create(item=ASK)
    await conn.response.create()
    text, audio = "", b""
    async for event in conn:
        if event.type in ("response.output_text.delta", "response.output_audio_transcript.delta"):
            text += event.delta
        elif event.type == "response.output_audio.delta":
            audio += base64.b64decode(event.delta)
        elif event.type == "response.done":
            return text, audio, event.response
    raise AssertionError("the session ended before response.done")


def test_a_realtime_session_on_a_test_key(server: Server, key: str) -> None:
    async def run() -> None:
        client = openai.AsyncOpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0)
        async with client.realtime.connect(model="gpt-realtime") as conn:
            text, audio, done = await exchange(conn, ["text"])
            assert "lighthouses" in text and not audio
            assert done.status == "completed" and done.usage.output_tokens > 0
            assert done.usage.input_token_details.text_tokens > 0
            spoken, audio, done = await exchange(conn, ["audio"])
            assert spoken and len(audio) > 48_000  # over a second of 24 kHz PCM16
            assert done.usage.output_token_details.audio_tokens > 0
            await conn.send({"type": "no.such.event"})  # type: ignore[arg-type,typeddict-item]
            async for event in conn:
                assert event.type == "error" and "no.such.event" in event.error.message
                break

    asyncio.run(run())


def test_the_key_is_checked_before_the_upgrade_and_bad_frames_end_the_session(
    server: Server, key: str
) -> None:
    url = server.url.replace("http://", "ws://") + "/v1/realtime?model=gpt-realtime"

    async def run() -> None:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, additional_headers={"Authorization": "Bearer x"}):
                pass
        assert refused.value.response.status_code == 403
        bearer = {"Authorization": f"Bearer {key}"}
        # a browser's key, in a subprotocol
        async with websockets.connect(
            url,
            subprotocols=["realtime", f"openai-insecure-api-key.{key}"],  # type: ignore[list-item]
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"
        unknown = url.replace("gpt-realtime", "gpt-nope")
        async with websockets.connect(unknown, additional_headers=bearer) as ws:
            event = json.loads(await ws.recv())
            assert event["type"] == "error" and "gpt-nope" in event["error"]["message"]
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        for frames, code, kind in (
            (['{"type": "input_audio_buffer.append", "audio": "' + "A" * 5_000_000 + '"}'],
             1009, "event_too_large"),
            (['{"type": "input_audio_buffer.clear"}'] * 2000, 1008, "rate_limit_exceeded"),
            (["not json"], 1007, "invalid_json"),
        ):  # fmt: skip
            async with websockets.connect(url, additional_headers=bearer, max_size=None) as ws:
                await ws.recv()  # session.created
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    for frame in frames:
                        await ws.send(frame)
                    while True:
                        event = json.loads(await ws.recv())
                        if event["type"] == "error":
                            assert event["error"]["code"] == kind
                assert closed.value.rcvd is not None and closed.value.rcvd.code == code

    asyncio.run(run())


def test_a_live_session_is_charged_per_response_and_ends_at_its_spend_limit(
    tmp_path: Path,
) -> None:
    fake = FakeOpenAIText().start()
    server = Server(
        tmp_path, MEDIAGATE_OPENAI_API_KEY=fake.api_key, MEDIAGATE_OPENAI_BASE_URL=fake.url + "/v1"
    ).start()
    try:
        # gpt-realtime-mini holds 4096 output tokens at the audio price ($20/M): 81,920
        # micro-units; a response here costs 10 x 0.60 + 3 x 2.40 = 13.2, so 14. The account
        # can hold for one response, and not for a second.
        key = server.funded_live_key(0.08193)

        async def run() -> list[str]:
            client = openai.AsyncOpenAI(api_key=key, base_url=server.url + "/v1", max_retries=0)
            seen: list[str] = []
            async with client.realtime.connect(model="gpt-realtime-mini") as conn:
                await conn.conversation.item.create(item=ASK)
                await conn.response.create()
                await conn.response.create()
                with pytest.raises(Exception):  # noqa: B017 - the SDK's closed socket
                    async for event in conn:
                        seen.append(event.type)
                        if event.type == "error":
                            assert event.error.type == "insufficient_quota"
            return seen

        seen = asyncio.run(run())
        assert seen.count("response.done") == 1 and seen[-1] == "error"
        assert "response.output_text.delta" in seen
        deadline = time.monotonic() + 5
        while {"type": "response.cancel"} not in fake.realtime_events:
            assert time.monotonic() < deadline, fake.realtime_events
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while not (rows := server.rows("SELECT route, prompt_tokens, completion_tokens, "
                                       "cost_micros, upstream_model FROM requests")):  # fmt: skip
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert rows == [("realtime", 10, 3, 14, "gpt-realtime-mini")]
        server.cli("ledger", "check")
    finally:
        server.stop()
        fake.stop()


def test_the_consoles_realtime_socket_is_the_sessions_own(server: Server, key: str) -> None:
    """Only with the session's cookie, its CSRF token and this site's Origin: another site's
    page cannot open a socket on a signed-in person's session."""
    browser = requests.Session()
    browser.post(server.url + "/console/login", data={"key": key},
                 headers={"Origin": server.url}, timeout=10)  # fmt: skip
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', browser.get(
        server.url + "/console/audio", timeout=10).text).group(1)  # type: ignore[union-attr]  # fmt: skip
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    url = server.url.replace("http://", "ws://") + "/console/realtime?model=gpt-realtime"

    async def run() -> None:
        for origin, token in (
            ("http://evil.example", csrf),
            (server.url, "forged"),
            (server.url, ""),
        ):
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(
                    f"{url}&csrf={token}",
                    origin=origin,  # type: ignore[arg-type]
                    additional_headers={"Cookie": cookie},
                ):
                    pass
            assert refused.value.response.status_code == 403
        async with websockets.connect(
            f"{url}&csrf={csrf}",
            origin=server.url,
            additional_headers={"Cookie": cookie},  # type: ignore[arg-type]
        ) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"

    asyncio.run(run())
