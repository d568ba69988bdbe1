"""Which provider serves a task: test keys go to the sandbox; live routes come with vendors."""

from __future__ import annotations

from mediagate.core.catalogue import ModelSpec
from mediagate.core.errors import NotConfiguredError
from mediagate.core.tasks import Mode
from mediagate.providers.base import Provider


class ProviderRegistry:
    def __init__(
        self,
        sandbox: Provider,
        live: dict[str, Provider] | None = None,
        sandbox_live: bool = False,
    ) -> None:
        self._sandbox = sandbox
        self._sandbox_live = sandbox_live
        self._live = dict(live or {})
        self._by_name: dict[str, Provider] = {sandbox.name: sandbox, **self._live}

    def route(self, spec: ModelSpec, mode: Mode) -> str:
        """The provider name a new task of ``spec`` goes to; raises if none is configured."""
        if mode is Mode.TEST or (mode is Mode.LIVE and self._sandbox_live):
            return self._sandbox.name
        if spec.vendor in self._live:
            return spec.vendor
        raise NotConfiguredError(
            f"no live provider is configured for model {spec.id!r} on this deployment. "
            "Live keys need an upstream route with credentials for the model's vendor "
            f"({spec.vendor}), which this version cannot configure yet. Use a test key "
            "(mediagate keys create --test) to run every model on the built-in sandbox."
        )

    def get(self, name: str) -> Provider:
        return self._by_name[name]

    def is_live(self, spec: ModelSpec) -> bool:
        """Whether live keys can run ``spec`` on this deployment."""
        return self._sandbox_live or spec.vendor in self._live
