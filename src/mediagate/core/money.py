"""Exact money: amounts are integer micro-units (1 credit = 1,000,000), never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from mediagate.core.errors import InvalidRequestError
from mediagate.core.numbers import shown

MICROS = 1_000_000
MAX_AMOUNT = 1_000_000_000  # credits in one top-up, adjustment, limit or price
# A balance never passes this: every balance is then exact as a JSON number (< 2**53 micros).
MAX_BALANCE_MICROS = 9_000_000_000 * MICROS


def to_micros(value: str | int | float, param: str = "amount") -> int:
    """A decimal amount (``"0.03"``) as micros; more than 6 decimals is refused, not rounded,
    and so is anything over MAX_AMOUNT."""
    raw = str(value).strip()
    if len(raw) > 40:
        raise InvalidRequestError(param, f"{shown(value)} is too long for an amount")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise InvalidRequestError(param, f"{shown(value)} is not a number") from None
    if not amount.is_finite():
        raise InvalidRequestError(param, f"{shown(value)} is not a finite number")
    if abs(amount) > MAX_AMOUNT:
        raise InvalidRequestError(param, f"{shown(value)} is over the maximum, {MAX_AMOUNT}")
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
