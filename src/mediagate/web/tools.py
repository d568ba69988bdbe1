"""The console's tools page: a form per local tool (upload an image, and a mask where the tool
takes one; the tool's own parameters from the catalogue), then the result beside its input;
for a deck, its outline and then its slides. It runs as the signed-in key (an admin's, as the
playground's test key) through the same task service, limits and money as the API."""

from __future__ import annotations

import base64
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from mediagate.api.common import runtime_of
from mediagate.core.errors import MediagateError, NotFoundError
from mediagate.core.images import BLOB_REF
from mediagate.core.tasks import Status, Task, files
from mediagate.providers.sandbox.local.ppt import parse_outline
from mediagate.web import console as c
from mediagate.web.forms import choices_of


def _tools(rt: Any) -> list[Any]:
    return [m for m in rt.catalogue.models.values() if m.family == "local"]


async def _result(request: Request[Any, Any, Any], task: Task) -> dict[str, Any]:
    rt, root = runtime_of(request), str(request.base_url).rstrip("/")
    inputs = [rt.link(root, ref.removeprefix(BLOB_REF)) for ref in task.params.images
              if ref.startswith(BLOB_REF)]  # fmt: skip
    found: dict[str, Any] = {"task": task, "inputs": inputs, "outputs": [], "text": "",
                             "slides": [], "outline": "", "note": ""}  # fmt: skip
    if task.status is not Status.DONE:
        return found
    for out in files(task.outputs):
        link, size = rt.link(root, out.key), f"{out.width}x{out.height}"
        found["outputs"].append({"url": link, "type": out.content_type, "size": size,
                                 "bytes": out.bytes})  # fmt: skip
    for out in task.outputs:
        if out.text is not None and out.role == "outline":
            found["outline"] = out.text
            found["slides"] = parse_outline(out.text).titles
        elif out.text is not None and out.role == "sandbox":
            found["note"] = out.text
    if task.model == "image-ocr":
        import json

        found["text"] = json.loads(await rt.blobs.read(files(task.outputs)[0].key))["text"]
    return found


@get("/console/tools", include_in_schema=False, guards=[c.signed_in])
async def tools_page(request: Request[Any, Any, Any], model: str = "", task: str = "") -> Template:
    rt = runtime_of(request)
    tools = _tools(rt)
    spec = next((t for t in tools if t.id == model), tools[0])
    shown = None
    if task:
        key = await c.generating_key(rt, c._key(request))
        try:
            shown = await _result(request, await rt.tasks.get(key, task))
        except NotFoundError:
            shown = None
    return c.page(request, "tools.html", tools=tools, spec=spec, choices=choices_of(spec),
                  shown=shown, error="")  # fmt: skip


async def _data_url(upload: object) -> str | None:
    if not isinstance(upload, UploadFile):
        return None
    data = await upload.read()
    if not data:
        return None
    kind = upload.content_type or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


@post("/console/tools", include_in_schema=False, guards=[c.signed_in], status_code=200)
async def run_tool(request: Request[Any, Any, Any]) -> Response[Any]:
    rt = runtime_of(request)
    form = await request.form()
    tools = _tools(rt)
    spec = next((t for t in tools if t.id == form.get("model")), tools[0])
    images = [
        u for u in [await _data_url(form.get("image")), await _data_url(form.get("mask"))] if u
    ]
    options = {
        f.name: form.get(f.name) for f in choices_of(spec) if form.get(f.name) not in (None, "")
    }
    for f in choices_of(spec):
        if f.kind == "number" and f.name in options:
            text = str(options[f.name])
            options[f.name] = (
                int(text) if f.step == "1" and text.lstrip("-").isdigit() else float(text)
            )
    try:
        task = await rt.tasks.create(
            await c.generating_key(rt, c._key(request)), spec.id, str(form.get("prompt") or ""),
            images=images or None, options=options or None,
        )  # fmt: skip
    except (MediagateError, ValueError) as exc:
        return c.page(request, "tools.html", tools=tools, spec=spec, choices=choices_of(spec),
                      shown=None, error=str(exc), status_code=400)  # fmt: skip
    return Redirect(f"/console/tools?model={spec.id}&task={task.id}", status_code=303)


TOOL_PAGES = [tools_page, run_tool]
