"""The admin API under /v1/admin: accounts, limits, top-ups, keys, any task, the ledger check.
Only admin keys (``mediagate keys create --admin``) pass its guard; they cannot generate."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, delete, get, patch, post
from litestar.params import Parameter

from mediagate.api.account import RequestList, Usage, request_list, usage_body
from mediagate.api.common import dialect_router, require_admin, runtime_of
from mediagate.api.openai_shared import make_handler
from mediagate.core.accounts import Account, LimitsUpdate
from mediagate.core.billing import parse_time
from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.core.keys import KeyRecord
from mediagate.core.money import from_micros, to_micros
from mediagate.core.tasks import Mode, Task

Amount = str | int | float


class AccountBody(msgspec.Struct):
    object: str
    id: str
    name: str
    balance: float
    balance_micros: int
    held: float
    held_micros: int
    currency: str
    daily_limit: float | None
    monthly_limit: float | None
    allowed_models: list[str] | None
    disabled: bool
    created_at: int


class AccountList(msgspec.Struct):
    object: str
    data: list[AccountBody]


class NewAccount(msgspec.Struct):
    name: str
    daily_limit: Amount | None = None
    monthly_limit: Amount | None = None
    allowed_models: list[str] | None = None


class AccountChange(msgspec.Struct):
    """Only the fields sent change; ``null`` clears a limit or the model list."""

    daily_limit: Amount | msgspec.UnsetType | None = msgspec.UNSET
    monthly_limit: Amount | msgspec.UnsetType | None = msgspec.UNSET
    allowed_models: list[str] | msgspec.UnsetType | None = msgspec.UNSET
    disabled: bool | msgspec.UnsetType = msgspec.UNSET


class Money(msgspec.Struct):
    amount: Amount
    note: str = ""


class NewKey(msgspec.Struct):
    mode: str
    account_id: str
    name: str = ""


class KeyBody(msgspec.Struct):
    object: str
    id: str
    prefix: str
    mode: str
    name: str
    account_id: str
    created_at: int
    revoked: bool
    key: str | None = None  # only in the answer to a create, never again
    webhook_secret: str | None = None  # likewise


class KeyList(msgspec.Struct):
    object: str
    data: list[KeyBody]


class Check(msgspec.Struct):
    ok: bool
    problems: list[dict[str, str]]


def _account(request: Request[Any, Any, Any], a: Account) -> AccountBody:
    def limit(micros: int | None) -> float | None:
        return None if micros is None else from_micros(micros)

    return AccountBody(
        object="account",
        id=a.id,
        name=a.name,
        balance=from_micros(a.balance_micros),
        balance_micros=a.balance_micros,
        held=from_micros(a.held_micros),
        held_micros=a.held_micros,
        currency=runtime_of(request).settings.currency,
        daily_limit=limit(a.daily_limit_micros),
        monthly_limit=limit(a.monthly_limit_micros),
        allowed_models=list(a.allowed_models) if a.allowed_models is not None else None,
        disabled=a.disabled_at is not None,
        created_at=int(a.created_at),
    )


def _key(k: KeyRecord, raw: str | None = None) -> KeyBody:
    return KeyBody(
        object="api_key",
        id=k.id,
        prefix=k.prefix,
        mode=k.mode.value,
        name=k.name,
        account_id=k.account_id,
        created_at=int(k.created_at),
        revoked=k.revoked_at is not None,
        key=raw,
    )


def _micros(value: Any, param: str) -> Any:
    if value is msgspec.UNSET or value is None:
        return value
    return to_micros(value, param)


@post("/v1/admin/accounts", status_code=201, summary="Create an account")
async def create_account(request: Request[Any, Any, Any], data: NewAccount) -> AccountBody:
    account = await runtime_of(request).accounts.create(
        data.name,
        daily_limit_micros=_micros(data.daily_limit, "daily_limit"),
        monthly_limit_micros=_micros(data.monthly_limit, "monthly_limit"),
        allowed_models=data.allowed_models,
    )
    return _account(request, account)


@get("/v1/admin/accounts", summary="List accounts")
async def list_accounts(request: Request[Any, Any, Any]) -> AccountList:
    accounts = await runtime_of(request).accounts.list_accounts()
    return AccountList("list", [_account(request, a) for a in accounts])


@get("/v1/admin/accounts/{account_id:str}", summary="Read an account")
async def read_account(request: Request[Any, Any, Any], account_id: str) -> AccountBody:
    return _account(request, await runtime_of(request).accounts.get(account_id))


@patch("/v1/admin/accounts/{account_id:str}", summary="Set limits, allowed models, disable")
async def change_account(
    request: Request[Any, Any, Any], account_id: str, data: AccountChange
) -> AccountBody:
    models = data.allowed_models
    change = LimitsUpdate(
        daily_limit_micros=_micros(data.daily_limit, "daily_limit"),
        monthly_limit_micros=_micros(data.monthly_limit, "monthly_limit"),
        allowed_models=tuple(models) if isinstance(models, list) else models,
        disabled=data.disabled,
    )
    return _account(request, await runtime_of(request).accounts.update(account_id, change))


@post("/v1/admin/accounts/{account_id:str}/topup", status_code=200, summary="Add money")
async def topup(request: Request[Any, Any, Any], account_id: str, data: Money) -> AccountBody:
    rt = runtime_of(request)
    account = await rt.accounts.topup(account_id, to_micros(data.amount), data.note)
    return _account(request, account)


@post("/v1/admin/accounts/{account_id:str}/adjust", status_code=200, summary="Correct a balance")
async def adjust(request: Request[Any, Any, Any], account_id: str, data: Money) -> AccountBody:
    rt = runtime_of(request)
    return _account(
        request, await rt.accounts.adjust(account_id, to_micros(data.amount), data.note)
    )


@get("/v1/admin/accounts/{account_id:str}/usage", summary="An account's usage")
async def account_usage(
    request: Request[Any, Any, Any],
    account_id: str,
    start: str | None = Parameter(query="from", default=None),
    end: str | None = Parameter(query="to", default=None),
    group_by: str = Parameter(query="group_by", default="model"),
    key_id: str | None = Parameter(query="key_id", default=None),
) -> Usage:
    rt = runtime_of(request)
    await rt.accounts.get(account_id)
    rows = await rt.accounts.usage(
        account_id, parse_time(start, "from"), parse_time(end, "to"), group_by, key_id
    )
    return usage_body(account_id, group_by, rt.settings.currency, rows, with_costs=True)


@get("/v1/admin/usage", summary="Every account's usage (the console's overview)")
async def all_usage(
    request: Request[Any, Any, Any],
    start: str | None = Parameter(query="from", default=None),
    end: str | None = Parameter(query="to", default=None),
    group_by: str = Parameter(query="group_by", default="day"),
) -> Usage:
    rt = runtime_of(request)
    rows = await rt.accounts.usage(
        None, parse_time(start, "from"), parse_time(end, "to"), group_by, None
    )
    return usage_body("*", group_by, rt.settings.currency, rows, with_costs=True)


@post("/v1/admin/keys", status_code=201, summary="Create a key (shown once)")
async def create_key(request: Request[Any, Any, Any], data: NewKey) -> KeyBody:
    modes = [m.value for m in Mode]
    if data.mode not in modes:
        raise InvalidRequestError("mode", f"{data.mode!r} is not a key mode", modes)
    rt = runtime_of(request)
    raw, record = await rt.keys.create(Mode(data.mode), data.name, data.account_id)
    body = _key(record, raw)
    body.webhook_secret = await rt.keys.rotate_webhook_secret(record.id)
    return body


@get("/v1/admin/keys", summary="List keys (prefixes only)")
async def list_keys(request: Request[Any, Any, Any]) -> KeyList:
    return KeyList("list", [_key(k) for k in await runtime_of(request).keys.list()])


@delete("/v1/admin/keys/{key_id:str}", status_code=200, summary="Revoke a key")
async def revoke_key(request: Request[Any, Any, Any], key_id: str) -> KeyBody:
    rt = runtime_of(request)
    if not await rt.keys.revoke(key_id):
        raise NotFoundError(f"no active key {key_id!r}")
    record = next(k for k in await rt.keys.list() if k.id == key_id or k.prefix == key_id)
    return _key(record)


@get("/v1/admin/tasks/{task_id:str}", summary="Read any task, whoever made it")
async def read_task(request: Request[Any, Any, Any], task_id: str) -> Task:
    return await runtime_of(request).tasks.get_any(task_id)


@get("/v1/admin/ledger/check", summary="Check every balance against the ledger")
async def ledger_check(request: Request[Any, Any, Any]) -> Check:
    problems = await runtime_of(request).accounts.check()
    return Check(
        ok=not problems, problems=[{"account_id": p.account_id, "what": p.what} for p in problems]
    )


@get("/v1/admin/requests", summary="The request log of relayed calls (chat, ...)")
async def request_log(
    request: Request[Any, Any, Any],
    account_id: str | None = None,
    key_id: str | None = None,
    limit: int = 50,
) -> RequestList:
    """Every key's requests, newest first, or one account's or one key's."""
    return request_list(await runtime_of(request).relay.log(key_id, account_id, limit))


router = dialect_router(
    [
        request_log,
        create_account,
        list_accounts,
        read_account,
        change_account,
        topup,
        adjust,
        account_usage,
        all_usage,
        create_key,
        list_keys,
        revoke_key,
        read_task,
        ledger_check,
    ],
    make_handler({}),
    "admin",
    guard=require_admin,
)
