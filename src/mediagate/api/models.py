"""GET /v1/models: the catalogue with each model's parameters and where it runs here."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Router, get

from mediagate.api.common import runtime_of
from mediagate.core.catalogue import ModelSpec


class ModelEntry(msgspec.Struct):
    """OpenAI's model object (id, object, created, owned_by) plus the catalogue's rules."""

    id: str
    object: str
    created: int
    owned_by: str
    title: str
    kind: str
    format: str
    content_type: str
    vendor: str
    aspect_ratios: list[str]
    default_aspect_ratio: str
    sizes: dict[str, list[int]]
    image_input: str
    max_images: int
    durations: list[int]
    default_duration: int | None
    fps: int | None
    max_samples: int
    deadline_s: int
    sandbox: bool
    live: bool


CATALOGUE_DATE = 1763856000  # 2025-11-23: when this catalogue's entries were written


class ModelList(msgspec.Struct):
    object: str
    data: list[ModelEntry]


def model_entry(spec: ModelSpec, live: bool) -> ModelEntry:
    return ModelEntry(
        id=spec.id,
        object="model",
        created=CATALOGUE_DATE,
        owned_by=spec.vendor,
        title=spec.title,
        kind=spec.kind.value,
        format=spec.format,
        content_type=spec.content_type,
        vendor=spec.vendor,
        aspect_ratios=list(spec.aspect_ratios),
        default_aspect_ratio=spec.default_aspect_ratio,
        sizes={ar: list(size) for ar, size in spec.sizes.items()},
        image_input=spec.image_input.value,
        max_images=spec.max_images,
        durations=list(spec.durations),
        default_duration=spec.default_duration,
        fps=spec.fps,
        max_samples=spec.max_samples,
        deadline_s=spec.deadline_s,
        sandbox=True,
        live=live,
    )


@get("/v1/models", summary="List models and their parameters")
async def list_models(request: Request[Any, Any, Any]) -> ModelList:
    rt = runtime_of(request)
    data = [model_entry(spec, rt.providers.is_live(spec)) for spec in rt.catalogue.models.values()]
    return ModelList(object="list", data=data)


router = Router(path="/", route_handlers=[list_models], tags=["models"])
