"""API keys: the record, the key format and hashing. Keys are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

import msgspec

from mediagate.core.tasks import Mode

KEY_PREFIX = "mg"
DEFAULT_ACCOUNT = "acct_default"  # keys made without --account belong here


class KeyRecord(msgspec.Struct, frozen=True):
    id: str
    prefix: str
    mode: Mode
    name: str
    created_at: float
    revoked_at: float | None = None
    account_id: str = DEFAULT_ACCOUNT


def new_key(mode: Mode) -> str:
    """``mg_test_...``, ``mg_live_...`` or ``mg_admin_...`` with 192 bits of randomness."""
    return f"{KEY_PREFIX}_{mode.value}_{secrets.token_urlsafe(24)}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    """What lists show of a key: enough to recognise it, too little to use it."""
    return key[:16]
