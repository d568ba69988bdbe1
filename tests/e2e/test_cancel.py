"""Cancel and delete: through the gptunnel and OpenAI dialects on a slow sandbox, and the
upstream-cancel step against a provider that records what it was told."""

from __future__ import annotations

import time
from collections.abc import Iterator

import msgspec
import pytest
import requests

from mediagate.core.catalogue import default_catalogue
from mediagate.core.errors import UnavailableError
from mediagate.core.provider import GenerationRequest
from mediagate.core.tasks import Status, Step, TaskUpdate
from mediagate.jobs.steps import StepRunner
from mediagate.providers.registry import ProviderRegistry
from mediagate.store import migrate
from mediagate.store.db import Database
from mediagate.store.tasks import TaskRepository
from tests.helpers import Server
from tests.integration.test_store import _task


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("slow"), latency=30).start()
    yield srv
    srv.stop()


def _create(server: Server, key: str) -> str:
    resp = requests.post(
        server.url + "/v1/media/create",
        json={"model": "seedance-1-lite-480P-5s", "prompt": "a long one"},
        headers={"Authorization": key},
        timeout=10,
    )
    task_id: str = resp.json()["id"]
    return task_id


def _cancel(server: Server, key: str, task_id: str) -> requests.Response:
    return requests.post(
        server.url + "/v1/media/cancel",
        json={"task_id": task_id},
        headers={"Authorization": key},
        timeout=10,
    )


def test_cancel_a_running_task_in_every_dialect(slow: Server) -> None:
    key = slow.key()
    task_id = _create(slow, key)
    deadline = time.monotonic() + 10
    while True:  # wait until the sandbox has it (status processing, an upstream id)
        body = requests.get(
            slow.url + "/v1/media/result", params={"task_id": task_id},
            headers={"Authorization": key}, timeout=10,
        ).json()  # fmt: skip
        if body["status"] == "processing" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert body["status"] == "processing"
    resp = _cancel(slow, key, task_id)
    assert resp.status_code == 200
    assert resp.json()["status"] == "cancelled" and resp.json()["url"] is None
    assert resp.json()["error_code"] == "cancelled"
    unified = requests.get(
        slow.url + f"/v1/video/generations/{task_id}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()["data"]
    assert unified["status"] == "failed" and unified["error"]["type"] == "cancelled"
    assert _cancel(slow, key, task_id).json()["status"] == "cancelled"  # idempotent


def test_only_the_owner_can_cancel_and_bad_ids_are_clear(slow: Server) -> None:
    owner, other = slow.key(), slow.key()
    task_id = _create(slow, owner)
    assert _cancel(slow, other, task_id).status_code == 404
    missing = _cancel(slow, owner, "")
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "task_id"
    assert _cancel(slow, owner, task_id).json()["status"] == "cancelled"


def test_openai_delete_cancels_and_forgets(slow: Server) -> None:
    key = slow.key()
    headers = {"Authorization": f"Bearer {key}"}
    video = requests.post(
        slow.url + "/v1/videos",
        json={"model": "veo-3.0-generate-preview", "prompt": "x", "seconds": 4},
        headers=headers,
        timeout=10,
    ).json()
    gone = requests.delete(slow.url + f"/v1/videos/{video['id']}", headers=headers, timeout=10)
    assert gone.json() == {"id": video["id"], "object": "video.deleted", "deleted": True}
    again = requests.get(slow.url + f"/v1/videos/{video['id']}", headers=headers, timeout=10)
    assert again.status_code == 404 and again.json()["error"]["code"] == "not_found"


class RecordingProvider:
    name = "sandbox"  # stands in for the provider the task was on

    def __init__(self, fail: bool) -> None:
        self.cancelled: list[str] = []
        self.fail = fail

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        self.cancelled.append(upstream_id)
        if self.fail:
            raise UnavailableError("vendor cannot cancel right now")


@pytest.mark.parametrize("fail", [False, True])
async def test_the_cancel_step_tells_the_upstream(db_url: str, fail: bool) -> None:
    db = Database(db_url)
    await migrate.upgrade(db)
    repo = TaskRepository(db)
    await repo.insert(_task("c" * 24), next_run_at=0)
    claimed = await repo.claim("c" * 24, "worker", time.time(), 60)
    assert claimed is not None
    submitted = TaskUpdate(
        status=Status.PROCESSING, step=Step.POLL, next_run_at=0, upstream_id="up-1"
    )
    assert await repo.advance(claimed, "worker", submitted, time.time())
    polling = await repo.claim("c" * 24, "worker", time.time(), 60)
    assert polling is not None

    cancelled = await repo.cancel("c" * 24, time.time(), "cancelled by the client")
    assert cancelled is not None and cancelled.status is Status.CANCELLED
    assert cancelled.step is Step.CANCEL
    # The worker that was polling loses its commit: the task stays cancelled.
    late = TaskUpdate(status=Status.PROCESSING, step=Step.POLL, next_run_at=0, progress=50)
    assert not await repo.advance(polling, "worker", late, time.time())
    assert await repo.cancel("c" * 24, time.time(), "again") is None

    provider = RecordingProvider(fail)
    registry = ProviderRegistry(provider)  # type: ignore[arg-type]
    runner = StepRunner(default_catalogue(), registry, None, None, time.time)  # type: ignore[arg-type]
    step = await repo.claim("c" * 24, "worker", time.time(), 60)
    assert step is not None
    update = await runner.run(step)
    assert provider.cancelled == ["up-1"]
    assert update.status is Status.CANCELLED and update.step is None
    assert await repo.advance(step, "worker", update, time.time())
    final = await repo.get("c" * 24)
    assert final is not None and final.step is None and final.status is Status.CANCELLED
    details = [d for _, _, d in await repo.events("c" * 24)]
    assert details[-1].startswith("upstream cancel failed" if fail else "cancelled upstream")
    assert await repo.unfinished() == []
    await db.dispose()


async def test_a_task_past_its_deadline_fails_and_is_cancelled_upstream(db_url: str) -> None:
    db = Database(db_url)
    await migrate.upgrade(db)
    repo = TaskRepository(db)
    late = msgspec.structs.replace(_task("d" * 24), created_at=time.time() - 3600)
    await repo.insert(late, next_run_at=0)
    claimed = await repo.claim("d" * 24, "w", time.time(), 60)
    assert claimed is not None
    submitted = TaskUpdate(
        status=Status.PROCESSING, step=Step.POLL, next_run_at=0, upstream_id="up-9"
    )
    assert await repo.advance(claimed, "w", submitted, time.time())

    provider = RecordingProvider(fail=False)
    registry = ProviderRegistry(provider)  # type: ignore[arg-type]
    runner = StepRunner(default_catalogue(), registry, None, None, time.time)  # type: ignore[arg-type]
    polling = await repo.claim("d" * 24, "w", time.time(), 60)
    assert polling is not None
    update = await runner.run(polling)
    assert update.status is Status.FAILED and update.step is Step.CANCEL
    assert update.error is not None and update.error.code == "timeout"
    assert await repo.advance(polling, "w", update, time.time())
    step = await repo.claim("d" * 24, "w", time.time(), 60)
    assert step is not None
    final = await runner.run(step)
    assert provider.cancelled == ["up-9"] and final.status is Status.FAILED and final.step is None
    assert await repo.advance(step, "w", final, time.time())
    assert await repo.unfinished() == []
    await db.dispose()
