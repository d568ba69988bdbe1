"""The asynchronous client: ``AsyncClient(base_url, api_key)``; the same calls, awaited."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2

from mediagate.client._base import Core, Request, Settings
from mediagate.client._errors import APIConnectionError, APIStatusError, APITimeoutError
from mediagate.client._errors import TaskTimeoutError as TaskTimeoutError
from mediagate.client._types import Generation, Model, Task, TaskPage

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
ProgressFn = Callable[[Task], None]
BytesFn = Callable[[int, int | None], None]


class AsyncClient:
    """Talks the gptunnel dialect, so it works against mediagate and gptunnel itself.

    ``api_key`` and ``base_url`` default to ``MEDIAGATE_API_KEY`` / ``MEDIAGATE_BASE_URL``.
    Calls retry ``max_retries`` times with full-jitter backoff on 408/429/5xx and connection
    errors (honouring Retry-After); creates carry an Idempotency-Key so a retry never makes
    a second task."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 2,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        key = api_key or os.environ.get("MEDIAGATE_API_KEY")
        if not key:
            raise ValueError("api_key is required (or set MEDIAGATE_API_KEY)")
        url = base_url or os.environ.get("MEDIAGATE_BASE_URL") or DEFAULT_BASE_URL
        self._core = Core(Settings(url, key, timeout=timeout, max_retries=max_retries))
        self._http = httpx2.AsyncClient(transport=transport, **self._core.http_options())
        self._files = httpx2.AsyncClient(
            transport=transport, timeout=timeout, follow_redirects=True
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()
        await self._files.aclose()

    async def _send(self, req: Request) -> httpx2.Response:
        attempt = 0
        while True:
            resp: httpx2.Response | None = None
            try:
                resp = await self._http.request(
                    req.method, req.path, json=req.json, params=req.params, headers=req.headers
                )
            except httpx2.TimeoutException as exc:
                failure: Exception = APITimeoutError(f"{req.method} {req.path}: {exc}")
            except httpx2.TransportError as exc:
                failure = APIConnectionError(f"{req.method} {req.path}: {exc}")
            delay = self._core.retry_delay(attempt, resp)
            if delay is None:
                if resp is None:
                    raise failure
                return resp
            await asyncio.sleep(delay)
            attempt += 1

    async def _call(self, req: Request) -> dict[str, Any]:
        return self._core.parse(await self._send(req))

    async def create(
        self,
        model: str,
        prompt: str,
        *,
        ar: str | None = None,
        images: list[str] | None = None,
        duration_seconds: int | None = None,
        sample_count: int | None = None,
        idempotency_key: str | None = None,
    ) -> Task:
        """Submit a task; it is validated at once and runs in the background."""
        req = self._core.create_request(
            model,
            prompt,
            ar=ar,
            images=images,
            duration_seconds=duration_seconds,
            sample_count=sample_count,
            idempotency_key=idempotency_key,
        )
        return self._core.task(await self._call(req))

    async def get(self, task_id: str) -> Task:
        return self._core.task(await self._call(self._core.get_request(task_id)))

    async def cancel(self, task_id: str) -> Task:
        return self._core.task(await self._call(self._core.cancel_request(task_id)))

    async def list_tasks(self, *, limit: int = 20, after: str | None = None) -> TaskPage:
        """This key's tasks, newest first (a mediagate extension of the gptunnel API)."""
        return self._core.page(await self._call(self._core.list_request(limit, after)))

    async def models(self) -> list[Model]:
        return self._core.models(await self._call(self._core.models_request()))

    async def wait(
        self, task_id: str, *, timeout: float = 1800.0, on_progress: ProgressFn | None = None
    ) -> Task:
        """Poll until the task finishes, following the server's poll hints (else backing off
        from 0.25 s to 10 s). TaskFailedError if it failed, TaskTimeoutError after timeout."""
        start = time.monotonic()
        delay = 0.0
        while True:
            resp = await self._send(self._core.get_request(task_id))
            task = self._core.task(self._core.parse(resp))
            if on_progress is not None:
                on_progress(task)
            if task.finished:
                return self._core.finished(task)
            left = timeout - (time.monotonic() - start)
            if left <= 0:
                raise TaskTimeoutError(task, timeout)
            delay = self._core.poll_delay(resp, delay)
            await asyncio.sleep(min(delay, left))

    async def download(
        self, url: str, path: Path | str, *, on_bytes: BytesFn | None = None
    ) -> Path:
        """Stream a result link to ``path`` (written whole or not at all). The API key is
        not sent: result links are signed and may live on another host."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        try:
            async with self._files.stream("GET", url) as resp:
                if resp.status_code != 200:
                    raise APIStatusError(f"download of {url} failed", resp.status_code)
                total = (
                    int(resp.headers["content-length"])
                    if "content-length" in resp.headers
                    else None
                )
                done = 0
                with tmp.open("wb") as fh:
                    async for chunk in resp.aiter_bytes():
                        fh.write(chunk)
                        done += len(chunk)
                        if on_bytes is not None:
                            on_bytes(done, total)
        except httpx2.TransportError as exc:
            tmp.unlink(missing_ok=True)
            raise APIConnectionError(f"download of {url} failed: {exc}") from exc
        tmp.replace(path)
        return path

    async def generate(
        self,
        model: str,
        prompt: str,
        *,
        output: Path | str | None = None,
        timeout: float = 1800.0,
        on_progress: ProgressFn | None = None,
        on_bytes: BytesFn | None = None,
        **params: Any,
    ) -> Generation:
        """create, wait and download in one call; ``params`` are create()'s keywords. The
        output is checked first, so a result is never paid for and then lost."""
        self._core.check_output(output, params.get("sample_count") or 1)
        task = await self.create(model, prompt, **params)
        task = await self.wait(task.id, timeout=timeout, on_progress=on_progress)
        paths = self._core.output_paths(task, output)
        files = [
            await self.download(u, p, on_bytes=on_bytes)
            for u, p in zip(task.urls, paths, strict=True)
        ]
        return Generation(task=task, files=files)
