"""Webhook deliveries as the key's owner sees them, replay, and the payload renderer."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter

from mediagate.api import gptunnel, openai_videos, unified
from mediagate.api.common import api_key, dialect_router, runtime_of, urls_at
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
    """Bodies in the dialect each task was created in, with links under its public base."""

    def render(task: Task) -> bytes:
        spec = rt.catalogue.get(task.model)
        urls = urls_at(rt, task.public_base, task)
        if task.dialect == "unified":
            data = unified.render_with(spec, task, urls)
            return msgspec.json.encode(unified.Envelope(code="success", message="", data=data))
        if task.dialect == "openai":
            return msgspec.json.encode(openai_videos.render_with(spec, task))
        return msgspec.json.encode(gptunnel.render_with(task, urls))

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
