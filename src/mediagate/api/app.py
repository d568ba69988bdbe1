"""The Litestar application: routers, lifespan (migrations, workers), OpenAPI and fallbacks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import structlog
from litestar import Litestar, MediaType, Request, Response, get
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from mediagate import __version__
from mediagate.api import files, gptunnel, models
from mediagate.logs import configure as configure_logs
from mediagate.runtime import Runtime
from mediagate.settings import Settings

log = structlog.get_logger("mediagate.api")


class Health(msgspec.Struct):
    status: str
    version: str
    queued: int


@get("/healthz", include_in_schema=False)
async def healthz(request: Request[Any, Any, Any]) -> Health:
    rt: Runtime = request.app.state.runtime
    return Health(status="ok", version=__version__, queued=len(rt.queue))


@get("/openapi.json", include_in_schema=False, media_type=MediaType.JSON)
async def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi_schema.to_schema()
    return schema


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    body = {"code": exc.status_code, "message": str(exc.detail)}
    return Response(body, status_code=exc.status_code, headers=exc.headers)


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    ref = uuid.uuid4().hex[:12]
    log.exception("unhandled error", path=request.url.path, ref=ref)
    body = {"code": gptunnel.CODE_INTERNAL, "message": f"internal error (reference {ref})"}
    return Response(body, status_code=500)


def create_app(settings: Settings | None = None, run_workers: bool = True) -> Litestar:
    settings = settings or Settings()
    configure_logs(settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings)
        app.state.runtime = runtime
        if run_workers:
            await runtime.workers.start()
        try:
            yield
        finally:
            await runtime.close()

    return Litestar(
        route_handlers=[gptunnel.router, files.router, models.router, healthz, openapi_json],
        lifespan=[lifespan],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        openapi_config=OpenAPIConfig(
            title="mediagate",
            version=__version__,
            path="/docs",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        debug=False,
    )
