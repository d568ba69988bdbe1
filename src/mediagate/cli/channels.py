"""``mediagate channels …``: several credentials for one provider, managed from the shell
through the same functions as the admin API (list, add, enable, disable, test, events)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from mediagate.cli.common import DataDir, new_table, out, run

if TYPE_CHECKING:
    from mediagate.runtime import Runtime

channels_app = typer.Typer(help="Channels: several keys for one provider, by priority and weight.")


@channels_app.command("list")
def list_(data_dir: DataDir = None) -> None:
    """Every channel, with its state."""

    async def go(rt: Runtime) -> None:
        from mediagate.api.channels import shown

        table = new_table("id", "provider", "name", "key", "priority", "weight", "cap", "state")
        for c in map(shown, await rt.channel_repo.all()):
            state = "enabled" if c.enabled else f"disabled ({c.reason})"
            table.add_row(
                c.id, c.provider, c.name, c.key, str(c.priority), str(c.weight),
                str(c.max_running or "-"), state,
            )  # fmt: skip
        out().print(table)

    run(data_dir, go)


@channels_app.command("add")
def add(
    provider: str,
    api_key: Annotated[str, typer.Option(help="The channel's key at the provider")],
    base_url: Annotated[
        str, typer.Option(help="The provider's API base (its default if any)")
    ] = "",
    name: str = "",
    priority: int = 0,
    weight: int = 1,
    max_running: Annotated[int, typer.Option(help="Tasks running at once here; 0: no cap")] = 0,
    data_dir: DataDir = None,
) -> None:
    """Add a channel and print its id alone on stdout."""

    async def go(rt: Runtime) -> str:
        from mediagate.api.channels import NewChannel, create_channel

        body = NewChannel(provider, api_key, base_url, name, weight, priority, max_running)
        return (await create_channel(rt, body)).id

    typer.echo(run(data_dir, go))


def _set(channel_id: str, enabled: bool, data_dir: DataDir) -> None:
    async def go(rt: Runtime) -> None:
        from mediagate.api.channels import ChannelChange, change_channel

        await change_channel(rt, channel_id, ChannelChange(enabled=enabled))

    run(data_dir, go)
    out().print(f"{channel_id} {'enabled' if enabled else 'disabled'}")


@channels_app.command("enable")
def enable(channel_id: str, data_dir: DataDir = None) -> None:
    """Enable a channel (and end its rest after failures)."""
    _set(channel_id, True, data_dir)


@channels_app.command("disable")
def disable(channel_id: str, data_dir: DataDir = None) -> None:
    """Disable a channel by hand (it is not probed; enable it again yourself)."""
    _set(channel_id, False, data_dir)


@channels_app.command("test")
def test(channel_id: str, data_dir: DataDir = None) -> None:
    """A cheap real call on the channel; exits 1 when it fails."""

    async def go(rt: Runtime) -> tuple[bool, str]:
        from mediagate.api.channels import test_channel

        tested = await test_channel(rt, channel_id)
        return tested.ok, tested.detail

    ok, detail = run(data_dir, go)
    out().print(f"{'ok' if ok else 'failed'}: {detail}")
    if not ok:
        raise typer.Exit(1)


@channels_app.command("events")
def events(channel_id: str, data_dir: DataDir = None) -> None:
    """What happened to a channel, newest first."""

    async def go(rt: Runtime) -> None:
        table = new_table("at", "event", "detail")
        for e in await rt.channel_repo.events(channel_id):
            table.add_row(f"{e.at:.0f}", e.event, e.detail)
        out().print(table)

    run(data_dir, go)


def register(app: typer.Typer) -> None:
    app.add_typer(channels_app, name="channels")
