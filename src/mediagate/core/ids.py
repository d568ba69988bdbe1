"""Task ids (24 lowercase hex characters, time-ordered like gptunnel's ObjectIds) and seeds."""

from __future__ import annotations

import hashlib
import re
import secrets
import time

_ID_RE = re.compile(r"^[0-9a-f]{24}$")


def new_task_id(now: float | None = None) -> str:
    """4 bytes of Unix seconds then 8 random bytes, hex encoded."""
    seconds = int(time.time() if now is None else now) & 0xFFFFFFFF
    return f"{seconds:08x}{secrets.token_hex(8)}"


def is_task_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


def seed_for(prompt: str, *parts: str) -> int:
    """A stable 63-bit seed from the prompt and parameters: same input, same media."""
    digest = hashlib.sha256("\x1f".join((prompt, *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1
