"""Channels in memory: routing by priority then weight, the health rule, and adapters kept
while their channel is unchanged (Kling's token lives in its adapter)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mediagate.core.catalogue import Kind, default_catalogue
from mediagate.core.channels import MIN_FAILURES, Channel, ChannelEvent, Health, pick
from mediagate.core.errors import InvalidRequestError
from mediagate.providers.channels import ChannelManager


def test_pick_takes_the_top_priority_by_weight() -> None:
    rng = random.Random(1)
    top = [
        Channel("a", "ark", "k", priority=5, weight=1),
        Channel("b", "ark", "k", priority=5, weight=9),
    ]
    low = Channel("c", "ark", "k", priority=0)
    picks = [pick([*top, low], rng) for _ in range(500)]
    ids = [p.id for p in picks if p is not None]
    assert "c" not in ids and 350 < ids.count("b") < 490
    assert pick([*top, low], rng, exclude="b").id in ("a",)  # type: ignore[union-attr]
    off = [Channel("a", "ark", "k", enabled=False), Channel("z", "ark", "k", weight=0)]
    assert pick(off, rng) is None


def test_health_disables_after_enough_failures_only() -> None:
    health = Health()
    fresh = [health.record("new", False) for _ in range(MIN_FAILURES)]
    assert fresh[-1] and not any(fresh[:-1])  # a new channel: at its fifth failure
    assert not any(health.record("a", True) for _ in range(30))
    results = [health.record("a", False) for _ in range(10)]
    assert results[-1] and not any(results[:-1])  # after 20 good calls: half of them must fail


def test_family_models_by_their_wire_names() -> None:
    cat = default_catalogue()
    assert cat.family_model("kling", "kling-v2", kind=Kind.IMAGE).id == "kling-image-v2"
    with pytest.raises(InvalidRequestError) as err:
        cat.family_model("runway", "gen9", kind=Kind.VIDEO)
    assert err.value.param == "model" and "gen4_turbo" in err.value.allowed


class Store:
    def __init__(self, channels: list[Channel]) -> None:
        self.channels = channels

    async def all(self) -> list[Channel]:
        return list(self.channels)

    async def update(self, channel_id: str, values: dict[str, Any], event: ChannelEvent) -> bool:
        return True

    async def record(self, event: ChannelEvent) -> None:
        return None


class Registry:
    def __init__(self) -> None:
        self.found: list[tuple[Channel, Any]] = []
        self.down: set[str] = set()

    def set_channels(self, found: list[tuple[Channel, Any]]) -> None:
        self.found = found


async def test_adapters_are_kept_until_their_channel_changes() -> None:
    made: list[Any] = []

    def make(creds: Any) -> Any:
        made.append(creds)
        return object()

    store, registry = Store([Channel("a", "ark", "k1", updated_at=1.0)]), Registry()
    manager = ChannelManager(store, registry, {"ark": make}, lambda: 0.0)
    await manager.load()
    first = registry.found[0][1]
    await manager.load()
    assert registry.found[0][1] is first and len(made) == 1  # unchanged: the same adapter
    store.channels = [Channel("a", "ark", "k2", updated_at=2.0, enabled=False)]
    await manager.load()
    assert registry.found[0][1] is not first and made[-1].api_key == "k2"
    assert registry.down == {"a"}


def test_a_task_whose_channel_is_gone_runs_on_what_serves_its_provider() -> None:
    from mediagate.core.errors import UnavailableError
    from mediagate.providers.registry import ProviderRegistry

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

    sandbox, settings_ark, channel_ark = Named("sandbox"), Named("ark"), Named("ark@ch_a")
    registry = ProviderRegistry(sandbox)  # type: ignore[arg-type]
    ch = Channel("ch_a", "ark", "k")
    registry.set_channels([(ch, channel_ark)])  # type: ignore[list-item]
    assert registry.get("ark@ch_a") is channel_ark
    assert registry.get("ark@ch_gone") is channel_ark  # another channel of the provider
    registry.down = {"ch_a"}
    with pytest.raises(UnavailableError):
        registry.get("ark@ch_gone")  # nothing serves ark: the step fails over
    registry.add_live({"ark": settings_ark})  # type: ignore[dict-item]
    assert registry.get("ark@ch_gone") is settings_ark
