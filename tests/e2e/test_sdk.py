"""The SDK: the same tests run on Client and AsyncClient against a live server, then the
retry and polling rules against scripted answers (httpx2.MockTransport)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest

from mediagate.client import (
    APIConnectionError,
    AsyncClient,
    AuthenticationError,
    Client,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    Task,
    TaskFailedError,
    TaskTimeoutError,
    ValidationError,
)
from tests.helpers import Server
from tests.media import probe


class SyncFacade:
    """Gives AsyncClient the sync call style, so one test body covers both clients."""

    def __init__(self, client: AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self._client = client
        self._loop = loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._loop.run_until_complete(method(*args, **kwargs))

        return call


@pytest.fixture(params=["sync", "async"])
def mg(request: pytest.FixtureRequest, server: Server, key: str) -> Iterator[Any]:
    if request.param == "sync":
        with Client(server.url, key) as client:
            yield client
        return
    loop = asyncio.new_event_loop()
    client = AsyncClient(server.url, key)
    try:
        yield SyncFacade(client, loop)
    finally:
        loop.run_until_complete(client.close())
        loop.close()


def test_generate_in_one_call(mg: Any, tmp_path: Path) -> None:
    seen: list[Task] = []
    out = tmp_path / "fox.webp"
    result = mg.generate("seedream-3", "a red fox", ar="16:9", output=out, on_progress=seen.append)
    assert result.task.succeeded and result.files == [out]
    assert (probe(out.read_bytes()).width, probe(out.read_bytes()).height) == (1280, 720)
    assert seen[-1].status == "done" and seen[-1].progress == 100
    assert all(t.id == result.task.id for t in seen)


def test_create_wait_download_several_samples(mg: Any, tmp_path: Path) -> None:
    task = mg.create(
        "veo-3.0-generate-preview", "waves", duration_seconds=4, sample_count=2, ar="9:16"
    )
    assert task.status == "queued" and task.raw_status == "idle" and task.url is None
    done = mg.wait(task.id, timeout=60)
    assert done.succeeded and len(done.urls) == 2
    got: list[tuple[int, int | None]] = []
    path = mg.download(done.urls[1], tmp_path / "b.mp4", on_bytes=lambda n, t: got.append((n, t)))
    assert probe(path.read_bytes()).duration == 4.0
    assert got[-1][0] == got[-1][1] == path.stat().st_size
    result = mg.generate("veo-3.0-generate-preview", "x", output=tmp_path, sample_count=2)
    assert sorted(p.name for p in result.files) == [f"{result.task.id}-{i}.mp4" for i in (0, 1)]


def test_errors_are_typed(mg: Any, server: Server) -> None:
    with pytest.raises(ValidationError) as caught:
        mg.create("seedream-3", "x", ar="21:9")
    assert caught.value.param == "ar" and caught.value.status == 400
    assert "16:9" in caught.value.message
    with pytest.raises(NotFoundError):
        mg.get("0" * 24)
    task = mg.create("seedream-3", "[sandbox:content-rejected] x")
    with pytest.raises(TaskFailedError) as failed:
        mg.wait(task.id)
    assert failed.value.task.error_code == "content_rejected"
    assert "content policy" in str(failed.value)
    with Client(server.url, "mg_test_nope") as bad, pytest.raises(AuthenticationError):
        bad.get("0" * 24)


def test_cancel_models_and_idempotency(mg: Any) -> None:
    assert "seedream-3" in {m.id for m in mg.models()}
    video = next(m for m in mg.models() if m.id == "veo-3.0-generate-preview")
    assert video.kind == "video" and video.durations == [4, 6, 8] and video.max_samples == 4
    first = mg.create("seedream-3", "same", idempotency_key="order-1")
    again = mg.create("seedream-3", "same", idempotency_key="order-1")
    assert again.id == first.id
    with pytest.raises(ConflictError) as caught:
        mg.create("seedream-3", "different", idempotency_key="order-1")
    assert caught.value.status == 409
    assert mg.create("seedream-3", "same").id != first.id  # fresh key per call otherwise
    done = mg.wait(first.id)
    assert mg.cancel(done.id).status == "done"  # finished tasks stay as they are


def test_wait_times_out_with_the_last_state(mg: Any) -> None:
    task = mg.create("veo-3.0-generate-preview", "slow", duration_seconds=8)
    with pytest.raises(TaskTimeoutError) as caught:
        mg.wait(task.id, timeout=0.01)
    assert caught.value.task.id == task.id and not caught.value.task.finished


# --- rules checked against scripted answers -------------------------------------------------


def scripted(answers: list[Any]) -> tuple[httpx2.MockTransport, list[httpx2.Request]]:
    seen: list[httpx2.Request] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx2.MockTransport(handle), seen


def task_json(status: str, **extra: Any) -> dict[str, Any]:
    return {"code": 0, "id": "a" * 24, "model": "m", "prompt": "p", "status": status, **extra}


def test_retries_429_then_succeeds_keeping_the_idempotency_key() -> None:
    transport, seen = scripted(
        [
            httpx2.Response(429, headers={"retry-after": "0"}, json={"code": 4, "message": "slow"}),
            httpx2.Response(503, json={"code": 9, "message": "busy"}),
            httpx2.Response(200, json=task_json("idle")),
        ]
    )
    with Client("http://mg", "k", transport=transport) as client:
        client._core.settings = replace(client._core.settings, retry_base_s=0.001)
        task = client.create("m", "p")
    assert task.status == "queued" and len(seen) == 3
    keys = {r.headers["idempotency-key"] for r in seen}
    assert len(keys) == 1 and next(iter(keys)).startswith("mg-sdk-")
    assert json.loads(seen[0].content) == {"model": "m", "prompt": "p"}
    assert seen[0].headers["authorization"] == "k"  # raw, as gptunnel wants


def test_gives_up_after_max_retries_and_honours_retry_after() -> None:
    transport, seen = scripted([httpx2.Response(500, json={"message": "boom"})] * 3)
    with Client("http://mg", "k", transport=transport, max_retries=2) as client:
        client._core.settings = replace(client._core.settings, retry_base_s=0)
        with pytest.raises(ServerError):
            client.get("a" * 24)
    assert len(seen) == 3
    core = Client("http://mg", "k")._core
    resp = httpx2.Response(429, headers={"retry-after": "7"})
    assert core.retry_delay(0, resp) == 7.0
    assert core.retry_delay(2, resp) is None  # out of retries
    assert core.retry_delay(0, httpx2.Response(400)) is None  # never retries a 4xx
    transport, _ = scripted([httpx2.Response(429, headers={"retry-after": "0"})])
    with (
        Client("http://mg", "k", transport=transport, max_retries=0) as client,
        pytest.raises(RateLimitError) as caught,
    ):
        client.get("a" * 24)
    assert caught.value.retry_after == 0.0


def test_connection_errors_retry_then_raise() -> None:
    fail = httpx2.ConnectError("refused")
    transport, seen = scripted([fail, fail, fail])
    with Client("http://mg", "k", transport=transport) as client:
        client._core.settings = replace(client._core.settings, retry_base_s=0)
        with pytest.raises(APIConnectionError):
            client.models()
    assert len(seen) == 3


def test_gptunnel_errors_with_http_200_and_its_statuses() -> None:
    """gptunnel itself reports validation errors as HTTP 200 with a non-zero code."""
    transport, _ = scripted(
        [
            httpx2.Response(200, json={"code": 3, "message": "bad model", "issues": []}),
            httpx2.Response(200, json=task_json("running")),
            httpx2.Response(200, json=task_json("error", message="upstream broke")),
        ]
    )
    with Client("http://gptunnel", "k", transport=transport) as client:
        with pytest.raises(ValidationError, match="bad model"):
            client.create("nope", "p")
        assert client.get("a" * 24).status == "processing"
        failed = client.get("a" * 24)
    assert failed.status == "failed" and failed.error == "upstream broke"


def test_wait_follows_the_servers_poll_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    transport, _ = scripted(
        [
            httpx2.Response(200, headers={"poll-after-ms": "3000"}, json=task_json("processing")),
            httpx2.Response(200, json=task_json("processing")),
            httpx2.Response(200, json=task_json("done", url="http://f/x.webp")),
        ]
    )
    sleeps: list[float] = []
    monkeypatch.setattr("mediagate.client.sync.time.sleep", sleeps.append)
    with Client("http://mg", "k", transport=transport) as client:
        assert client.wait("a" * 24).url == "http://f/x.webp"
    assert sleeps == [3.0, 4.5]  # the hint, then 1.5x backoff from it


def test_async_client_runs_calls_concurrently(server: Server, key: str) -> None:
    async def go() -> list[Task]:
        async with AsyncClient(server.url, key) as client:
            tasks = await asyncio.gather(
                *(client.create("seedream-3", f"fox {i}") for i in range(8))
            )
            return list(await asyncio.gather(*(client.wait(t.id) for t in tasks)))

    done = asyncio.run(go())
    assert len({t.id for t in done}) == 8 and all(t.succeeded for t in done)


def test_concurrent_duplicate_creates_make_one_task(server: Server, key: str) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        with Client(server.url, key) as client:
            task = client.create("seedream-3", "once", idempotency_key="dup-race")
        with lock:
            ids.append(task.id)

    threads = [threading.Thread(target=create) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(ids) == 12 and len(set(ids)) == 1


def test_sdk_imports_without_the_server_dependencies() -> None:
    """Block every server-side package; `import mediagate.client` must still work."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'litestar', 'sqlalchemy', 'msgspec', 'aiohttp', "
        "'obstore', 'av', 'numpy', 'PIL', 'typer', 'rich', 'structlog', 'pydantic', "
        "'pydantic_settings', 'alembic', 'uvicorn', 'aiosqlite'}:\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from mediagate.client import Client, AsyncClient\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.stdout.strip() == "ok", proc.stderr
