"""Running the channels: load them from the store and give each its own adapter, count each
channel's calls (``Watched``), disable one that fails too often, probe it later with a cheap
real call and enable it again when it answers. Every change is recorded as a channel event.
The loop also picks up channels changed by another process (every REFRESH_S)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from typing import Any, Protocol, TypeVar

import aiohttp
import structlog

from mediagate.core.channels import PROBE_AFTER_S, Channel, ChannelEvent, Health
from mediagate.core.errors import ProviderError, UnavailableError
from mediagate.core.provider import Clock, Provider
from mediagate.providers.http import Credentials

log = structlog.get_logger("mediagate.channels")
T = TypeVar("T")
REFRESH_S = 5.0


class ChannelStore(Protocol):
    async def all(self) -> list[Channel]: ...

    async def update(
        self, channel_id: str, values: dict[str, Any], event: ChannelEvent
    ) -> bool: ...

    async def record(self, event: ChannelEvent) -> None: ...


class Watched:
    """A channel's adapter whose submits, polls and fetches count toward its health (a
    failure that another route or channel could serve counts against it)."""

    def __init__(self, inner: Provider, channel_id: str, seen: Callable[[str, bool], None]) -> None:
        self._inner = inner
        self._channel = channel_id
        self._seen = seen
        text = getattr(inner, "text", None)  # its text API, counted the same way (the relay)
        self.text = WatchedText(text, channel_id, seen) if text is not None else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # name, poll_many, inputs_on_poll, probe, ...

    async def _counted(self, call: Any) -> Any:
        try:
            result = await call
        except ProviderError as exc:
            if exc.failover:
                self._seen(self._channel, False)
            raise
        self._seen(self._channel, True)
        return result

    async def submit(self, request: Any) -> Any:
        return await self._counted(self._inner.submit(request))

    async def poll(self, request: Any, upstream_id: str) -> Any:
        return await self._counted(self._inner.poll(request, upstream_id))

    async def fetch(self, request: Any, upstream_id: str, index: int) -> Any:
        return await self._counted(self._inner.fetch(request, upstream_id, index))

    async def cancel(self, request: Any, upstream_id: str) -> None:
        await self._inner.cancel(request, upstream_id)

    async def open(self, request: Any, result: Any) -> Any:
        return await self._counted(self._inner.open(request, result))


class WatchedText:
    """A channel's text upstream whose answers count toward its health: a request counts
    once, on its answer or, for a stream, on its first event (a failure mid-stream is the
    upstream's, and counts too)."""

    def __init__(self, inner: Any, channel_id: str, seen: Callable[[str, bool], None]) -> None:
        self._inner = inner
        self._channel = channel_id
        self._seen = seen
        self.name: str = inner.name
        native = getattr(inner, "messages", None)  # Anthropic's own wire, counted the same
        self.messages = WatchedText(native, channel_id, seen) if native is not None else None

    def _failed(self, exc: ProviderError) -> None:
        if exc.failover:
            self._seen(self._channel, False)

    async def send(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = await self._inner.send(path, body)
        except ProviderError as exc:
            self._failed(exc)
            raise
        self._seen(self._channel, True)
        return answer

    def stream(self, path: str, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        return self._counted(self._inner.stream(path, body))

    def speech(self, path: str, body: dict[str, Any]) -> AsyncGenerator[bytes, None]:
        return self._counted(self._inner.speech(path, body))

    def transcribe(self, path: str, fields: Any, file: Any) -> AsyncGenerator[bytes, None]:
        return self._counted(self._inner.transcribe(path, fields, file))

    async def _counted(self, events: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
        started = False
        try:
            async for event in events:
                if not started:
                    started = True
                    self._seen(self._channel, True)
                yield event
        except ProviderError as exc:
            self._failed(exc)
            raise
        finally:
            await events.aclose()


class ChannelManager:
    def __init__(
        self,
        store: ChannelStore,
        registry: Any,
        makers: dict[str, Callable[[Credentials], Provider]],
        clock: Clock,
        probe_after_s: float = PROBE_AFTER_S,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self._probe_after_s = probe_after_s
        self._refresh_s = refresh_s
        self._store = store
        self._registry = registry
        self._makers = makers
        self._clock = clock
        self._health = Health()
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self.channels: list[Channel] = []
        self._adapters: dict[tuple[str, float], Provider] = {}

    @property
    def providers(self) -> list[str]:
        """The provider names a channel may be for."""
        return sorted(self._makers)

    def adapter_of(self, channel: Channel) -> Provider:
        make = self._makers.get(channel.provider)
        if make is None:
            raise UnavailableError(f"no adapter for provider {channel.provider!r}")
        named = ("project", "location")
        creds = Credentials(
            api_key=channel.api_key,
            base_url=channel.base_url,
            secrets={k: v for k, v in channel.secrets.items() if k not in named},
            project=channel.secrets.get("project", ""),
            location=channel.secrets.get("location", ""),
        )
        return make(creds)

    async def load(self) -> None:
        """The channels as the store has them now, each with its adapter."""
        self.channels = await self._store.all()
        found: list[tuple[Channel, Provider]] = []
        kept: dict[tuple[str, float], Provider] = {}
        for channel in self.channels:
            # An unchanged channel keeps its adapter (and what it holds: Kling's token).
            version = (channel.id, channel.updated_at)
            adapter = self._adapters.get(version)
            if adapter is None:
                try:
                    adapter = Watched(self.adapter_of(channel), channel.id, self._seen)
                except UnavailableError:
                    log.warning("channel of an unknown provider", channel=channel.id)
                    continue
            kept[version] = adapter
            found.append((channel, adapter))
        self._adapters = kept
        self._registry.set_channels(found)
        self._registry.down = {c.id for c in self.channels if not c.enabled}

    def _seen(self, channel_id: str, ok: bool) -> None:
        if self._health.record(channel_id, ok) and channel_id not in self._registry.down:
            self._registry.down.add(channel_id)  # at once here; in the store just after
            task = asyncio.get_running_loop().create_task(self.auto_disable(channel_id))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def auto_disable(self, channel_id: str) -> None:
        now = self._clock()
        reason = "too many failures in its recent calls"
        event = ChannelEvent(channel_id, now, "auto_disabled", reason)
        values = {"enabled": False, "auto_disabled_at": now, "reason": reason}
        await self._store.update(channel_id, values, event)
        self._health.forget(channel_id)
        log.warning("channel disabled", channel=channel_id, reason=reason)

    async def probe(self, channel: Channel) -> tuple[bool, str]:
        """A cheap real call on the channel: (whether it answered well, what happened)."""
        adapter = self.adapter_of(channel)
        try:
            probe = getattr(adapter, "probe", None)
            if probe is not None:
                await probe()
            elif channel.base_url:
                await _reachable(channel.base_url)
            return True, "answered"
        except ProviderError as exc:
            return False, f"{exc.code}: {exc.message}"

    async def probe_due(self) -> None:
        """Probe every channel that disabled itself and has rested; enable it if it answers."""
        now = self._clock()
        for channel in self.channels:
            at = channel.auto_disabled_at
            if channel.enabled or at is None or now < at + self._probe_after_s:
                continue
            ok, detail = await self.probe(channel)
            if ok:
                values = {"enabled": True, "auto_disabled_at": None, "reason": ""}
                event = ChannelEvent(channel.id, self._clock(), "probe_ok", detail)
                await self._store.update(channel.id, values, event)
                log.info("channel enabled again", channel=channel.id)
            else:
                event = ChannelEvent(channel.id, self._clock(), "probe_failed", detail)
                await self._store.update(channel.id, {"auto_disabled_at": self._clock()}, event)

    async def start(self) -> None:
        await self.load()
        self._task = asyncio.create_task(self._loop(), name="channels")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.probe_due()
                await self.load()
            except Exception:
                log.exception("channel refresh failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._pending):
            with contextlib.suppress(Exception):
                await task


async def _reachable(url: str) -> None:
    """Any answer below 500 from the base URL (bad credentials aside) counts as alive."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            if resp.status >= 500:
                raise UnavailableError(f"HTTP {resp.status} from {url}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UnavailableError(f"{url}: {exc}") from None
