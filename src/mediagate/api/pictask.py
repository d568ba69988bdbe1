"""GPTNB's image tools ("其他图像API1/2"): a create-task / get-result pair per tool, served by
the local tools (``models/local.toml``) on a test key or a live one.

Pinned from GPTNB's own documentation of api.gpt.ge (gpt.morphogen.top/zh/pic/…, fetched
2026-12): ``POST /task/pic/segmentation`` (cutout), ``/task/pic/idphoto`` (``size`` "WxH",
``format`` png|jpg, ``bg_color`` RRGGBB) and ``/task/pic/background`` (``prompt``,
``batch_size`` 1..4), each ``multipart/form-data`` with ``image_file`` or ``image_url``,
``sync`` 0|1 and ``callback_url``, behind ``Authorization: Bearer``; ``GET /task/{task_id}``
answers ``{status: 200, data: {task_id, state, progress, image, mask, created_at,
processed_at, completed_at}}`` with ``state`` 1 when done (``/task/pic/watermark_auto`` names
its result ``file`` and adds ``state_detail``). Not pinned, designed in the same style and
said so in the docs: the paths ``compress``, ``clarity`` (also ``sharpen``), ``inpaint``
(``mask_file``/``mask_url``), ``colorize``, ``ocr`` (``text`` and ``blocks`` in the answer),
``crop``, ``art_qr`` and ``art_text`` (the second list's QR codes and art text), ``state`` 0
while it runs and -1 when it failed (``state_detail`` says why), and errors as ``{status:
<HTTP status>, message, data: null}``. JSON bodies are taken as well as forms."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile

from mediagate.api.common import (
    api_key,
    callback,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    output_urls,
    runtime_of,
    urls_at,
    webhook_body,
)
from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.core.tasks import Status, Task, files
from mediagate.providers.sandbox.local.photo import BACKGROUNDS, ID_SIZES
from mediagate.runtime import Runtime

TOOLS = {
    "segmentation": "image-cutout", "compress": "image-compress", "clarity": "image-sharpen",
    "sharpen": "image-sharpen", "inpaint": "image-inpaint", "background": "image-background",
    "idphoto": "id-photo", "colorize": "image-colorize", "ocr": "image-ocr",
    "crop": "document-crop", "art_qr": "art-qr", "art_text": "art-text",
}  # fmt: skip
# Form fields passed on as the model's options (after the renames below), per tool.
OPTIONS = {
    "compress": ("format", "quality", "target_kb"), "clarity": ("scale",),
    "sharpen": ("scale",), "inpaint": ("radius",), "ocr": ("language",), "crop": ("format",),
    "art_qr": ("version", "error", "strength", "eye", "template"),
    "art_text": ("style", "strength", "template"),
}  # fmt: skip
COLOURS = {f"{r:02X}{g:02X}{b:02X}": name for name, (r, g, b) in BACKGROUNDS.items()}
SIZES = {f"{s.width}x{s.height}": name for name, s in reversed(ID_SIZES.items())}
INTS = ("quality", "target_kb", "radius", "version", "template")
WAIT_S = 60.0  # ``sync=1``: how long a create waits for its result before answering


async def _fields(request: Request[Any, Any, Any]) -> dict[str, Any]:
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        body = msgspec.json.decode(await request.body())
        if not isinstance(body, dict):
            raise InvalidRequestError("body", "must be a JSON object")
        return body
    form = await request.form()
    return {k: form.get(k) for k in form}


async def _image(fields: dict[str, Any], names: tuple[str, str], label: str) -> str | None:
    """A file part as a data URL (the size checks of every dialect apply), or the link."""
    upload = fields.get(names[0])
    if isinstance(upload, UploadFile):
        data = await upload.read()
        kind = upload.content_type or "application/octet-stream"
        return f"data:{kind};base64,{base64.b64encode(data).decode()}"
    link = fields.get(names[1])
    if link:
        return str(link)
    return None


def _options(tool: str, fields: dict[str, Any]) -> dict[str, object]:
    options: dict[str, object] = {}
    for name in OPTIONS.get(tool, ()):
        value = fields.get(name)
        if value is None or value == "":
            continue
        options[name] = int(str(value)) if name in INTS and str(value).isascii() and str(
            value).isdigit() else value  # fmt: skip
    if tool in ("compress", "crop", "idphoto") and str(options.get("format", "")) == "jpg":
        options["format"] = "jpeg"
    if tool == "idphoto":
        size = str(fields.get("size") or "295x413")
        if size not in SIZES and size not in ID_SIZES:
            raise InvalidRequestError("size", f"{size!r} is not a size offered", sorted(SIZES))
        options["size"] = SIZES.get(size, size)
        colour = str(fields.get("bg_color") or "FFFFFF").upper().lstrip("#")
        if colour not in COLOURS:
            raise InvalidRequestError("bg_color", f"{colour!r} is not offered", sorted(COLOURS))
        options["background"] = COLOURS[colour]
        options["format"] = "jpeg" if fields.get("format") == "jpg" else "png"
    return options


@post("/task/pic/{tool:str}", status_code=200, summary="Image tools: create a task")
async def create(request: Request[Any, Any, Any], tool: str) -> dict[str, Any]:
    rt = runtime_of(request)
    model = TOOLS.get(tool)
    if model is None:
        raise NotFoundError(f"/task/pic/{tool}: no such tool; tools: {', '.join(TOOLS)}")
    fields = await _fields(request)
    images = [u for u in [await _image(fields, ("image_file", "image_url"), "image")
                          or await _image(fields, ("file", "url"), "image")] if u]  # fmt: skip
    if tool == "inpaint":
        mask = await _image(fields, ("mask_file", "mask_url"), "mask")
        if mask is None:
            raise InvalidRequestError("mask_file", "is required: the mask, white where to repaint")
        images.append(mask)
    count = fields.get("batch_size")
    prompt = str(fields.get("prompt") or fields.get("text") or fields.get("content") or "")
    task = await rt.tasks.create(
        api_key(request), model, prompt, images=images, options=_options(tool, fields),
        sample_count=int(str(count)) if count not in (None, "") and str(count).isdigit() else None,
        idempotency_key=idempotency_key(request),
        callback=callback(request, str(fields.get("callback_url") or "") or None, "pictask"),
    )  # fmt: skip
    if str(fields.get("sync", "0")) == "1":
        task = await rt.tasks.wait(api_key(request), task.id, WAIT_S)
    return {"status": 200, "data": await view(rt, task, output_urls(request, task))}


def shape(task: Task, urls: list[str]) -> dict[str, Any]:
    """The task as ``GET /task/{id}`` answers it, less an OCR's text (in its file)."""
    state = {Status.DONE: 1, Status.FAILED: -1, Status.CANCELLED: -1}.get(task.status, 0)
    data: dict[str, Any] = {
        "task_id": task.id, "state": state, "state_detail": task.status.value,
        "progress": 100 if state == 1 else task.progress, "created_at": int(task.created_at),
        "processed_at": int(task.created_at),
        "completed_at": int(task.finished_at) if task.finished_at else None,
        "image": "", "mask": "", "file": "",
    }  # fmt: skip
    if task.error is not None:
        data["state_detail"], data["error"] = task.error.code, task.error.message
    if urls:
        data["image"] = data["file"] = urls[0]
        if len(urls) > 1:
            data["images"] = urls
    for out in task.outputs:
        if out.text is not None and out.role == "input" and files(task.outputs):
            given = msgspec.json.decode(out.text)["input_bytes"]
            data["ratio"] = round(files(task.outputs)[0].bytes / max(1, given), 4)
        elif out.text is not None and out.role == "sandbox":
            data["note"] = out.text
    return data


async def view(rt: Runtime, task: Task, urls: list[str]) -> dict[str, Any]:
    data = shape(task, urls)
    if task.model == "image-ocr" and data["state"] == 1:
        found = msgspec.json.decode(await rt.blobs.read(files(task.outputs)[0].key))
        data["text"], data["blocks"] = found["text"], found["blocks"]
    return data


@get("/task/{task_id:str}", summary="Image tools: a task's state and result")
async def result(request: Request[Any, Any, Any], task_id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    task = await rt.tasks.get(api_key(request), task_id)
    if task.model not in TOOLS.values():
        raise NotFoundError(f"task {task_id} not found")
    return {"status": 200, "data": await view(rt, task, output_urls(request, task))}


@get("/task/pic/models", summary="Image tools: the tools and their models")
async def tools(request: Request[Any, Any, Any]) -> dict[str, Any]:
    catalogue = runtime_of(request).catalogue
    listed = [{"tool": tool, "model": model, "title": catalogue.get(model).title,
               "price": catalogue.get(model).price} for tool, model in TOOLS.items()]  # fmt: skip
    return {"status": 200, "data": listed}


@get("/task/pic/templates", summary="Image tools: pictures for art QR codes and art text")
async def templates() -> dict[str, Any]:
    listed = [{"template": n, "name": f"painted picture {n}"} for n in range(1, 9)]
    return {"status": 200, "data": listed}


@webhook_body("pictask")
def webhook(rt: Runtime, task: Task) -> bytes:
    data = shape(task, urls_at(rt, task.public_base, task))
    return msgspec.json.encode({"status": 200, "data": data})


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    info = classify(exc, {"images[0]": "image_url", "images[1]": "mask_url"})
    if info is None:
        raise exc
    body = {"status": info.status, "message": info.message, "code": info.code,
            "param": info.param, "data": None}  # fmt: skip
    return Response(body, status_code=info.status, headers=info.headers)


TAG = "image tools (GPTNB format)"
error_body(TAG, msgspec.defstruct("PicTaskError", [("status", int), ("message", str)]))
router = dialect_router([tools, templates, create, result], handle_error, TAG)
