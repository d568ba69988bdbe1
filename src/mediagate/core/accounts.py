"""Accounts, prices and the ledger's records: what is charged, held and spent. No SQL here."""

from __future__ import annotations

import enum
import math
import secrets
from fractions import Fraction

import msgspec

from mediagate.core.catalogue import GenerationParams, ModelSpec
from mediagate.core.errors import InsufficientBalanceError
from mediagate.core.money import text, to_micros


class Account(msgspec.Struct, frozen=True):
    """A balance that several keys spend from, with optional limits."""

    id: str
    name: str
    balance_micros: int
    created_at: float
    held_micros: int = 0
    daily_limit_micros: int | None = None
    monthly_limit_micros: int | None = None
    allowed_models: tuple[str, ...] | None = None  # None: every model
    disabled_at: float | None = None


def new_account_id() -> str:
    return f"acct_{secrets.token_hex(8)}"


class LimitsUpdate(msgspec.Struct, frozen=True):
    """A change to an account's limits; ``UNSET`` leaves a field as it is, None clears it."""

    daily_limit_micros: int | msgspec.UnsetType | None = msgspec.UNSET
    monthly_limit_micros: int | msgspec.UnsetType | None = msgspec.UNSET
    allowed_models: tuple[str, ...] | msgspec.UnsetType | None = msgspec.UNSET
    disabled: bool | msgspec.UnsetType = msgspec.UNSET


class Entry(enum.StrEnum):
    """Ledger row kinds. The balance is always the sum of every row's amount."""

    TOPUP = "topup"  # + money added by an admin
    HOLD = "hold"  # - the price, held at create
    RELEASE = "release"  # + the hold given back (on success it is replaced by a charge)
    CHARGE = "charge"  # - the price, spent: a succeeded task
    ADJUST = "adjust"  # +/- an admin correction


class Hold(msgspec.Struct, frozen=True):
    """What the store must hold, atomically with inserting the task."""

    account_id: str
    key_id: str
    model: str
    amount_micros: int
    day_start: float
    month_start: float


class UsageRow(msgspec.Struct, frozen=True):
    group: str
    tasks: int
    succeeded: int
    failed: int
    amount_micros: int
    cost_micros: int = 0  # what the vendors charged for the succeeded tasks
    requests: int = 0  # relayed requests (chat, ...) in the group; their cost is in amount
    tokens: int = 0  # their prompt and completion tokens


class LedgerEntry(msgspec.Struct, frozen=True):
    """One ledger row, as the console shows it."""

    at: float
    kind: str
    amount_micros: int
    task_id: str = ""
    key_id: str = ""
    model: str = ""
    note: str = ""


class LedgerProblem(msgspec.Struct, frozen=True):
    """One thing the ledger check found wrong."""

    account_id: str
    what: str


def price_micros(spec: ModelSpec, params: GenerationParams, override: str | None = None) -> int:
    """The task's price: per image, or per second of video, times the number of samples. An
    action with a price of its own (a Midjourney upscale) costs that, once."""
    action = spec.actions.get(params.action) if params.action else None
    if action is not None and action.price is not None:
        price = override if override is not None else action.price
        return to_micros(price, f"price of {spec.id} {params.action}")
    unit = to_micros(override if override is not None else spec.price, f"price of {spec.id}")
    per_sample = unit * (params.duration_seconds or 0) if spec.price_unit == "second" else unit
    total = Fraction(per_sample * params.sample_count)
    for name, param in spec.params.items():
        if param.price_factors:
            chosen = params.options.get(name, param.default)
            total *= Fraction(param.price_factors.get(str(chosen), "1"))
    return math.ceil(total)  # a fraction of a micro-dollar rounds up, never to free


def short_of(amount_micros: int, balance_micros: int) -> InsufficientBalanceError:
    """The refusal of a task the balance cannot pay for (at create, and at its hold)."""
    return InsufficientBalanceError(
        f"insufficient balance: this task costs {text(amount_micros)} and the account has "
        f"{text(balance_micros)}; top it up or choose a cheaper task"
    )
