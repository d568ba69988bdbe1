"""The account service: accounts, limits, top-ups, balances, usage and the ledger check."""

from __future__ import annotations

import calendar
import datetime as dt
import time
from collections.abc import Callable

from mediagate.core.accounts import (
    Account,
    Entry,
    LedgerProblem,
    LimitsUpdate,
    UsageRow,
    new_account_id,
)
from mediagate.core.catalogue import Catalogue
from mediagate.core.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from mediagate.core.keys import KeyRecord
from mediagate.core.ports import AccountStore

GROUPS = ["model", "day", "key", "provider"]


def day_start(now: float) -> float:
    """Midnight UTC of ``now``'s day: where a daily spend limit starts counting."""
    return float(int(now) - int(now) % 86400)


def month_start(now: float) -> float:
    t = time.gmtime(now)
    return float(calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0)))


class AccountService:
    def __init__(
        self, store: AccountStore, catalogue: Catalogue, clock: Callable[[], float]
    ) -> None:
        self._store = store
        self._catalogue = catalogue
        self._clock = clock

    async def create(
        self,
        name: str,
        *,
        daily_limit_micros: int | None = None,
        monthly_limit_micros: int | None = None,
        allowed_models: list[str] | None = None,
    ) -> Account:
        if not name.strip():
            raise InvalidRequestError("name", "must be a non-empty string")
        account = Account(
            id=new_account_id(),
            name=name.strip(),
            balance_micros=0,
            created_at=self._clock(),
            daily_limit_micros=_limit("daily_limit", daily_limit_micros),
            monthly_limit_micros=_limit("monthly_limit", monthly_limit_micros),
            allowed_models=self._models(allowed_models),
        )
        await self._store.insert(account)
        return account

    def _models(self, models: list[str] | None) -> tuple[str, ...] | None:
        if models is None:
            return None
        for i, model in enumerate(models):
            if model not in self._catalogue.models:
                raise InvalidRequestError(
                    f"allowed_models[{i}]",
                    f"unknown model {model!r}",
                    sorted(self._catalogue.models),
                )
        return tuple(models)

    async def get(self, account_id: str) -> Account:
        account = await self._store.get(account_id)
        if account is None:
            raise NotFoundError(f"account {account_id!r} not found")
        return account

    async def list_accounts(self) -> list[Account]:
        return await self._store.list_accounts()

    async def update(self, account_id: str, change: LimitsUpdate) -> Account:
        if isinstance(change.daily_limit_micros, int):
            _limit("daily_limit", change.daily_limit_micros)
        if isinstance(change.monthly_limit_micros, int):
            _limit("monthly_limit", change.monthly_limit_micros)
        if isinstance(change.allowed_models, tuple):
            self._models(list(change.allowed_models))
        await self._store.update(account_id, change, self._clock())
        return await self.get(account_id)

    async def topup(self, account_id: str, amount_micros: int, note: str = "") -> Account:
        if amount_micros <= 0:
            raise InvalidRequestError("amount", "must be greater than zero")
        await self._store.credit(account_id, amount_micros, Entry.TOPUP, note, self._clock())
        return await self.get(account_id)

    async def adjust(self, account_id: str, amount_micros: int, note: str) -> Account:
        if not note.strip():
            raise InvalidRequestError("note", "an adjustment needs a reason")
        await self._store.credit(account_id, amount_micros, Entry.ADJUST, note, self._clock())
        return await self.get(account_id)

    async def check(self) -> list[LedgerProblem]:
        return await self._store.check()

    async def charged(self, account_id: str) -> int:
        return await self._store.charged(account_id)

    async def usage(
        self,
        account_id: str | None,
        start: float | None,
        end: float | None,
        group_by: str,
        key_id: str | None = None,
    ) -> list[UsageRow]:
        """Usage in [start, end): from the start of this month to now unless given."""
        if group_by not in GROUPS:
            raise InvalidRequestError("group_by", f"{group_by!r} is not supported", GROUPS)
        now = self._clock()
        start = month_start(now) if start is None else start
        end = now + 1 if end is None else end
        if end <= start:
            raise InvalidRequestError("to", "must be after from")
        return await self._store.usage(account_id, start, end, group_by, key_id)

    async def check_access(self, key: KeyRecord, model: str) -> None:
        """Refuse a key whose account is disabled or may not use ``model``."""
        account = await self._store.get(key.account_id, with_held=False)
        if account is None:
            raise PermissionDeniedError(f"account {key.account_id} does not exist")
        if account.disabled_at is not None:
            raise PermissionDeniedError(f"account {account.id} is disabled")
        if account.allowed_models is not None and model not in account.allowed_models:
            raise PermissionDeniedError(
                f"account {account.id} may not use {model}; allowed: "
                + (", ".join(account.allowed_models) or "none")
            )


def _limit(name: str, micros: int | None) -> int | None:
    if micros is not None and micros < 0:
        raise InvalidRequestError(name, "must be zero or more")
    return micros


def parse_time(value: str | None, param: str) -> float | None:
    """Unix seconds, or an ISO date / date-time (UTC unless it says otherwise)."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequestError(
            param,
            f"{value!r} is neither Unix seconds nor an ISO date",
            ["1764547200", "2026-11-01"],
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()
