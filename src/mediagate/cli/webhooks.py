"""``mediagate webhooks …``: see deliveries and their attempts, replay one, rotate a key's
signing secret. In-process, through the same store the API uses."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from mediagate.cli.common import DataDir, err, new_table, out, run

if TYPE_CHECKING:
    from mediagate.core.webhooks import Delivery
    from mediagate.runtime import Runtime

webhooks_app = typer.Typer(help="Webhook deliveries: list, replay, signing secrets.")


def _when(at: float | None) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if at else "-"


@webhooks_app.command("list")
def list_deliveries(
    task: Annotated[str | None, typer.Option(help="Only this task's deliveries")] = None,
    data_dir: DataDir = None,
) -> None:
    """Every delivery (newest last) with its state and last attempt."""

    async def go(rt: Runtime) -> list[Delivery]:
        return await rt.webhook_repo.list_for(None, task)

    table = new_table("id", "task", "event", "status", "attempts", "last", "next", "url")
    for d in run(data_dir, go):
        last = str(d.last_status or d.last_error or "-")
        table.add_row(
            d.id,
            d.task_id,
            d.event,
            d.status,
            str(d.attempts),
            last,
            _when(d.next_attempt_at),
            d.url,
        )
    out().print(table)


@webhooks_app.command("replay")
def replay(delivery_id: str, data_dir: DataDir = None) -> None:
    """Send a delivery again (a running server picks it up within a second)."""

    async def go(rt: Runtime) -> Delivery | None:
        return await rt.webhook_repo.replay(delivery_id, None, rt.clock())

    if run(data_dir, go) is None:
        err.print(f"no delivery {delivery_id}", style="red")
        raise typer.Exit(1)
    err.print(f"{delivery_id} queued again")


@webhooks_app.command("secret")
def rotate_secret(key_id: str, data_dir: DataDir = None) -> None:
    """Make a new signing secret for a key and print it alone (shown only this once)."""

    async def go(rt: Runtime) -> str:
        return await rt.keys.rotate_webhook_secret(key_id)

    typer.echo(run(data_dir, go))


def register(app: typer.Typer) -> None:
    app.add_typer(webhooks_app, name="webhooks")
