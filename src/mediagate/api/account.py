"""What a key may see of its account: GET /v1/balance (gptunnel's shape), GET /v1/usage and
GET /v1/requests (its relayed requests: the request log)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get
from litestar.params import Parameter

from mediagate.api.common import api_key, dialect_router, runtime_of
from mediagate.api.gptunnel import handle_error
from mediagate.core.accounts import UsageRow
from mediagate.core.billing import parse_time
from mediagate.core.money import from_micros
from mediagate.core.text import RequestRecord


class Balance(msgspec.Struct):
    """gptunnel's balance object (orgId, object, balance, creditLimit) plus what is held."""

    object: str
    orgId: str
    balance: float
    creditLimit: float
    held: float
    balance_micros: int
    held_micros: int
    currency: str


class UsageItem(msgspec.Struct, omit_defaults=True):
    """One group. ``cost_micros``/``margin_micros`` (what the vendors charged, and the
    difference) appear only in the admin API's report."""

    group: str
    tasks: int
    succeeded: int
    failed: int
    amount: float
    amount_micros: int
    cost_micros: int | None = None
    margin_micros: int | None = None
    requests: int = 0  # relayed requests (chat, completions, embeddings); cost in amount
    tokens: int = 0


class UsageTotal(msgspec.Struct):
    tasks: int
    amount: float
    amount_micros: int


class Usage(msgspec.Struct):
    object: str
    account_id: str
    group_by: str
    currency: str
    data: list[UsageItem]
    total: UsageTotal


def usage_body(
    account_id: str, group_by: str, currency: str, rows: list[UsageRow], with_costs: bool = False
) -> Usage:
    data = [
        UsageItem(
            r.group,
            r.tasks,
            r.succeeded,
            r.failed,
            from_micros(r.amount_micros),
            r.amount_micros,
            r.cost_micros if with_costs else None,
            r.amount_micros - r.cost_micros if with_costs else None,
            r.requests,
            r.tokens,
        )
        for r in rows
    ]
    total = sum(r.amount_micros for r in rows)
    return Usage(
        object="usage",
        account_id=account_id,
        group_by=group_by,
        currency=currency,
        data=data,
        total=UsageTotal(sum(r.tasks for r in rows), from_micros(total), total),
    )


@get("/v1/balance", summary="The key's account balance (gptunnel format)")
async def balance(request: Request[Any, Any, Any]) -> Balance:
    """Test keys never touch it; live keys' tasks hold their price until they finish."""
    rt = runtime_of(request)
    account = await rt.accounts.get(api_key(request).account_id)
    return Balance(
        object="balance",
        orgId=account.id,
        balance=from_micros(account.balance_micros),
        creditLimit=0.0,
        held=from_micros(account.held_micros),
        balance_micros=account.balance_micros,
        held_micros=account.held_micros,
        currency=rt.settings.currency,
    )


@get("/v1/usage", summary="Usage of the key's account, grouped by model, day or key")
async def usage(
    request: Request[Any, Any, Any],
    start: str | None = Parameter(query="from", default=None),
    end: str | None = Parameter(query="to", default=None),
    group_by: str = Parameter(query="group_by", default="model"),
) -> Usage:
    """Tasks created in [from, to) (default: this month so far) and what they cost: only
    succeeded tasks are charged."""
    rt = runtime_of(request)
    account_id = api_key(request).account_id
    rows = await rt.accounts.usage(
        account_id, parse_time(start, "from"), parse_time(end, "to"), group_by
    )
    return usage_body(account_id, group_by, rt.settings.currency, rows)


class RequestItem(msgspec.Struct):
    """One relayed request of the key's, as the request log keeps it."""

    id: str
    created_at: float
    route: str
    model: str
    provider: str
    upstream_model: str
    stream: bool
    status: int
    ending: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    counted: bool
    characters: int  # speech: the characters spoken
    audio_ms: int  # transcription: the audio's length, as mediagate measured it
    cost: float
    cost_micros: int
    ttft_ms: float | None
    total_ms: float
    overhead_ms: float


class RequestList(msgspec.Struct):
    object: str
    data: list[RequestItem]


@get("/v1/requests", summary="The key's relayed requests (chat, ...), newest first")
async def requests_of_key(
    request: Request[Any, Any, Any], limit: int = Parameter(query="limit", default=50)
) -> RequestList:
    """The request log: tokens, cost, how each ended, time to first token and overhead."""
    found = await runtime_of(request).relay.history(api_key(request), limit)
    return request_list(found)


def request_list(found: list[RequestRecord]) -> RequestList:
    return RequestList(
        object="list",
        data=[
            RequestItem(
                id=r.id, created_at=r.created_at, route=r.route, model=r.model,
                provider=r.provider, upstream_model=r.upstream_model, stream=r.stream,
                status=r.status, ending=r.ending.value, prompt_tokens=r.usage.prompt,
                cached_tokens=r.usage.cached, completion_tokens=r.usage.completion,
                counted=r.usage.counted, characters=r.usage.characters,
                audio_ms=r.usage.audio_ms, cost=from_micros(r.cost_micros),
                cost_micros=r.cost_micros, ttft_ms=r.ttft_ms, total_ms=r.total_ms,
                overhead_ms=r.overhead_ms,
            )
            for r in found
        ],
    )  # fmt: skip


router = dialect_router([balance, usage, requests_of_key], handle_error, "account")
