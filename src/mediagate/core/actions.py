"""Follow-ups on finished tasks (upscale, variation, reroll, zoom, pan, extend, ...): checked
against the parent's owner, its state and the actions its result allows, then created as
new tasks that run where the parent ran.

The rules are catalogue data (``ModelSpec.actions``), so a family adds actions without
code here: an action names the parent actions it may follow, its price, whether it takes an
index (U1..U4) and whether it waits for the caller's input (a modal) before it runs. The
parent's result files become the follow-up's input images (``blob:`` references to our own
storage), in the role ``source``, so every adapter sees what it acts on.
"""

from __future__ import annotations

from mediagate.core.catalogue import ModelSpec
from mediagate.core.errors import InvalidRequestError
from mediagate.core.images import BLOB_REF
from mediagate.core.keys import KeyRecord
from mediagate.core.services import TaskService
from mediagate.core.tasks import Status, Task, files
from mediagate.core.webhooks import Callback


def check_action(spec: ModelSpec, parent: Task, action: str, index: int | None) -> None:
    """Raise InvalidRequestError unless ``action`` may follow ``parent`` now."""
    rule = spec.action(action)
    if not rule.after:
        raise InvalidRequestError("action", f"{action} starts a task; it acts on none")
    if parent.status is not Status.DONE:
        raise InvalidRequestError(
            "taskId", f"task {parent.id} is {parent.status.value}; only a finished task can be "
            f"acted on"
        )  # fmt: skip
    parent_action = parent.params.action
    if parent_action not in rule.after:
        allowed = sorted(a for a, r in spec.actions.items() if parent_action in r.after)
        raise InvalidRequestError(
            "action",
            f"{action} does not apply to the result of {parent_action or 'this task'}",
            allowed or ["none"],
        )
    if rule.index:
        if index is None or not 1 <= index <= rule.index:
            raise InvalidRequestError("index", f"{action} needs an index", [f"1..{rule.index}"])
    elif index not in (None, 0):
        raise InvalidRequestError("index", f"{action} takes no index")


async def act(
    tasks: TaskService,
    key: KeyRecord,
    parent_id: str,
    action: str,
    *,
    index: int | None = None,
    options: dict[str, object] | None = None,
    prompt: str | None = None,
    images: list[str] | None = None,
    roles: list[str] | None = None,
    callback: Callback | None = None,
    idempotency_key: str | None = None,
) -> Task:
    """Create the follow-up ``action`` on the key's task ``parent_id``. Another key's task is
    as good as absent (NotFoundError). The parent's files come first among the inputs."""
    parent = await tasks.get(key, parent_id)
    spec = tasks.catalogue.get(parent.model)
    check_action(spec, parent, action, index)
    rule = spec.actions[action]
    opts = dict(options or {})
    if rule.index:
        opts["index"] = index
    sources = [BLOB_REF + out.key for out in files(parent.outputs)][: spec.max_images or None]
    extra = list(images or [])
    refs = sources + extra
    role_list = ["source"] * len(sources) + list(roles or ["reference"] * len(extra))
    own_prompt = prompt if rule.prompt and prompt and prompt.strip() else None
    return await tasks.create(
        key,
        parent.model,
        own_prompt or parent.prompt,
        aspect_ratio=parent.params.aspect_ratio if parent.params.ar_given else None,
        images=refs or None,
        roles=role_list if refs else None,
        options={**_inherited(spec, parent), **opts},
        action=action,
        parent=parent,
        prompt_required=False,
        waits=rule.waits,
        own_images=len(sources),
        callback=callback,
        idempotency_key=idempotency_key,
    )


def _inherited(spec: ModelSpec, parent: Task) -> dict[str, object]:
    """The parent's own parameters carry over to its follow-ups, except its index."""
    return {k: v for k, v in parent.params.options.items() if k != "index" and k in spec.params}
