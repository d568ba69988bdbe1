"""Tasks and their state machine: the statuses, the legal moves and the task record."""

from __future__ import annotations

import enum

import msgspec

from mediagate.core.catalogue import GenerationParams


class Status(enum.StrEnum):
    WAITING = "waiting"  # an action that needs the caller's input first (a modal); no step
    QUEUED = "queued"  # accepted, not yet sent upstream (gptunnel: "idle")
    PROCESSING = "processing"  # upstream has it
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.DONE, Status.FAILED, Status.CANCELLED})

# Which status may follow which; anything else is a bug and is refused by the store.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.WAITING: frozenset({Status.WAITING, Status.QUEUED, Status.CANCELLED}),
    # QUEUED -> DONE: a synchronous upstream answers with the media at submit.
    Status.QUEUED: frozenset(
        {Status.QUEUED, Status.PROCESSING, Status.DONE, Status.FAILED, Status.CANCELLED}
    ),
    Status.PROCESSING: frozenset(
        {Status.PROCESSING, Status.QUEUED, Status.DONE, Status.FAILED, Status.CANCELLED}
    ),
    Status.DONE: frozenset(),
    # A cancelled task, or one failed by its deadline, keeps a step that tells the upstream
    # to stop; it stays in its status.
    Status.FAILED: frozenset({Status.FAILED}),
    Status.CANCELLED: frozenset({Status.CANCELLED}),
}


def can_move(src: Status, dst: Status) -> bool:
    return dst in TRANSITIONS[src]


class Step(enum.StrEnum):
    """The next short unit of work a task needs; None once terminal."""

    SUBMIT = "submit"
    POLL = "poll"
    FETCH = "fetch"
    CANCEL = "cancel"  # tell the upstream to stop; the task is already cancelled


class Mode(enum.StrEnum):
    """A key's mode. Tasks are only ever test or live; admin keys manage, never generate."""

    TEST = "test"
    LIVE = "live"
    ADMIN = "admin"


class Charge(enum.StrEnum):
    """Where a task's price stands in the ledger."""

    NONE = "none"  # test keys: never touches a balance
    HELD = "held"  # the price is held on the account
    SETTLED = "settled"  # done: the hold became a charge
    RELEASED = "released"  # failed or cancelled: the hold went back


class Output(msgspec.Struct, frozen=True):
    """One result: a stored file (``key``), or a text output (``text``, no key) such as a
    describe prompt or lyrics. A file's size, duration and codec are probed from its bytes.
    ``role`` says what it is in the family's terms ("clip", "cover", "grid"); ``title``
    names it where the family does (a song's title)."""

    key: str
    content_type: str
    bytes: int
    width: int
    height: int
    duration_seconds: float | None = None
    fps: int | None = None
    role: str = ""
    title: str = ""
    text: str | None = None
    codec: str = ""

    @property
    def is_file(self) -> bool:
        return bool(self.key)


def files(outputs: tuple[Output, ...], role: str | None = None) -> list[Output]:
    """The stored files among ``outputs`` (of one role, if given), in order."""
    return [o for o in outputs if o.key and (role is None or o.role == role)]


def texts(outputs: tuple[Output, ...]) -> list[Output]:
    return [o for o in outputs if not o.key]


FORMATS = {
    "image/webp": "webp",
    "image/png": "png",
    "image/jpeg": "jpeg",
    "video/mp4": "mp4",
    "audio/mpeg": "mp3",
}


def format_of(outputs: tuple[Output, ...], default: str) -> str:
    """The stored file's format ("png" for an upstream PNG, whatever the catalogue's usual
    format is); ``default`` before there is a file."""
    found = files(outputs)
    return FORMATS.get(found[0].content_type, default) if found else default


class TaskError(msgspec.Struct, frozen=True):
    code: str
    message: str


class Task(msgspec.Struct, frozen=True):
    """A generation task as the service layer sees it."""

    id: str
    key_id: str
    model: str
    prompt: str
    params: GenerationParams
    mode: Mode
    provider: str
    status: Status
    step: Step | None
    created_at: float
    updated_at: float
    progress: int = 0
    attempts: int = 0
    upstream_id: str | None = None
    outputs: tuple[Output, ...] = ()
    error: TaskError | None = None
    finished_at: float | None = None
    seed: int = 0
    account_id: str = ""
    price_micros: int = 0
    charge: Charge = Charge.NONE
    route: int = -1  # index in the model's routes list when set; -1 on the sandbox
    cost_micros: int = 0  # what the serving route's vendor charged, per the routes file
    callback_url: str | None = None  # webhooks: where, in which dialect, with which links
    dialect: str = ""
    public_base: str = ""
    route_name: str = ""  # the route's stable name: found again after the file is edited

    @property
    def action(self) -> str:
        """The action this task performs ("" for a plain create)."""
        return self.params.action

    @property
    def parent_id(self) -> str:
        """The task this one acts on ("" when it acts on none)."""
        return self.params.parent_id


class TaskUpdate(msgspec.Struct, frozen=True):
    """What a step changes. ``status`` None keeps the status; ``step`` None ends the work."""

    status: Status
    step: Step | None
    next_run_at: float | None
    progress: int | None = None
    attempts: int | None = None
    upstream_id: str | None = None
    outputs: tuple[Output, ...] | None = None
    error: TaskError | None = None
    detail: str = ""
    provider: str | None = None  # failover: the task moves to another route...
    route: int | None = None
    route_name: str | None = None
    clear_upstream: bool = False  # ...and forgets the old route's upstream id
    cost_micros: int | None = None


class Advance(msgspec.Struct, frozen=True):
    """One step's result to commit: the task as it was leased and what the step changed."""

    task: Task
    update: TaskUpdate


class Advanced(msgspec.Struct, frozen=True):
    """What committing an Advance did: whether it held, and whether a webhook was queued."""

    committed: bool
    webhook_queued: bool = False


# What an update sets as it is, when it sets it (None leaves the task's value): shared by
# ``applied`` and the store's UPDATE, so the two never disagree.
PLAIN_CHANGES = (
    "progress",
    "attempts",
    "upstream_id",
    "provider",
    "route",
    "route_name",
    "cost_micros",
)


def applied(task: Task, update: TaskUpdate, now: float) -> Task:
    """The task as it is once ``update`` is committed: what an engine that keeps holding a
    task carries on with, without reading the row back."""
    changes: dict[str, object] = {"status": update.status, "step": update.step, "updated_at": now}
    for name in (*PLAIN_CHANGES, "outputs", "error"):
        value = getattr(update, name)
        if value is not None:
            changes[name] = value
    if update.clear_upstream:
        changes["upstream_id"] = None
    if update.status in TERMINAL and task.status not in TERMINAL:
        changes["finished_at"] = now
    return msgspec.structs.replace(task, **changes)


def changes_nothing(task: Task, update: TaskUpdate) -> bool:
    """A step result worth no write: the same status and step, no new progress, attempts,
    upstream id, outputs, error, route or note (typically "still running" from a poll)."""
    return (
        update.status is task.status
        and update.step is task.step
        and update.progress in (None, task.progress)
        and update.attempts in (None, task.attempts)
        and update.upstream_id in (None, task.upstream_id)
        and update.outputs is None
        and update.error is None
        and update.provider in (None, task.provider)
        and update.route in (None, task.route)
        and update.route_name in (None, task.route_name)
        and update.cost_micros is None
        and not update.clear_upstream
        and not update.detail
    )
