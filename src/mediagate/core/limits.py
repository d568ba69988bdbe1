"""Per-key request rate limits: a token bucket per key, refilled continuously."""

from __future__ import annotations

import math
from collections.abc import Callable

from mediagate.core.errors import TooManyRequestsError


def over_limit(burst: float, wait: int) -> TooManyRequestsError:
    return TooManyRequestsError(
        f"this key is over its limit of {int(burst)} requests per minute; retry in {wait} s",
        retry_after=wait,
    )


class RateLimiter:
    """``per_minute`` requests per key, bursting up to that many. In-process: each process
    keeps its own buckets (the embedded, one-process deployment). On PostgreSQL every
    process shares one limit instead (``store.limits.SharedRateLimiter``)."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(per_minute)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)

    async def check(self, key_id: str) -> None:
        if self._rate <= 0:
            return
        now = self._clock()
        tokens, at = self._buckets.get(key_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens < 1.0:
            wait = math.ceil((1.0 - tokens) / self._rate)
            self._buckets[key_id] = (tokens, now)
            raise over_limit(self._burst, wait)
        self._buckets[key_id] = (tokens - 1.0, now)
        if len(self._buckets) > 100_000:  # forget idle keys (they are full again anyway)
            full = [k for k, (t, a) in self._buckets.items() if now - a > 60]
            for k in full:
                del self._buckets[k]


class TokenRate:
    """``per_minute`` tokens per key, bursting up to that many: a request takes its
    estimate before it is sent and gives back what it did not use when it ends, so a key's
    in-flight estimates cannot exceed its minute. In-process, like ``RateLimiter``."""

    def __init__(self, per_minute: int, clock: Callable[[], float]) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(per_minute)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key_id: str, tokens: int) -> None:
        if self._rate <= 0:
            return
        now = self._clock()
        have, at = self._buckets.get(key_id, (self._burst, now))
        have = min(self._burst, have + (now - at) * self._rate)
        want = min(float(tokens), self._burst)  # one request larger than the minute may run
        if have < want:
            wait = math.ceil((want - have) / self._rate)
            self._buckets[key_id] = (have, now)
            raise TooManyRequestsError(
                f"this key is over its limit of {int(self._burst)} tokens per minute; "
                f"retry in {wait} s",
                retry_after=wait,
                code="tokens_per_minute_exceeded",
            )
        self._buckets[key_id] = (have - want, now)

    def give(self, key_id: str, tokens: int) -> None:
        if self._rate <= 0 or tokens <= 0 or key_id not in self._buckets:
            return
        have, at = self._buckets[key_id]
        self._buckets[key_id] = (min(self._burst, have + tokens), at)
