"""Channels in the database: their settings, enabling and disabling, and the record of
every change (``channel_events``)."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa

from mediagate.core.channels import Channel, ChannelEvent
from mediagate.store.db import Database
from mediagate.store.schema import channel_events, channels


def _channel(row: Any) -> Channel:
    m = row._mapping
    return Channel(
        id=m["id"], provider=m["provider"], api_key=m["api_key"], name=m["name"],
        base_url=m["base_url"], secrets=msgspec.json.decode(m["secrets"] or "{}"),
        weight=m["weight"], priority=m["priority"], max_running=m["max_running"],
        enabled=bool(m["enabled"]), auto_disabled_at=m["auto_disabled_at"], reason=m["reason"],
        created_at=m["created_at"], updated_at=m["updated_at"],
    )  # fmt: skip


class ChannelRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[Channel]:
        async with self._db.read() as conn:
            rows = (await conn.execute(sa.select(channels).order_by(channels.c.id))).all()
        return [_channel(r) for r in rows]

    async def insert(self, channel: Channel) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                channels.insert().values(
                    id=channel.id,
                    provider=channel.provider,
                    name=channel.name,
                    api_key=channel.api_key,
                    base_url=channel.base_url,
                    secrets=msgspec.json.encode(channel.secrets).decode(),
                    weight=channel.weight,
                    priority=channel.priority,
                    max_running=channel.max_running,
                    enabled=channel.enabled,
                    created_at=channel.created_at,
                    updated_at=channel.updated_at,
                )
            )
            await self._event(conn, ChannelEvent(channel.id, channel.created_at, "created"))

    async def update(self, channel_id: str, values: dict[str, Any], event: ChannelEvent) -> bool:
        """Change a channel's settings and record why; False when there is no such channel."""
        if "secrets" in values:
            values = {**values, "secrets": msgspec.json.encode(values["secrets"]).decode()}
        async with self._db.write() as conn:
            res = await conn.execute(
                channels.update()
                .where(channels.c.id == channel_id)
                .values(**values, updated_at=event.at)
            )
            if not res.rowcount:
                return False
            await self._event(conn, event)
        return True

    async def record(self, event: ChannelEvent) -> None:
        async with self._db.write() as conn:
            await self._event(conn, event)

    async def _event(self, conn: Any, event: ChannelEvent) -> None:
        await conn.execute(
            channel_events.insert().values(
                channel_id=event.channel_id, at=event.at, event=event.event, detail=event.detail
            )
        )

    async def events(self, channel_id: str | None = None, limit: int = 100) -> list[ChannelEvent]:
        query = sa.select(channel_events).order_by(channel_events.c.id.desc()).limit(limit)
        if channel_id is not None:
            query = query.where(channel_events.c.channel_id == channel_id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [ChannelEvent(r.channel_id, r.at, r.event, r.detail) for r in rows]
