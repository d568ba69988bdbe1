"""The Litestar application: routers, lifespan (migrations, workers), OpenAPI and fallbacks."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import structlog
from litestar import Litestar, MediaType, Request, Response, get
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from mediagate import __version__, tokens
from mediagate.api import (
    account,
    admin,
    anthropic_messages,
    channels,
    cogvideox,
    docmee,
    events,
    feed,
    files,
    flux,
    gptunnel,
    ideogram,
    kling,
    luma,
    luma_goamz,
    midjourney,
    models,
    openai_audio,
    openai_images,
    openai_realtime,
    openai_responses,
    openai_text,
    openai_videos,
    ops,
    pictask,
    runway,
    stability,
    suno,
    suno_v2,
    unified,
    vidu,
    viggle,
    webhooks,
    yoo_ppt,
)
from mediagate.api.observe import request_id_middleware, security_headers
from mediagate.api.openapi_errors import document_errors
from mediagate.logs import configure as configure_logs
from mediagate.runtime import Runtime
from mediagate.settings import Settings
from mediagate.web import console

log = structlog.get_logger("mediagate.api")

# Swagger UI's files ship in a wheel and are served here, so /docs works offline.
ASSETS = "/docs/assets"
docs_assets = create_static_files_router(
    path=ASSETS,
    directories=[Path(str(resources.files("swagger_ui") / "static"))],
    include_in_schema=False,
)

DESCRIPTION = """One task API for image, video and music models, in these dialects over the same
tasks:

* **gptunnel**: `POST /v1/media/create`, `GET|POST /v1/media/result`, `POST /v1/media/cancel`
  (key as `Authorization: <key>` or `Bearer <key>`).
* **Unified video (GPTNB / new-api)**: `POST /v1/video/generations`,
  `GET /v1/video/generations/{task_id}`.
* **OpenAI**: `POST /v1/images/generations`, `POST /v1/images/edits`, `/v1/videos` (create,
  retrieve, content, list, delete) and `GET /v1/models`.

* **Midjourney (midjourney-proxy / new-api)**: `/mj/submit/*`, `/mj/task/*`, `/mj/image/{id}`
  (also under `/mj-fast`, `/mj-relax`, `/mj-turbo`; key as Bearer or `mj-api-secret`).
* **Suno (new-api / Suno-API)**: `POST /suno/submit/music|lyrics`, `POST /suno/fetch`,
  `GET /suno/fetch/{id}`.

Test-mode keys (`mg_test_...`) run every model on the built-in sandbox for free.
Results are served from `/v1/files/...` links signed by this gateway.
"""


class Health(msgspec.Struct):
    status: str
    version: str
    held: int  # tasks this process's engine holds


@get("/healthz", include_in_schema=False)
async def healthz(request: Request[Any, Any, Any]) -> Health:
    rt: Runtime = request.app.state.runtime
    return Health(status="ok", version=__version__, held=len(rt.workers.held))


@get("/redoc", include_in_schema=False)
async def redoc() -> Redirect:
    """ReDoc (rendered at /docs/redoc from the package's bundle)."""
    return Redirect("/docs/redoc")


@get("/openapi.json", include_in_schema=False, media_type=MediaType.JSON)
async def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = request.app.openapi_schema.to_schema()
    return document_errors(schema)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    path = request.url.path
    if path.startswith("/v1/") and not path.startswith("/v1/files/"):
        # A route nobody serves, under /v1/: OpenAI's shape, which every SDK reads.
        message = f"Invalid URL ({request.method} {path})"
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {path}"
        kind = "invalid_request_error"
        error = {"message": message, "type": kind, "param": None, "code": "unknown_url"}
        return Response({"error": error}, status_code=exc.status_code, headers=exc.headers)
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
        runtime.webhooks.render = webhooks.renderer(runtime)
        await runtime.start(engine=run_workers and settings.engine)
        # A process that serves requests loads the vocabulary now, in a thread, not on its
        # first chat request (0.3 s); a worker process, which counts no tokens, never does.
        app.state.vocabulary = asyncio.create_task(asyncio.to_thread(tokens.warm))
        try:
            yield
        finally:
            await runtime.close()

    return Litestar(
        route_handlers=[
            gptunnel.router,
            unified.router,
            openai_images.router,
            openai_videos.router,
            *midjourney.routers,
            suno.router,
            suno_v2.router,
            suno_v2.newapi_router,
            runway.router,
            luma.router,
            luma_goamz.router,
            feed.router,
            feed.pika_router,
            cogvideox.router,
            kling.router,
            flux.router,
            stability.router,
            ideogram.router,
            vidu.router,
            viggle.router,
            pictask.router,
            docmee.router,
            yoo_ppt.router,
            account.router,
            webhooks.router,
            events.router,
            admin.router,
            channels.router,
            files.router,
            models.router,
            openai_text.router,
            openai_responses.router,
            anthropic_messages.router,
            openai_audio.router,
            openai_realtime.realtime,
            docs_assets,
            console.router,
            healthz,
            ops.livez,
            ops.readyz,
            ops.metrics,
            openapi_json,
            redoc,
        ],
        lifespan=[lifespan],
        template_config=TemplateConfig(
            directory=Path(str(resources.files("mediagate.web") / "templates")),
            engine=JinjaTemplateEngine,
        ),
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        middleware=[request_id_middleware],
        before_send=[security_headers],
        logging_config=None,  # mediagate.logs configured logging: one format for every logger
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="mediagate",
            version=__version__,
            path="/docs",
            description=DESCRIPTION,
            # "Authorize" in /docs: the key raw (gptunnel's way) or as a Bearer token.
            components=Components(
                security_schemes={
                    "apiKey": SecurityScheme(
                        type="apiKey",
                        name="Authorization",
                        security_scheme_in="header",
                        description="The key itself, as gptunnel sends it: mg_test_…",
                    ),
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", description="Bearer mg_test_…"
                    ),
                    "mjApiSecret": SecurityScheme(
                        type="apiKey",
                        name="mj-api-secret",
                        security_scheme_in="header",
                        description="The key, as midjourney-proxy clients send it (/mj/*)",
                    ),
                }
            ),
            security=[{"apiKey": []}, {"bearer": []}, {"mjApiSecret": []}],
            render_plugins=[
                SwaggerRenderPlugin(
                    js_url=f"{ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
                ),
                # /docs/redoc, from the package: no CDN, no web fonts.
                RedocRenderPlugin(
                    js_url="/console/static/redoc.standalone.js",
                    google_fonts=False,
                    favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
                ),
            ],
        ),
        debug=False,
    )
