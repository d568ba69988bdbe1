"""Webhooks: the callback a task carries, Standard Webhooks signing, and the retry schedule.

Each terminal state of a task with a ``callback_url`` becomes a delivery: the task in the
dialect it was created in, POSTed with ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>``, where the
secret is the key's ``whsec_…`` secret. Delivery is at least once: retried with exponential
backoff and full jitter for up to a day, each attempt recorded."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
from urllib.parse import urlsplit

import msgspec

from mediagate.core.addresses import private_target, url_host
from mediagate.core.errors import InvalidRequestError

WINDOW_S = 24 * 3600  # give up a day after the event
FIRST_RETRY_S = 5.0
MAX_RETRY_S = 3600.0
MAX_URL = 2048
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)

# Dialects whose callbacks hear of every status change, not only the end (Midjourney's
# notifyHook). A dialect adds its own name here when it is imported.
EVERY_CHANGE: set[str] = set()


class Callback(msgspec.Struct, frozen=True):
    """Where and how to tell the caller about a task: the URL, the dialect to speak, and
    the public base URL its result links start with."""

    url: str
    dialect: str
    base_url: str


class Delivery(msgspec.Struct, frozen=True):
    id: str
    task_id: str
    key_id: str
    url: str
    event: str
    status: str  # pending, delivered, failed
    attempts: int
    created_at: float
    next_attempt_at: float | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: float | None = None


class Attempt(msgspec.Struct, frozen=True):
    at: float
    status_code: int | None
    error: str | None
    ms: float


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def retry_delay(attempt: int, rng: random.Random, first_s: float = FIRST_RETRY_S) -> float:
    """Full jitter over first_s x 2^attempt (5 s by default), capped at an hour."""
    return rng.uniform(first_s / 2, min(MAX_RETRY_S, first_s * 2**attempt))


def check_callback_url(url: str, allow_private: bool = False) -> str:
    """The URL, if it is http(s) and does not name a private or loopback receiver (any spelling
    of such an address, or a local name), unless ``allow_private``. Names are resolved, and
    the connected address checked, at each delivery."""
    try:
        parts = urlsplit(url)
        ok = len(url) <= MAX_URL and parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port
    except ValueError:
        ok = False
    if not ok or url_host(url) is None:
        raise InvalidRequestError("callback_url", "must be an http(s) URL of at most 2048 chars")
    if not allow_private and private_target(url):
        raise InvalidRequestError(
            "callback_url",
            "names a private or loopback address; webhooks go to public receivers only "
            "(a self-hosted gateway can allow private ones with MEDIAGATE_WEBHOOK_ALLOW_PRIVATE)",
        )
    return url
