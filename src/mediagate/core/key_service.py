"""API keys as a service: create, authenticate (from a short cache), revoke, and rotate a
key's webhook secret. No HTTP and no SQL here."""

from __future__ import annotations

import time
from collections.abc import Callable

from mediagate.core.accounts import Account, new_account_id
from mediagate.core.errors import AuthenticationError, NotFoundError
from mediagate.core.ids import new_task_id
from mediagate.core.keys import DEFAULT_ACCOUNT, KeyRecord, display_prefix, hash_key, new_key
from mediagate.core.ports import AccountStore, KeyStore
from mediagate.core.tasks import Mode
from mediagate.core.webhooks import new_secret


class KeyService:
    """Keys: create, authenticate, revoke. Authenticated keys are kept in memory for
    ``cache_s`` seconds (a monotonic clock), so a request costs no key read. A revoke through
    this service clears the cache at once; one made by another process is seen within
    ``cache_s``, or at once where the store signals it (``invalidate``, PostgreSQL NOTIFY)."""

    CACHE_MAX = 100_000

    def __init__(
        self,
        store: KeyStore,
        clock: Callable[[], float],
        accounts: AccountStore,
        cache_s: float = 0.0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._accounts = accounts
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, KeyRecord]] = {}

    def invalidate(self) -> None:
        """Forget every cached key (a key changed somewhere)."""
        self._cache.clear()

    async def _by_hash(self, key_hash: str) -> KeyRecord | None:
        if not self._cache_s:
            return await self._store.by_hash(key_hash)
        now = time.monotonic()
        hit = self._cache.get(key_hash)
        if hit is not None and hit[0] > now:
            return hit[1]
        record = await self._store.by_hash(key_hash)
        if record is not None:  # unknown keys are not cached: guessing cannot fill memory
            if len(self._cache) >= self.CACHE_MAX:
                self._cache.clear()
            self._cache[key_hash] = (now + self._cache_s, record)
        return record

    async def create(
        self, mode: Mode, name: str = "", account_id: str | None = None
    ) -> tuple[str, KeyRecord]:
        """Make a key; the plain key is returned once and never stored. Its webhook signing
        secret is made too and shown by ``webhook_secret`` (once per rotation).

        Without ``account_id``, a test or live key gets an account of its own (empty), so
        keys made for different people never see each other's usage; admin keys, which
        never spend, go on the default account."""
        key = new_key(mode)
        if account_id is None and mode is not Mode.ADMIN:
            label = name or f"key {display_prefix(key)}"
            account = Account(new_account_id(), label, balance_micros=0, created_at=self._clock())
            await self._accounts.insert(account)
            account_id = account.id
        account_id = account_id or DEFAULT_ACCOUNT
        if await self._accounts.get(account_id) is None:
            raise NotFoundError(f"account {account_id!r} not found")
        record = KeyRecord(
            id=new_task_id(self._clock()),
            prefix=display_prefix(key),
            mode=mode,
            name=name,
            created_at=self._clock(),
            account_id=account_id,
        )
        await self._store.insert(record, hash_key(key), new_secret())
        return key, record

    async def authenticate(self, header: str | None) -> KeyRecord:
        """Accept the raw key (gptunnel style) or ``Bearer <key>``."""
        if not header or not header.strip():
            raise AuthenticationError("missing API key: send it in the Authorization header")
        raw = header.strip()
        if raw[:7].lower() == "bearer ":
            raw = raw[7:].strip()
        return await self.authenticate_hash(hash_key(raw))

    async def authenticate_hash(self, key_hash: str) -> KeyRecord:
        """The key by its hash (a console session keeps only the hash)."""
        record = await self._by_hash(key_hash)
        if record is None:
            raise AuthenticationError("invalid API key")
        if record.revoked_at is not None:
            raise AuthenticationError("this API key has been revoked")
        return record

    async def active(self, key_id: str) -> KeyRecord | None:
        """The key by id (read now, not cached), or None once it is revoked or unknown."""
        record = await self._store.get(key_id)
        return None if record is None or record.revoked_at is not None else record

    async def list(self) -> list[KeyRecord]:
        return await self._store.list()

    async def revoke(self, key_id_or_prefix: str) -> bool:
        done = await self._store.revoke(key_id_or_prefix, self._clock())
        self.invalidate()
        return done

    async def rotate_webhook_secret(self, key_id: str) -> str:
        """A new signing secret for the key's webhooks, returned this once."""
        secret = new_secret()
        if not await self._store.set_webhook_secret(key_id, secret):
            raise NotFoundError(f"no key {key_id!r}")
        return secret
