"""Structured logging (structlog) for the server and workers; keys are never logged.

One format from start-up on: the standard library's loggers (alembic, uvicorn, aiohttp,
asyncio) go through the same renderer as mediagate's own, console lines or JSON
(``MEDIAGATE_LOG_JSON``), so a log shipper reads one shape."""

from __future__ import annotations

import logging

import structlog

# Chatty at info: mediagate logs requests and its own start-up itself.
QUIET = {
    "alembic.runtime.plugins": logging.WARNING,
    "uvicorn.access": logging.WARNING,
    "uvicorn.error": logging.WARNING,
}


def escape_controls(
    _logger: object, _name: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    """Control characters in any text value (a NUL or a newline in a client's path) are
    written escaped: a console line is one line, and holds no byte a terminal acts on. JSON
    lines escape them already."""
    for name, value in event.items():
        if isinstance(value, str) and not value.isprintable():
            event[name] = value.encode("unicode_escape").decode("ascii")
    return event


def configure(level: str = "info", json: bool = False) -> None:
    lvl = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    if not json:
        shared.append(escape_controls)
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(lvl)
    for name, floor in QUIET.items():
        logging.getLogger(name).setLevel(max(floor, lvl))
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        cache_logger_on_first_use=True,
    )
