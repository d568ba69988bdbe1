"""Bounded parsing of numbers that come from outside: ASCII digits only, a few of them, so no
input (Unicode digits, 5,000-digit strings, huge floats) reaches int() or float() unchecked."""

from __future__ import annotations

from mediagate.core.errors import InvalidRequestError

MAX_DIGITS = 9  # every count, size and duration mediagate takes fits in nine digits


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)``, cut short: error messages echo input, never all of it."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_digits(text: str, max_digits: int = MAX_DIGITS) -> bool:
    """True for 1 to ``max_digits`` ASCII digits (``str.isdigit`` also takes superscripts
    and the digits of other scripts, which ``int()`` then reads or rejects)."""
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


def whole_number(value: str | int | None, param: str) -> int | None:
    """An integer given as JSON number or text (a form field); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidRequestError(param, f"{shown(value)} is not a whole number")
    if isinstance(value, int):
        if abs(value) >= 10**MAX_DIGITS:
            raise InvalidRequestError(param, f"{shown(value)} is out of range")
        return value
    text = value.strip()
    if not is_digits(text.removeprefix("-")):
        raise InvalidRequestError(param, f"{shown(value)} is not a whole number")
    return int(text)
