"""The console's admin pages: accounts (create, limits, top-up, adjust, ledger, usage chart),
keys (created and shown once; revoked), every webhook delivery with replay, the ledger
check. Admin keys only; they act through the same services as /v1/admin."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from mediagate.api.common import runtime_of
from mediagate.core.accounts import LimitsUpdate
from mediagate.core.errors import InvalidRequestError
from mediagate.core.numbers import is_digits
from mediagate.core.tasks import Mode
from mediagate.web import console as c

GROUPS = ("day", "model", "key", "provider")


def _money(form: Any, name: str) -> int | None:
    value = str(form.get(name) or "").strip()
    return c.money(value, name) if value else None


@get("/console/admin/accounts", include_in_schema=False, guards=[c.signed_in])
async def accounts(request: Request[Any, Any, Any]) -> Template:
    c._admin(request)
    found = await runtime_of(request).accounts.list_accounts()
    return c.page(request, "accounts.html", accounts=found)


@post("/console/admin/accounts", include_in_schema=False, guards=[c.signed_in], status_code=303)
async def create_account(request: Request[Any, Any, Any]) -> Redirect:
    c._admin(request)
    form = await request.form()
    name = str(form.get("name") or "").strip()
    if not name:
        raise InvalidRequestError("name", "is required")
    made = await runtime_of(request).accounts.create(
        name, daily_limit_micros=_money(form, "daily_limit"),
        monthly_limit_micros=_money(form, "monthly_limit"),
    )  # fmt: skip
    return Redirect(f"/console/admin/accounts/{made.id}", status_code=303)


@get("/console/admin/accounts/{account_id:str}", include_in_schema=False, guards=[c.signed_in])
async def account(request: Request[Any, Any, Any], account_id: str, group: str = "day") -> Template:
    c._admin(request)
    rt = runtime_of(request)
    found = await rt.accounts.get(account_id)
    if group not in GROUPS:
        raise InvalidRequestError("group", f"{group!r}", list(GROUPS))
    rows = await rt.accounts.usage(account_id, None, None, group, None)
    top = max([r.amount_micros for r in rows] + [1])
    entries = await rt.account_repo.entries(account_id, 50)
    keys = [k for k in await rt.keys.list() if k.account_id == account_id]
    return c.page(
        request, "account.html", account=found, rows=rows, top=top, group=group,
        groups=GROUPS, entries=entries, keys=keys,
    )  # fmt: skip


@post(
    "/console/admin/accounts/{account_id:str}/{what:str}",
    include_in_schema=False, guards=[c.signed_in], status_code=303,
)  # fmt: skip
async def account_change(request: Request[Any, Any, Any], account_id: str, what: str) -> Redirect:
    c._admin(request)
    rt = runtime_of(request)
    form = await request.form()
    note = str(form.get("note") or "")
    if what == "topup":
        await rt.accounts.topup(account_id, c.money(str(form.get("amount") or ""), "amount"), note)
    elif what == "adjust":
        await rt.accounts.adjust(account_id, c.money(str(form.get("amount") or ""), "amount"), note)
    elif what == "limits":
        change = LimitsUpdate(
            daily_limit_micros=_money(form, "daily_limit"),
            monthly_limit_micros=_money(form, "monthly_limit"),
        )
        await rt.accounts.update(account_id, change)
    else:
        raise InvalidRequestError("what", f"{what!r}", ["topup", "adjust", "limits"])
    return Redirect(f"/console/admin/accounts/{account_id}", status_code=303)


@get("/console/admin/keys", include_in_schema=False, guards=[c.signed_in])
async def keys(request: Request[Any, Any, Any]) -> Template:
    c._admin(request)
    rt = runtime_of(request)
    return c.page(
        request, "keys.html", keys=await rt.keys.list(), accounts=await rt.accounts.list_accounts(),
        made=None,
    )  # fmt: skip


@post("/console/admin/keys", include_in_schema=False, guards=[c.signed_in], status_code=200)
async def create_key(request: Request[Any, Any, Any]) -> Template:
    """The new key is on this page once, and never again."""
    c._admin(request)
    rt = runtime_of(request)
    form = await request.form()
    mode = str(form.get("mode") or "test")
    if mode not in ("test", "live", "admin"):
        raise InvalidRequestError("mode", f"{mode!r}", ["test", "live", "admin"])
    account_id = str(form.get("account_id") or "") or None
    raw, _ = await rt.keys.create(Mode(mode), str(form.get("name") or ""), account_id)
    return c.page(
        request, "keys.html", keys=await rt.keys.list(), accounts=await rt.accounts.list_accounts(),
        made=raw,
    )  # fmt: skip


@post(
    "/console/admin/keys/{key_id:str}/revoke",
    include_in_schema=False,
    guards=[c.signed_in],
    status_code=303,
)
async def revoke_key(request: Request[Any, Any, Any], key_id: str) -> Redirect:
    c._admin(request)
    await runtime_of(request).keys.revoke(key_id)
    return Redirect("/console/admin/keys", status_code=303)


@get("/console/admin/webhooks", include_in_schema=False, guards=[c.signed_in])
async def webhooks(request: Request[Any, Any, Any]) -> Template:
    c._admin(request)
    found = await runtime_of(request).webhook_repo.list_for(None, None)
    return c.page(request, "webhooks.html", deliveries=found)


@get("/console/admin/ledger", include_in_schema=False, guards=[c.signed_in])
async def ledger(request: Request[Any, Any, Any]) -> Template:
    c._admin(request)
    problems = await runtime_of(request).accounts.check()
    return c.page(request, "ledger.html", problems=problems)


@get("/console/admin/channels", include_in_schema=False, guards=[c.signed_in])
async def channels(request: Request[Any, Any, Any], tested: str = "") -> Template:
    c._admin(request)
    rt = runtime_of(request)
    from mediagate.api.channels import shown

    found = [shown(ch) for ch in await rt.channel_repo.all()]
    return c.page(
        request, "channels.html", channels=found, events=await rt.channel_repo.events(None, 30),
        tested=tested,
    )  # fmt: skip


@post("/console/admin/channels", include_in_schema=False, guards=[c.signed_in], status_code=303)
async def add_channel(request: Request[Any, Any, Any]) -> Redirect:
    c._admin(request)
    from mediagate.api.channels import NewChannel, create_channel

    form = await request.form()
    numbers: dict[str, int] = {}
    for name in ("weight", "priority", "max_running"):
        raw = str(form.get(name) or "").strip()
        if raw and not is_digits(raw.removeprefix("-")):
            raise InvalidRequestError(name, "must be a whole number")
        numbers[name] = int(raw) if raw else (1 if name == "weight" else 0)
    body = NewChannel(
        provider=str(form.get("provider") or ""), api_key=str(form.get("api_key") or ""),
        base_url=str(form.get("base_url") or ""), name=str(form.get("name") or ""),
        weight=numbers["weight"], priority=numbers["priority"],
        max_running=numbers["max_running"],
    )  # fmt: skip
    await create_channel(runtime_of(request), body)
    return Redirect("/console/admin/channels", status_code=303)


@post(
    "/console/admin/channels/{channel_id:str}/{what:str}",
    include_in_schema=False,
    guards=[c.signed_in],
    status_code=303,
)
async def channel_action(request: Request[Any, Any, Any], channel_id: str, what: str) -> Redirect:
    c._admin(request)
    from mediagate.api.channels import ChannelChange, change_channel, test_channel

    rt = runtime_of(request)
    if what in ("enable", "disable"):
        await change_channel(rt, channel_id, ChannelChange(enabled=what == "enable"))
        return Redirect("/console/admin/channels", status_code=303)
    if what != "test":
        raise InvalidRequestError("what", f"{what!r}", ["enable", "disable", "test"])
    tested = await test_channel(rt, channel_id)
    word = "ok" if tested.ok else "failed"
    return Redirect(f"/console/admin/channels?tested={channel_id}: {word}", status_code=303)


ADMIN_PAGES = [
    channels, add_channel, channel_action,
    accounts, create_account, account, account_change, keys, create_key, revoke_key,
    webhooks, ledger,
]  # fmt: skip
