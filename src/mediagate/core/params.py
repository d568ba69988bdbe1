"""A model's own parameters and actions, described as catalogue data and validated generically.

A model lists its parameters in ``catalogue.toml`` (``[models.X.params.NAME]``) with a type
and its rules; a dialect passes whatever its wire format carries as one ``options`` document,
and ``check_options`` returns that document validated, converted and with defaults filled.
Errors name the parameter the way the dialect spells it (the dialect maps names).

Actions (upscale, variation, reroll, extend, ...) are the follow-ups a task's result allows:
each says which parent actions it may follow, its price and whether it waits for more input
from the caller (a "modal" in Midjourney's words) before it runs.
"""

from __future__ import annotations

import enum
import math
import re
from typing import Any

import msgspec

from mediagate.core.errors import InvalidRequestError

Value = str | int | float | bool


class ParamType(enum.StrEnum):
    INT = "int"
    FLOAT = "float"
    STR = "str"
    BOOL = "bool"
    ENUM = "enum"


class ParamSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One parameter: its type and rules. ``values`` for an enum; ``min``/``max`` for numbers;
    ``max_length`` for text."""

    type: ParamType
    values: list[str] = []
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    default: Value | None = None
    required: bool = False
    description: str = ""
    # Values this one sets on other parameters: Kling's mode "pro" means 1080p, so
    # ``implies = {pro = {resolution = "1080p"}}`` (the caller's own value of those wins).
    implies: dict[str, dict[str, Value]] = {}
    # For an enum that changes what the vendor charges: the price of each value relative to
    # the model's listed price, as exact decimals (Luma bills by the pixel: 1080p is 2.25x
    # the 720p price). A value missing here costs the listed price.
    price_factors: dict[str, str] = {}

    def allowed(self) -> list[str]:
        if self.type is ParamType.ENUM:
            return list(self.values)
        if self.type is ParamType.BOOL:
            return ["true", "false"]
        if self.type in (ParamType.INT, ParamType.FLOAT) and (
            self.min is not None or self.max is not None
        ):
            low = _num(self.min) if self.min is not None else ""
            high = _num(self.max) if self.max is not None else ""
            return [f"{low}..{high}"]
        if self.max_length is not None:
            return [f"text of at most {self.max_length} characters"]
        return []


class ActionSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A follow-up on a finished task. ``after``: the parent actions it may follow ("" is the
    first task, made without an action); ``waits``: it needs the caller's input before it
    runs, and is charged then; ``price``: what it costs (the model's price when unset)."""

    after: list[str]
    price: str | None = None
    waits: bool = False
    index: int = 0  # >0: the action takes an index 1..index (U1..U4)
    prompt: bool = False  # it may come with a prompt of its own
    title: str = ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def check_options(
    model: str, params: dict[str, ParamSpec], options: dict[str, Any] | None
) -> dict[str, Value]:
    """The options validated against ``params``: unknown names refused, types converted,
    rules checked, defaults filled. Raises InvalidRequestError naming the parameter."""
    given = dict(options or {})
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise InvalidRequestError(
            unknown[0], f"is not a parameter of {model}", sorted(params) or ["none"]
        )
    out: dict[str, Value] = {}
    for name, spec in params.items():
        raw = given.get(name)
        if raw is None:
            if spec.required:
                raise InvalidRequestError(name, f"is required by {model}", spec.allowed())
            if spec.default is not None:
                out[name] = spec.default
            continue
        out[name] = _check_value(name, spec, raw)
    for name, spec in params.items():
        implied = spec.implies.get(str(out.get(name, "")).lower() if name in out else "", {})
        for other, value in implied.items():
            if given.get(other) is None:
                out[other] = value
    return out


def _check_value(name: str, spec: ParamSpec, raw: Any) -> Value:
    if spec.type is ParamType.BOOL:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise InvalidRequestError(name, f"must be true or false, got {_show(raw)}")
    if spec.type in (ParamType.INT, ParamType.FLOAT):
        value = _number(name, spec, raw)
        if (spec.min is not None and value < spec.min) or (
            spec.max is not None and value > spec.max
        ):
            raise InvalidRequestError(name, f"{_num(value)} is out of range", spec.allowed())
        return value
    if not isinstance(raw, str):
        raise InvalidRequestError(name, f"must be a string, got {_show(raw)}", spec.allowed())
    if spec.type is ParamType.ENUM and raw not in spec.values:
        raise InvalidRequestError(name, f"{_show(raw)} is not supported", spec.allowed())
    if spec.max_length is not None and len(raw) > spec.max_length:
        raise InvalidRequestError(
            name, f"is {len(raw)} characters; at most {spec.max_length}", spec.allowed()
        )
    return raw


def _number(name: str, spec: ParamSpec, raw: Any) -> int | float:
    """An int or float from a JSON number or a decimal string of ASCII digits."""
    if isinstance(raw, bool):
        raise InvalidRequestError(name, f"must be a number, got {_show(raw)}", spec.allowed())
    if isinstance(raw, str):
        text = raw.strip()
        if not text or len(text) > 24 or not all(c in "0123456789.-+" for c in text):
            raise InvalidRequestError(name, f"must be a number, got {_show(raw)}", spec.allowed())
        try:
            raw = float(text) if any(c in text for c in ".") else int(text)
        except ValueError:
            raise InvalidRequestError(
                name, f"must be a number, got {_show(raw)}", spec.allowed()
            ) from None
    if isinstance(raw, float) and not math.isfinite(raw):
        raise InvalidRequestError(name, "must be a finite number", spec.allowed())
    if not isinstance(raw, int | float):
        raise InvalidRequestError(name, f"must be a number, got {_show(raw)}", spec.allowed())
    if spec.type is ParamType.INT:
        if isinstance(raw, float) and not raw.is_integer():
            raise InvalidRequestError(name, f"must be a whole number, got {raw}", spec.allowed())
        if abs(raw) > 2**53:
            raise InvalidRequestError(name, "is out of range", spec.allowed())
        return int(raw)
    return float(raw)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")


def check_entry(name: str, params: dict[str, ParamSpec], actions: dict[str, ActionSpec]) -> None:
    """A catalogue entry's parameters and actions make sense (raises ValueError)."""
    for pname, spec in params.items():
        for sets in spec.implies.values():
            unknown_params = sorted(set(sets) - set(params))
            if unknown_params:
                raise ValueError(f"catalogue entry {name}: {pname} implies {unknown_params}")
        if spec.type is ParamType.ENUM and not spec.values:
            raise ValueError(f"catalogue entry {name}: enum parameter {pname} has no values")
        if spec.price_factors and not set(spec.price_factors) <= set(spec.values):
            raise ValueError(f"catalogue entry {name}: {pname} prices values it does not take")
        for factor in spec.price_factors.values():
            if not _DECIMAL.fullmatch(factor):
                raise ValueError(f"catalogue entry {name}: {pname} factor {factor!r}")
        if spec.default is not None:
            try:
                _check_value(pname, spec, spec.default)
            except InvalidRequestError as exc:
                raise ValueError(f"catalogue entry {name}: default of {pname}: {exc}") from None
    for aname, action in actions.items():
        unknown = [a for a in action.after if a and a not in actions]
        if unknown:
            raise ValueError(f"catalogue entry {name}: action {aname} follows unknown {unknown}")
