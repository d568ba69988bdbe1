"""What the CLI's command modules share: the stderr console, --data-dir, and a runtime."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
import typer.core
from rich.console import Console

from mediagate.core.errors import MediagateError

if TYPE_CHECKING:
    from rich.table import Table

    from mediagate.runtime import Runtime
    from mediagate.settings import Settings

T = TypeVar("T")
# Messages are read by scripts and logs too (no wrapping), and carry what people typed: no
# markup is interpreted in them ("[/x]" in an amount is text, not a broken style tag).
err = Console(stderr=True, soft_wrap=True, markup=False)
_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH"}


def _plain_type(self: Any, ctx: Any) -> str | None:
    """Help shows what an option takes as click does (TEXT, INTEGER, PATH) and nothing for a
    flag, not typer 0.29's ``<bool>``/``<str>`` tags."""
    if getattr(self, "is_flag", False) or getattr(self, "count", False):
        return None
    if getattr(self, "metavar", None) is not None:
        return str(self.metavar)
    shown = str(self.display_type(ctx)).strip("<>").removeprefix("list[").rstrip("]")
    return _METAVARS.get(shown.split()[0], shown.upper())


for _cls in ("TyperOption", "TyperArgument"):
    if hasattr(typer.core, _cls):
        getattr(typer.core, _cls).display_type_rich = _plain_type

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory [env: MEDIAGATE_DATA_DIR]")
]


def new_table(*columns: str) -> Table:
    """A rich Table (imported on first use: ``--help`` starts faster without it)."""
    from rich.table import Table

    return Table(*columns)


def out() -> Console:
    """Where tables go: the terminal's width, or wide enough not to cut ids when piped."""
    return Console(width=None if sys.stdout.isatty() else 240, markup=False)


def settings_for(
    data_dir: Path | None = None, create: bool = False, **overrides: object
) -> Settings:
    """The settings for a command, checked: a bad value is a message, not a traceback, and a
    data dir named explicitly (flag or MEDIAGATE_DATA_DIR) must exist unless ``create``, so a
    typo never quietly starts an empty deployment. The default, ./data, is made on first use."""
    from pydantic import ValidationError

    from mediagate.settings import Settings

    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    try:
        settings = Settings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        for problem in exc.errors():
            field = ".".join(str(p) for p in problem["loc"])
            err.print(f"{field}: {problem['msg']} (got {problem.get('input')!r})", style="red")
        raise typer.Exit(2) from None
    explicit = data_dir is not None or "MEDIAGATE_DATA_DIR" in os.environ
    if explicit and not create and not settings.data_dir.is_dir():
        err.print(
            f"the data dir {settings.data_dir} does not exist (a typo?). To start a new "
            f"deployment there: mediagate init --data-dir {settings.data_dir}",
            style="red",
        )
        raise typer.Exit(2)
    return settings


def run(data_dir: Path | None, fn: Callable[[Runtime], Awaitable[T]]) -> T:
    """Open the deployment's runtime (no workers), run ``fn`` on it, close it."""

    from mediagate.runtime import Runtime

    async def go() -> T:
        rt = await Runtime.open(settings_for(data_dir), observe=False)
        try:
            return await fn(rt)
        finally:
            await rt.close()

    try:
        import asyncio

        return asyncio.run(go())
    except MediagateError as exc:
        err.print(f"{exc.message}", style="red")
        raise typer.Exit(1) from None
