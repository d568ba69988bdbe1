"""Signed URLs for stored results: HMAC-SHA256 over the key, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote

FILES_PREFIX = "/v1/files/"


class UrlSigner:
    """Signs file keys so a result URL works without an API key but cannot be guessed.

    With ``ttl_s`` of 0 (the default) links never expire: mediagate keeps the media, so
    unlike upstream links they stay valid. A positive TTL adds an ``exp`` parameter.
    """

    PATHS_KEPT = 4096  # signed paths remembered (every poll of a done task signs its links)

    def __init__(self, secret: bytes, ttl_s: int = 0) -> None:
        if len(secret) < 16:
            raise ValueError("signing secret must be at least 16 bytes")
        self._secret = secret
        self._ttl = ttl_s
        self._paths: dict[str, str] = {}  # without a TTL a key's path never changes

    def derive(self, label: str) -> bytes:
        """A secret of its own for another use (the console's sessions), from this one."""
        return hmac.new(self._secret, f"derive:{label}".encode(), hashlib.sha256).digest()

    def _mac(self, key: str, exp: int | None) -> str:
        msg = key if exp is None else f"{key}\n{exp}"
        return hmac.new(self._secret, msg.encode(), hashlib.sha256).hexdigest()[:40]

    def path(self, key: str, now: float | None = None) -> str:
        """The signed path (with query) for ``key``, to be joined to the public base URL."""
        if not self._ttl and (known := self._paths.get(key)) is not None:
            return known
        exp = None if not self._ttl else int((now or time.time()) + self._ttl)
        query = f"sig={self._mac(key, exp)}" + (f"&exp={exp}" if exp is not None else "")
        path = f"{FILES_PREFIX}{quote(key)}?{query}"
        if not self._ttl:
            if len(self._paths) >= self.PATHS_KEPT:
                self._paths.clear()
            self._paths[key] = path
        return path

    def verify(self, key: str, sig: str, exp: str | None, now: float | None = None) -> bool:
        expiry: int | None = None
        if exp is not None:
            if not (0 < len(exp) <= 12 and exp.isascii() and exp.isdigit()):
                return False
            expiry = int(exp)
            if expiry < (now or time.time()):
                return False
        # Bytes, not str: compare_digest refuses non-ASCII text, and a forged signature
        # may be any text at all.
        return hmac.compare_digest(self._mac(key, expiry).encode(), sig.encode("utf-8", "replace"))


def load_or_create_secret(path: Path) -> bytes:
    """The deployment's signing secret, made once and kept beside the data (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    return secret
