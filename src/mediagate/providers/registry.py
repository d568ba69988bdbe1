"""Which provider serves a task. Test keys go to the sandbox; live keys follow the routes
file: the first route whose provider is configured, then the next ones on failover."""

from __future__ import annotations

import random
from importlib import resources
from pathlib import Path

import msgspec

from mediagate.core.catalogue import ModelSpec
from mediagate.core.channels import Channel, pick, split
from mediagate.core.errors import NotConfiguredError, UnavailableError
from mediagate.core.provider import Provider
from mediagate.core.tasks import Mode

SANDBOX_ROUTE = -1  # the route index of a task on the sandbox


class Route(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    provider: str
    model: str
    image_model: str = ""
    cost: str = "0"  # what the vendor charges, per image or second like the price
    name: str = ""  # a stable name; by default "<provider>/<model>"

    @property
    def key(self) -> str:
        """What a task records: the route stays the same when the file is reordered."""
        return self.name or f"{self.provider}/{self.model}"

    def upstream_model(self, has_images: bool) -> str:
        return self.image_model if has_images and self.image_model else self.model


class _ModelRoutes(msgspec.Struct, forbid_unknown_fields=True):
    routes: list[Route]


class _RoutesFile(msgspec.Struct, forbid_unknown_fields=True):
    models: dict[str, _ModelRoutes] = {}


def load_routes(user_file: Path | None = None) -> dict[str, list[Route]]:
    """The shipped routes, with each model listed in ``user_file`` replaced by its list."""
    text = resources.files("mediagate.providers").joinpath("routes.toml").read_bytes()
    table = {m: r.routes for m, r in msgspec.toml.decode(text, type=_RoutesFile).models.items()}
    if user_file is not None:
        user = msgspec.toml.decode(user_file.read_bytes(), type=_RoutesFile)
        table.update({m: r.routes for m, r in user.models.items()})
    return table


class ProviderRegistry:
    def __init__(
        self,
        sandbox: Provider,
        live: dict[str, Provider] | None = None,
        routes: dict[str, list[Route]] | None = None,
        sandbox_live: bool = False,
    ) -> None:
        self._sandbox = sandbox
        self._sandbox_live = sandbox_live
        self._live = dict(live or {})
        self._routes = dict(routes or {})
        self._by_name: dict[str, Provider] = {sandbox.name: sandbox, **self._live}
        # Channels: provider -> its channels; their adapters are in _by_name under
        # "<provider>@<channel id>". ``down`` holds the ones disabled for failing.
        self._channels: dict[str, list[Channel]] = {}
        self.down: set[str] = set()
        self._rng = random.Random()

    def set_channels(self, found: list[tuple[Channel, Provider]]) -> None:
        """The deployment's channels (from the database) with an adapter each; replaces the
        ones set before. Disabled channels keep their adapter (tasks on them can finish)."""
        channels: dict[str, list[Channel]] = {}
        for channel, adapter in found:
            channels.setdefault(channel.provider, []).append(channel)
            self._by_name[channel.provider_name] = adapter
        self._channels = channels

    def _usable(self, provider: str) -> list[Channel]:
        return [c for c in self._channels.get(provider, []) if c.id not in self.down]

    def configured(self, provider: str) -> bool:
        """The provider has credentials here: in settings, or an enabled channel."""
        return provider in self._live or pick(self._usable(provider), self._rng) is not None

    def choose(self, provider: str, exclude: str = "") -> str:
        """The name a new task runs under: one of the provider's channels (by priority,
        then weight) when it has any usable, else the provider from settings."""
        channel = pick(self._usable(provider), self._rng, exclude=exclude)
        if channel is not None:
            return channel.provider_name
        return provider

    def candidates(self, provider: str) -> list[str]:
        """Every name a relayed request may try for ``provider``, in order: one channel
        chosen as ``choose`` does, then its other usable channels by priority, then the
        provider from settings. (A request that fails on one moves to the next.)"""
        first = self.choose(provider)
        rest = sorted(self._usable(provider), key=lambda c: -c.priority)
        names = [first] + [c.provider_name for c in rest if c.provider_name != first]
        if provider in self._live and provider not in names:
            names.append(provider)
        return [n for n in names if n in self._by_name]

    def cap_of(self, provider_name: str) -> int:
        """A channel's own cap of tasks running at once (0: none)."""
        base, channel_id = split(provider_name)
        for channel in self._channels.get(base, []):
            if channel.id == channel_id:
                return channel.max_running
        return 0

    def sibling(self, provider_name: str) -> str | None:
        """Another usable channel of the same provider (or its settings credentials), for
        a task whose channel failed; None when there is none."""
        base, channel_id = split(provider_name)
        if not channel_id:
            return None
        other = pick(self._usable(base), self._rng, exclude=channel_id)
        if other is not None:
            return other.provider_name
        return base if base in self._live else None

    def add_live(self, providers: dict[str, Provider]) -> None:
        """Register the live adapters (built once an event loop and HTTP session exist)."""
        self._live.update(providers)
        self._by_name.update(providers)

    def route(self, spec: ModelSpec, mode: Mode) -> tuple[str, int]:
        """(provider name, route index) for a new task; raises if nothing can serve it."""
        if mode is Mode.TEST or (mode is Mode.LIVE and self._sandbox_live):
            return self._sandbox.name, SANDBOX_ROUTE
        found = self.next_route(spec.id, SANDBOX_ROUTE)
        if found is not None:
            return self.choose(found[1].provider), found[0]
        known = ", ".join(r.provider for r in self._routes.get(spec.id, [])) or "none"
        raise NotConfiguredError(
            f"no live provider is configured for model {spec.id!r} on this deployment "
            f"(its routes: {known}). Set the credentials of one of them, e.g. "
            "MEDIAGATE_ARK_API_KEY, or use a test key to run every model on the sandbox."
        )

    def next_route(self, model: str, after: int) -> tuple[int, Route] | None:
        """The first configured route after index ``after``."""
        for index, route in enumerate(self._routes.get(model, [])):
            if index > after and self.configured(route.provider):
                return index, route
        return None

    def routes_of(self, model: str) -> list[Route]:
        """Every route of the model, configured or not, in order."""
        return list(self._routes.get(model, []))

    def route_at(self, model: str, index: int) -> Route | None:
        routes = self._routes.get(model, [])
        return routes[index] if 0 <= index < len(routes) else None

    def name_of(self, model: str, index: int) -> str:
        """The stable name of a route ("" for the sandbox or an unknown index)."""
        route = self.route_at(model, index)
        return route.key if route is not None else ""

    def locate(self, model: str, index: int, name: str) -> tuple[int, Route | None]:
        """Where a task's route is in the routes as they are now: found by its stable name
        when the task has one (the file may have been edited since), else by index. A
        route that is gone is (its old index, None)."""
        if name:
            for i, route in enumerate(self._routes.get(model, [])):
                if route.key == name:
                    return i, route
            return index, None
        return index, self.route_at(model, index)

    def get(self, name: str) -> Provider:
        """The adapter a task runs on; a channel removed since falls back to its provider."""
        found = self._by_name.get(name) or self._by_name.get(self.choose(split(name)[0]))
        if found is None:  # its channel is gone and nothing else serves the provider
            raise UnavailableError(f"provider {name!r} has no credentials here any more")
        return found

    def is_live(self, spec: ModelSpec) -> bool:
        """Whether live keys can run ``spec`` on this deployment."""
        return self._sandbox_live or self.next_route(spec.id, SANDBOX_ROUTE) is not None

    def providers_of(self, spec: ModelSpec) -> list[str]:
        """The configured providers that can serve ``spec``, in route order."""
        return [r.provider for r in self._routes.get(spec.id, []) if self.configured(r.provider)]
