"""GET /v1/models: the catalogue with each model's parameters and where it runs here."""

from __future__ import annotations

import time
from typing import Any, cast

import msgspec
from litestar import Request, Response, Router, get

from mediagate.api.common import runtime_of
from mediagate.api.openai_shared import error_response
from mediagate.core.catalogue import ModelSpec
from mediagate.core.errors import AuthenticationError, InvalidRequestError
from mediagate.core.text import TextKind, TextModel


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
    # The open part (empty for a plain model): family, typed parameters, image roles, the
    # kinds of output and the actions a result allows, with their rules and prices.
    family: str = ""
    outputs: list[str] = []
    image_roles: list[str] = []
    params: dict[str, Any] = {}
    actions: dict[str, Any] = {}
    wire_name: str = ""
    alias_of: str | None = None  # for another name of a catalogue model (dall-e-3)


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
        family=spec.family,
        outputs=[k.value for k in spec.output_kinds],
        image_roles=list(spec.image_roles),
        params={k: msgspec.to_builtins(v) for k, v in spec.params.items()},
        actions={k: msgspec.to_builtins(v) for k, v in spec.actions.items()},
        wire_name=spec.wire_name,
    )


def text_entry(model: TextModel, live: bool) -> ModelEntry:
    """A text or audio model in the same list: kind ``text`` (chat, completions),
    ``embedding``, ``speech``, ``transcription`` or ``realtime``, with its context window and
    its limits where the media rules would be."""
    chatty = model.kind in (TextKind.CHAT, TextKind.COMPLETION)
    kind = "text" if chatty else model.kind.value  # embedding, speech, transcription, realtime
    return ModelEntry(
        id=model.id, object="model", created=CATALOGUE_DATE, owned_by=model.vendor,
        title=model.id, kind=kind, format="json", content_type="application/json",
        vendor=model.vendor, aspect_ratios=[], default_aspect_ratio="", sizes={},
        image_input="image_url" if model.vision else "none", max_images=0, durations=[],
        default_duration=None, fps=None, max_samples=128, deadline_s=600, sandbox=True,
        live=live, family=model.kind.value,
        params={"context": model.context, "max_output": model.max_output,
                "dimensions": model.dimensions},
    )  # fmt: skip


LIST_CACHE_S = 2.0  # the list is made again this often: channels may make models live
_cached: dict[int, tuple[float, bytes]] = {}  # id(runtime) -> (made at, the encoded list)


async def _key_refused(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """The list is public (the CLI and probes read it without a key), but a key that is
    sent must be valid: an SDK with a wrong or revoked key learns so here, as from OpenAI."""
    header = request.headers.get("authorization")
    if not header:
        return None
    try:
        await runtime_of(request).keys.authenticate(header)
    except AuthenticationError as exc:
        return error_response(401, "invalid_request_error", "invalid_api_key", exc.message)
    return None


@get("/v1/models", summary="List models and their parameters")
async def list_models(request: Request[Any, Any, Any]) -> Response[ModelList]:
    """Encoded once every LIST_CACHE_S per process: with every family's parameters and
    actions the list is some 100 KB, and clients read it often."""
    rt = runtime_of(request)
    if (refused := await _key_refused(request)) is not None:
        return cast("Response[ModelList]", refused)
    now = time.monotonic()
    hit = _cached.get(id(rt))
    if hit is None or now - hit[0] > LIST_CACHE_S:
        models = rt.catalogue.models.values()
        data = [model_entry(spec, rt.providers.is_live(spec)) for spec in models]
        for alias, target in sorted(rt.catalogue.aliases.items()):  # what retrieve knows
            spec = rt.catalogue.get(target)
            entry = model_entry(spec, rt.providers.is_live(spec))
            data.append(msgspec.structs.replace(entry, id=alias, alias_of=spec.id))
        for text_model in rt.relay.catalogue.models.values():
            data.append(
                text_entry(text_model, rt.providers.next_route(text_model.id, -1) is not None)
            )
        hit = (now, msgspec.json.encode(ModelList(object="list", data=data)))
        _cached.clear()
        _cached[id(rt)] = hit
    # Already encoded; the annotation documents its shape in /openapi.json.
    return cast("Response[ModelList]", Response(hit[1], media_type="application/json"))


@get("/v1/models/{model_id:str}", summary="One model (OpenAI's models.retrieve)")
async def retrieve_model(request: Request[Any, Any, Any], model_id: str) -> Response[Any]:
    """By id or alias (``dall-e-3``); the answer carries the name asked for, and
    ``alias_of`` names the catalogue model behind an alias."""
    rt = runtime_of(request)
    if (refused := await _key_refused(request)) is not None:
        return refused
    text_model = rt.relay.catalogue.find(model_id)
    if text_model is not None:
        live = rt.providers.next_route(text_model.id, -1) is not None
        return Response(msgspec.structs.replace(text_entry(text_model, live), id=model_id))
    try:
        spec = rt.catalogue.get(model_id)
    except InvalidRequestError:
        return error_response(
            404,
            "invalid_request_error",
            "model_not_found",
            f"The model {model_id!r} does not exist",
        )
    entry = model_entry(spec, rt.providers.is_live(spec))
    alias_of = spec.id if model_id != spec.id else None
    return Response(msgspec.structs.replace(entry, id=model_id, alias_of=alias_of))


router = Router(path="/", route_handlers=[list_models, retrieve_model], tags=["models"])
