"""``mediagate accounts …``, ``mediagate usage`` and ``mediagate ledger check``: the admin
side of money, through the same services the admin API uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import msgspec
import typer

from mediagate.cli.common import DataDir, err, new_table, out, run
from mediagate.core.accounts import Account, LimitsUpdate, UsageRow
from mediagate.core.billing import parse_time
from mediagate.core.keys import DEFAULT_ACCOUNT
from mediagate.core.money import text, to_micros

if TYPE_CHECKING:
    from mediagate.runtime import Runtime

accounts_app = typer.Typer(help="Create accounts, top them up, set limits.")
ledger_app = typer.Typer(help="Check the books.")

Limit = Annotated[str | None, typer.Option(help="Amount, or 'none' to clear")]


def _limit(value: str | None, param: str) -> int | msgspec.UnsetType | None:
    if value is None:
        return msgspec.UNSET
    return None if value.lower() == "none" else to_micros(value, param)


def _show(account: Account) -> None:
    table = new_table(
        "id", "name", "balance", "held", "daily limit", "monthly limit", "models", "state"
    )
    table.add_row(
        account.id,
        account.name,
        text(account.balance_micros),
        text(account.held_micros),
        "-" if account.daily_limit_micros is None else text(account.daily_limit_micros),
        "-" if account.monthly_limit_micros is None else text(account.monthly_limit_micros),
        "all" if account.allowed_models is None else ", ".join(account.allowed_models),
        "disabled" if account.disabled_at else "active",
    )
    out().print(table)


@accounts_app.command("create")
def create(
    name: str,
    daily_limit: Limit = None,
    monthly_limit: Limit = None,
    models: Annotated[str | None, typer.Option(help="Comma-separated allowed models")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an account and print its id alone on stdout."""

    async def go(rt: Runtime) -> Account:
        return await rt.accounts.create(
            name,
            daily_limit_micros=None if daily_limit is None else to_micros(daily_limit),
            monthly_limit_micros=None if monthly_limit is None else to_micros(monthly_limit),
            allowed_models=models.split(",") if models else None,
        )

    typer.echo(run(data_dir, go).id)


@accounts_app.command("list")
def list_accounts(data_dir: DataDir = None) -> None:
    """Every account with its balance and limits."""

    async def go(rt: Runtime) -> list[Account]:
        return [await rt.accounts.get(a.id) for a in await rt.accounts.list_accounts()]

    for account in run(data_dir, go):
        _show(account)


@accounts_app.command("topup")
def topup(
    account_id: str,
    amount: str,
    note: Annotated[str, typer.Option(help="Why, for the ledger")] = "",
    data_dir: DataDir = None,
) -> None:
    """Add AMOUNT (exact decimal) to an account's balance."""

    async def go(rt: Runtime) -> Account:
        return await rt.accounts.topup(account_id, to_micros(amount), note)

    _show(run(data_dir, go))


@accounts_app.command("set")
def set_limits(
    account_id: str,
    daily_limit: Limit = None,
    monthly_limit: Limit = None,
    models: Annotated[
        str | None, typer.Option(help="Allowed models, comma-separated, or 'all'")
    ] = None,
    disable: Annotated[bool | None, typer.Option("--disable/--enable")] = None,
    data_dir: DataDir = None,
) -> None:
    """Change limits, the allowed models, or disable/enable an account."""
    allowed: tuple[str, ...] | msgspec.UnsetType | None = msgspec.UNSET
    if models is not None:
        allowed = None if models == "all" else tuple(models.split(","))
    change = LimitsUpdate(
        daily_limit_micros=_limit(daily_limit, "daily_limit"),
        monthly_limit_micros=_limit(monthly_limit, "monthly_limit"),
        allowed_models=allowed,
        disabled=msgspec.UNSET if disable is None else disable,
    )

    async def go(rt: Runtime) -> Account:
        return await rt.accounts.update(account_id, change)

    _show(run(data_dir, go))


def usage(
    account: Annotated[str, typer.Option(help="Account id")] = DEFAULT_ACCOUNT,
    start: Annotated[str | None, typer.Option("--from", help="Unix seconds or ISO date")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Unix seconds or ISO date")] = None,
    group_by: Annotated[str, typer.Option(help="model, day, key or provider")] = "model",
    data_dir: DataDir = None,
) -> None:
    """Usage of an account as a table: tasks and what they cost (this month by default)."""

    async def go(rt: Runtime) -> tuple[list[UsageRow], str]:
        await rt.accounts.get(account)
        rows = await rt.accounts.usage(
            account, parse_time(start, "from"), parse_time(end, "to"), group_by
        )
        return rows, rt.settings.currency

    rows, currency = run(data_dir, go)
    table = new_table(
        group_by, "tasks", "succeeded", "failed", f"charged ({currency})", "vendor cost", "margin"
    )
    for r in rows:
        table.add_row(
            r.group,
            str(r.tasks),
            str(r.succeeded),
            str(r.failed),
            text(r.amount_micros),
            text(r.cost_micros),
            text(r.amount_micros - r.cost_micros),
        )
    total = sum(r.amount_micros for r in rows)
    cost = sum(r.cost_micros for r in rows)
    table.add_row(
        "total",
        str(sum(r.tasks for r in rows)),
        "",
        "",
        text(total),
        text(cost),
        text(total - cost),
        style="bold",
    )
    out().print(table)


@ledger_app.command("check")
def check(data_dir: DataDir = None) -> None:
    """Verify that every balance equals its ledger and every task's hold is accounted for."""

    async def go(rt: Runtime) -> list[str]:
        return [f"{p.account_id}: {p.what}" for p in await rt.accounts.check()]

    problems = run(data_dir, go)
    for line in problems:
        err.print(f"{line}", style="red")
    if problems:
        raise typer.Exit(1)
    err.print("ledger OK: every balance equals the sum of its ledger")


def register(app: typer.Typer) -> None:
    app.add_typer(accounts_app, name="accounts")
    app.add_typer(ledger_app, name="ledger")
    app.command("usage")(usage)
