"""``mediagate`` commands: run the server, manage keys, and generate media from a terminal."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from mediagate.cli import accounts as _accounts
from mediagate.cli import channels as _channels
from mediagate.cli import client as _client
from mediagate.cli import webhooks as _webhooks
from mediagate.cli.common import DataDir, err, new_table, out, run, settings_for
from mediagate.core.tasks import Mode

if TYPE_CHECKING:
    from mediagate.runtime import Runtime

app = typer.Typer(
    help="mediagate: a self-hosted gateway for AI image and video generation.",
    rich_markup_mode="markdown",
)
keys_app = typer.Typer(help="Create, list and revoke API keys.")
app.add_typer(keys_app, name="keys")


def _version(shown: bool) -> None:
    if shown:
        from mediagate import __version__

        typer.echo(f"mediagate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """mediagate: a self-hosted gateway for AI generation."""


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [env: MEDIAGATE_HOST]")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port [env: MEDIAGATE_PORT]")
    ] = None,
    data_dir: DataDir = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="API processes (on PostgreSQL, or SQLite)")
    ] = 1,
    engine: Annotated[
        bool,
        typer.Option(
            "--engine/--no-engine",
            help="Also run task steps in these processes; --no-engine serves the API only "
            "and leaves steps to `mediagate worker` [env: MEDIAGATE_ENGINE]",
        ),
    ] = True,
) -> None:
    """Start the API server (by default with its in-process engine)."""
    import uvicorn

    settings = settings_for(data_dir, host=host, port=port)
    where = settings.data_dir.resolve()
    err.print(
        f"mediagate starting on http://{settings.host}:{settings.port} (data in {where})\n"
        f"  make a key:  mediagate keys create --test --data-dir {where}\n"
        f"  check it:    curl http://{settings.host}:{settings.port}/healthz"
    )
    from mediagate.logs import configure

    configure(settings.log_level, settings.log_json)
    # Child processes read their settings from the environment, so pass the flags on.
    os.environ["MEDIAGATE_DATA_DIR"] = str(settings.data_dir)
    if workers > 1:  # one /metrics for all: prometheus-client's multiprocess mode
        import shutil

        metrics_dir = settings.data_dir / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    if not engine:
        os.environ["MEDIAGATE_ENGINE"] = "0"
    uvicorn.run(
        "mediagate.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers if workers > 1 else None,
        log_config=None,  # uvicorn logs through mediagate.logs, in the one format
        proxy_headers=True,
    )


@app.command()
def init(data_dir: DataDir = None) -> None:
    """Make a new deployment: the data dir, its database and signing secret."""
    from mediagate.runtime import Runtime

    settings = settings_for(data_dir, create=True)

    async def go() -> None:
        rt = await Runtime.open(settings, observe=False)
        await rt.close()

    import asyncio

    asyncio.run(go())
    where = settings.data_dir.resolve()
    err.print(
        f"ready in {where}\n  serve it:    mediagate serve --data-dir {where}\n"
        f"  make a key:  mediagate keys create --test --data-dir {where}"
    )


@app.command()
def worker(
    data_dir: DataDir = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port", min=1, max=65535, help="Serve Prometheus metrics on this port"
        ),
    ] = None,
) -> None:
    """Run task steps and webhook deliveries only (no API), next to any number of servers
    and other workers that share the same database and storage."""
    import asyncio
    import signal

    from mediagate.api.webhooks import renderer
    from mediagate.logs import configure
    from mediagate.runtime import Runtime

    settings = settings_for(data_dir)
    configure(settings.log_level, settings.log_json)

    async def go() -> None:
        rt = await Runtime.open(settings)
        rt.webhooks.render = renderer(rt)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await rt.start(engine=True)
        if metrics_port:  # steps, upstream errors and webhooks of this worker, on its own port
            from prometheus_client import start_http_server

            metrics = rt.metrics
            assert metrics is not None  # a worker observes
            if not metrics.multiprocess:
                metrics.in_flight.set_function(lambda: len(rt.workers.held))
            start_http_server(metrics_port, addr=settings.host, registry=metrics.exposed())
        where = settings.db_url.rpartition("@")[2]
        err.print(f"mediagate worker {rt.workers.owner} running on {where}")
        try:
            await stop.wait()
        finally:
            await rt.close()

    asyncio.run(go())


@keys_app.command("create")
def keys_create(
    test: Annotated[bool, typer.Option("--test", help="A test key: runs on the sandbox")] = False,
    live: Annotated[bool, typer.Option("--live", help="A live key: real providers")] = False,
    admin: Annotated[
        bool, typer.Option("--admin", help="An admin key: the admin API, never generation")
    ] = False,
    name: Annotated[str, typer.Option(help="A label for the key")] = "",
    account: Annotated[
        str | None,
        typer.Option(
            help="The account it spends from (see `accounts list`); "
            "without it, a test or live key gets a new account of its own"
        ),
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a key and print it alone on stdout (it is shown only this once)."""
    if sum((test, live, admin)) != 1:
        err.print("choose exactly one of --test, --live or --admin", style="red")
        raise typer.Exit(2)
    mode = Mode.TEST if test else Mode.LIVE if live else Mode.ADMIN

    async def go(rt: Runtime) -> str:
        key, record = await rt.keys.create(mode, name, account)
        if account is None and mode is not Mode.ADMIN:
            err.print(f"on a new account of its own: {record.account_id}")
        return key

    typer.echo(run(data_dir, go))


@keys_app.command("list")
def keys_list(data_dir: DataDir = None) -> None:
    """List keys (prefixes only; keys are stored hashed)."""

    async def go(rt: Runtime) -> None:
        table = new_table("id", "prefix", "mode", "name", "account", "state")
        for k in await rt.keys.list():
            state = "revoked" if k.revoked_at else "active"
            table.add_row(k.id, k.prefix + "…", k.mode.value, k.name, k.account_id, state)
        out().print(table)

    run(data_dir, go)


@keys_app.command("revoke")
def keys_revoke(key_id: str, data_dir: DataDir = None) -> None:
    """Revoke a key by id or prefix."""

    async def go(rt: Runtime) -> bool:
        return await rt.keys.revoke(key_id)

    if not run(data_dir, go):
        err.print(f"no active key {key_id}", style="red")
        raise typer.Exit(1)
    err.print(f"revoked {key_id}")


_accounts.register(app)
_channels.register(app)
_client.register(app)
_webhooks.register(app)


def main() -> None:
    """The ``mediagate`` command: a mistake in what was typed is a message, not a traceback."""
    from mediagate.core.errors import MediagateError

    try:
        app()
    except MediagateError as exc:
        err.print(f"{exc.message}", style="red")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
