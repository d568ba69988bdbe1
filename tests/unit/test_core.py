"""TaskService, KeyService, StepRunner and WorkerPool on the in-memory fakes of
``mediagate.testing``: no server, no database, milliseconds per test."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from obstore.store import MemoryStore

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import (
    AuthenticationError,
    ConflictError,
    InsufficientBalanceError,
    InvalidRequestError,
    NotFoundError,
)
from mediagate.core.keys import KeyRecord
from mediagate.core.provider import (
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Result,
    Submitted,
    chunks_of,
)
from mediagate.core.services import TaskService
from mediagate.core.tasks import Mode, Status, Step, Task, TaskUpdate
from mediagate.core.webhooks import Callback
from mediagate.jobs.inputs import InputResolver
from mediagate.jobs.netguard import is_public_address
from mediagate.jobs.steps import StepRunner
from mediagate.jobs.worker import WorkerPool
from mediagate.providers.registry import ProviderRegistry
from mediagate.storage.blobs import BlobStore
from mediagate.storage.signing import UrlSigner
from mediagate.testing import FakeClock, InMemoryStores

CATALOGUE = default_catalogue()


def _png(width: int, height: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


PNG = _png(8, 8)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stores(clock: FakeClock) -> InMemoryStores:
    return InMemoryStores(clock)


async def test_create_queues_and_idempotency_returns_the_first_task(
    stores: InMemoryStores, clock: FakeClock
) -> None:
    keys, tasks = stores.key_service(), stores.task_service(CATALOGUE)
    _, key = await keys.create(Mode.TEST)
    first = await tasks.create(key, "seedream-3", "a fox", idempotency_key="k1")
    again = await tasks.create(key, "seedream-3", "a fox", idempotency_key="k1")
    assert again.id == first.id and stores.queued == [(first.id, clock.now)]
    with pytest.raises(ConflictError):
        await tasks.create(key, "seedream-3", "a wolf", idempotency_key="k1")
    clock.advance(25 * 3600)  # outside the 24 h window the key is free again
    later = await tasks.create(key, "seedream-3", "a wolf", idempotency_key="k1")
    assert later.id != first.id


async def test_validation_refuses_before_anything_is_stored(stores: InMemoryStores) -> None:
    keys, tasks = stores.key_service(), stores.task_service(CATALOGUE)
    _, key = await keys.create(Mode.TEST)
    with pytest.raises(InvalidRequestError) as caught:
        await tasks.create(key, "seedream-3", "x", aspect_ratio="7:3")
    assert caught.value.param == "aspect_ratio"
    for url in ("http://127.0.0.1/h", "http://\uff11\uff12\uff17.0.0.1/h", "http://localhost/h"):
        with pytest.raises(InvalidRequestError) as caught:
            await tasks.create(key, "seedream-3", "x", callback=Callback(url, "gptunnel", ""))
        assert caught.value.param == "callback_url"
    assert stores.tasks.rows == {}


async def test_inline_images_become_one_content_addressed_blob(stores: InMemoryStores) -> None:
    keys, tasks = stores.key_service(), stores.task_service(CATALOGUE)
    _, key = await keys.create(Mode.TEST)
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    made = [await tasks.create(key, "seedream-3", "edit", images=[url]) for _ in range(3)]
    refs = {t.params.images for t in made}
    assert len(refs) == 1 and next(iter(refs))[0].startswith("blob:in/")
    assert list(stores.media.blobs.values()) == [PNG]


async def test_list_cursors_resolve_among_the_callers_tasks_only(stores: InMemoryStores) -> None:
    keys, tasks = stores.key_service(), stores.task_service(CATALOGUE)
    (_, mine), (_, theirs) = await keys.create(Mode.TEST), await keys.create(Mode.TEST)
    other = await tasks.create(theirs, "seedream-3", "theirs")
    own = []
    for i in range(3):
        stores_clock = stores.clock
        assert isinstance(stores_clock, FakeClock)
        stores_clock.advance(1)
        own.append(await tasks.create(mine, "seedream-3", f"p{i}"))
    page = await tasks.page(mine, after=own[-1].id, limit=10)
    assert [t.id for t in page.tasks] == [t.id for t in reversed(own[:-1])]
    with pytest.raises(InvalidRequestError) as caught:
        await tasks.page(mine, after=other.id)
    assert caught.value.param == "after"
    with pytest.raises(NotFoundError):
        await tasks.get(mine, other.id)


async def test_keys_without_an_account_get_their_own_and_revoke_is_immediate(
    stores: InMemoryStores,
) -> None:
    keys = stores.key_service()
    raw_a, a = await keys.create(Mode.TEST)
    _, b = await keys.create(Mode.LIVE)
    _, admin = await keys.create(Mode.ADMIN)
    assert len({a.account_id, b.account_id, admin.account_id}) == 3
    assert (await keys.authenticate(raw_a)).id == a.id
    assert await keys.revoke(a.id)
    with pytest.raises(AuthenticationError, match=r"(?i)key"):
        await keys.authenticate(raw_a)


async def _live_key(stores: InMemoryStores, balance_micros: int) -> KeyRecord:
    from mediagate.core.accounts import Entry

    _, key = await stores.key_service().create(Mode.LIVE)
    if balance_micros:
        await stores.accounts.credit(key.account_id, balance_micros, Entry.TOPUP, "", 0.0)
    return key


class Scripted:
    """A provider: submit, one poll that is still running, then ready; or fail at submit."""

    name = "live"

    def __init__(self, pending_polls: int = 1, name: str = "live") -> None:
        self.polls: dict[str, int] = {}
        self.pending_polls = pending_polls
        self.name = name
        self.submitted: list[str] = []  # upstream model ids

    async def submit(self, request: GenerationRequest) -> Submitted:
        self.submitted.append(request.upstream_model)
        if "[fail]" in request.prompt:
            from mediagate.core.errors import ContentRejectedError

            raise ContentRejectedError("no")
        return Submitted(upstream_id=f"up-{request.task_id}", poll_after=0.0)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        self.polls[upstream_id] = self.polls.get(upstream_id, 0) + 1
        if self.polls[upstream_id] > self.pending_polls:
            return Ready()
        return Pending(progress=1, poll_after=0.0)  # nothing new since the submit

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int) -> MediaStream:
        return MediaStream("image/png", chunks_of(PNG), 8, 8)

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        return None

    async def open(self, request: GenerationRequest, result: object) -> MediaStream:
        raise NotImplementedError


def _runner(stores: InMemoryStores, provider: Scripted) -> StepRunner:
    from mediagate.providers.registry import Route

    routes = {m: [Route(provider="live", model=m)] for m in CATALOGUE.models}
    registry = ProviderRegistry(provider, {"live": provider}, routes)  # type: ignore[arg-type]
    blobs = BlobStore(MemoryStore())
    inputs = InputResolver(blobs, UrlSigner(b"k" * 32), 1 << 20, is_public_address)
    return StepRunner(CATALOGUE, registry, blobs, inputs, time.time)


async def _run_all(stores: InMemoryStores, runner: StepRunner, ids: list[str]) -> list[Task]:
    pool = WorkerPool(stores.tasks, runner, time.time)  # type: ignore[arg-type]
    await pool.start()
    try:
        for task_id in ids:
            pool.push(task_id, time.time())
        deadline = time.monotonic() + 10
        while True:
            done = [await stores.tasks.get(i) for i in ids]
            if all(t is not None and t.status.terminal for t in done):
                return [t for t in done if t is not None]
            assert time.monotonic() < deadline, done
            await asyncio.sleep(0.005)
    finally:
        await pool.stop()


async def test_the_engine_charges_a_success_once_and_releases_a_failure() -> None:
    stores = InMemoryStores()
    price = 30_000  # seedream-3: 0.03
    key = await _live_key(stores, 2 * price)
    tasks = stores.task_service(CATALOGUE)
    ok = await tasks.create(key, "seedream-3", "a fox")
    bad = await tasks.create(key, "seedream-3", "[fail] a fox")
    with pytest.raises(InsufficientBalanceError):
        await tasks.create(key, "seedream-3", "a third")  # both prices are held
    provider = Scripted()
    done = await _run_all(stores, _runner(stores, provider), [ok.id, bad.id])
    assert [t.status for t in done] == [Status.DONE, Status.FAILED]
    account = await stores.accounts.get(key.account_id)
    assert account is not None and account.balance_micros == price and account.held_micros == 0
    assert done[0].outputs and done[0].outputs[0].content_type == "image/png"
    assert provider.polls == {f"up-{ok.id}": 2}
    assert done[1].error is not None and done[1].error.code == "content_rejected"


async def test_a_step_that_changes_nothing_writes_nothing() -> None:
    stores = InMemoryStores()
    key = await _live_key(stores, 1_000_000)
    task = await stores.task_service(CATALOGUE).create(key, "seedream-3", "x")
    provider = Scripted(pending_polls=5)
    await _run_all(stores, _runner(stores, provider), [task.id])
    # submit, 5 polls that find it still running (no write), and the poll that finds it
    # ready and fetches and stores its file in that step: 2 writes.
    assert provider.polls == {f"up-{task.id}": 6} and stores.tasks.written == 2


class Linking(Scripted):
    """A provider whose status answer links the finished file (as Ark's does)."""

    def __init__(self) -> None:
        super().__init__()
        self.fetched = 0
        self.opened: list[str] = []

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        state = await super().poll(request, upstream_id)
        if isinstance(state, Ready):
            return Ready(results=(Result("image/png", url=f"https://cdn/{upstream_id}.png"),))
        return state

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int) -> MediaStream:
        self.fetched += 1
        return await super().fetch(request, upstream_id, index)

    async def open(self, request: GenerationRequest, result: object) -> MediaStream:
        self.opened.append(result.url)  # type: ignore[attr-defined]
        return MediaStream("image/png", chunks_of(PNG), 8, 8)


async def test_a_poll_that_links_the_files_stores_them_in_that_step() -> None:
    stores = InMemoryStores()
    key = await _live_key(stores, 1_000_000)
    task = await stores.task_service(CATALOGUE).create(key, "seedream-3", "x")
    provider = Linking()
    (done,) = await _run_all(stores, _runner(stores, provider), [task.id])
    assert done.status is Status.DONE and done.outputs and done.outputs[0].bytes == len(PNG)
    assert provider.opened == [f"https://cdn/up-{task.id}.png"] and provider.fetched == 0
    # submit and the poll that found it finished and stored it: 2 writes.
    assert stores.tasks.written == 2


async def test_a_commit_without_the_lease_is_refused(stores: InMemoryStores) -> None:
    from mediagate.core.tasks import Advance

    _, key = await stores.key_service().create(Mode.TEST)
    task = await stores.task_service(CATALOGUE).create(key, "seedream-3", "x")
    now = stores.clock()
    (leased,) = await stores.tasks.claim_due("me", now, 60, 10)
    update = TaskUpdate(Status.PROCESSING, Step.POLL, now + 1, upstream_id="u")
    (stolen,) = await stores.tasks.advance_many([Advance(leased, update)], "someone else", now)
    assert not stolen.committed
    (mine,) = await stores.tasks.advance_many([Advance(leased, update)], "me", now)
    assert mine.committed and (await stores.tasks.get(task.id)).status is Status.PROCESSING  # type: ignore[union-attr]


async def test_input_downloads_wait_for_their_keys_share(stores: InMemoryStores) -> None:
    _, key = await stores.key_service().create(Mode.TEST)
    task = await stores.task_service(CATALOGUE).create(
        key, "seedream-3", "x", images=["https://example.com/a.png"]
    )
    runner = _runner(stores, Scripted())
    slots = runner._inputs.slots
    for _ in range(4):
        assert slots.take(key.id)
    update = await runner.prepare(task)
    assert update is not None and update.step is Step.SUBMIT and update.status is task.status
    assert not slots.take(key.id)  # the key's share is full...
    assert slots.take("another key")  # ...and another key is not kept out


async def test_a_running_task_keeps_its_route_when_the_routes_file_is_reordered() -> None:
    from mediagate.providers.registry import Route

    stores = InMemoryStores()
    key = await _live_key(stores, 1_000_000)
    a, b = Scripted(name="a"), Scripted(name="b")
    before = {"seedream-3": [Route(provider="a", model="m-a"), Route(provider="b", model="m-b")]}
    registry = ProviderRegistry(a, {"a": a, "b": b}, before)  # type: ignore[arg-type]
    accounts = stores.task_service(CATALOGUE)._accounts
    tasks = TaskService(
        CATALOGUE, stores.tasks, lambda *_: None, registry, stores.clock, stores.media, accounts
    )
    task = await tasks.create(key, "seedream-3", "x")
    assert (task.provider, task.route, task.route_name) == ("a", 0, "a/m-a")
    after = {"seedream-3": [Route(provider="b", model="m-b"), Route(provider="a", model="m-a")]}
    edited = ProviderRegistry(a, {"a": a, "b": b}, after)  # type: ignore[arg-type]
    blobs = BlobStore(MemoryStore())
    inputs = InputResolver(blobs, UrlSigner(b"k" * 32), 1 << 20, is_public_address)
    runner = StepRunner(CATALOGUE, edited, blobs, inputs, time.time)
    update = await runner.run(task)
    assert a.submitted == ["m-a"] and b.submitted == []  # by name, not by position
    assert update.step is Step.POLL


def test_a_full_download_pool_still_lets_a_quiet_key_start_one() -> None:
    from mediagate.jobs.inputs import FetchSlots

    slots = FetchSlots(capacity=8, per_key=4)
    assert all(slots.take(k) for k in ("a", "b") for _ in range(4))  # the pool is full
    assert not slots.take("a")  # a key at its share waits
    assert slots.take("quiet") and not slots.take("quiet")  # one each, beyond capacity...
    assert all(slots.take(f"k{i}") for i in range(7))  # ...up to twice the capacity
    assert not slots.take("one too many")
    slots.give("a")
    assert slots.take("a") is False  # still over capacity, and "a" has downloads running
