"""Channels in the admin API: several credentials for one provider, each with a weight, a
priority, a cap of running tasks, a base URL and an enabled flag; a test call; and each
channel's events (created, updated, enabled, disabled, auto_disabled, probe_ok, ...)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, patch, post

from mediagate.api.common import dialect_router, require_admin, runtime_of
from mediagate.api.openai_shared import make_handler
from mediagate.core.channels import Channel, ChannelEvent, new_channel_id
from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.providers.build import VENDOR_BASES
from mediagate.runtime import Runtime

UPDATABLE = ("name", "api_key", "base_url", "weight", "priority", "max_running", "enabled")


class NewChannel(msgspec.Struct):
    provider: str
    api_key: str
    base_url: str = ""
    name: str = ""
    weight: int = 1
    priority: int = 0
    max_running: int = 0
    enabled: bool = True
    secrets: dict[str, str] = {}


class ChannelChange(msgspec.Struct):
    name: str | None = None
    api_key: str | None = None
    base_url: str | None = None
    weight: int | None = None
    priority: int | None = None
    max_running: int | None = None
    enabled: bool | None = None


class ChannelBody(msgspec.Struct):
    id: str
    provider: str
    name: str
    key: str  # never the key itself: its first characters
    base_url: str
    weight: int
    priority: int
    max_running: int
    enabled: bool
    auto_disabled_at: float | None
    reason: str


class Tested(msgspec.Struct):
    ok: bool
    detail: str


def masked(credential: str) -> str:
    """What the admin API shows of a credential: never the credential, only its last four
    characters where it is long enough that they tell nothing (as OpenAI's dashboard does)."""
    return "••••" + (credential[-4:] if len(credential) >= 20 else "")


def shown(channel: Channel) -> ChannelBody:
    return ChannelBody(
        channel.id, channel.provider, channel.name, masked(channel.api_key), channel.base_url,
        channel.weight, channel.priority, channel.max_running, channel.enabled,
        channel.auto_disabled_at, channel.reason,
    )  # fmt: skip


def check(values: dict[str, Any]) -> None:
    """Bounds on what a channel may be set to (the field named when it is off)."""
    for name, low, high in (
        ("weight", 0, 1000),
        ("priority", -1000, 1000),
        ("max_running", 0, 100000),
    ):
        value = values.get(name)
        if value is not None and not low <= value <= high:
            raise InvalidRequestError(name, f"{value} is out of range", [f"{low}..{high}"])
    if values.get("api_key") == "":
        raise InvalidRequestError("api_key", "must not be empty")


async def create_channel(rt: Runtime, data: NewChannel) -> Channel:
    known = rt.channels.providers if rt.channels is not None else []
    if data.provider not in known:
        raise InvalidRequestError("provider", f"{data.provider!r} is not a provider", known)
    check(msgspec.structs.asdict(data))
    now = rt.clock()
    channel = Channel(
        id=new_channel_id(), provider=data.provider, api_key=data.api_key,
        name=data.name, base_url=data.base_url or VENDOR_BASES.get(data.provider, ""),
        secrets=data.secrets, weight=data.weight, priority=data.priority,
        max_running=data.max_running, enabled=data.enabled, created_at=now, updated_at=now,
    )  # fmt: skip
    if not channel.base_url:
        raise InvalidRequestError("base_url", f"is required for {data.provider}")
    await rt.channel_repo.insert(channel)
    if rt.channels is not None:
        await rt.channels.load()
    return channel


async def change_channel(rt: Runtime, channel_id: str, change: ChannelChange) -> Channel:
    values = {k: v for k, v in msgspec.structs.asdict(change).items() if v is not None}
    check(values)
    if "enabled" in values:
        values.update(auto_disabled_at=None, reason="" if values["enabled"] else "by hand")
        what = "enabled" if values["enabled"] else "disabled"
    else:
        what = "updated"
    shown_values = ", ".join(f"{k}={v}" for k, v in values.items() if k != "api_key")
    event = ChannelEvent(channel_id, rt.clock(), what, shown_values)
    if not await rt.channel_repo.update(channel_id, values, event):
        raise NotFoundError(f"no channel {channel_id!r}")
    if rt.channels is not None:
        await rt.channels.load()
    return await find(rt, channel_id)


async def find(rt: Runtime, channel_id: str) -> Channel:
    for channel in await rt.channel_repo.all():
        if channel.id == channel_id:
            return channel
    raise NotFoundError(f"no channel {channel_id!r}")


async def test_channel(rt: Runtime, channel_id: str) -> Tested:
    channel = await find(rt, channel_id)
    if rt.channels is None:
        raise NotFoundError("channels are not running here")
    ok, detail = await rt.channels.probe(channel)
    await rt.channel_repo.record(ChannelEvent(channel.id, rt.clock(), "tested", f"{ok}: {detail}"))
    return Tested(ok, detail)


@get("/v1/admin/channels", summary="List channels")
async def list_channels(request: Request[Any, Any, Any]) -> list[ChannelBody]:
    return [shown(c) for c in await runtime_of(request).channel_repo.all()]


@post("/v1/admin/channels", status_code=201, summary="Add a channel")
async def add(request: Request[Any, Any, Any], data: NewChannel) -> ChannelBody:
    return shown(await create_channel(runtime_of(request), data))


@patch("/v1/admin/channels/{channel_id:str}", summary="Change, enable or disable a channel")
async def change(
    request: Request[Any, Any, Any], channel_id: str, data: ChannelChange
) -> ChannelBody:
    return shown(await change_channel(runtime_of(request), channel_id, data))


@post("/v1/admin/channels/{channel_id:str}/test", status_code=200, summary="A cheap real call")
async def test(request: Request[Any, Any, Any], channel_id: str) -> Tested:
    return await test_channel(runtime_of(request), channel_id)


@get("/v1/admin/channels/{channel_id:str}/events", summary="What happened to a channel")
async def events(request: Request[Any, Any, Any], channel_id: str) -> list[ChannelEvent]:
    rt = runtime_of(request)
    await find(rt, channel_id)
    return await rt.channel_repo.events(channel_id)


router = dialect_router(
    [list_channels, add, change, test, events], make_handler({}), "admin", guard=require_admin
)
