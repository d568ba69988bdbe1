"""Exact money: amounts are integer micro-units (1 credit = 1,000,000), never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from mediagate.core.errors import InvalidRequestError

MICROS = 1_000_000


def to_micros(value: str | int | float, param: str = "amount") -> int:
    """A decimal amount (``"0.03"``) as micros; more than 6 decimals is refused, not rounded."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidRequestError(param, f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise InvalidRequestError(param, f"{value!r} is not a finite number")
    micros = amount * MICROS
    if micros != micros.to_integral_value():
        raise InvalidRequestError(param, f"{value!r} has more than 6 decimal places")
    return int(micros)


def from_micros(micros: int) -> float:
    """For JSON answers: exact for every amount below 2**53 micros (9 billion credits)."""
    return micros / MICROS


def text(micros: int) -> str:
    """An amount as an exact decimal string, for tables and logs."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS)
    return f"{sign}{whole}.{frac:06d}".rstrip("0").rstrip(".") if frac else f"{sign}{whole}"
