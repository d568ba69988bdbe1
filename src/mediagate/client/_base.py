"""What the sync and async clients share, free of I/O: requests, parsing, retry and poll
timing, file naming. Each client only sends what this builds and sleeps what it says."""

from __future__ import annotations

import os
import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from mediagate.client._errors import ServerError, TaskFailedError, error_for_status
from mediagate.client._types import Model, Task, TaskPage

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
EXTENSIONS = {".webp", ".mp4", ".png", ".jpg", ".jpeg"}


@dataclass(frozen=True)
class Settings:
    base_url: str
    api_key: str
    timeout: float = 60.0
    max_retries: int = 2
    retry_base_s: float = 0.5
    retry_cap_s: float = 8.0
    poll_min_s: float = 0.25
    poll_max_s: float = 10.0


class Request:
    """One API call: what to send and whether it may be sent again after a failure."""

    def __init__(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.json = json
        self.params = params
        self.headers = headers or {}


class Core:
    """Builds requests and reads answers for the gptunnel dialect (mediagate or gptunnel)."""

    def __init__(self, settings: Settings, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.rng = rng or random.Random()

    def http_options(self) -> dict[str, Any]:
        return {
            "base_url": self.settings.base_url.rstrip("/"),
            "headers": {"Authorization": self.settings.api_key},
            "timeout": self.settings.timeout,
            "follow_redirects": True,
        }

    # --- requests -------------------------------------------------------------------------

    @staticmethod
    def create_request(
        model: str,
        prompt: str,
        *,
        ar: str | None,
        images: list[str] | None,
        duration_seconds: int | None,
        sample_count: int | None,
        idempotency_key: str | None,
    ) -> Request:
        body: dict[str, Any] = {"model": model, "prompt": prompt}
        if ar is not None:
            body["ar"] = ar
        if images:
            body["images"] = list(images)
        if duration_seconds is not None:
            body["duration_seconds"] = duration_seconds
        if sample_count is not None:
            body["sample_count"] = sample_count
        # Always keyed, so a retried create can never make (and charge) a second task.
        key = idempotency_key or f"mg-sdk-{uuid.uuid4()}"
        return Request("POST", "/v1/media/create", json=body, headers={"Idempotency-Key": key})

    @staticmethod
    def get_request(task_id: str) -> Request:
        return Request("GET", "/v1/media/result", params={"task_id": task_id})

    @staticmethod
    def cancel_request(task_id: str) -> Request:
        return Request("POST", "/v1/media/cancel", json={"task_id": task_id})

    @staticmethod
    def list_request(limit: int, after: str | None) -> Request:
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        return Request("GET", "/v1/media/tasks", params=params)

    @staticmethod
    def models_request() -> Request:
        return Request("GET", "/v1/models")

    # --- answers --------------------------------------------------------------------------

    @staticmethod
    def parse(resp: httpx2.Response) -> dict[str, Any]:
        """The JSON body of a success; the matching APIStatusError otherwise (gptunnel also
        reports some errors as HTTP 200 with a non-zero ``code``)."""
        try:
            body: Any = resp.json()
        except ValueError:
            body = None
        data: dict[str, Any] = body if isinstance(body, dict) else {}
        nested = data.get("error")
        err: dict[str, Any] = nested if isinstance(nested, dict) else {}
        code = data.get("code", 0)
        if resp.status_code < 400 and code in (0, None, "success") and body is not None:
            return data
        if resp.status_code < 400 and body is None:
            raise ServerError("the answer is not JSON", resp.status_code, body=resp.text[:500])
        message = str(
            err.get("message") or data.get("message") or resp.text[:300] or resp.reason_phrase
        )
        status = resp.status_code if resp.status_code >= 400 else 400
        raise error_for_status(
            status,
            message,
            param=err.get("param"),
            code=err.get("code") if isinstance(err.get("code"), str) else None,
            body=body,
            retry_after=retry_after(resp),
        )

    @staticmethod
    def task(body: dict[str, Any]) -> Task:
        return Task.from_json(body)

    @staticmethod
    def page(body: dict[str, Any]) -> TaskPage:
        tasks = [Task.from_json(t) for t in body.get("data") or []]
        return TaskPage(tasks=tasks, has_more=bool(body.get("has_more")))

    @staticmethod
    def models(body: dict[str, Any]) -> list[Model]:
        return [Model.from_json(m) for m in body.get("data") or []]

    @staticmethod
    def finished(task: Task) -> Task:
        """The task if it succeeded; TaskFailedError if it failed or was cancelled."""
        if task.status != "done":
            raise TaskFailedError(task)
        return task

    # --- timing ---------------------------------------------------------------------------

    def retry_delay(self, attempt: int, resp: httpx2.Response | None) -> float | None:
        """Seconds to wait before retry ``attempt`` (0-based), or None to give up."""
        if attempt >= self.settings.max_retries:
            return None
        if resp is not None and resp.status_code not in RETRY_STATUSES:
            return None
        cap = min(self.settings.retry_cap_s, self.settings.retry_base_s * 2**attempt)
        delay = self.rng.uniform(0, cap)  # full jitter
        hinted = retry_after(resp) if resp is not None else None
        return max(delay, hinted or 0.0)

    def poll_delay(self, resp: httpx2.Response | None, previous: float) -> float:
        """The server's poll hint if it sent one, else a gently growing interval."""
        hint = resp.headers.get("poll-after-ms") if resp is not None else None
        if hint and hint.isascii() and hint.isdigit() and len(hint) <= 9:
            wanted = int(hint) / 1000
        else:
            wanted = previous * 1.5 if previous else self.settings.poll_min_s
        return min(self.settings.poll_max_s, max(self.settings.poll_min_s, wanted))

    # --- files ----------------------------------------------------------------------------

    @staticmethod
    def check_output(output: Path | str | None, count: int) -> None:
        """ValueError, before anything is submitted (and paid for), when ``count`` results
        could not be written to ``output``: a missing directory, one file for several."""
        out = Path(output) if output is not None else Path.cwd()
        folder = out
        if out.suffix.lower() in EXTENSIONS:
            if count > 1:
                raise ValueError(
                    f"{out} names one file, but {count} results were asked for: give a directory"
                )
            folder = out.parent
        elif out.exists() and not out.is_dir():
            raise ValueError(
                f"{out} is a file; give a directory or a file name with .webp/.png/..."
            )
        if not folder.is_dir():
            raise ValueError(f"the directory {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise ValueError(f"cannot write in {folder}")

    @staticmethod
    def output_paths(task: Task, output: Path | str | None) -> list[Path]:
        """Where ``generate`` writes each result: ``output`` itself for one file with an
        extension (``<name>-<i>.<ext>`` beside it if more came back), else
        ``<dir>/<task id>[-i].<ext>``."""
        out = Path(output) if output is not None else Path.cwd()
        urls = task.urls
        is_file = out.suffix.lower() in EXTENSIONS
        if len(urls) == 1 and is_file:
            return [out]
        paths = []
        for i, url in enumerate(urls):
            ext = Path(url.split("?", 1)[0]).suffix or ".bin"
            if is_file:
                paths.append(out.with_name(f"{out.stem}-{i}{ext}"))
            else:
                paths.append(out / (f"{task.id}{ext}" if len(urls) == 1 else f"{task.id}-{i}{ext}"))
        return paths


def retry_after(resp: httpx2.Response | None) -> float | None:
    if resp is None:
        return None
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
