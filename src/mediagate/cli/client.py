"""The CLI as an API client (``generate``, ``tasks list|get|download``, ``models``): over HTTP
with ``mediagate.client``, against any mediagate (or gptunnel) at ``--base-url``.

A result is never paid for and then lost: the output is checked before the task is submitted,
a failed download prints the result's links, and Ctrl-C while waiting says how to resume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mediagate.cli.common import err, new_table, out

if TYPE_CHECKING:
    from mediagate.client import Client, Task

tasks_app = typer.Typer(help="Your tasks on a server: list, read, wait for, download.")

BaseUrl = Annotated[
    str,
    typer.Option(
        "--base-url",
        envvar="MEDIAGATE_BASE_URL",
        help="The server [env: MEDIAGATE_BASE_URL]",
        show_envvar=False,
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key", envvar="MEDIAGATE_API_KEY", help="[env: MEDIAGATE_API_KEY]", show_envvar=False
    ),
]
Output = Annotated[
    Path,
    typer.Option("-o", "--output", help="A file to write, or a directory for several results"),
]
DEFAULT_BASE = "http://127.0.0.1:8000"


def _client(base_url: str, api_key: str | None) -> Client:
    from mediagate.client import Client

    key = api_key or os.environ.get("GPTUNNEL_API_KEY")
    if not key:
        err.print("no API key: pass --api-key or set MEDIAGATE_API_KEY", style="red")
        raise typer.Exit(2)
    return Client(base_url, key)


def _fail(message: object, code: int = 1) -> typer.Exit:
    err.print(f"{message}", style="red")
    return typer.Exit(code)


def _get(client: Client, task_id: str) -> Task:
    from mediagate.client import MediagateError

    try:
        return client.get(task_id)
    except MediagateError as exc:
        raise _fail(exc) from None


def _resume_hint(task_id: str, output: Path) -> str:
    return f"mediagate tasks get {task_id} --wait -o {output}"


def _follow(client: Client, task: Task, output: Path, timeout: float) -> None:
    """Wait with a progress bar, then download; every way out says where the result is."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from mediagate.client import MediagateError, TaskFailedError, TaskTimeoutError

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=err) as progress:
            bar = progress.add_task(f"{task.id} {task.status}", total=100)

            def on_task(t: Task) -> None:
                progress.update(bar, completed=t.progress, description=f"{t.id} {t.status}")

            task = client.wait(task.id, timeout=timeout, on_progress=on_task)
    except KeyboardInterrupt:
        err.print(
            f"\nstopped waiting; task {task.id} goes on. Resume: {_resume_hint(task.id, output)}"
        )
        raise typer.Exit(130) from None
    except TaskTimeoutError as exc:
        err.print(f"{exc}; it goes on. Resume: {_resume_hint(task.id, output)}", style="yellow")
        raise typer.Exit(1) from None
    except TaskFailedError as exc:
        raise _fail(exc) from None
    except MediagateError as exc:
        err.print(f"{exc}", style="red")
        raise _fail(f"task {task.id} goes on. Resume: {_resume_hint(task.id, output)}") from None
    _download(client, task, output)


def _download(client: Client, task: Task, output: Path) -> None:
    from mediagate.client import MediagateError
    from mediagate.client._base import Core

    try:
        paths = Core.output_paths(task, output)
        for url, path in zip(task.urls, paths, strict=True):
            client.download(url, path)
            err.print(f"saved {path} ({path.stat().st_size} bytes)")
    except (MediagateError, OSError) as exc:
        err.print(f"could not save the result: {exc}", style="red")
        for url in task.urls:
            typer.echo(url)
        raise _fail(f"task {task.id} is done; its links are above (and on stdout)") from None
    err.print(f"task {task.id}: {task.url}")


def generate(
    model: Annotated[str, typer.Option("-m", "--model", help="Model id: see `mediagate models`")],
    prompt: Annotated[str, typer.Option("-p", "--prompt", help="What to make")],
    output: Output = Path("."),
    ar: Annotated[str | None, typer.Option("--ar", help="Aspect ratio, e.g. 16:9")] = None,
    image: Annotated[
        list[str] | None,
        typer.Option("--image", help="Input image URL or data URL (repeat for several)"),
    ] = None,
    duration: Annotated[int | None, typer.Option("--duration", help="Video seconds")] = None,
    samples: Annotated[int | None, typer.Option("-n", "--samples", help="How many")] = None,
    base_url: BaseUrl = DEFAULT_BASE,
    api_key: ApiKey = None,
    timeout: Annotated[float, typer.Option(help="Stop waiting after this many seconds")] = 1800,
) -> None:
    """Submit a task (to mediagate or any gptunnel-compatible server), follow it with a
    progress bar, and download the results."""
    from mediagate.client import MediagateError
    from mediagate.client._base import Core

    try:
        Core.check_output(output, samples or 1)
    except ValueError as exc:
        raise _fail(f"-o: {exc}", 2) from None
    with _client(base_url, api_key) as client:
        try:
            task = client.create(
                model,
                prompt,
                ar=ar,
                images=image or None,
                duration_seconds=duration,
                sample_count=samples,
            )
        except MediagateError as exc:
            raise _fail(exc) from None
        except KeyboardInterrupt:  # the create may have been made: say where to look
            raise _fail("stopped while submitting; see mediagate tasks list", 130) from None
        err.print(f"submitted task {task.id}")
        _follow(client, task, output, timeout)


@tasks_app.command("list")
def tasks_list(
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many, newest first")] = 20,
    after: Annotated[str | None, typer.Option(help="The last id of the previous page")] = None,
    base_url: BaseUrl = DEFAULT_BASE,
    api_key: ApiKey = None,
) -> None:
    """Your key's tasks, newest first."""
    import datetime as dt

    from mediagate.client import MediagateError

    with _client(base_url, api_key) as client:
        try:
            page = client.list_tasks(limit=limit, after=after)
        except MediagateError as exc:
            raise _fail(exc) from None
    table = new_table("id", "created", "model", "status", "progress", "result or error")
    for t in page.tasks:
        when = dt.datetime.fromtimestamp(t.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(t.id, when, t.model, t.status, f"{t.progress}%", t.url or t.error or "")
    out().print(table)
    if page.has_more and page.tasks:
        err.print(f"more: mediagate tasks list --after {page.tasks[-1].id}")


@tasks_app.command("get")
def tasks_get(
    task_id: str,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until it finishes")] = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Download the results here")
    ] = None,
    base_url: BaseUrl = DEFAULT_BASE,
    api_key: ApiKey = None,
    timeout: Annotated[float, typer.Option(help="Stop waiting after this many seconds")] = 1800,
) -> None:
    """A task's state; with --wait, follow it to the end (and download with -o)."""
    with _client(base_url, api_key) as client:
        task = _get(client, task_id)
        if wait and not task.finished:
            _follow(client, task, output or Path("."), timeout)
            return
        if output is not None and task.succeeded:
            _download(client, task, output)
            return
    typer.echo(f"{task.id} {task.status} {task.progress}% {task.model}")
    for url in task.urls:
        typer.echo(url)
    if task.error:
        typer.echo(f"error [{task.error_code}]: {task.error}")


@tasks_app.command("download")
def tasks_download(
    task_id: str,
    output: Output = Path("."),
    base_url: BaseUrl = DEFAULT_BASE,
    api_key: ApiKey = None,
) -> None:
    """Download a finished task's results."""
    with _client(base_url, api_key) as client:
        task = _get(client, task_id)
        if not task.succeeded:
            raise _fail(f"task {task.id} is {task.status}: nothing to download")
        _download(client, task, output)


def models(base_url: BaseUrl = DEFAULT_BASE) -> None:
    """The models a server offers, with their shapes and whether live keys can use them."""
    import httpx2

    try:
        body = httpx2.get(base_url.rstrip("/") + "/v1/models", timeout=30).json()
    except (httpx2.HTTPError, ValueError) as exc:
        raise _fail(f"cannot read {base_url}/v1/models: {exc}") from None
    table = new_table("id", "kind", "aspect ratios", "durations (s)", "images in", "live")
    for m in body.get("data") or []:
        durations = ", ".join(str(d) for d in m.get("durations") or []) or "-"
        table.add_row(
            m["id"],
            m.get("kind", ""),
            ", ".join(m.get("aspect_ratios") or []),
            durations,
            str(m.get("max_images", 0)),
            "yes" if m.get("live") else "no",
        )
    out().print(table)


def register(app: typer.Typer) -> None:
    app.command()(generate)
    app.command()(models)
    app.add_typer(tasks_app, name="tasks")
