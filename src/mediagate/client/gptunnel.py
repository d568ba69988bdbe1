"""A synchronous client for the gptunnel media dialect: create, result, wait, download."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

TERMINAL = {"done", "failed", "error", "cancelled"}


class APIError(Exception):
    """The server answered with an error; ``status`` is the HTTP status."""

    def __init__(self, message: str, status: int, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param


class AuthenticationError(APIError):
    pass


class NotFoundError(APIError):
    pass


class ValidationError(APIError):
    pass


class TaskFailedError(Exception):
    def __init__(self, task: MediaTask) -> None:
        super().__init__(f"task {task.id} failed: {task.error or 'no reason given'}")
        self.task = task


@dataclass(frozen=True)
class MediaTask:
    id: str
    model: str
    status: str
    prompt: str = ""
    created_at: int = 0
    url: str | None = None
    progress: int = 0
    urls: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> MediaTask:
        url = body.get("url")
        return cls(
            id=str(body["id"]),
            model=str(body.get("model", "")),
            status=str(body.get("status", "")),
            prompt=str(body.get("prompt", "")),
            created_at=int(body.get("created_at") or 0),
            url=url,
            progress=int(body.get("progress") or (100 if body.get("status") == "done" else 0)),
            urls=list(body.get("urls") or ([url] if url else [])),
            error=body.get("error") if isinstance(body.get("error"), str) else None,
        )


def _raise_for(resp: httpx2.Response) -> dict[str, Any]:
    try:
        body: Any = resp.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    err = body.get("error") if isinstance(body.get("error"), dict) else {}
    message = str(
        body.get("message") or err.get("message") or resp.text[:200] or resp.reason_phrase
    )
    param = err.get("param")
    if resp.status_code == 401 or resp.status_code == 403:
        raise AuthenticationError(message, resp.status_code)
    if resp.status_code == 404:
        raise NotFoundError(message, resp.status_code, param)
    if resp.status_code in (400, 422):
        raise ValidationError(message, resp.status_code, param)
    if resp.status_code >= 400:
        raise APIError(message, resp.status_code, param)
    code = body.get("code", 0)
    if code not in (0, None, "success"):  # gptunnel answers some errors with HTTP 200
        raise ValidationError(message, resp.status_code, param)
    result: dict[str, Any] = body
    return result


class Client:
    """``Client(base_url, api_key)``; the key goes raw in Authorization, as gptunnel wants."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0) -> None:
        self._http = httpx2.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": api_key},
            timeout=timeout,
            follow_redirects=True,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def create(
        self, model: str, prompt: str, ar: str | None = None, images: list[str] | None = None
    ) -> MediaTask:
        body: dict[str, Any] = {"model": model, "prompt": prompt}
        if ar:
            body["ar"] = ar
        if images:
            body["images"] = images
        return MediaTask.from_json(_raise_for(self._http.post("/v1/media/create", json=body)))

    def get(self, task_id: str) -> MediaTask:
        resp = self._http.post("/v1/media/result", json={"task_id": task_id})
        return MediaTask.from_json(_raise_for(resp))

    def wait(
        self,
        task_id: str,
        interval: float = 1.0,
        timeout: float = 1800.0,
        on_update: Callable[[MediaTask], None] | None = None,
    ) -> MediaTask:
        """Poll until the task finishes; raise TaskFailedError if it failed."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.get(task_id)
            if on_update:
                on_update(task)
            if task.finished:
                if task.status != "done":
                    raise TaskFailedError(task)
                return task
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still {task.status} after {timeout} s")
            time.sleep(interval)

    def download(
        self, url: str, path: Path, on_bytes: Callable[[int, int | None], None] | None = None
    ) -> int:
        """Stream ``url`` to ``path`` (no API key is sent to result links); returns bytes."""
        done = 0
        tmp = path.with_name(path.name + ".part")
        with httpx2.stream("GET", url, timeout=self._http.timeout, follow_redirects=True) as resp:
            if resp.status_code != 200:
                raise APIError(f"download failed: HTTP {resp.status_code}", resp.status_code)
            total = (
                int(resp.headers["content-length"]) if "content-length" in resp.headers else None
            )
            with tmp.open("wb") as fh:
                for chunk in resp.iter_bytes():
                    fh.write(chunk)
                    done += len(chunk)
                    if on_bytes:
                        on_bytes(done, total)
        tmp.replace(path)
        return done
