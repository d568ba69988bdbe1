"""Channels (new-api's word; LiteLLM calls them deployments): several credentials for one
provider, each with a weight, a priority, a cap, its own base URL and an enabled flag.

Routing takes the healthy channels of a route's provider with the highest priority and picks
one by weight. A channel whose recent calls fail too often (``Health``) is disabled by
itself, probed later with a cheap real call, and enabled again when it answers; every change
is recorded. A task keeps the channel that served it in its provider name,
``<provider>@<channel id>``, a stable id."""

from __future__ import annotations

import random
import secrets
from collections import deque

import msgspec

SEP = "@"
WINDOW = 20  # the calls a channel's health is judged on
MIN_FAILURES = 5  # ...of which at least this many failed,
FAIL_RATIO = 0.5  # ...and at least this share: the channel is disabled
PROBE_AFTER_S = 30.0  # how long a disabled channel rests before it is probed


class Channel(msgspec.Struct, frozen=True):
    id: str
    provider: str
    api_key: str
    name: str = ""
    base_url: str = ""
    secrets: dict[str, str] = {}
    weight: int = 1
    priority: int = 0
    max_running: int = 0
    enabled: bool = True
    auto_disabled_at: float | None = None
    reason: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def provider_name(self) -> str:
        """What a task records: the provider and this channel's stable id."""
        return f"{self.provider}{SEP}{self.id}"


class ChannelEvent(msgspec.Struct, frozen=True):
    channel_id: str
    at: float
    event: str  # created, updated, enabled, disabled, auto_disabled, probe_ok, probe_failed
    detail: str = ""


def new_channel_id() -> str:
    return f"ch_{secrets.token_hex(6)}"


def split(provider_name: str) -> tuple[str, str]:
    """(provider, channel id or "") from a task's provider name."""
    base, _, channel = provider_name.partition(SEP)
    return base, channel


def pick(channels: list[Channel], rng: random.Random, exclude: str = "") -> Channel | None:
    """The highest priority's channels, one chosen by weight; None when none is usable."""
    usable = [c for c in channels if c.enabled and c.id != exclude and c.weight > 0]
    if not usable:
        return None
    top = max(c.priority for c in usable)
    best = [c for c in usable if c.priority == top]
    return rng.choices(best, weights=[c.weight for c in best])[0]


class Health:
    """Each channel's last WINDOW outcomes in this process; ``failing`` says when it should
    be disabled."""

    def __init__(self) -> None:
        self._calls: dict[str, deque[bool]] = {}

    def record(self, channel_id: str, ok: bool) -> bool:
        """Record one call; True when this call made the channel one to disable."""
        calls = self._calls.setdefault(channel_id, deque(maxlen=WINDOW))
        calls.append(ok)
        failed = calls.count(False)
        return not ok and failed >= MIN_FAILURES and failed >= FAIL_RATIO * len(calls)

    def forget(self, channel_id: str) -> None:
        self._calls.pop(channel_id, None)
