"""What the CLI's command modules share: the stderr console, --data-dir, and a runtime."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from mediagate.core.errors import MediagateError

if TYPE_CHECKING:
    from mediagate.runtime import Runtime
    from mediagate.settings import Settings

T = TypeVar("T")
err = Console(stderr=True)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory [env: MEDIAGATE_DATA_DIR]")
]


def out() -> Console:
    """Where tables go: the terminal's width, or wide enough not to cut ids when piped."""
    return Console(width=None if sys.stdout.isatty() else 240)


def settings_for(data_dir: Path | None = None, **overrides: object) -> Settings:
    from mediagate.settings import Settings

    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]


def run(data_dir: Path | None, fn: Callable[[Runtime], Awaitable[T]]) -> T:
    """Open the deployment's runtime (no workers), run ``fn`` on it, close it."""

    from mediagate.runtime import Runtime

    async def go() -> T:
        rt = await Runtime.open(settings_for(data_dir))
        try:
            return await fn(rt)
        finally:
            await rt.close()

    try:
        return asyncio.run(go())
    except MediagateError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from None
