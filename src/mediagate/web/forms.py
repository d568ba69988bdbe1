"""The playground's form, made from the catalogue: every model's ratios, durations, samples,
image roles and typed parameters become fields, so a new model needs no template work."""

from __future__ import annotations

from typing import Any

import msgspec

from mediagate.core.catalogue import ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.numbers import is_digits
from mediagate.core.params import ParamType


class Field(msgspec.Struct, frozen=True):
    name: str
    kind: str  # select, number, checkbox, text
    label: str
    choices: list[str] = []
    min: float | None = None
    max: float | None = None
    step: str = "any"
    default: str = ""


HIDDEN = {"state", "payload", "continue_clip_id", "continue_at", "index"}


def choices_of(spec: ModelSpec) -> list[Field]:
    """The fields for ``spec``'s own parameters (prompt, ratio and the rest are fixed)."""
    found = []
    for name, p in spec.params.items():
        if name in HIDDEN:
            continue
        default = (
            ""
            if p.default is None
            else str(p.default).lower()
            if p.type is ParamType.BOOL
            else str(p.default)
        )
        label = p.description or name.replace("_", " ")
        if p.type is ParamType.ENUM:
            found.append(Field(name, "select", label, ["", *p.values], default=default))
        elif p.type is ParamType.BOOL:
            found.append(Field(name, "checkbox", label, default=default))
        elif p.type in (ParamType.INT, ParamType.FLOAT):
            step = "1" if p.type is ParamType.INT else "any"
            found.append(
                Field(name, "number", label, min=p.min, max=p.max, step=step, default=default)
            )
        else:
            found.append(Field(name, "text", label, default=default))
    return found


def options_from(spec: ModelSpec, form: Any) -> dict[str, Any]:
    """``TaskService.create``'s keyword arguments from the submitted form."""
    kwargs: dict[str, Any] = {}
    ratio = str(form.get("aspect_ratio") or "")
    if ratio:
        kwargs["aspect_ratio"] = ratio
    duration = str(form.get("duration_seconds") or "")
    if duration:
        if not is_digits(duration):
            raise InvalidRequestError("duration_seconds", "must be a whole number")
        kwargs["duration_seconds"] = int(duration)
    samples = str(form.get("sample_count") or "")
    if samples:
        if not is_digits(samples):
            raise InvalidRequestError("sample_count", "must be a whole number")
        kwargs["sample_count"] = int(samples)
    image = str(form.get("image_url") or "").strip()
    if image:
        kwargs["images"] = [image]
        if spec.image_roles:
            kwargs["roles"] = [spec.image_roles[0]]
    options: dict[str, object] = {}
    for field in choices_of(spec):
        value = form.get(field.name)
        if field.kind == "checkbox":
            options[field.name] = value in ("on", "true", "1")
        elif value not in (None, ""):
            options[field.name] = str(value)
    if options:
        kwargs["options"] = options
    return kwargs
