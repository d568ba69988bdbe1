"""OpenAI's text API: the official ``openai`` SDK drives the fake, then the relay adapter
runs on the fake (plain, streamed with usage forced on, and its failures)."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import openai
import pytest

from mediagate.core.errors import ProviderAuthError, UnavailableError
from mediagate.providers.http import Credentials
from mediagate.providers.openai_text import OpenAIText
from tests.fakes.openai_text import FakeOpenAIText


@pytest.fixture
def fake() -> Iterator[FakeOpenAIText]:
    vendor = FakeOpenAIText(chunks=5).start()
    yield vendor
    vendor.stop()


def test_the_official_sdk_speaks_to_the_fake(fake: FakeOpenAIText) -> None:
    client = openai.OpenAI(api_key=fake.api_key, base_url=fake.url + "/v1", max_retries=0)
    said = [{"role": "user", "content": "hello"}]
    plain = client.chat.completions.create(model="gpt-4o-mini", messages=said)  # type: ignore[arg-type]
    assert plain.choices[0].message.content == "w0 w1 w2 w3 w4" and plain.usage
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini", messages=said, stream=True,  # type: ignore[arg-type]
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "w0 w1 w2 w3 w4" and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 5
    legacy = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="x")
    assert legacy.choices[0].text == "w0 w1 w2 w3 w4"
    vectors = client.embeddings.create(model="text-embedding-3-small", input=["a"], dimensions=8)
    assert len(vectors.data[0].embedding) == 8
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="no", base_url=fake.url + "/v1", max_retries=0).embeddings.create(
            model="text-embedding-3-small", input="a"
        )


def test_the_official_sdk_speaks_audio_and_realtime_to_the_fake(fake: FakeOpenAIText) -> None:
    import asyncio

    client = openai.OpenAI(api_key=fake.api_key, base_url=fake.url + "/v1", max_retries=0)
    spoken = client.audio.speech.create(model="tts-1", voice="alloy", input="one two three")
    assert spoken.content[:4] == b"RIFF" and len(spoken.content) > 3 * 4800
    heard = client.audio.transcriptions.create(model="whisper-1", file=("a.wav", spoken.content))
    assert heard.text == f"heard {len(spoken.content)} bytes with whisper-1"
    plain = client.audio.translations.create(
        model="whisper-1", file=("a.wav", b"RIFF"), response_format="text"
    )
    assert str(plain).startswith("heard 4 bytes")

    async def talk() -> list[str]:
        aclient = openai.AsyncOpenAI(api_key=fake.api_key, base_url=fake.url + "/v1")
        async with aclient.realtime.connect(model="gpt-realtime") as conn:
            await conn.response.create()
            kinds = []
            async for event in conn:
                kinds.append(event.type)
                if event.type == "response.done":
                    assert event.response.usage and event.response.usage.output_tokens == 3
                    return kinds
        return kinds

    kinds = asyncio.run(talk())
    assert kinds[0] == "session.created" and kinds[-1] == "response.done"


async def test_the_adapter_on_the_fake(
    fake: FakeOpenAIText, session: aiohttp.ClientSession
) -> None:
    text = OpenAIText(session, Credentials(fake.api_key, fake.url + "/v1"), "openai")
    said = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    answer = await text.send("/chat/completions", said)
    assert answer["usage"]["completion_tokens"] == 5
    events = [e async for e in text.stream("/chat/completions", said)]
    assert events[-1]["usage"]["completion_tokens"] == 5  # asked for although the caller did not
    sent = fake.calls("POST", "/v1/chat/completions")[-1]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    cut = {**said, "messages": [{"role": "user", "content": "x [fake:die-after-2]"}]}
    got = []
    with pytest.raises(UnavailableError):
        async for event in text.stream("/chat/completions", cut):
            got.append(event)
    assert len(got) == 3  # the role, then two words: then the connection dropped
    with pytest.raises(UnavailableError) as failed:
        await text.send("/chat/completions", {**said, "messages": [
            {"role": "user", "content": "[fake:500]"}]})  # fmt: skip
    assert failed.value.failover
    with pytest.raises(ProviderAuthError):
        await OpenAIText(session, Credentials("no", fake.url + "/v1"), "openai").send(
            "/chat/completions", said
        )
