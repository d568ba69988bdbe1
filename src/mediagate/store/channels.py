"""Channels in the database: their settings, enabling and disabling, and the record of
every change (``channel_events``)."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa

from mediagate.core.channels import Channel, ChannelEvent
from mediagate.store.db import Database
from mediagate.store.schema import channel_events, channels
from mediagate.store.sealing import PREFIX, Sealer


def _key_at(channel_id: str) -> str:
    return f"channels.api_key:{channel_id}"


def _secrets_at(channel_id: str) -> str:
    return f"channels.secrets:{channel_id}"


def _channel(row: Any, sealer: Sealer) -> Channel:
    m = row._mapping
    secrets = sealer.open(m["secrets"] or "{}", _secrets_at(m["id"]))
    return Channel(
        id=m["id"], provider=m["provider"], api_key=sealer.open(m["api_key"], _key_at(m["id"])),
        name=m["name"], base_url=m["base_url"], secrets=msgspec.json.decode(secrets),
        weight=m["weight"], priority=m["priority"], max_running=m["max_running"],
        enabled=bool(m["enabled"]), auto_disabled_at=m["auto_disabled_at"], reason=m["reason"],
        created_at=m["created_at"], updated_at=m["updated_at"],
    )  # fmt: skip


class ChannelRepository:
    """Channels; their credentials (``api_key``, ``secrets``) sealed at rest."""

    def __init__(self, db: Database, sealer: Sealer) -> None:
        self._db = db
        self._sealer = sealer

    async def all(self) -> list[Channel]:
        async with self._db.read() as conn:
            rows = (await conn.execute(sa.select(channels).order_by(channels.c.id))).all()
        return [_channel(r, self._sealer) for r in rows]

    def _sealed(self, channel_id: str, api_key: str, secrets: dict[str, str]) -> dict[str, str]:
        return {
            "api_key": self._sealer.seal(api_key, _key_at(channel_id)),
            "secrets": self._sealer.seal(
                msgspec.json.encode(secrets).decode(), _secrets_at(channel_id)
            ),
        }

    async def seal_plain(self) -> int:
        """Seal the credentials written before sealing existed; how many channels had them."""
        c = channels.c
        async with self._db.read() as conn:
            rows = (
                await conn.execute(
                    sa.select(c.id, c.api_key, c.secrets).where(
                        sa.or_(
                            sa.not_(c.api_key.startswith(PREFIX)),
                            sa.not_(c.secrets.startswith(PREFIX)),
                        )
                    )
                )
            ).all()
        if rows:
            async with self._db.write() as conn:
                for channel_id, api_key, secrets in rows:
                    plain_key = self._sealer.open(api_key, _key_at(channel_id))
                    plain = self._sealer.open(secrets or "{}", _secrets_at(channel_id))
                    values = self._sealed(channel_id, plain_key, msgspec.json.decode(plain))
                    await conn.execute(channels.update().where(c.id == channel_id).values(**values))
        return len(rows)

    async def insert(self, channel: Channel) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                channels.insert().values(
                    id=channel.id,
                    provider=channel.provider,
                    name=channel.name,
                    base_url=channel.base_url,
                    **self._sealed(channel.id, channel.api_key, channel.secrets),
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
            plain = msgspec.json.encode(values["secrets"]).decode()
            values = {**values, "secrets": self._sealer.seal(plain, _secrets_at(channel_id))}
        if "api_key" in values:
            values = {
                **values,
                "api_key": self._sealer.seal(values["api_key"], _key_at(channel_id)),
            }
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
