"""Checking a mediagate webhook (Standard Webhooks signing), with the standard library only::

from mediagate.client import verify_webhook
event = verify_webhook(secret, request.headers, request.body)   # raises if forged
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from mediagate.client._errors import MediagateError

TOLERANCE_S = 300


class WebhookVerificationError(MediagateError):
    """The signature is missing, wrong, or too old to trust."""


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    tolerance_s: float = TOLERANCE_S,
    now: float | None = None,
) -> dict[str, Any]:
    """The parsed body if ``webhook-signature`` matches and the timestamp is recent."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    given = lower.get("webhook-signature")
    if not msg_id or not stamp or not given:
        raise WebhookVerificationError("missing webhook-id, -timestamp or -signature header")
    try:
        sent_at = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    if abs((time.time() if now is None else now) - sent_at) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp is too far from now")
    raw = body.encode() if isinstance(body, str) else body
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{sent_at}.".encode() + raw, hashlib.sha256).digest()
    expected = base64.b64encode(mac).decode()
    for part in given.split():
        version, _, signature = part.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            parsed: dict[str, Any] = json.loads(raw)
            return parsed
    raise WebhookVerificationError("no signature matches")
