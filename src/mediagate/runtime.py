"""Wires one deployment together from Settings: database, storage, services and workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

import aiohttp
import structlog

from mediagate import __version__, datadir
from mediagate.children import render_worker
from mediagate.core.assets import AssetService
from mediagate.core.billing import AccountService
from mediagate.core.catalogue import Catalogue, default_catalogue
from mediagate.core.decks import DeckService
from mediagate.core.key_service import KeyService
from mediagate.core.limits import RateLimiter, TokenRate
from mediagate.core.ports import NullObserver, Observer
from mediagate.core.services import TaskService
from mediagate.core.tasks import Task
from mediagate.core.text import default_text_catalogue
from mediagate.core.uploads import UploadService
from mediagate.jobs.decode import Decoder
from mediagate.jobs.inputs import InputResolver
from mediagate.jobs.netguard import policy
from mediagate.jobs.steps import StepRunner
from mediagate.jobs.webhooks import WebhookSender
from mediagate.jobs.worker import WorkerPool
from mediagate.providers.build import live_providers, makers
from mediagate.providers.channels import ChannelManager
from mediagate.providers.local import LocalProvider
from mediagate.providers.registry import ProviderRegistry, load_routes
from mediagate.providers.sandbox.provider import SandboxProvider
from mediagate.providers.sandbox.viggle import video_size
from mediagate.relay.audio import AudioWork
from mediagate.relay.drafts import RelayDrafter
from mediagate.relay.log import RequestLog, Reservations
from mediagate.relay.service import RelayService
from mediagate.settings import Settings
from mediagate.storage.blobs import BlobStore, S3Settings
from mediagate.storage.signing import UrlSigner, load_or_create_secret
from mediagate.store import migrate
from mediagate.store.accounts import AccountRepository
from mediagate.store.assets import AssetRepository
from mediagate.store.channels import ChannelRepository
from mediagate.store.db import KEYS_CHANNEL, TASKS_CHANNEL, WEBHOOKS_CHANNEL, Database
from mediagate.store.decks import DeckRepository
from mediagate.store.keys import KeyRepository
from mediagate.store.limits import SharedRateLimiter
from mediagate.store.listen import Listener
from mediagate.store.overview import OverviewRepository
from mediagate.store.prices import PriceRepository
from mediagate.store.requests import RequestRepository
from mediagate.store.sealing import Sealer
from mediagate.store.sessions import SessionRepository
from mediagate.store.tasks import TaskRepository
from mediagate.store.uploads import UploadRepository
from mediagate.store.webhooks import WebhookRepository

if TYPE_CHECKING:
    from mediagate.metrics import Metrics

PRICES_S = 5.0  # how often prices set in the console are read again
log = structlog.get_logger("mediagate.runtime")
SEALED_SINCE = "0009"  # the migration from which secrets are written sealed


class Runtime:
    """Everything a process needs. Build with ``await Runtime.open(settings)``."""

    def __init__(
        self, settings: Settings, clock: Callable[[], float] = time.time, observe: bool = True
    ) -> None:
        self.settings = settings
        self.clock = clock
        db_file = None if settings.database_url else settings.data_dir / "mediagate.db"
        for warning in datadir.prepare(settings.data_dir, db_file):
            logging.getLogger("mediagate.datadir").warning(warning)
        self.db = Database(settings.db_url, synchronous=settings.sqlite_synchronous)
        text_catalogue = default_text_catalogue(settings.prices, settings.model_aliases)
        self.catalogue: Catalogue = (
            default_catalogue()
            .with_aliases(
                {a: t for a, t in settings.model_aliases.items() if a not in text_catalogue.aliases}
            )
            .with_banned(settings.banned_words)
        )
        for default in (settings.default_image_model, settings.default_video_model):
            self.catalogue.get(default)  # a typo in the settings stops the start, clearly
        cache = settings.blob_cache_bytes
        if settings.s3_bucket:
            s3 = S3Settings(
                bucket=settings.s3_bucket,
                endpoint=settings.s3_endpoint,
                region=settings.s3_region,
                access_key_id=settings.s3_access_key_id,
                secret_access_key=settings.s3_secret_access_key,
                prefix=settings.s3_prefix,
            )
            self.blobs = BlobStore.s3(s3, cache_bytes=cache)
        else:
            self.blobs = BlobStore.local(settings.media_dir, cache_bytes=cache)
        secret = (
            settings.secret_key.encode()
            if settings.secret_key
            else load_or_create_secret(settings.data_dir / "secret.key")
        )
        self.signer = UrlSigner(secret, settings.url_ttl_s)
        sealer = Sealer(self.signer.derive("sealing-v1"))
        self.task_repo = TaskRepository(self.db)
        self.account_repo = AccountRepository(self.db)
        self.accounts = AccountService(self.account_repo, self.catalogue, clock)
        self.key_repo = KeyRepository(self.db, sealer)
        self.keys = KeyService(self.key_repo, clock, self.account_repo, settings.key_cache_s)
        self.limiter: RateLimiter | SharedRateLimiter = (
            SharedRateLimiter(self.db, settings.rate_limit_rpm, clock)
            if self.db.is_postgres
            else RateLimiter(settings.rate_limit_rpm, clock)
        )
        self.listener: Listener | None = None
        self._checkpoints: asyncio.Task[None] | None = None
        self.render_pool = ProcessPoolExecutor(
            max_workers=settings.render_processes or os.cpu_count() or 1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=render_worker,
            initargs=(os.getpid(),),
        )
        sandbox = SandboxProvider(clock, settings.sandbox_latency_s, self.render_pool)
        self.providers = ProviderRegistry(
            sandbox, routes=load_routes(settings.routes_file), sandbox_live=settings.sandbox_live
        )
        self.http: aiohttp.ClientSession | None = None
        self.channel_repo = ChannelRepository(self.db, sealer)
        self.channels: ChannelManager | None = None  # once the HTTP session exists
        # Metrics for servers and workers; a CLI command does without (and without the import).
        self.metrics: Metrics | None = None
        observer: Observer = NullObserver()
        if observe:
            from mediagate.metrics import Metrics

            self.metrics = observer = Metrics()
            self.db.time_statements(self.metrics.statement)
        self.tasks = TaskService(
            self.catalogue,
            self.task_repo,
            self._announce,
            self.providers,
            clock,
            self.blobs,
            self.accounts,
            settings.prices,
            max_queued=settings.max_queued_per_key,
            callbacks_allow_private=settings.webhook_allow_private,
            max_input_bytes=settings.input_max_bytes,
            max_input_pixels=settings.input_max_pixels,
            observer=observer,
        )
        # Clients' images decode in the render pool, a few at a time, never in this process.
        self.decoder = Decoder(self.render_pool, max(1, (settings.render_processes or 2) // 2))
        inputs = InputResolver(
            self.blobs,
            self.signer,
            settings.input_max_bytes,
            policy(settings.input_allow_private),
            self.decoder,
            settings.input_max_pixels,
        )
        caps = settings.max_running
        per_key = settings.max_running_per_key
        repo = self.task_repo

        async def slots(task: Task) -> bool:
            """Slot bookkeeping only where a cap applies to this task's provider or key."""
            cap = caps.get(task.provider, 0) or self.providers.cap_of(task.provider)
            if not cap and not per_key:
                return True
            return await repo.take_slot(task, per_key, cap)

        runner = StepRunner(
            self.catalogue,
            self.providers,
            self.blobs,
            inputs,
            clock,
            slots=slots,
            observer=observer,
        )
        self.webhook_repo = WebhookRepository(self.db)
        self.console_sessions = SessionRepository(self.db)
        # Relayed requests (chat, completions, embeddings): beside the engine, on the same
        # keys, routes, channels and accounts; logged and charged in batches.
        self.request_repo = RequestRepository(self.db)
        self.request_log = RequestLog(
            self.request_repo, Reservations(), retention_s=settings.request_log_days * 86400
        )
        self.relay = RelayService(
            text_catalogue,
            self.providers,
            self.account_repo,
            self.request_log.reservations,
            self.request_log,
            clock,
            settings.sandbox_text_cadence_s,
            self.request_repo,
            TokenRate(settings.rate_limit_tpm, time.monotonic) if settings.rate_limit_tpm else None,
            AudioWork(self.render_pool, self.blobs, max(1, (settings.render_processes or 2) // 2)),
        )
        self.tasks.drafter = RelayDrafter(self.relay)  # a deck's outline, from a chat model
        self.uploads = UploadService(
            UploadRepository(self.db),
            self.blobs,
            clock,
            settings.upload_quota_bytes,
            settings.input_max_pixels,
        )
        self.overview = OverviewRepository(self.db)
        self.price_repo = PriceRepository(self.db)
        self._prices_task: asyncio.Task[None] | None = None
        self.assets = AssetService(
            AssetRepository(self.db), self.blobs, self.uploads, clock, self._video_size
        )
        self.decks = DeckService(DeckRepository(self.db), clock)
        self.webhooks = WebhookSender(
            self.webhook_repo,
            self.task_repo,
            self.key_repo,
            clock,
            policy(settings.webhook_allow_private),
            first_retry_s=settings.webhook_first_retry_s,
            observer=observer,
        )
        self.tasks.on_webhook = self.webhooks.wake
        self.workers = WorkerPool(
            self.task_repo,
            runner,
            clock,
            concurrency=settings.step_concurrency,
            per_provider=settings.provider_concurrency,
            sweep_s=settings.engine_sweep_s,
            on_commit=self._committed,
            observer=observer,
        )

    def _announce(self, task_id: str, due: float) -> None:
        """The Queue port: new or changed work. The engine here claims it; on PostgreSQL
        the store's NOTIFY also tells every other process."""
        self.workers.push(task_id, due)

    def _task_signal(self, task_id: str) -> None:
        """NOTIFY from any process: new work (no payload), or a task that changed under
        its holder (a cancel names it), whose held copy is then dropped."""
        if task_id:
            self.workers.push(task_id, self.clock())
        else:
            self.workers.wake()

    def _committed(self, task_id: str, webhook_queued: bool) -> None:
        self.tasks.watch.notify(task_id)
        if webhook_queued:
            self.webhooks.wake()

    @classmethod
    async def open(cls, settings: Settings, observe: bool = True) -> Runtime:
        runtime = cls(settings, observe=observe)
        was = await migrate.upgrade(runtime.db)
        if was is not None and was < SEALED_SINCE:
            # Secrets a database kept in plain text before sealing existed are sealed now,
            # once, as it is upgraded (no start after that reads them again).
            await runtime.key_repo.seal_plain()
            await runtime.channel_repo.seal_plain()
        # One pooled HTTP session for every upstream call; adapters get it injected. The
        # engine bounds its steps per provider; a smaller pool per host than that bound
        # would queue a provider's bulk polls behind its downloads (no per-host limit).
        connections = settings.step_concurrency + 64  # and bulk polls, probes, channels
        runtime.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections, limit_per_host=0),
            headers={"User-Agent": f"mediagate/{__version__}"},
        )
        runtime.providers.add_live(live_providers(settings, runtime.http, runtime.clock))
        # The gateway's own image tools: no credentials, always there (routes name "local").
        runtime.providers.add_live({"local": LocalProvider(runtime.clock, runtime.render_pool)})
        runtime.channels = ChannelManager(
            runtime.channel_repo,
            runtime.providers,
            makers(settings, runtime.http, runtime.clock),
            runtime.clock,
            probe_after_s=settings.channel_probe_s,
            refresh_s=settings.channel_refresh_s,
        )
        await runtime.channels.load()
        return runtime

    def link(self, root: str, key: str) -> str:
        """A result file's public link: a signed mediagate URL under ``root``, or a
        presigned S3 URL when so configured."""
        if self.settings.s3_presign and self.blobs.can_presign:
            return self.blobs.presign(key, self.settings.url_ttl_s or 7 * 24 * 3600)
        return root + self.signer.path(key)

    async def start(self, engine: bool) -> None:
        """Start this process's background work: the engine and the webhook sender when
        ``engine``, and on PostgreSQL the LISTEN connection that wakes them."""
        if self.db.is_sqlite:
            self._checkpoints = asyncio.create_task(self._checkpoint_loop(), name="checkpoint")
        self.request_log.start()
        await self.load_prices()
        self._prices_task = asyncio.create_task(self._price_loop(), name="prices")
        if self.channels is not None:
            await self.channels.start()  # refreshes, probes and re-enables channels
        if engine:
            await self.workers.start()
            await self.webhooks.start()
        if self.db.is_postgres:
            self.listener = Listener(
                self.settings.db_url,
                {
                    TASKS_CHANNEL: self._task_signal,
                    WEBHOOKS_CHANNEL: lambda _: self.webhooks.wake(),
                    KEYS_CHANNEL: lambda _: self.keys.invalidate(),
                },
            )
            await self.listener.start()

    async def _video_size(self, data: bytes) -> tuple[int, int] | None:
        """An uploaded video's size, read in the render pool: a client's file is never
        parsed in the server process."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.render_pool, video_size, data)

    async def load_prices(self) -> None:
        """The prices admins set, into the task service (every PRICES_S, so a change made
        in another process applies here too)."""
        self.tasks.set_prices(await self.price_repo.all())

    async def _price_loop(self) -> None:
        while True:
            await asyncio.sleep(PRICES_S)
            try:
                await self.load_prices()
            except Exception:
                log.exception("price refresh failed")

    async def _checkpoint_loop(self) -> None:
        """SQLite's writer does not checkpoint the WAL in its commits (that would stall the
        loop); this copies it into the database file every second, off the loop."""
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.db.checkpoint()
            except Exception:
                log.exception("WAL checkpoint failed")

    async def close(self) -> None:
        await self.request_log.stop()  # what waits is written before the process goes
        if self._prices_task is not None:
            self._prices_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prices_task
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpoints
        if self.listener is not None:
            await self.listener.stop()
        if self.channels is not None:
            await self.channels.stop()
        await self.workers.stop()
        await self.webhooks.stop()
        if self.http is not None:
            await self.http.close()
        # Waited for (briefly, off the loop): a pool left to die with the process leaks its
        # semaphores, and the resource tracker complains at every stop.
        stopping = asyncio.to_thread(self.render_pool.shutdown, wait=True, cancel_futures=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping, 10)
        await self.db.dispose()
