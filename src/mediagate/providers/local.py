"""The gateway's own image tools as a provider for live keys (the ``local`` route): the
``local`` family's work (``providers/sandbox/local.py``), run in the render pool at once, with
nothing to call and no credentials. Test keys get the same work through the sandbox."""

from __future__ import annotations

from concurrent.futures import Executor

from mediagate.core.provider import Clock
from mediagate.providers.sandbox.provider import SandboxProvider


class LocalProvider(SandboxProvider):
    name = "local"

    def __init__(self, clock: Clock, executor: Executor | None = None) -> None:
        super().__init__(clock, 0.0, executor)
