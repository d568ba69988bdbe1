"""Services the API dialects and the CLI call: keys and tasks. No HTTP and no SQL here."""

from __future__ import annotations

from collections.abc import Callable

from mediagate.core.catalogue import Catalogue
from mediagate.core.errors import AuthenticationError, NotFoundError
from mediagate.core.ids import is_task_id, new_task_id, seed_for
from mediagate.core.keys import KeyRecord, display_prefix, hash_key, new_key
from mediagate.core.ports import KeyStore, Queue, RouteChooser, TaskStore
from mediagate.core.tasks import Mode, Status, Step, Task


class KeyService:
    def __init__(self, store: KeyStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def create(self, mode: Mode, name: str = "") -> tuple[str, KeyRecord]:
        """Make a key; the plain key is returned once and never stored."""
        key = new_key(mode)
        record = KeyRecord(
            id=new_task_id(self._clock()),
            prefix=display_prefix(key),
            mode=mode,
            name=name,
            created_at=self._clock(),
        )
        await self._store.insert(record, hash_key(key))
        return key, record

    async def authenticate(self, header: str | None) -> KeyRecord:
        """Accept the raw key (gptunnel style) or ``Bearer <key>``."""
        if not header or not header.strip():
            raise AuthenticationError("missing API key: send it in the Authorization header")
        raw = header.strip()
        if raw[:7].lower() == "bearer ":
            raw = raw[7:].strip()
        record = await self._store.by_hash(hash_key(raw))
        if record is None:
            raise AuthenticationError("invalid API key")
        if record.revoked_at is not None:
            raise AuthenticationError("this API key has been revoked")
        return record

    async def list(self) -> list[KeyRecord]:
        return await self._store.list()

    async def revoke(self, key_id_or_prefix: str) -> bool:
        return await self._store.revoke(key_id_or_prefix, self._clock())


class TaskService:
    def __init__(
        self,
        catalogue: Catalogue,
        store: TaskStore,
        queue: Queue,
        router: RouteChooser,
        clock: Callable[[], float],
    ) -> None:
        self.catalogue = catalogue
        self._store = store
        self._queue = queue
        self._router = router
        self._clock = clock

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
    ) -> Task:
        """Validate every rule, pick a provider, persist, then queue. Raises before any cost."""
        spec, params = self.catalogue.validate(
            model,
            prompt,
            aspect_ratio=aspect_ratio,
            images=images,
            duration_seconds=duration_seconds,
            sample_count=sample_count,
        )
        provider = self._router.route(spec, key.mode)
        now = self._clock()
        task = Task(
            id=new_task_id(now),
            key_id=key.id,
            model=spec.id,
            prompt=prompt,
            params=params,
            mode=key.mode,
            provider=provider,
            status=Status.QUEUED,
            step=Step.SUBMIT,
            created_at=now,
            updated_at=now,
            seed=seed_for(prompt, spec.id, params.aspect_ratio, *params.images),
        )
        await self._store.insert(task, next_run_at=now)
        self._queue.push(task.id, now)
        return task

    async def get(self, key: KeyRecord, task_id: str) -> Task:
        """The task if it belongs to ``key``; another key's task is as good as absent."""
        task = await self._store.get(task_id) if is_task_id(task_id) else None
        if task is None or task.key_id != key.id:
            raise NotFoundError(f"task {task_id!r} not found")
        return task
