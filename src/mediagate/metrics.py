"""Prometheus metrics: what the services and the engine report (through the core's Observer
port), request latency from the ASGI layer, and gauges read from the database at scrape.

One process: a registry of its own. Several (``serve --workers N``): prometheus-client's
multiprocess mode, with ``PROMETHEUS_MULTIPROC_DIR`` set by ``serve`` before the workers
start; every process writes its own files there and a scrape of any of them sums them."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _mp

from mediagate.core.tasks import TERMINAL, Status, Task, TaskUpdate

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "dialect_of"]

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_DIALECTS = (
    ("/v1/media/", "gptunnel"),
    ("/v1/video/", "unified"),
    ("/v1/images/", "openai"),
    ("/v1/videos", "openai"),
    ("/v1/admin/", "admin"),
    ("/v1/webhooks/", "webhooks"),
    ("/v1/files/", "files"),
)


def dialect_of(path: str) -> str:
    for prefix, name in _DIALECTS:
        if path.startswith(prefix):
            return name
    return "other"


class Metrics:
    """Every series mediagate exports. Implements the core's Observer port."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        reg = None if self.multiprocess else self.registry

        def gauge(name: str, doc: str, labels: tuple[str, ...] = (), mode: str = "max") -> Gauge:
            if self.multiprocess:
                return Gauge(name, doc, labels, multiprocess_mode=mode)  # type: ignore[arg-type]
            return Gauge(name, doc, labels, registry=reg)

        self.requests = Histogram(
            "mediagate_http_request_seconds",
            "Request latency by route template, dialect, method and status class",
            ("route", "dialect", "method", "status"),
            buckets=_FAST,
            registry=reg,
        )
        self.created = Counter(
            "mediagate_tasks_created",
            "Tasks accepted",
            ("model", "provider", "mode"),
            registry=reg,
        )
        self.finished = Counter(
            "mediagate_tasks_finished",
            "Tasks that reached an end: done, failed or cancelled",
            ("model", "provider", "outcome"),
            registry=reg,
        )
        self.steps = Histogram(
            "mediagate_step_seconds",
            "Task step latency by step kind (submit, poll, fetch, cancel)",
            ("step",),
            buckets=_SLOW,
            registry=reg,
        )
        self.upstream_errors = Counter(
            "mediagate_upstream_errors",
            "Upstream failures by provider and error code (retried or not)",
            ("provider", "code"),
            registry=reg,
        )
        self.webhooks = Histogram(
            "mediagate_webhook_delivery_seconds",
            "Webhook delivery attempts by outcome",
            ("outcome",),
            buckets=_SLOW,
            registry=reg,
        )
        self.db = Histogram(
            "mediagate_db_statement_seconds",
            "Database statement latency by kind (read or write)",
            ("kind",),
            buckets=_FAST,
            registry=reg,
        )
        self.in_flight = gauge(
            "mediagate_tasks_in_flight", "Tasks this process holds leased", mode="livesum"
        )
        self.unfinished = gauge("mediagate_tasks_unfinished", "Tasks not yet done (all processes)")
        self.due = gauge("mediagate_tasks_due", "Tasks due to run now (the queue's depth)")
        self.webhook_backlog = gauge(
            "mediagate_webhook_backlog", "Webhook deliveries waiting to be sent"
        )
        self.money = gauge(
            "mediagate_money_micros", "Money held by unfinished tasks and charged", ("state",)
        )

    # -- the Observer port ------------------------------------------------------------------

    def task_created(self, task: Task) -> None:
        self.created.labels(task.model, task.provider, task.mode.value).inc()

    def task_finished(self, task: Task, status: Status) -> None:
        self.finished.labels(task.model, task.provider, status.value).inc()

    def step_done(self, task: Task, update: TaskUpdate, seconds: float) -> None:
        step = task.step.value if task.step is not None else "none"
        self.steps.labels(step).observe(seconds)
        if update.status in TERMINAL and task.status not in TERMINAL:
            self.task_finished(task, update.status)

    def upstream_error(self, provider: str, code: str) -> None:
        self.upstream_errors.labels(provider, code).inc()

    def webhook_sent(self, delivered: bool, seconds: float) -> None:
        self.webhooks.labels("delivered" if delivered else "failed").observe(seconds)

    # -- requests and database ----------------------------------------------------------------

    def request(self, route: str, path: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, dialect_of(path), method, f"{status // 100}xx").observe(seconds)

    def statement(self, is_write: bool, seconds: float) -> None:
        self.db.labels("write" if is_write else "read").observe(seconds)

    def exposed(self) -> CollectorRegistry:
        """What a scrape reads: this process's registry, or every process's files."""
        if self.multiprocess:
            registry = CollectorRegistry()
            _mp.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return registry
        return self.registry

    def render(self) -> bytes:
        return generate_latest(self.exposed())
