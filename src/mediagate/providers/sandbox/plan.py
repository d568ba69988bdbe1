"""What a sandbox family renderer returns: the texts and the files a task makes, each file a
picklable render call that the sandbox runs in its process pool.

A family (``ModelSpec.family``) has a module ``mediagate.providers.sandbox.<family>`` with
``plan(request) -> Plan``; the sandbox finds it by name, so a family adds its renderer
without touching the sandbox provider."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from mediagate.core.provider import GenerationRequest, TextResult


class FilePlan(msgspec.Struct, frozen=True):
    content_type: str
    render: Callable[[], bytes]  # a functools.partial of a module-level function
    width: int = 0
    height: int = 0
    duration_seconds: float | None = None
    fps: int | None = None
    role: str = ""
    title: str = ""


class Plan(msgspec.Struct, frozen=True):
    files: list[FilePlan]
    texts: tuple[TextResult, ...] = ()


PlanFn = Callable[[GenerationRequest], Plan]
