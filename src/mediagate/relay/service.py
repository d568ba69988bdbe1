"""Relayed requests: the seam beside the task engine. Keys, rate limits, routes, channels and
accounts are the ones tasks use; what differs is that the caller waits, and is charged once,
on what the request used.

A request: its model is looked up (a pattern matches a family of names), a live key's account
holds an estimate (prompt tokens counted offline, plus the output it may make), the routes
are tried in order (channels by priority and weight) until one answers (failover is free
until the first byte reaches the caller), and it settles on the upstream's usage: or, for a
stream, on however it ended (``Ending``). The log row and the charge are written later, in
a batch (``RequestLog``)."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, Protocol, TypeVar

from mediagate.core.accounts import Account
from mediagate.core.billing import day_start, month_start
from mediagate.core.errors import (
    InsufficientBalanceError,
    InvalidRequestError,
    NotConfiguredError,
    PermissionDeniedError,
    ProviderError,
    RequestError,
    UnavailableError,
)
from mediagate.core.keys import KeyRecord
from mediagate.core.limits import TokenRate
from mediagate.core.money import text
from mediagate.core.tasks import Mode
from mediagate.core.text import Ending, RequestRecord, TextCatalogue, TextKind, TextModel, Usage
from mediagate.providers.registry import ProviderRegistry
from mediagate.providers.sandbox.speech import Heard
from mediagate.relay.audio import AudioWork
from mediagate.relay.log import RequestLog, Reservations
from mediagate.relay.messages import MessagesOver, to_chat
from mediagate.relay.plans import ROUTES, Plan, raise_missing, raise_too_long, status_of
from mediagate.relay.realtime import Peer, RealtimeMeter
from mediagate.relay.realtime_sandbox import SandboxRealtime
from mediagate.relay.upstreams import SandboxText, Upstream
from mediagate.relay.usage import Outcome, answer_texts, most_output, note, prompt_of, reported
from mediagate.tokens import count_for

T = TypeVar("T")


class AccountReader(Protocol):
    """What the relay reads of accounts (``store.accounts.AccountRepository``)."""

    async def get(self, account_id: str, with_held: bool = True) -> Account | None: ...

    async def spent_since(self, account_id: str, since: float) -> int: ...


class RequestReader(Protocol):
    async def search(
        self, key_id: str | None, account_id: str | None, limit: int = 50
    ) -> list[RequestRecord]: ...


class RelayService:
    def __init__(
        self,
        catalogue: TextCatalogue,
        providers: ProviderRegistry,
        accounts: AccountReader,
        reservations: Reservations,
        log: RequestLog,
        clock: Callable[[], float],
        cadence_s: float = 0.02,
        reader: RequestReader | None = None,
        tokens: TokenRate | None = None,
        audio: AudioWork | None = None,
    ) -> None:
        self._audio = audio
        self._reader = reader
        self._tokens = tokens
        self.catalogue = catalogue
        self._providers = providers
        self._accounts = accounts
        self._reservations = reservations
        self._log = log
        self._clock = clock
        self._cadence = cadence_s

    async def hear(self, data: bytes) -> Heard | None:
        """An audio file's length and voice activity, measured by decoding all of it (off
        the event loop); None when it is not audio that can be decoded."""
        if self._audio is None:
            raise NotConfiguredError("audio is not set up on this deployment")
        return await self._audio.hear(data)

    async def history(self, key: KeyRecord, limit: int = 50) -> list[RequestRecord]:
        """The key's own requests, newest first (what is still waiting to be written is
        there a moment later)."""
        return await self.log(key.id, None, limit)

    async def log(
        self, key_id: str | None, account_id: str | None, limit: int = 50
    ) -> list[RequestRecord]:
        """The request log, newest first: of a key, of an account, or (for admins) all."""
        if not 1 <= limit <= 500:
            raise InvalidRequestError("limit", f"{limit} is out of range", ["1..500"])
        return await self._reader.search(key_id, account_id, limit) if self._reader else []

    async def plan(
        self,
        key: KeyRecord,
        route: str,
        body: dict[str, Any],
        images: list[str] | None = None,
        fixed: Usage | None = None,
    ) -> Plan:
        """Check what the request may do and hold its estimate; raises before any cost."""
        if key.mode is Mode.ADMIN:
            raise PermissionDeniedError("admin keys manage the gateway and cannot generate")
        path, kind = ROUTES[route]
        name = body.get("model")
        if not isinstance(name, str) or not name:
            raise_missing("model")
        model = self.catalogue.get(str(name), kind)
        account = await self._accounts.get(key.account_id, with_held=False)
        if account is None or account.disabled_at is not None:
            raise PermissionDeniedError(f"account {key.account_id} is disabled or gone")
        if account.allowed_models is not None and model.id not in account.allowed_models:
            raise PermissionDeniedError(f"account {account.id} may not use {model.id}")
        if fixed is not None:  # audio: characters or minutes, not tokens
            prompt = most = 0
        else:
            prompt = prompt_of(model, kind, to_chat(body) if route == "messages" else body)
            if prompt > model.context:
                raise_too_long(prompt, model)
            most = most_output(model, body)
        if self._tokens is not None:
            self._tokens.take(key.id, prompt + most)
        held = 0
        if key.mode is Mode.LIVE:
            held = self.catalogue.prices(model).cost(fixed or Usage(prompt, most))
            await self._check_limits(account, held)
            self._reservations.take(account.id, account.balance_micros, held)
        upstreams = self._upstreams(key, model, str(name), images or [])
        if route == "messages":  # natively where the adapter speaks it, translated elsewhere
            upstreams = [(getattr(u, "messages", None) or MessagesOver(u), m) for u, m in upstreams]
        stream = bool(body.get("stream"))
        options = body.get("stream_options") or {}
        # Anthropic's events carry their usage: the caller always sees it.
        wants_usage = route == "messages" or bool(options.get("include_usage"))
        return Plan(
            id=f"req_{secrets.token_hex(12)}", key=key, route=route, path=path, model=model,
            body=body, stream=stream, wants_usage=wants_usage,
            prompt=prompt, held=held, upstreams=upstreams, started=time.perf_counter(),
            estimate=prompt + most, fixed=fixed,
            created_at=self._clock(), images=images or [],
        )  # fmt: skip

    async def open_realtime(self, key: KeyRecord, name: str) -> tuple[Peer, RealtimeMeter]:
        """A realtime session's upstream, connected (failing over between upstreams that
        refuse the connection), and the meter that keeps its money."""
        if key.mode is Mode.ADMIN:
            raise PermissionDeniedError("admin keys manage the gateway and cannot generate")
        model = self.catalogue.get(name, TextKind.REALTIME)
        account = await self._accounts.get(key.account_id, with_held=False)
        if account is None or account.disabled_at is not None:
            raise PermissionDeniedError(f"account {key.account_id} is disabled or gone")
        if account.allowed_models is not None and model.id not in account.allowed_models:
            raise PermissionDeniedError(f"account {account.id} may not use {model.id}")
        if key.mode is Mode.TEST:
            peer: Peer = SandboxRealtime(model, self._cadence, self._audio)
            return peer, RealtimeMeter(self, key, model, "sandbox", name)
        last: ProviderError | None = None
        for upstream, upstream_model in self._upstreams(key, model, name, []):
            connect = getattr(upstream, "realtime", None)
            if connect is None:
                continue
            try:
                peer = await connect(upstream_model)
            except ProviderError as exc:
                if not exc.failover:
                    raise
                last = exc
                continue
            return peer, RealtimeMeter(self, key, model, upstream.name, upstream_model)
        raise last or UnavailableError(f"no upstream serves realtime for {model.id}")

    async def hold(self, key: KeyRecord, held: int) -> None:
        """Hold ``held`` on the key's account, within its balance and spend limits."""
        account = await self._accounts.get(key.account_id, with_held=False)
        if account is None:
            raise PermissionDeniedError(f"account {key.account_id} is gone")
        await self._check_limits(account, held)
        self._reservations.take(account.id, account.balance_micros, held)

    def settle_realtime(
        self, key: KeyRecord, model: TextModel, held: int, cost: int, usage: Usage,
        status: str, started: float, provider: str, upstream_model: str,
    ) -> None:  # fmt: skip
        """One realtime response, charged and logged (in the next batch)."""
        self._reservations.settle(key.account_id, held, cost)
        ended = Ending.COMPLETED if status != "cut off" else Ending.CLIENT_GONE
        self._log.add(
            RequestRecord(
                id=f"req_{secrets.token_hex(12)}", key_id=key.id, account_id=key.account_id,
                mode=key.mode.value, route="realtime", model=model.id, provider=provider,
                upstream_model=upstream_model, stream=True, status=200, ending=ended,
                usage=usage, cost_micros=cost, ttft_ms=None,
                total_ms=(time.perf_counter() - started) * 1000, overhead_ms=0.0,
                created_at=self._clock(), error="" if status == "completed" else status,
            )
        )  # fmt: skip

    async def _check_limits(self, account: Account, held: int) -> None:
        """An account at its daily or monthly spend limit is refused before any upstream."""
        now = self._clock()
        in_flight = self._reservations.in_flight(account.id)
        for label, limit, since in (
            ("daily", account.daily_limit_micros, day_start(now)),
            ("monthly", account.monthly_limit_micros, month_start(now)),
        ):
            if limit is None:
                continue
            spent = await self._accounts.spent_since(account.id, since) + in_flight
            if spent + held > limit:
                raise InsufficientBalanceError(
                    f"this request may cost up to {text(held)}, and the account's {label} "
                    f"spend limit is {text(limit)} with {text(spent)} already spent",
                    code="spend_limit_exceeded",
                )

    def _upstreams(
        self, key: KeyRecord, model: TextModel, asked: str, images: list[str]
    ) -> list[tuple[Upstream, str]]:
        if key.mode is Mode.TEST:
            return [(SandboxText(model, self._cadence, images, self._audio), asked)]
        found: list[tuple[Upstream, str]] = []
        after = -1
        while (step := self._providers.next_route(model.id, after)) is not None:
            after, route = step
            for name in self._providers.candidates(route.provider):
                adapter = getattr(self._providers.get(name), "text", None)
                if adapter is not None:
                    found.append((adapter, asked if model.is_pattern else route.model))
        if not found:
            raise NotConfiguredError(
                f"no live provider is configured for {model.id!r} on this deployment; set "
                "MEDIAGATE_OPENAI_API_KEY (and MEDIAGATE_OPENAI_BASE_URL for another "
                "OpenAI-compatible vendor), or use a test key to run it on the sandbox"
            )
        return found

    async def call(self, plan: Plan) -> tuple[dict[str, Any], Outcome]:
        """An unstreamed request, failing over between upstreams; settled before return."""
        outcome = Outcome()
        try:
            answer = await self._first_answer(plan, outcome)
        except (ProviderError, RequestError) as exc:
            self._finish(plan, outcome, Ending.REFUSED, status_of(exc), str(exc))
            raise
        except BaseException:  # the caller went away while it waited: the hold goes back
            self._finish(plan, outcome, Ending.CLIENT_GONE, 499)
            raise
        outcome.first_at = time.perf_counter()
        outcome.usage = reported(answer.get("usage"))
        if outcome.usage is None:
            outcome.texts = answer_texts(answer)
        ending = Ending.COMPLETED if outcome.usage is not None else Ending.COUNTED
        self._finish(plan, outcome, ending, 200)
        return answer, outcome

    async def _first_answer(self, plan: Plan, outcome: Outcome) -> dict[str, Any]:
        last: ProviderError | None = None
        body = plan.body
        for upstream, upstream_model in plan.upstreams:
            outcome.provider, outcome.upstream_model = upstream.name, upstream_model
            outcome.upstream_at = time.perf_counter()
            try:
                return await upstream.send(plan.path, {**body, "model": upstream_model})
            except ProviderError as exc:
                if not exc.failover:
                    raise
                last = exc
        raise last or UnavailableError(f"no upstream serves {plan.model.id}")

    async def open_stream(self, plan: Plan) -> AsyncGenerator[dict[str, Any], None]:
        """The stream, started: failover and every failure before the first event raise
        here (so the caller's dialect answers with a plain error); the events follow."""
        events = self.stream(plan)
        first = await anext(events, None)
        return _prepend(first, events)

    async def open_bytes(
        self, plan: Plan, call: Callable[[Any, str], AsyncGenerator[bytes, None]]
    ) -> AsyncGenerator[bytes, None]:
        """An audio request's answer, started: ``call(upstream, its model name)`` gives the
        upstream's bytes. Failover and every failure before the first byte raise here; the
        bytes follow as they arrive. Charged ``plan.fixed``, unless it never answered or
        failed part-way (a broken file is not charged)."""
        chunks = self._bytes(plan, call)
        first = await anext(chunks, None)
        return _prepend(first, chunks)

    async def _bytes(
        self, plan: Plan, call: Callable[[Any, str], AsyncGenerator[bytes, None]]
    ) -> AsyncGenerator[bytes, None]:
        outcome = Outcome()
        ending, status = Ending.REFUSED, 502
        chunks: AsyncGenerator[bytes, None] | None = None
        try:
            last: ProviderError | None = None
            for upstream, upstream_model in plan.upstreams:
                outcome.provider, outcome.upstream_model = upstream.name, upstream_model
                outcome.upstream_at = time.perf_counter()
                chunks = call(upstream, upstream_model)
                try:
                    first = await anext(chunks, None)
                except ProviderError as exc:
                    await chunks.aclose()
                    chunks = None
                    if not exc.failover:
                        raise
                    last = exc
                    continue
                break
            if chunks is None:
                raise last or UnavailableError(f"no upstream serves {plan.model.id}")
            outcome.first_at = outcome.token_at = time.perf_counter()
            outcome.usage = plan.fixed
            if first is not None:
                yield first
            async for chunk in chunks:
                yield chunk
            ending, status = Ending.COMPLETED, 200
        except (ProviderError, RequestError) as exc:
            outcome.error = str(exc)
            ending = Ending.UPSTREAM_FAILED if outcome.first_at else Ending.REFUSED
            status = 200 if outcome.first_at else status_of(exc)
            raise
        except BaseException:
            ending, status = Ending.CLIENT_GONE, 499
            raise
        finally:
            if chunks is not None:
                await chunks.aclose()
            self._finish(plan, outcome, ending, status, outcome.error)

    async def stream(self, plan: Plan) -> AsyncIterator[dict[str, Any]]:
        """A streamed request's events, to forward as they come. Failover happens before
        the first event; after it, an upstream failure ends the stream (the caller's
        dialect writes the error event). Settled however it ends, here, in ``finally``."""
        outcome = Outcome()
        ending, status = Ending.REFUSED, 502
        events: AsyncGenerator[dict[str, Any], None] | None = None
        try:
            events, first = await self._first_event(plan, outcome)
            outcome.first_at = time.perf_counter()
            event: dict[str, Any] | None = first
            while event is not None:
                note(event, outcome)
                if "usage" in event and not event.get("choices") and not plan.wants_usage:
                    pass  # the caller did not ask for the usage chunk
                else:
                    if not plan.wants_usage:
                        event.pop("usage", None)
                    yield event
                event = await anext(events, None)
            ending, status = (Ending.COMPLETED if outcome.usage else Ending.COUNTED), 200
        except ProviderError as exc:
            outcome.error = str(exc)
            ending = Ending.UPSTREAM_FAILED if outcome.first_at else Ending.REFUSED
            status = 200 if outcome.first_at else status_of(exc)
            raise
        except BaseException:  # the caller went away (the response was closed)
            ending, status = Ending.CLIENT_GONE, 499
            raise
        finally:
            if events is not None:
                await events.aclose()  # stops the upstream, if it still runs
            self._finish(plan, outcome, ending, status, outcome.error)

    async def _first_event(
        self, plan: Plan, outcome: Outcome
    ) -> tuple[AsyncGenerator[dict[str, Any], None], dict[str, Any]]:
        last: ProviderError | None = None
        for upstream, upstream_model in plan.upstreams:
            outcome.provider, outcome.upstream_model = upstream.name, upstream_model
            outcome.upstream_at = time.perf_counter()
            events = upstream.stream(plan.path, {**plan.body, "model": upstream_model})
            try:
                first = await anext(events, None)
            except ProviderError as exc:
                await events.aclose()
                if not exc.failover:
                    raise
                last = exc
                continue
            if first is None:
                return _empty(), {"choices": []}
            return events, first
        raise last or UnavailableError(f"no upstream serves {plan.model.id}")

    def _finish(
        self, plan: Plan, outcome: Outcome, ending: Ending, status: int, error: str = ""
    ) -> None:
        """Settle and log, once: the cost of how it ended, the hold given back."""
        usage = outcome.usage
        if usage is None and ending in (Ending.CLIENT_GONE, Ending.UPSTREAM_FAILED, Ending.COUNTED):
            made = sum(count_for(plan.model, t) for t in outcome.texts.values())
            if not made and ending is not Ending.COUNTED:
                ending = Ending.NO_OUTPUT  # nothing reached the caller: nothing is owed
            usage = Usage(plan.prompt, made, counted=True)
        broken = plan.fixed is not None and ending is Ending.UPSTREAM_FAILED  # a cut-off file
        if ending in (Ending.REFUSED, Ending.NO_OUTPUT) or plan.key.mode is not Mode.LIVE or broken:
            cost = 0
        else:
            cost = self.catalogue.prices(plan.model).cost(usage or Usage())
        self._reservations.settle(plan.key.account_id, plan.held, cost)
        if self._tokens is not None:
            self._tokens.give(plan.key.id, plan.estimate - (usage or Usage()).total)
        now = time.perf_counter()
        total = (now - plan.started) * 1000
        first = outcome.token_at or outcome.first_at
        self._log.add(
            RequestRecord(
                id=plan.id, key_id=plan.key.id, account_id=plan.key.account_id,
                mode=plan.key.mode.value, route=plan.route, model=plan.model.id,
                provider=outcome.provider, upstream_model=outcome.upstream_model,
                stream=plan.stream, status=status, ending=ending, usage=usage or Usage(),
                cost_micros=cost,
                ttft_ms=(first - plan.started) * 1000 if first else None,
                total_ms=total,
                overhead_ms=((outcome.upstream_at or now) - plan.started) * 1000,
                created_at=plan.created_at, error=error,
            )
        )  # fmt: skip


async def _prepend(first: T | None, events: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    try:
        if first is not None:
            yield first
        async for event in events:
            yield event
    finally:
        await events.aclose()  # type: ignore[attr-defined]  # settles however it ends


async def _empty() -> AsyncGenerator[dict[str, Any], None]:
    return
    yield {}
