"""Accounts and the ledger: atomic holds at create, settle-or-release at the end, top-ups,
usage sums and the check that every balance equals its ledger."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from mediagate.core.accounts import (
    Account,
    Entry,
    Hold,
    LedgerEntry,
    LedgerProblem,
    LimitsUpdate,
    UsageRow,
    short_of,
)
from mediagate.core.errors import (
    InsufficientBalanceError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from mediagate.core.money import MAX_BALANCE_MICROS, text
from mediagate.core.tasks import TERMINAL, Charge, Status
from mediagate.store.db import Database
from mediagate.store.schema import accounts, ledger, requests_log, tasks

_models = msgspec.json.Decoder(tuple[str, ...])
_SPENDING = [Charge.HELD.value, Charge.SETTLED.value]


def _account(row: Any, held: int = 0) -> Account:
    return _account_from(row._mapping, held)


def _account_from(m: Any, held: int = 0) -> Account:
    models = m["allowed_models"]
    return Account(
        id=m["id"],
        name=m["name"],
        balance_micros=m["balance_micros"],
        created_at=m["created_at"],
        held_micros=held,
        daily_limit_micros=m["daily_limit_micros"],
        monthly_limit_micros=m["monthly_limit_micros"],
        allowed_models=_models.decode(models) if models is not None else None,
        disabled_at=m["disabled_at"],
    )


_INSERT_ENTRY = ledger.insert()


async def _entry(
    conn: AsyncConnection,
    account_id: str,
    kind: Entry,
    amount: int,
    now: float,
    *,
    task_id: str | None = None,
    key_id: str | None = None,
    model: str | None = None,
    note: str = "",
) -> None:
    await conn.execute(
        _INSERT_ENTRY,
        dict(
            account_id=account_id,
            key_id=key_id,
            task_id=task_id,
            model=model,
            kind=kind.value,
            amount_micros=amount,
            at=now,
            note=note,
        ),
    )


async def _spent_since(conn: AsyncConnection, account_id: str, since: float) -> int:
    """Held or charged prices of tasks created since ``since``: what a spend limit counts."""
    query = sa.select(sa.func.coalesce(sa.func.sum(tasks.c.price_micros), 0)).where(
        tasks.c.account_id == account_id,
        tasks.c.created_at >= since,
        tasks.c.charge.in_(_SPENDING),
    )
    tasks_spent = int((await conn.execute(query)).scalar() or 0)
    relayed = sa.select(sa.func.coalesce(sa.func.sum(requests_log.c.cost_micros), 0)).where(
        requests_log.c.account_id == account_id, requests_log.c.created_at >= since
    )
    return tasks_spent + int((await conn.execute(relayed)).scalar() or 0)


async def hold(conn: AsyncConnection, h: Hold, task_id: str, now: float) -> None:
    """Hold the price inside the create's transaction: spend limits first, then a conditional
    UPDATE that cannot overdraw. Raises (rolling the create back) if either refuses."""
    # FOR UPDATE: on PostgreSQL concurrent holds on one account queue here, so the spend
    # limits below are read and honoured one create at a time (SQLite's writes already are).
    query = sa.select(accounts).where(accounts.c.id == h.account_id).with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        raise PermissionDeniedError(f"account {h.account_id} does not exist")
    acct = _account(row)
    for label, limit, since in (
        ("daily", acct.daily_limit_micros, h.day_start),
        ("monthly", acct.monthly_limit_micros, h.month_start),
    ):
        if limit is None:
            continue
        spent = await _spent_since(conn, acct.id, since)
        if spent + h.amount_micros > limit:
            raise InsufficientBalanceError(
                f"this task costs {text(h.amount_micros)}, and the account's {label} spend "
                f"limit is {text(limit)} with {text(spent)} already spent",
                code="spend_limit_exceeded",
            )
    res = await conn.execute(
        accounts.update()
        .where(accounts.c.id == acct.id, accounts.c.balance_micros >= h.amount_micros)
        .values(balance_micros=accounts.c.balance_micros - h.amount_micros)
    )
    if not res.rowcount:
        raise short_of(h.amount_micros, acct.balance_micros)
    await _entry(
        conn, acct.id, Entry.HOLD, -h.amount_micros, now,
        task_id=task_id, key_id=h.key_id, model=h.model,
    )  # fmt: skip


async def settle(conn: AsyncConnection, task_id: str, status: Status, now: float) -> None:
    """At a task's terminal move, in the same transaction: a success turns its hold into a
    charge, anything else releases it. The charge column makes it happen at most once."""
    if status not in TERMINAL:
        return
    final = Charge.SETTLED if status is Status.DONE else Charge.RELEASED
    row = (
        await conn.execute(
            tasks.update()
            .where(tasks.c.id == task_id, tasks.c.charge == Charge.HELD.value)
            .values(charge=final.value)
            .returning(tasks.c.account_id, tasks.c.key_id, tasks.c.model, tasks.c.price_micros)
        )
    ).first()
    if row is None:
        return
    account_id, key_id, model, price = row
    ids = {"task_id": task_id, "key_id": key_id, "model": model}
    await _entry(conn, account_id, Entry.RELEASE, price, now, **ids, note=status.value)
    if final is Charge.SETTLED:
        await _entry(conn, account_id, Entry.CHARGE, -price, now, **ids)
    else:
        await conn.execute(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(balance_micros=accounts.c.balance_micros + price)
        )


class AccountRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, account: Account) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                accounts.insert().values(
                    id=account.id,
                    name=account.name,
                    balance_micros=0,
                    daily_limit_micros=account.daily_limit_micros,
                    monthly_limit_micros=account.monthly_limit_micros,
                    allowed_models=_encode_models(account.allowed_models),
                    created_at=account.created_at,
                )
            )

    async def get(self, account_id: str, with_held: bool = True) -> Account | None:
        """The account; ``with_held`` also sums the prices its unfinished tasks hold."""
        point = self._db.point_read() if not with_held else None
        if point is not None:  # the check on every create: one point read
            found = point.execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchall()
            return _account_from(found[0]) if found else None
        async with self._db.read() as conn:
            row = (
                await conn.execute(sa.select(accounts).where(accounts.c.id == account_id))
            ).first()
            if row is None:
                return None
            held = await self._held(conn, account_id) if with_held else 0
        return _account(row, held)

    async def _held(self, conn: AsyncConnection, account_id: str) -> int:
        query = sa.select(sa.func.coalesce(sa.func.sum(tasks.c.price_micros), 0)).where(
            tasks.c.account_id == account_id, tasks.c.charge == Charge.HELD.value
        )
        return int((await conn.execute(query)).scalar() or 0)

    async def spent_since(self, account_id: str, since: float) -> int:
        """What the account's tasks and relayed requests spent (or hold) since ``since``."""
        async with self._db.read() as conn:
            return await _spent_since(conn, account_id, since)

    async def list_accounts(self) -> list[Account]:
        async with self._db.read() as conn:
            rows = (await conn.execute(sa.select(accounts).order_by(accounts.c.created_at))).all()
        return [_account(r) for r in rows]

    async def update(self, account_id: str, change: LimitsUpdate, now: float) -> None:
        values: dict[str, object] = {}
        if change.daily_limit_micros is not msgspec.UNSET:
            values["daily_limit_micros"] = change.daily_limit_micros
        if change.monthly_limit_micros is not msgspec.UNSET:
            values["monthly_limit_micros"] = change.monthly_limit_micros
        if change.allowed_models is not msgspec.UNSET:
            values["allowed_models"] = _encode_models(change.allowed_models)
        if change.disabled is not msgspec.UNSET:
            values["disabled_at"] = now if change.disabled else None
        if not values:
            return
        async with self._db.write() as conn:
            res = await conn.execute(
                accounts.update().where(accounts.c.id == account_id).values(**values)
            )
        if not res.rowcount:
            raise NotFoundError(f"account {account_id!r} not found")

    async def credit(
        self, account_id: str, amount: int, kind: Entry, note: str, now: float
    ) -> None:
        """A top-up or an adjustment: balance and ledger move together; never below zero."""
        async with self._db.write() as conn:
            res = await conn.execute(
                accounts.update()
                .where(
                    accounts.c.id == account_id,
                    accounts.c.balance_micros + amount >= 0,
                    accounts.c.balance_micros + amount <= MAX_BALANCE_MICROS,
                )
                .values(balance_micros=accounts.c.balance_micros + amount)
            )
            if not res.rowcount:
                exists = (
                    await conn.execute(sa.select(accounts.c.id).where(accounts.c.id == account_id))
                ).first()
                if exists is None:
                    raise NotFoundError(f"account {account_id!r} not found")
                if amount > 0:
                    raise InvalidRequestError(
                        "amount",
                        f"would take the balance over the maximum, {text(MAX_BALANCE_MICROS)}",
                    )
                raise InsufficientBalanceError(
                    f"an adjustment of {text(amount)} would take the balance below zero"
                )
            await _entry(conn, account_id, kind, amount, now, note=note)

    async def check(self) -> list[LedgerProblem]:
        """Every way the books could disagree: balance vs ledger sum, held tasks vs holds."""
        problems: list[LedgerProblem] = []
        async with self._db.read() as conn:
            sums = dict(
                (
                    await conn.execute(
                        sa.select(
                            ledger.c.account_id, sa.func.sum(ledger.c.amount_micros)
                        ).group_by(ledger.c.account_id)
                    )
                ).all()
            )
            for acct_id, balance in (
                await conn.execute(sa.select(accounts.c.id, accounts.c.balance_micros))
            ).all():
                total = int(sums.get(acct_id) or 0)
                if total != balance:
                    problems.append(
                        LedgerProblem(acct_id, f"balance {text(balance)} != ledger {text(total)}")
                    )
                if balance < 0:
                    problems.append(LedgerProblem(acct_id, f"negative balance {text(balance)}"))
            per_task = (
                await conn.execute(
                    sa.select(
                        tasks.c.id,
                        tasks.c.account_id,
                        tasks.c.status,
                        tasks.c.charge,
                        tasks.c.price_micros,
                        sa.func.coalesce(sa.func.sum(ledger.c.amount_micros), 0),
                        sa.func.count(ledger.c.id),
                    )
                    .select_from(tasks.outerjoin(ledger, ledger.c.task_id == tasks.c.id))
                    .where(tasks.c.charge != Charge.NONE.value)
                    .group_by(tasks.c.id)
                )
            ).all()
            per_request = (
                await conn.execute(
                    sa.select(
                        requests_log.c.id,
                        requests_log.c.account_id,
                        requests_log.c.cost_micros,
                        sa.func.coalesce(sa.func.sum(ledger.c.amount_micros), 0),
                        sa.func.count(ledger.c.id),
                    )
                    .select_from(
                        requests_log.outerjoin(ledger, ledger.c.request_id == requests_log.c.id)
                    )
                    .group_by(requests_log.c.id)
                )
            ).all()
        for request_id, acct_id, cost, net, rows in per_request:
            if net != -cost or rows != (1 if cost else 0):  # one charge, of its cost
                problems.append(
                    LedgerProblem(
                        acct_id,
                        f"request {request_id} costs {text(cost)} but has {rows} ledger rows "
                        f"netting {text(net)}",
                    )
                )
        expected = {Charge.HELD: (-1, 1), Charge.SETTLED: (-1, 3), Charge.RELEASED: (0, 2)}
        for task_id, acct_id, status, charge, price, net, rows in per_task:
            factor, count = expected[Charge(charge)]
            terminal = Status(status) in TERMINAL
            if net != factor * price or rows != count or terminal == (charge == Charge.HELD):
                problems.append(
                    LedgerProblem(
                        acct_id,
                        f"task {task_id} ({status}, {charge}) has {rows} ledger rows "
                        f"netting {text(net)} for a price of {text(price)}",
                    )
                )
        return problems

    async def usage(
        self, account_id: str | None, start: float, end: float, group_by: str, key_id: str | None
    ) -> list[UsageRow]:
        """Tasks created in [start, end) grouped by model, UTC day, key or provider, with what
        they cost the account (settled charges only: failures and cancels cost nothing) and
        what the vendors charged for them (the routes' costs), so margins show."""
        group = {
            "model": tasks.c.model,
            "key": tasks.c.key_id,
            "provider": tasks.c.provider,
            "day": sa.func.strftime("%Y-%m-%d", tasks.c.created_at, "unixepoch")
            if self._db.is_sqlite
            else sa.func.to_char(
                sa.func.timezone("UTC", sa.func.to_timestamp(tasks.c.created_at)), "YYYY-MM-DD"
            ),
        }[group_by]
        settled = tasks.c.charge == Charge.SETTLED.value
        query = (
            sa.select(
                group.label("g"),
                sa.func.count(),
                sa.func.sum(sa.case((tasks.c.status == Status.DONE.value, 1), else_=0)),
                sa.func.sum(sa.case((tasks.c.status == Status.FAILED.value, 1), else_=0)),
                sa.func.coalesce(sa.func.sum(sa.case((settled, tasks.c.price_micros), else_=0)), 0),
                sa.func.coalesce(sa.func.sum(sa.case((settled, tasks.c.cost_micros), else_=0)), 0),
            )
            .where(tasks.c.created_at >= start, tasks.c.created_at < end)
            .group_by("g")
            .order_by("g")
        )
        if key_id is not None:
            query = query.where(tasks.c.key_id == key_id)
        if account_id is not None:  # None: every account (the admin's overview)
            query = query.where(tasks.c.account_id == account_id)
        relayed = self._relayed(account_id, start, end, group_by, key_id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
            text_rows = (await conn.execute(relayed)).all()
        found = {
            str(g): UsageRow(str(g), int(n), int(ok or 0), int(bad or 0), int(a), int(c))
            for g, n, ok, bad, a, c in rows
        }
        for g, n, tokens, cost in text_rows:
            row = found.get(str(g), UsageRow(str(g), 0, 0, 0, 0))
            found[str(g)] = msgspec.structs.replace(
                row,
                amount_micros=row.amount_micros + int(cost or 0),
                requests=int(n),
                tokens=int(tokens or 0),
            )
        return [found[g] for g in sorted(found)]

    def _relayed(
        self, account_id: str | None, start: float, end: float, group_by: str, key_id: str | None
    ) -> Any:
        """Relayed requests in [start, end), grouped as ``usage`` groups tasks."""
        r = requests_log.c
        group = {
            "model": r.model,
            "key": r.key_id,
            "provider": r.provider,
            "day": sa.func.strftime("%Y-%m-%d", r.created_at, "unixepoch")
            if self._db.is_sqlite
            else sa.func.to_char(
                sa.func.timezone("UTC", sa.func.to_timestamp(r.created_at)), "YYYY-MM-DD"
            ),
        }[group_by]
        query = (
            sa.select(
                group.label("g"),
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(r.prompt_tokens + r.completion_tokens), 0),
                sa.func.coalesce(sa.func.sum(r.cost_micros), 0),
            )
            .where(r.created_at >= start, r.created_at < end)
            .group_by("g")
        )
        if account_id is not None:
            query = query.where(r.account_id == account_id)
        return query if key_id is None else query.where(r.key_id == key_id)

    async def entries(self, account_id: str, limit: int = 100) -> list[LedgerEntry]:
        """The account's ledger rows, newest first."""
        sql = (
            sa.select(ledger)
            .where(ledger.c.account_id == account_id)
            .order_by(ledger.c.id.desc())
            .limit(limit)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(sql)).all()
        return [
            LedgerEntry(
                at=r.at,
                kind=r.kind,
                amount_micros=r.amount_micros,
                task_id=r.task_id or "",
                key_id=r.key_id or "",
                model=r.model or "",
                note=r.note,
            )
            for r in rows
        ]

    async def charged(self, account_id: str) -> int:
        """The sum of every charge row: what the account has spent, per the ledger."""
        query = sa.select(sa.func.coalesce(sa.func.sum(ledger.c.amount_micros), 0)).where(
            ledger.c.account_id == account_id, ledger.c.kind == Entry.CHARGE.value
        )
        async with self._db.read() as conn:
            return -int((await conn.execute(query)).scalar() or 0)


def _encode_models(models: tuple[str, ...] | None) -> str | None:
    return None if models is None else msgspec.json.encode(list(models)).decode()
