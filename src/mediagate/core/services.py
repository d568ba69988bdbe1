"""Tasks as a service: create (every rule checked first), follow-ups, reads, lists, cancel
and delete, for the API dialects and the CLI. No HTTP and no SQL here."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

import msgspec

from mediagate.core.accounts import Hold, price_micros, short_of
from mediagate.core.billing import AccountService, day_start, month_start
from mediagate.core.catalogue import Catalogue, GenerationParams, Kind, ModelSpec
from mediagate.core.errors import (
    ConflictError,
    InvalidRequestError,
    NotConfiguredError,
    NotFoundError,
    PermissionDeniedError,
    TooManyRequestsError,
)
from mediagate.core.ids import is_task_id, new_task_id, seed_for
from mediagate.core.images import (
    BLOB_REF,
    DEFAULT_MAX_PIXELS,
    check_pixels,
    image_size,
    inline_image,
)
from mediagate.core.keys import KeyRecord
from mediagate.core.ports import (
    Drafter,
    MediaStore,
    NullObserver,
    Observer,
    RouteChooser,
    TaskPage,
    TaskQuery,
    TaskStore,
)
from mediagate.core.tasks import Charge, Mode, Status, Step, Task, files
from mediagate.core.watch import TaskWatch
from mediagate.core.webhooks import Callback, check_callback_url

IDEMPOTENCY_WINDOW_S = 24 * 3600
MAX_IDEMPOTENCY_KEY = 255
MAX_PAGE = 100
MAX_MANY = 500


def _seeded(params: GenerationParams) -> tuple[str, ...]:
    """What besides prompt, ratio and images makes a task's media its own: its options, and
    for a follow-up its action and parent (a reroll of the same prompt is a new picture)."""
    if not (params.options or params.action or params.parent_id or params.batch):
        return ()  # a plain task's seed stays what it always was
    seeded = (msgspec.json.encode(params.options).decode(), params.action, params.parent_id)
    return (*seeded, str(params.batch)) if params.batch else seeded


def fingerprint(model: str, prompt: str, params: GenerationParams) -> str:
    """What makes two creates "the same request" for an Idempotency-Key."""
    body = msgspec.json.encode([model, prompt, params])
    return hashlib.sha256(body).hexdigest()


class TaskService:
    def __init__(
        self,
        catalogue: Catalogue,
        store: TaskStore,
        queue: Callable[[str, float], None],  # announces work: (task id, when due)
        router: RouteChooser,
        clock: Callable[[], float],
        media: MediaStore,
        accounts: AccountService,
        prices: dict[str, str] | None = None,
        watch: TaskWatch | None = None,
        max_queued: int = 0,
        callbacks_allow_private: bool = False,
        max_input_bytes: int = 20 * 1024 * 1024,
        max_input_pixels: int = DEFAULT_MAX_PIXELS,
        observer: Observer | None = None,
    ) -> None:
        self._max_input_bytes = max_input_bytes
        self.drafter: Drafter | None = None  # set where the text relay runs beside the engine
        self._max_input_pixels = max_input_pixels
        self._observer: Observer = observer or NullObserver()
        self._max_queued = max_queued
        self._callbacks_allow_private = callbacks_allow_private
        self.catalogue = catalogue
        self._accounts = accounts
        self._base_prices = dict(prices or {})
        self._prices = dict(self._base_prices)
        self._store = store
        self._queue = queue
        self._router = router
        self._clock = clock
        self._media = media
        self.watch = watch or TaskWatch()
        self.on_webhook: Callable[[], None] | None = None  # a delivery was queued here

    async def create(
        self,
        key: KeyRecord,
        model: str,
        prompt: str,
        *,
        aspect_ratio: str | None = None,
        images: list[str] | None = None,
        duration_seconds: int | None = None,
        sample_count: int | None = None,
        idempotency_key: str | None = None,
        callback: Callback | None = None,
        options: dict[str, object] | None = None,
        roles: list[str] | None = None,
        action: str = "",
        parent: Task | None = None,
        prompt_required: bool | None = None,
        waits: bool = False,
        own_images: int = 0,
        ignored: tuple[str, ...] = (),
        batch: int = 0,
    ) -> Task:
        """Validate every rule, pick a provider, persist, then queue. Raises before any cost.

        With ``idempotency_key``, the same key and request within 24 hours return the first
        task instead of a new one; the same key with another request is a ConflictError.

        ``options`` are the model's own parameters (checked against its catalogue entry);
        ``action`` and ``parent`` make a follow-up on a finished task (see
        ``core.actions``), which runs where its parent ran. With ``waits`` the task is kept,
        free, until the caller gives the rest of its input (``resume``)."""
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise InvalidRequestError(
                "Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters"
            )
        spec, params = self.catalogue.validate(
            model,
            prompt,
            aspect_ratio=aspect_ratio,
            images=images,
            duration_seconds=duration_seconds,
            sample_count=sample_count,
            options=options,
            roles=roles,
            action=action,
            prompt_required=prompt_required,
            trusted=own_images if parent is not None else 0,
        )
        if key.mode is Mode.ADMIN:
            raise PermissionDeniedError("admin keys manage the gateway and cannot generate")
        if ignored or batch:
            params = msgspec.structs.replace(params, ignored=ignored, batch=batch)
        if parent is not None:  # a follow-up goes where its parent ran: the same upstream
            provider, route = parent.provider, parent.route
            params = msgspec.structs.replace(
                params, parent_id=parent.id, parent_upstream=parent.upstream_id or ""
            )
        else:
            provider, route = self._router.route(spec, key.mode)
        await self._accounts.check_access(key, spec.id)
        if self._max_queued:
            waiting = await self._store.unfinished_count(key.id)
            if waiting >= self._max_queued:
                raise TooManyRequestsError(
                    f"this key has {waiting} unfinished tasks, its limit; submit more as they "
                    "finish",
                    retry_after=30,
                    code="queue_full",
                )
        callback_url = (
            check_callback_url(callback.url, self._callbacks_allow_private) if callback else None
        )
        drafts = bool(spec.draft_model) and spec.draft_option not in params.options
        if drafts and idempotency_key is not None:  # a retry must not pay for a second draft
            hit = await self._store.idempotent(
                f"{key.id}:{idempotency_key}", self._clock() - IDEMPOTENCY_WINDOW_S
            )
            if hit is not None and hit.fingerprint == fingerprint(spec.id, prompt, params):
                return await self.get(key, hit.task_id)
        undrafted = params  # what the request said: its idempotency fingerprint
        if drafts:
            await self._can_pay(key, spec, params)  # before paying for the draft
            params = await self._draft(key, spec, prompt, params)
        params = await self._keep_inline_images(spec, params)  # once every check has passed
        now = self._clock()
        hold = None
        price = 0
        if not waits:
            hold = self.hold_for(key, spec, params, now)
            price = hold.amount_micros if hold else 0
        task = Task(
            id=new_task_id(now),
            key_id=key.id,
            model=spec.id,
            prompt=prompt,
            params=params,
            mode=key.mode,
            provider=provider,
            status=Status.WAITING if waits else Status.QUEUED,
            step=None if waits else Step.SUBMIT,
            created_at=now,
            updated_at=now,
            seed=seed_for(prompt, spec.id, params.aspect_ratio, *params.images, *_seeded(params)),
            account_id=key.account_id,
            price_micros=price,
            charge=Charge.HELD if hold else Charge.NONE,
            route=route,
            route_name=parent.route_name if parent else self._router.name_of(spec.id, route),
            callback_url=callback_url,
            dialect=callback.dialect if callback else "",
            public_base=callback.base_url if callback else "",
        )
        idem = None
        if idempotency_key is not None:
            print_ = fingerprint(spec.id, prompt, undrafted if drafts else params)
            idem = (f"{key.id}:{idempotency_key}", print_, now - IDEMPOTENCY_WINDOW_S)
        due = None if waits else now
        hit = await self._store.insert(task, next_run_at=due, idempotency=idem, hold=hold)
        if hit is not None:
            if idem is None or hit.fingerprint != idem[1]:
                raise ConflictError(
                    f"Idempotency-Key {idempotency_key!r} was already used with a different "
                    "request; send a new key for a new request"
                )
            return await self.get(key, hit.task_id)
        if not waits:
            self._queue(task.id, now)
        self._observer.task_created(task)
        return task

    async def _can_pay(self, key: KeyRecord, spec: ModelSpec, params: GenerationParams) -> None:
        """A task the account cannot pay for is refused before its draft, a chat request the
        account would pay for anyway (the hold itself is taken, atomically, at insert)."""
        hold = self.hold_for(key, spec, params, self._clock())
        if hold is None:
            return
        balance = (await self._accounts.get(key.account_id)).balance_micros
        if balance < hold.amount_micros:
            raise short_of(hold.amount_micros, balance)

    async def _draft(
        self, key: KeyRecord, spec: ModelSpec, prompt: str, params: GenerationParams
    ) -> GenerationParams:
        if self.drafter is None:
            raise NotConfiguredError(
                f"{spec.id} needs options.{spec.draft_option}: no chat relay here to draft it"
            )
        text = await self.drafter.draft(key, spec.draft_model, spec.draft_option, prompt)
        options = {**params.options, spec.draft_option: text}
        return msgspec.structs.replace(params, options=options)

    def set_prices(self, overrides: dict[str, str]) -> None:
        """Prices an admin set (the console's models page), over MEDIAGATE_PRICES."""
        self._prices = {**self._base_prices, **overrides}

    def price_of(self, name: str) -> str | None:
        """A model's (or ``model:action``'s) price as set here; None: the catalogue's."""
        return self._prices.get(name)

    def hold_for(
        self, key: KeyRecord, spec: ModelSpec, params: GenerationParams, now: float
    ) -> Hold | None:
        """What a live key's task must hold: its price (an action's own price, or a price
        set for ``model:action`` or ``model`` in MEDIAGATE_PRICES); None when free."""
        if key.mode is not Mode.LIVE:
            return None
        override = self._prices.get(f"{spec.id}:{params.action}") if params.action else None
        if override is None and not (params.action and params.action in spec.actions):
            override = self._prices.get(spec.id)
        price = price_micros(spec, params, override)
        if not price:
            return None
        return Hold(
            account_id=key.account_id,
            key_id=key.id,
            model=spec.id,
            amount_micros=price,
            day_start=day_start(now),
            month_start=month_start(now),
        )

    async def resume(
        self,
        key: KeyRecord,
        task_id: str,
        options: dict[str, object],
        images: list[str] | None = None,
        roles: list[str] | None = None,
        prompt: str | None = None,
    ) -> Task:
        """Give a waiting task the rest of its input (a Midjourney modal: the mask of Vary
        Region, the zoom of Custom Zoom) and queue it; its price is held now."""
        task = await self.get(key, task_id)
        if task.status is not Status.WAITING:
            raise InvalidRequestError(
                "taskId", f"task {task_id} is {task.status.value}, not waiting for input"
            )
        merged = {**task.params.options, **options}
        refs = [*task.params.images, *(images or [])]
        all_roles = [*task.params.roles, *(roles or [])] if roles else list(task.params.roles)
        spec, params = self.catalogue.validate(
            task.model,
            task.prompt if prompt is None else prompt,
            aspect_ratio=task.params.aspect_ratio if task.params.ar_given else None,
            images=refs,
            options=merged,
            roles=all_roles or None,
            action=task.params.action,
            prompt_required=False,
            trusted=len(task.params.images),
        )
        params = msgspec.structs.replace(
            params, parent_id=task.params.parent_id, parent_upstream=task.params.parent_upstream
        )
        params = await self._keep_inline_images(spec, params)
        now = self._clock()
        hold = self.hold_for(key, spec, params, now)
        resumed = await self._store.resume(task, msgspec.json.encode(params).decode(), now, hold)
        if resumed is None:
            raise InvalidRequestError("taskId", f"task {task_id} is no longer waiting for input")
        self._queue(task.id, now)
        self.watch.notify(task.id)
        return resumed

    async def search(self, key: KeyRecord, query: TaskQuery) -> list[Task]:
        """The key's tasks matching ``query``; an admin key sees every key's."""
        if not 1 <= query.limit <= 200:
            raise InvalidRequestError("limit", f"{query.limit} is out of range", ["1..200"])
        return await self._store.search(None if key.mode is Mode.ADMIN else key.id, query)

    async def get_many(self, key: KeyRecord, task_ids: list[str]) -> list[Task]:
        """The key's tasks among ``task_ids``; others' and unknown ids are left out."""
        ids = [t for t in task_ids if is_task_id(t)]
        if len(ids) > MAX_MANY:
            raise InvalidRequestError("ids", f"{len(ids)} ids; at most {MAX_MANY} at once")
        return await self._store.get_many(key.id, ids)

    def max_pixels(self, spec: ModelSpec) -> int:
        """The most pixels an input image of ``spec``'s may hold."""
        return spec.max_input_pixels or self._max_input_pixels

    async def _keep_inline_images(
        self, spec: ModelSpec, params: GenerationParams
    ) -> GenerationParams:
        """Data URLs go to storage now, and the task keeps a short reference: a task row
        stays small whatever the caller inlined, and lists stay fast. Each is refused first
        if its header says it holds more than the model's pixel cap (nothing is decoded
        here: that happens off the event loop, in the render pool, when a step reads it);
        a mask must be the size of the image it masks."""
        refs = list(params.images)
        sizes: dict[str, tuple[int, int]] = {}
        for i, ref in enumerate(refs):
            found = inline_image(ref, f"images[{i}]", self._max_input_bytes)
            if found is not None:
                key, data = found
                size = check_pixels(data, f"images[{i}]", self.max_pixels(spec))
                if i < len(params.roles):
                    sizes.setdefault(params.roles[i], size)
                await self._media.put(key, data)
                refs[i] = BLOB_REF + key
        if "mask" in sizes:
            await self._check_mask_size(params, sizes["mask"])
        if refs == list(params.images):
            return params
        return msgspec.structs.replace(params, images=tuple(refs))

    async def _check_mask_size(self, params: GenerationParams, mask: tuple[int, int]) -> None:
        """A mask's size must be its image's: the first image that is not the mask."""
        for ref, role in zip(params.images, params.roles, strict=False):
            if role == "mask":
                continue
            data = b""
            if ref.startswith(BLOB_REF):
                with contextlib.suppress(LookupError):  # gone: the step will say so
                    data = await self._media.read(ref.removeprefix(BLOB_REF))
            elif (found := inline_image(ref, "image", self._max_input_bytes)) is not None:
                data = found[1]
            size = image_size(data)
            if size is not None and size != mask:
                raise InvalidRequestError(
                    "mask",
                    f"is {mask[0]}x{mask[1]}, but the image it masks is {size[0]}x{size[1]}; "
                    "a mask must be the image's size",
                )
            return

    async def get(self, key: KeyRecord, task_id: str) -> Task:
        """The task if it belongs to ``key``; another key's task is as good as absent."""
        task = await self._store.get(task_id) if is_task_id(task_id) else None
        if task is None or task.key_id != key.id:
            raise NotFoundError(f"task {task_id!r} not found")
        return task

    async def get_any(self, task_id: str) -> Task:
        """Any key's task: for the admin API."""
        task = await self._store.get(task_id) if is_task_id(task_id) else None
        if task is None:
            raise NotFoundError(f"task {task_id!r} not found")
        return task

    async def wait(self, key: KeyRecord, task_id: str, within_s: float) -> Task:
        """The task once terminal, or as it is when ``within_s`` seconds have passed."""
        deadline = self._clock() + within_s
        while True:
            task = await self.get(key, task_id)
            remaining = deadline - self._clock()
            if task.status.terminal or remaining <= 0:
                return task
            await self.watch.wait(task_id, min(remaining, 1.0))

    async def page(
        self,
        key: KeyRecord,
        kind: Kind | None = None,
        after: str | None = None,
        limit: int = 20,
        newest_first: bool = True,
        family: str = "",
    ) -> TaskPage:
        """One page of the key's tasks (of one kind, of one family), after the task id
        ``after``."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequestError("limit", f"{limit} is out of range", [f"1..{MAX_PAGE}"])
        if after is not None and not is_task_id(after):
            raise InvalidRequestError("after", f"{after!r} is not a task id")
        models = [
            m.id
            for m in self.catalogue.models.values()
            if (kind is None or m.kind is kind) and (not family or m.family == family)
        ]
        found = await self._store.page(key.id, models, after, limit, newest_first)
        if found is None:
            raise InvalidRequestError("after", f"{after!r} is not a task of this key")
        return found

    async def cancel(self, key: KeyRecord, task_id: str) -> Task:
        """Cancel a queued or running task (and, through a step, its upstream job). A task
        that has already finished is returned unchanged."""
        task = await self.get(key, task_id)
        if task.status.terminal:
            return task
        cancelled = await self._store.cancel(task.id, self._clock(), "cancelled by the client")
        if cancelled is None:  # it finished in the meantime
            return await self.get(key, task_id)
        self._observer.task_finished(cancelled, Status.CANCELLED)
        # Announced either way: an engine holding the task drops its copy, and a CANCEL
        # step is claimed to stop the upstream job.
        self._queue(task.id, self._clock())
        if cancelled.callback_url and self.on_webhook is not None:
            self.on_webhook()  # the cancel queued a delivery: the sender is asleep
        self.watch.notify(task.id)
        return cancelled

    async def delete(self, key: KeyRecord, task_id: str) -> Task:
        """Cancel the task if it is unfinished, then forget it and delete its media."""
        task = await self.cancel(key, task_id)
        await self._store.mark_deleted(task.id, self._clock())
        await self._media.delete([out.key for out in files(task.outputs)])  # not texts
        return task
