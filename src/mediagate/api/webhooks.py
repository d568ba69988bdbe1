"""Webhook deliveries as the key's owner sees them, replay, and the payload renderer."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter

# Every dialect registers its webhook body on import: `mediagate worker` imports only this.
from mediagate.api import (  # noqa: F401
    feed,
    flux,
    gptunnel,
    kling,
    luma,
    luma_goamz,
    midjourney,
    openai_videos,
    pictask,
    suno,
    unified,
    vidu,
)
from mediagate.api.common import WEBHOOK_BODIES, api_key, dialect_router, runtime_of
from mediagate.core.errors import NotFoundError
from mediagate.core.tasks import Task
from mediagate.core.webhooks import Attempt, Delivery
from mediagate.runtime import Runtime


class DeliveryBody(msgspec.Struct):
    object: str
    delivery: Delivery
    attempts: list[Attempt]


class DeliveryList(msgspec.Struct):
    object: str
    data: list[Delivery]


class SecretBody(msgspec.Struct):
    webhook_secret: str


def renderer(rt: Runtime) -> Any:
    """Bodies in the dialect each task was created in (each dialect module registers its
    own with ``webhook_body``), gptunnel's for tasks from before dialects were recorded."""

    def render(task: Task) -> bytes:
        body = WEBHOOK_BODIES.get(task.dialect) or WEBHOOK_BODIES["gptunnel"]
        return body(rt, task)

    return render


@get("/v1/webhooks/deliveries", summary="Webhook deliveries of this key's tasks")
async def list_deliveries(
    request: Request[Any, Any, Any],
    task_id: str | None = Parameter(query="task_id", default=None),
) -> DeliveryList:
    rt = runtime_of(request)
    return DeliveryList("list", await rt.webhook_repo.list_for(api_key(request).id, task_id))


@get("/v1/webhooks/deliveries/{delivery_id:str}", summary="One delivery with its attempts")
async def read_delivery(request: Request[Any, Any, Any], delivery_id: str) -> DeliveryBody:
    rt = runtime_of(request)
    mine = [
        d for d in await rt.webhook_repo.list_for(api_key(request).id, None) if d.id == delivery_id
    ]
    if not mine:
        raise NotFoundError(f"delivery {delivery_id!r} not found")
    return DeliveryBody("webhook_delivery", mine[0], await rt.webhook_repo.attempts(delivery_id))


@post("/v1/webhooks/deliveries/{delivery_id:str}/replay", status_code=200, summary="Send again")
async def replay(request: Request[Any, Any, Any], delivery_id: str) -> Delivery:
    rt = runtime_of(request)
    found = await rt.webhook_repo.replay(delivery_id, api_key(request).id, rt.clock())
    if found is None:
        raise NotFoundError(f"delivery {delivery_id!r} not found")
    rt.webhooks.wake()
    return found


@post("/v1/webhooks/secret", status_code=200, summary="Rotate this key's signing secret")
async def rotate_secret(request: Request[Any, Any, Any]) -> SecretBody:
    """The new ``whsec_…`` secret, shown this once; deliveries are signed with it from now."""
    secret = await runtime_of(request).keys.rotate_webhook_secret(api_key(request).id)
    return SecretBody(secret)


router = dialect_router(
    [list_deliveries, read_delivery, replay, rotate_secret], gptunnel.handle_error, "webhooks"
)
