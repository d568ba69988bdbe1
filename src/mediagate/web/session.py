"""Console sessions: a signed cookie naming the key (by its hash, never the key) with an
expiry and a CSRF token. Signing out drops the cookie; revoking the key ends every session
of it at once, since each request authenticates the key again (through the key cache)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import msgspec

COOKIE = "mg_console"
LIFETIME_S = 8 * 3600


class Session(msgspec.Struct, frozen=True):
    key_hash: str
    expires: float
    csrf: str


def issue(secret: bytes, key_hash: str, now: float | None = None) -> tuple[str, Session]:
    """A new session for the key and its cookie value."""
    session = Session(key_hash, (now or time.time()) + LIFETIME_S, secrets.token_urlsafe(24))
    body = base64.urlsafe_b64encode(msgspec.json.encode(session)).decode()
    mac = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}", session


def read(secret: bytes, cookie: str | None, now: float | None = None) -> Session | None:
    """The session in a cookie, if its signature holds and it has not expired."""
    if not cookie or "." not in cookie or len(cookie) > 4096:
        return None
    body, _, mac = cookie.rpartition(".")
    want = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, want):
        return None
    try:
        session = msgspec.json.decode(base64.urlsafe_b64decode(body), type=Session)
    except (ValueError, msgspec.DecodeError):
        return None
    return session if session.expires > (now or time.time()) else None


def csrf_ok(session: Session, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(session.csrf, token or "")
