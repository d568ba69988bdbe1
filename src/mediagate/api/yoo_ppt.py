"""韦尼克 (yoo-ai) PPT in its own format, the second PPT vendor GPTNB lists: a task per deck,
rendered by the local ``ppt`` model, its outline written by a chat model through the relay
when only a description is given.

Pinned (wiki.yoo-ai.com/ppts/…, read 2026-12): ``POST /apps/ppt-create`` with ``Authorization:
Bearer`` and ``{text, complex, font_name, language, color, user_name, cover_id, custom_data:
{title, sub_title, author, catalogs: [{catalog, sub_catalog}], contents: [{catalog_index,
sub_catalog_index, content}]}}`` answers ``{code: 200, msg: "success", data: {id}}``; ``GET
/apps/ppt-result?id=`` is polled for the task's progress (``data.id``, ``input_text``,
``images_url``, ``state_description``); ``POST /apps/ppt-create-task {id, cover_id}`` makes the
deck again on another template, and ``POST /apps/ppt-page {id, text, slide_number,
slide_type}`` inserts a page; each answers a new task ``id``. Designed, not published: the
result's ``status`` (1 generating, 2 done, 3 failed) and ``progress``, ``GET
/apps/ppt-download?id=`` answering ``data: {id, download_url}``, ``cover_id`` as one of
mediagate's templates (``color`` picks one when it is absent), and errors as ``{code: <HTTP
status>, msg, data: null}``. Preview images (``images_url``) stay empty: rendering slides to
pictures needs LibreOffice, which mediagate does not ship."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post

from mediagate.api import ppt_decks as decks
from mediagate.api.common import (
    api_key,
    base_url,
    classify,
    dialect_router,
    error_body,
    idempotency_key,
    runtime_of,
)
from mediagate.core.errors import InvalidRequestError, NotFoundError
from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Status, Task, files
from mediagate.providers.sandbox.local import ppt
from mediagate.runtime import Runtime

COLOURS = {"蓝色": "classic", "青色": "classic", "紫色": "midnight", "红色": "sunrise",
           "橙色": "sunrise", "黄色": "sunrise", "粉色": "sunrise", "绿色": "forest"}  # fmt: skip
STATUS = {Status.DONE: 2, Status.FAILED: 3, Status.CANCELLED: 3}


class CreateBody(msgspec.Struct):
    text: str = ""
    custom_data: dict[str, Any] | None = None
    color: str = ""
    cover_id: str = ""
    user_name: str = ""
    complex: int | str | None = None
    font_name: str = ""
    language: str = ""


class RedoBody(msgspec.Struct):
    id: str
    cover_id: str = ""


class PageBody(msgspec.Struct):
    id: str
    text: str = ""
    theme: str = ""
    slide_number: int | str = 0
    slide_type: str = "内容页"


def ok(data: Any) -> dict[str, Any]:
    return {"code": 200, "msg": "success", "data": data}


def _points(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    found: list[str] = []
    for item in content if isinstance(content, list) else []:
        if isinstance(item, dict):
            found.extend(f"{k}: {v}" for k, v in item.items())
        else:
            found.append(str(item))
    return found


def deck_of(data: dict[str, Any], template: str) -> ppt.Deck:
    """``custom_data``'s title, catalogs and contents as a deck."""
    catalogs = data.get("catalogs")
    if not data.get("title") or not isinstance(catalogs, list) or not catalogs:
        raise InvalidRequestError("custom_data", "needs a title and catalogs")
    chapters = []
    for entry in catalogs:
        if not isinstance(entry, dict) or not entry.get("catalog"):
            raise InvalidRequestError("custom_data.catalogs", "each needs a catalog")
        subs = [str(s) for s in entry.get("sub_catalog") or []] or [str(entry["catalog"])]
        chapters.append(ppt.Chapter(str(entry["catalog"]), [ppt.Page(s) for s in subs]))
    for item in data.get("contents") or []:
        if not isinstance(item, dict):
            continue
        i, j = int(item.get("catalog_index") or 0), int(item.get("sub_catalog_index") or 0)
        if not 0 <= i < len(chapters) or not 0 <= j < len(chapters[i].pages):
            raise InvalidRequestError("custom_data.contents", f"no catalog {i}/{j}")
        chapters[i].pages[j].points.extend(_points(item.get("content")))
    return ppt.Deck(str(data["title"]), chapters, template)


def _template(cover_id: str, colour: str = "") -> str:
    if cover_id:
        if cover_id not in ppt.TEMPLATES:
            raise InvalidRequestError("cover_id", f"{cover_id!r}", sorted(ppt.TEMPLATES))
        return cover_id
    return COLOURS.get(colour, "classic")


async def _deck(rt: Runtime, key: KeyRecord, task_id: str) -> tuple[Task, ppt.Deck]:
    task = await _own(rt, key, task_id)
    if task.status is not Status.DONE:
        raise InvalidRequestError("id", f"the deck {task_id} is still {task.status.value}")
    return task, await decks.read_task(rt, task)


async def _own(rt: Runtime, key: KeyRecord, task_id: str) -> Task:
    task = await rt.tasks.get(key, task_id)
    if task.model != "ppt":
        raise NotFoundError(f"no PPT task {task_id}")
    return task


@post("/apps/ppt-create", status_code=200, summary="韦尼克: make a deck from a description")
async def create(request: Request[Any, Any, Any], data: CreateBody) -> dict[str, Any]:
    rt, key = runtime_of(request), api_key(request)
    template = _template(data.cover_id, data.color)
    deck = deck_of(data.custom_data, template) if data.custom_data else None
    if deck is None and not data.text.strip():
        raise InvalidRequestError("text", "is required (or custom_data)")
    task = await decks.render(rt, key, deck, data.text, template, idempotency_key(request))
    return ok({"id": task.id})


@get("/apps/ppt-result", summary="韦尼克: a deck's progress")
async def result(request: Request[Any, Any, Any], id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    task = await _own(rt, api_key(request), id)
    status = STATUS.get(task.status, 1)
    described = {1: "生成中", 2: "生成完成", 3: task.error.message if task.error else "失败"}
    return ok({"id": task.id, "input_text": task.prompt, "status": status,
               "progress": 100 if status == 2 else task.progress,
               "state_description": described[status], "images_url": []})  # fmt: skip


@get("/apps/ppt-download", summary="韦尼克: a deck's download link")
async def download(request: Request[Any, Any, Any], id: str) -> dict[str, Any]:
    rt = runtime_of(request)
    task = await _own(rt, api_key(request), id)
    if task.status is not Status.DONE:
        raise InvalidRequestError("id", f"the deck {id} is {task.status.value}, not done")
    return ok(
        {"id": task.id, "download_url": rt.link(base_url(request), files(task.outputs)[0].key)}
    )


@post("/apps/ppt-create-task", status_code=200, summary="韦尼克: the deck on another template")
async def redo(request: Request[Any, Any, Any], data: RedoBody) -> dict[str, Any]:
    rt, key = runtime_of(request), api_key(request)
    task, deck = await _deck(rt, key, data.id)
    deck.template = _template(data.cover_id or "midnight")
    made = await decks.render(rt, key, deck, task.prompt)
    return ok({"id": made.id})


@post("/apps/ppt-page", status_code=200, summary="韦尼克: insert a page")
async def add_page(request: Request[Any, Any, Any], data: PageBody) -> dict[str, Any]:
    rt, key = runtime_of(request), api_key(request)
    title = (data.text or data.theme).strip()
    if not title:
        raise InvalidRequestError("text", "is required: what the page is about")
    number = str(data.slide_number)
    if not number.isascii() or not number.isdigit():
        raise InvalidRequestError("slide_number", "must be a whole number")
    task, deck = await _deck(rt, key, data.id)
    ppt.insert_page(deck, int(number), ppt.Page(title))
    made = await decks.render(rt, key, deck, task.prompt)
    return ok({"id": made.id})


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    info = classify(exc, {"task_id": "id"})
    if info is None:
        raise exc
    body = {"code": info.status, "msg": info.message, "data": None}
    return Response(body, status_code=info.status, headers=info.headers)


TAG = "韦尼克 PPT (yoo-ai format)"
error_body(TAG, msgspec.defstruct("YooError", [("code", int), ("msg", str)]))
router = dialect_router([create, result, download, redo, add_page], handle_error, TAG)
