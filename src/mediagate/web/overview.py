"""The console's overview for admins: the last 30 days across every account, per day (tasks,
relayed requests, spend, failures) and by model, channel or key; how long tasks and requests
take (p50, p95); the queue; and each channel's health. The numbers are the usage API's
(``GET /v1/admin/usage``): the per-day chart is drawn from the same rows by uPlot, vendored
with the console's assets (no CDN), with its numbers as a table beside it."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Request, get
from litestar.response import Template

from mediagate.api.common import runtime_of
from mediagate.core.errors import InvalidRequestError
from mediagate.web import console as c
from mediagate.web.charts import day_chart

DAYS = 30
GROUPS = ("model", "provider", "key")


class Spread(msgspec.Struct):
    count: int
    p50: float | None
    p95: float | None


def spread(values: list[float]) -> Spread:
    if not values:
        return Spread(0, None, None)
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return Spread(len(ordered), at(0.5), at(0.95))


@get("/console/admin/overview", include_in_schema=False, guards=[c.signed_in])
async def overview(request: Request[Any, Any, Any], group: str = "model") -> Template:
    c._admin(request)
    if group not in GROUPS:
        raise InvalidRequestError("group", f"{group!r}", list(GROUPS))
    rt = runtime_of(request)
    now = time.time()
    since = now - DAYS * 86400
    days = await rt.accounts.usage(None, since, now + 1, "day")
    parts = await rt.accounts.usage(None, since, now + 1, group)
    task_s, request_ms = await rt.overview.durations(since)
    channels = rt.channels.channels if rt.channels is not None else []
    chart = day_chart(
        days,
        lambda d: d.group,
        [("tasks", lambda d: d.tasks, "count"), ("requests", lambda d: d.requests, "count"),
         ("failed", lambda d: d.failed, "count"), ("spend", lambda d: d.amount_micros, "micros")],
        left="tasks and requests",
    )  # fmt: skip
    most = {"part": max([p.amount_micros for p in parts] + [1])}
    totals = {
        "tasks": sum(d.tasks for d in days), "requests": sum(d.requests for d in days),
        "spend": sum(d.amount_micros for d in days), "failed": sum(d.failed for d in days),
    }  # fmt: skip
    return c.page(
        request, "overview.html", days=days, chart=chart, parts=parts, group=group, groups=GROUPS,
        most=most, totals=totals, tasks=spread(task_s), requests=spread(request_ms),
        queue=await rt.overview.queue(), channels=channels, span=DAYS,
    )  # fmt: skip


OVERVIEW_PAGES = [overview]
