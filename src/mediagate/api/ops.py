"""For operators and their tools: /livez, /readyz and /metrics (Prometheus). No API key
needed and nothing about any one tenant; /metrics takes a bearer token when
MEDIAGATE_METRICS_TOKEN is set (it shows totals of money held and charged)."""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from litestar import Request, Response, get

from mediagate.api.common import runtime_of
from mediagate.metrics import CONTENT_TYPE_LATEST
from mediagate.store import migrate
from mediagate.store.gauges import read_gauges


class Ready(msgspec.Struct):
    ready: bool
    checks: dict[str, str]


@get("/livez", include_in_schema=False)
async def livez() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(request: Request[Any, Any, Any]) -> Response[Ready]:
    """200 when the database answers, its schema is current and storage takes a write; 503
    (with the failed check named) otherwise."""
    rt = runtime_of(request)
    checks: dict[str, str] = {}
    try:
        await rt.db.ping()
        checks["database"] = "ok"
    except Exception as exc:  # any failure is the answer, not a 500
        checks["database"] = f"unreachable: {type(exc).__name__}"
    revision = await migrate.current(rt.db)
    checks["migrations"] = (
        "ok" if revision == migrate.HEAD else f"at {revision}, not {migrate.HEAD}"
    )
    try:
        await rt.blobs.put("health/probe", b"ok")
        await rt.blobs.delete(["health/probe"])
        checks["storage"] = "ok"
    except Exception as exc:
        checks["storage"] = f"not writable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return Response(Ready(ready, checks), status_code=200 if ready else 503)


@get("/metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus text format. Gauges that come from the database are read now."""
    rt = runtime_of(request)
    token = rt.settings.metrics_token
    given = request.headers.get("authorization", "")
    if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        body = b"metrics need 'Authorization: Bearer <MEDIAGATE_METRICS_TOKEN>'\n"
        return Response(body, status_code=401, media_type="text/plain")
    found = await read_gauges(rt.db, rt.clock())
    m = rt.metrics
    if m is None:  # a runtime made without metrics (never the server's)
        return Response(b"metrics are off\n", status_code=404, media_type="text/plain")
    m.in_flight.set(len(rt.workers.held))
    m.unfinished.set(found.unfinished)
    m.due.set(found.due)
    m.webhook_backlog.set(found.webhook_backlog)
    m.money.labels("held").set(found.held_micros)
    m.money.labels("charged").set(found.charged_micros)
    body = m.render()
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


__all__ = ["livez", "metrics", "readyz"]
