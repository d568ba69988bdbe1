"""Typed results: a Task as every mediagate (and gptunnel) answer describes it, and Models."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# gptunnel's statuses and mediagate's, normalised: queued, processing, done, failed, cancelled.
_STATUS = {
    "idle": "queued",
    "queued": "queued",
    "pending": "queued",
    "processing": "processing",
    "running": "processing",
    "in_progress": "processing",
    "done": "done",
    "succeeded": "done",
    "completed": "done",
    "failed": "failed",
    "error": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}
TERMINAL = frozenset({"done", "failed", "cancelled"})


@dataclass(frozen=True)
class Task:
    """One generation task. ``status`` is one of queued, processing, done, failed, cancelled
    (``raw_status`` keeps the server's word); ``urls`` lists every result once done."""

    id: str
    model: str
    status: str
    raw_status: str = ""
    prompt: str = ""
    created_at: int = 0
    progress: int = 0
    urls: list[str] = field(default_factory=list)
    error: str | None = None
    error_code: str | None = None

    @property
    def url(self) -> str | None:
        return self.urls[0] if self.urls else None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status == "done"

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Task:
        raw = str(body.get("status", ""))
        status = _STATUS.get(raw.lower(), "processing")
        url = body.get("url")
        urls = [str(u) for u in body.get("urls") or ([url] if url else [])]
        error = body.get("error")
        if isinstance(error, dict):  # other gateways nest it
            error = error.get("message")
        progress = body.get("progress")
        return cls(
            id=str(body.get("id") or body.get("task_id") or ""),
            model=str(body.get("model", "")),
            status=status,
            raw_status=raw,
            prompt=str(body.get("prompt", "")),
            created_at=int(body.get("created_at") or 0),
            progress=int(progress)
            if isinstance(progress, int)
            else (100 if status == "done" else 0),
            urls=urls,
            error=str(error) if error else (body.get("message") if status == "failed" else None),
            error_code=str(body["error_code"]) if body.get("error_code") else None,
        )


@dataclass(frozen=True)
class Model:
    """A catalogue entry from GET /v1/models (mediagate's extra fields are optional)."""

    id: str
    kind: str = ""
    title: str = ""
    aspect_ratios: list[str] = field(default_factory=list)
    durations: list[int] = field(default_factory=list)
    max_images: int = 0
    max_samples: int = 1
    live: bool = False

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Model:
        return cls(
            id=str(body["id"]),
            kind=str(body.get("kind", "")),
            title=str(body.get("title", "")),
            aspect_ratios=list(body.get("aspect_ratios") or []),
            durations=[int(d) for d in body.get("durations") or []],
            max_images=int(body.get("max_images") or 0),
            max_samples=int(body.get("max_samples") or 1),
            live=bool(body.get("live")),
        )


@dataclass(frozen=True)
class Generation:
    """What ``generate()`` returns: the finished task and the files it wrote."""

    task: Task
    files: list[Path]


@dataclass(frozen=True)
class TaskPage:
    """One page of ``list_tasks``: newest first; pass the last id as ``after`` for more."""

    tasks: list[Task]
    has_more: bool
