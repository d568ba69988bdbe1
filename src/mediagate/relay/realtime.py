"""OpenAI's Realtime protocol, relayed: a WebSocket session between the caller and an upstream
(OpenAI's ``/v1/realtime``, or the sandbox's own speaker of the protocol), both ways, event by
event, with its money kept as it goes.

Each response is charged when its ``response.done`` arrives, on the usage it carries (text and
audio tokens at their own prices), as one row of the request log: a session that drops
mid-way has paid for what it used. Before a response runs (``response.created``) the account
must be able to hold the most it may cost; when it cannot (balance or spend limit), the
session ends with an ``error`` event, the upstream's response is cancelled, and the socket
closes. Events over ``MAX_EVENT`` bytes, or more than ``RATE`` a second, end the session the
same way."""

from __future__ import annotations

import secrets
import time
from typing import Any, Protocol

import msgspec

from mediagate.core.errors import InsufficientBalanceError, RequestError
from mediagate.core.text import Usage

MAX_EVENT = 4 * 1024 * 1024  # one event from the caller, in bytes (audio is sent in chunks)
RATE = 200  # events a second from the caller, at most (a burst of twice that)


class Peer(Protocol):
    """One side of a realtime session: events in, events out."""

    name: str

    async def send(self, event: dict[str, Any]) -> None: ...

    async def receive(self) -> dict[str, Any] | None: ...  # None: it closed

    async def close(self) -> None: ...


class Sink(Protocol):
    """Where events go: the caller."""

    async def send(self, event: dict[str, Any]) -> None: ...


class SessionEnd(Exception):
    """The session must end: the caller gets ``event`` (an ``error``), then ``code``."""

    def __init__(self, event: dict[str, Any], code: int) -> None:
        super().__init__(event["error"]["message"])
        self.event = event
        self.code = code


def error_event(kind: str, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {
        "type": "error", "event_id": f"event_{secrets.token_hex(8)}",
        "error": {"type": kind, "code": code, "message": message, "param": param,
                  "event_id": None},
    }  # fmt: skip


def usage_of(raw: Any) -> Usage | None:
    """A ``response.done``'s usage: text and audio tokens, in and out, and cache reads."""
    if not isinstance(raw, dict):
        return None
    given = raw.get("input_token_details") or {}
    made = raw.get("output_token_details") or {}

    def whole(source: dict[str, Any], name: str) -> int:
        value = source.get(name)
        return value if isinstance(value, int) and value > 0 else 0

    return Usage(
        prompt=whole(raw, "input_tokens"), completion=whole(raw, "output_tokens"),
        cached=whole(given, "cached_tokens"), audio_prompt=whole(given, "audio_tokens"),
        audio_completion=whole(made, "audio_tokens"),
    )  # fmt: skip


class Throttle:
    """The caller's events: no bigger than MAX_EVENT, no more than RATE a second."""

    def __init__(self, rate: float = RATE, clock: Any = time.monotonic) -> None:
        self._rate = rate
        self._clock = clock
        self._tokens = rate * 2
        self._at = clock()

    def check(self, raw: str | bytes) -> dict[str, Any]:
        if len(raw) > MAX_EVENT:
            raise SessionEnd(
                error_event("invalid_request_error", "event_too_large",
                            f"an event of {len(raw)} bytes is over {MAX_EVENT}"), 1009,
            )  # fmt: skip
        now = self._clock()
        self._tokens = min(self._rate * 2, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            raise SessionEnd(
                error_event("rate_limit_error", "rate_limit_exceeded",
                            f"more than {self._rate:.0f} events a second"), 1008,
            )  # fmt: skip
        self._tokens -= 1
        try:
            event = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            raise SessionEnd(
                error_event("invalid_request_error", "invalid_json", "an event is not JSON"),
                1007,
            ) from None
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise SessionEnd(
                error_event("invalid_request_error", "invalid_event",
                            "an event must be an object with a type", "type"), 1007,
            )  # fmt: skip
        return event


class Meter(Protocol):
    """What a session's money is kept by (``RelayService.realtime_meter``)."""

    async def hold(self) -> None: ...  # raises InsufficientBalanceError

    def done(self, usage: Usage | None, status: str) -> None: ...

    def close(self) -> None: ...


async def upstream_to_caller(upstream: Peer, caller: Sink, meter: Meter) -> None:
    """The upstream's events to the caller, each response held before it runs and charged
    when it is done."""
    while (event := await upstream.receive()) is not None:
        kind = event.get("type")
        if kind == "response.created":
            try:
                await meter.hold()
            except (InsufficientBalanceError, RequestError) as exc:
                await upstream.send({"type": "response.cancel"})
                raise SessionEnd(
                    error_event("insufficient_quota", getattr(exc, "code", "insufficient_quota"),
                                str(exc)), 1008,
                ) from None  # fmt: skip
        elif kind == "response.done":
            response = event.get("response") or {}
            meter.done(usage_of(response.get("usage")), str(response.get("status") or ""))
        await caller.send(event)


async def caller_to_upstream(caller: Any, upstream: Peer, throttle: Throttle) -> None:
    """The caller's events (raw frames) to the upstream, each checked first."""
    while (raw := await caller.receive_raw()) is not None:
        await upstream.send(throttle.check(raw))


class RealtimeMeter:
    """A session's money: each response holds the most its output may cost before it runs,
    and settles on its usage when done, as one request-log row (route ``realtime``)."""

    def __init__(self, relay: Any, key: Any, model: Any, provider: str, upstream_model: str):
        self._relay = relay
        self._key = key
        self._model = model
        self._provider = provider
        self._upstream_model = upstream_model
        self._held: list[tuple[int, float]] = []  # (held, when the response started)
        self._prices = relay.catalogue.prices(model)
        self._live = key.mode.value == "live"

    async def hold(self) -> None:
        held = 0
        if self._live:
            most = self._model.max_output or 4096
            held = self._prices.cost(Usage(completion=most, audio_completion=most))
            await self._relay.hold(self._key, held)
        self._held.append((held, time.perf_counter()))

    def done(self, usage: Usage | None, status: str) -> None:
        held, started = self._held.pop(0) if self._held else (0, time.perf_counter())
        cost = self._prices.cost(usage) if usage is not None and self._live else 0
        self._relay.settle_realtime(
            self._key, self._model, held, cost, usage or Usage(), status, started,
            self._provider, self._upstream_model,
        )  # fmt: skip

    def close(self) -> None:
        """A response cut off with the session has no usage: its hold goes back."""
        for held, started in self._held:
            self._relay.settle_realtime(
                self._key, self._model, held, 0, Usage(), "cut off", started,
                self._provider, self._upstream_model,
            )  # fmt: skip
        self._held.clear()
