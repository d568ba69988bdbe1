"""The Midjourney wire format (midjourney-proxy / new-api): prompt parameters, request
bodies, the task object, its buttons and their customId grammar, and the error body."""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec

from mediagate.api.common import urls_at
from mediagate.core.errors import InvalidRequestError
from mediagate.core.numbers import is_digits
from mediagate.core.tasks import Status, Task, files, texts
from mediagate.runtime import Runtime

WAITING_TEXT = "Waiting for window confirm"

# -- prompt parameters -------------------------------------------------------------------------

FLAGS = {  # --flag -> the catalogue parameter it sets
    "ar": "aspect_ratio", "aspect": "aspect_ratio", "v": "version", "version": "version",
    "niji": "niji", "no": "no", "seed": "seed", "q": "quality", "quality": "quality",
    "s": "stylize", "stylize": "stylize", "c": "chaos", "chaos": "chaos", "tile": "tile",
    "iw": "image_weight", "weird": "weird", "w": "weird", "style": "style", "zoom": "zoom",
}  # fmt: skip
SPEEDS = {"fast", "relax", "turbo"}
_FLAG = re.compile(r"(?:^|\s)--([A-Za-z]+)((?:\s+(?!--)[^\s]+)*)")


class Prompt(msgspec.Struct):
    text: str  # without its parameters
    aspect_ratio: str | None
    options: dict[str, object]
    names: dict[str, str]  # catalogue parameter -> how the prompt spelled it


def reduced(ratio: str) -> str:
    """``512:512`` as ``1:1`` and ``1024:768`` as ``4:3``, as Midjourney reads them (and as
    describe writes them); anything else as it is, for the catalogue's check to name."""
    width, sep, height = ratio.partition(":")
    if not (sep and is_digits(width, 5) and is_digits(height, 5)) or "0" in (width, height):
        return ratio
    g = math.gcd(int(width), int(height))
    return f"{int(width) // g}:{int(height) // g}"


def parse_prompt(prompt: str) -> Prompt:
    """Split ``a cat --ar 16:9 --v 6.1 --no dogs --tile`` into text and parameters."""
    head = prompt.split(" --", 1)[0] if not prompt.startswith("--") else ""
    options: dict[str, object] = {}
    names: dict[str, str] = {}
    ratio = None
    for match in _FLAG.finditer(prompt):
        flag, value = match.group(1).lower(), match.group(2).strip()
        if flag in SPEEDS:
            options["speed"] = flag
            continue
        param = FLAGS.get(flag)
        if param is None:
            raise InvalidRequestError(
                f"--{flag}", "is not a Midjourney parameter", sorted(f"--{f}" for f in FLAGS)
            )
        names[param] = f"--{flag}"
        if param == "tile":
            options["tile"] = True
        elif not value:
            raise InvalidRequestError(f"--{flag}", "needs a value")
        elif param == "aspect_ratio":
            ratio = reduced(value)
        elif param == "niji" and value in ("5", "6"):
            options["niji"] = value
        else:
            options[param] = value
    return Prompt(head.strip(), ratio, options, names)


# -- wire shapes ---------------------------------------------------------------------------------


class Imagine(msgspec.Struct, rename="camel"):
    prompt: str
    base64_array: list[str] | None = None
    base64: str | None = None
    bot_type: str | None = None
    state: str | None = None
    notify_hook: str | None = None


class ActionBody(msgspec.Struct, rename="camel"):
    task_id: str
    custom_id: str
    state: str | None = None
    notify_hook: str | None = None


class ChangeBody(msgspec.Struct, rename="camel"):
    task_id: str
    action: str
    index: int | None = None
    state: str | None = None
    notify_hook: str | None = None


class SimpleChange(msgspec.Struct, rename="camel"):
    content: str
    state: str | None = None
    notify_hook: str | None = None


class ModalBody(msgspec.Struct, rename="camel"):
    task_id: str
    prompt: str | None = None
    mask_base64: str | None = None


class Describe(msgspec.Struct, rename="camel"):
    base64: str | None = None
    link: str | None = None
    state: str | None = None
    notify_hook: str | None = None


class Blend(msgspec.Struct, rename="camel"):
    base64_array: list[str]
    dimensions: str = "SQUARE"
    state: str | None = None
    notify_hook: str | None = None


class Shorten(msgspec.Struct, rename="camel"):
    prompt: str
    state: str | None = None
    notify_hook: str | None = None


class Swap(msgspec.Struct, rename="camel"):
    source_base64: str
    target_base64: str
    state: str | None = None
    notify_hook: str | None = None


class Upload(msgspec.Struct, rename="camel"):
    base64_array: list[str]


class Ids(msgspec.Struct):
    ids: list[str] = []


class SubmitResult(msgspec.Struct):
    code: int
    description: str
    result: str | list[str] | None
    properties: dict[str, Any] = {}


class Button(msgspec.Struct):
    customId: str
    emoji: str
    label: str
    type: int = 2
    style: int = 2


class MjTask(msgspec.Struct):
    id: str
    action: str
    customId: str
    botType: str
    prompt: str
    promptEn: str
    description: str
    state: str
    submitTime: int
    startTime: int | None
    finishTime: int | None
    imageUrl: str
    status: str
    progress: str
    failReason: str
    buttons: list[Button]
    maskBase64: str
    properties: dict[str, Any]


# -- buttons ---------------------------------------------------------------------------------

GRID_BUTTONS = [(f"MJ::JOB::upsample::{i}::{{h}}", "", f"U{i}") for i in range(1, 5)]
GRID_BUTTONS += [("MJ::JOB::reroll::0::{h}::SOLO", "🔄", "")]
GRID_BUTTONS += [(f"MJ::JOB::variation::{i}::{{h}}", "", f"V{i}") for i in range(1, 5)]
SINGLE_BUTTONS = [
    ("MJ::JOB::upsample_v6_2x_subtle::1::{h}::SOLO", "", "Upscale (Subtle)"),
    ("MJ::JOB::upsample_v6_2x_creative::1::{h}::SOLO", "", "Upscale (Creative)"),
    ("MJ::JOB::low_variation::1::{h}::SOLO", "🪄", "Vary (Subtle)"),
    ("MJ::JOB::high_variation::1::{h}::SOLO", "🪄", "Vary (Strong)"),
    ("MJ::Inpaint::1::{h}::SOLO", "🖌️", "Vary (Region)"),
    ("MJ::Outpaint::50::1::{h}::SOLO", "🔍", "Zoom Out 2x"),
    ("MJ::Outpaint::75::1::{h}::SOLO", "🔍", "Zoom Out 1.5x"),
    ("MJ::CustomZoom::1::{h}", "🔍", "Custom Zoom"),
    ("MJ::JOB::pan_left::1::{h}::SOLO", "⬅️", ""),
    ("MJ::JOB::pan_right::1::{h}::SOLO", "➡️", ""),
    ("MJ::JOB::pan_up::1::{h}::SOLO", "⬆️", ""),
    ("MJ::JOB::pan_down::1::{h}::SOLO", "⬇️", ""),
]


def parse_custom_id(custom_id: str) -> tuple[str, int | None, dict[str, object], str]:
    """(action, index, options, the task hash) from a button's customId, the way new-api
    reads it; an unknown one is a code-4 error naming it."""
    parts = custom_id.split("::")
    if len(parts) < 4 or parts[0] != "MJ":
        raise InvalidRequestError("customId", f"unknown_action:{custom_id}")
    if parts[1] == "JOB":
        name, number, digest = parts[2], parts[3], parts[4] if len(parts) > 4 else ""
        if name == "upsample":
            return "upscale", _index(custom_id, number), {}, digest
        if "upsample" in name:
            return (
                ("upscale_creative" if "creative" in name else "upscale_subtle"),
                None,
                {},
                digest,
            )
        if name == "variation":
            return "variation", _index(custom_id, number), {}, digest
        if name in ("low_variation", "high_variation", "reroll"):
            return name, None, {}, digest
        if name.startswith("pan_") and name[4:] in ("left", "right", "up", "down"):
            return "pan", None, {"direction": name[4:]}, digest
    elif parts[1] == "Outpaint" and parts[2] in ("50", "75") and len(parts) > 4:
        return "zoom", None, {"zoom": 2.0 if parts[2] == "50" else 1.5}, parts[4]
    elif parts[1] == "CustomZoom":
        return "custom_zoom", None, {}, parts[3]
    elif parts[1] == "Inpaint":
        return "inpaint", None, {}, parts[3]
    raise InvalidRequestError("customId", f"unknown_action:{custom_id}")


def _index(custom_id: str, number: str) -> int:
    if number not in ("1", "2", "3", "4"):
        raise InvalidRequestError("customId", f"unknown_action:{custom_id}")
    return int(number)


def buttons_for(rt: Runtime, task: Task) -> list[Button]:
    """The buttons a finished task offers: those whose action may follow its own."""
    if task.status is not Status.DONE:
        return []
    spec = rt.catalogue.get(task.model)
    found = []
    for template, emoji, label in GRID_BUTTONS + SINGLE_BUTTONS:
        action, _, _, _ = parse_custom_id(template.format(h=task.id))
        rule = spec.actions.get(action)  # a task of another model has no Midjourney buttons
        if rule is not None and task.action in rule.after:
            found.append(Button(customId=template.format(h=task.id), emoji=emoji, label=label))
    return found


# -- rendering ---------------------------------------------------------------------------------

STATUS = {
    Status.WAITING: "MODAL",
    Status.DONE: "SUCCESS",
    Status.FAILED: "FAILURE",
    Status.CANCELLED: "CANCEL",
}


def _status(task: Task) -> str:
    if task.status is Status.QUEUED:
        return "NOT_START"
    if task.status is Status.PROCESSING:
        return "SUBMITTED" if task.progress <= 1 else "IN_PROGRESS"
    return STATUS[task.status]


def render(rt: Runtime, root: str, task: Task) -> MjTask:
    spec = rt.catalogue.get(task.model)
    urls = urls_at(rt, root, task)
    said = texts(task.outputs)
    action = spec.actions[task.action].title if task.action in spec.actions else "IMAGINE"
    final = said[0].text if said and said[0].text else task.prompt
    # A describe's prompts are its answer: midjourney-proxy puts them in prompt and promptEn,
    # where clients read them.
    shown = final if task.action == "describe" and said else task.prompt
    progress = "100%" if task.status.terminal else f"{task.progress}%"
    started = task.created_at if task.status is not Status.QUEUED else None
    return MjTask(
        id=task.id,
        action=action,
        customId="",
        botType=str(task.params.options.get("bot", "MID_JOURNEY")),
        prompt=shown,
        promptEn=shown,
        description="Submit success"
        if task.status is not Status.WAITING
        else "Waiting for window confirm",
        state=str(task.params.options.get("state", "")),
        submitTime=int(task.created_at * 1000),
        startTime=int(started * 1000) if started else None,
        finishTime=int(task.finished_at * 1000) if task.finished_at else None,
        imageUrl=urls[0] if urls and files(task.outputs) else "",
        status=_status(task),
        progress=progress if task.status is not Status.FAILED else "",
        failReason=task.error.message if task.error else "",
        buttons=buttons_for(rt, task),
        maskBase64="",
        properties={"finalPrompt": final, "finalZhPrompt": ""},
    )


class MjError(msgspec.Struct):
    code: int
    description: str
    type: str
    result: None = None


class AuthErrorDetail(msgspec.Struct):
    message: str
    type: str


class MjAuthError(msgspec.Struct):
    """new-api's auth failures on /mj are OpenAI's shape."""

    error: AuthErrorDetail


class ImageNotFound(msgspec.Struct):
    """``GET /mj/image/{id}`` for a task without an image, as new-api answers it."""

    error: str
