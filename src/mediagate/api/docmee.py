"""文多多 (docmee) AiPPT in GPTNB's format ("PPT接口 / 文多多(官方格式)"): outlines and their
content from a chat model through mediagate's own relay, decks rendered by the local ``ppt``
model, and a key's list of decks (``core.decks``).

Pinned (GPTNB's docs, mirrored at docs.yutoai.net/markdown/api/api-208341747.md and
api-208341743.md; docmee's own at open.docmee.cn/docs-v2/api-reference/v1/…): paths under
``/docmee/v1/api/ppt/`` with ``Authorization: Bearer`` (docmee itself: ``/api/ppt/`` with a
``token`` header; both served); ``generateContent`` takes ``{templateId, outlineMarkdown,
asyncGenPptx, prompt, dataUrl}`` and streams ``{text, status}`` objects (status -1 error, 0
reset, 1 parsing, 2 searching, 3 generating, 4 done) with ``{pptId, total, current}`` while a
deck renders and ``result`` (the outline as a ``{level, name, children}`` tree) at the end;
``downloadPptx {id}`` answers ``{code: 0, data: {id, name, subject, fileUrl}, message:
"操作成功"}``. From docmee's API reference as recalled, less sure: ``generateOutline``
``{subject, prompt}`` (streamed the same way), ``templates`` / ``randomTemplates``,
``generatePptx {templateId, outlineContentMarkdown}`` → ``{pptInfo}``, ``asyncPptInfo?pptId``,
``listPptx``, ``loadPptx?id``, ``updatePptTemplate {pptId, templateId}``, ``updatePptxAttr {id,
subject}``, ``savePptx {id, pptxProperty}``, ``ppt2json`` (a ``file`` part) and ``json2ppt``.
Differences, on purpose: ``pptxProperty`` is mediagate's own deck JSON (``{subject, chapters:
[{title, pages: [{title, points}]}], template}``), not docmee's compressed format; an edit
renders a new version (a task, billed) under the same id; errors are ``{code: <HTTP status>,
message, data: null}`` with that HTTP status."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Stream

from mediagate.api import ppt_decks as decks
from mediagate.api.common import (
    api_key,
    base_url,
    classify,
    dialect_router,
    error_body,
    key_guard,
    runtime_of,
)
from mediagate.core.decks import Deck
from mediagate.core.errors import InvalidRequestError, UnavailableError
from mediagate.core.keys import KeyRecord
from mediagate.core.tasks import Status, Task, files
from mediagate.providers.sandbox.local import ppt
from mediagate.runtime import Runtime

OK = "操作成功"
RENDER_WAIT_S = 120.0
CHAT_MODEL = "gpt-4o-mini"  # the outline's writer (the ppt model's draft_model)
PREFIXES = ("/docmee/v1/api/ppt", "/api/ppt")


def paths(name: str) -> list[str]:
    return [f"{p}/{name}" for p in PREFIXES]


def ok(data: Any, **extra: Any) -> dict[str, Any]:
    return {"code": 0, "data": data, "message": OK, **extra}


async def _body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    found = msgspec.json.decode(raw)
    if not isinstance(found, dict):
        raise InvalidRequestError("body", "must be a JSON object")
    return found


def _text(body: dict[str, Any], name: str, required: bool = True) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidRequestError(name, "is required")
        return ""
    if not isinstance(value, str):
        raise InvalidRequestError(name, "must be a string")
    return value


def _template(body: dict[str, Any], name: str = "templateId") -> str:
    chosen = _text(body, name, required=False) or "classic"
    if chosen not in ppt.TEMPLATES:
        raise InvalidRequestError(name, f"{chosen!r} is not a template", sorted(ppt.TEMPLATES))
    return chosen


def template_view(t: ppt.Template) -> dict[str, Any]:
    colour = "#{:02X}{:02X}{:02X}".format(*t.accent)
    return {"id": t.id, "type": 1, "coverUrl": "", "category": "general", "style": t.name,
            "themeColor": colour, "subject": t.name, "num": 0}  # fmt: skip


@post(paths("templates"), status_code=200, summary="docmee: templates, a page of them")
async def templates(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await _body(request)
    page, size = int(body.get("page") or 1), int(body.get("size") or 10)
    listed = [template_view(t) for t in ppt.TEMPLATES.values()]
    return ok(listed[(page - 1) * size : page * size], total=len(listed))


@post(paths("randomTemplates"), status_code=200, summary="docmee: random templates")
async def random_templates(request: Request[Any, Any, Any]) -> dict[str, Any]:
    size = int((await _body(request)).get("size") or 4)
    chosen = random.sample(list(ppt.TEMPLATES.values()), min(size, len(ppt.TEMPLATES)))
    return ok([template_view(t) for t in chosen])


def _tree(deck: ppt.Deck) -> dict[str, Any]:
    def page(p: ppt.Page) -> dict[str, Any]:
        points = [{"level": 4, "name": x, "children": []} for x in p.points]
        return {"level": 3, "name": p.title, "children": points}

    chapters = [{"level": 2, "name": c.title, "children": [page(p) for p in c.pages]}
                for c in deck.chapters]  # fmt: skip
    return {"level": 1, "name": deck.subject, "children": chapters}


def _event(data: dict[str, Any]) -> bytes:
    return b"event: message\ndata: " + msgspec.json.encode(data) + b"\n\n"


async def _draft(rt: Runtime, key: KeyRecord, topic: str) -> ppt.Deck:
    drafter = rt.tasks.drafter
    if drafter is None:
        raise UnavailableError("no chat relay here to write the outline")
    return ppt.parse_outline(await drafter.draft(key, CHAT_MODEL, "outline", topic))


async def _stream(markdown: str, deck: ppt.Deck, extra: dict[str, Any]) -> AsyncIterator[bytes]:
    for i in range(0, len(markdown), 24):  # the outline's text as it would arrive
        yield _event({"text": markdown[i : i + 24], "status": 3})
        await asyncio.sleep(0)
    yield _event({"text": "", "status": 4, "result": _tree(deck), **extra})


@post(paths("generateOutline"), status_code=200, summary="docmee: an outline (streamed)")
async def generate_outline(request: Request[Any, Any, Any]) -> Stream:
    body = await _body(request)
    topic = _text(body, "subject")
    extra = _text(body, "prompt", required=False)
    deck = await _draft(runtime_of(request), api_key(request), f"{topic}\n{extra}".strip())
    markdown = ppt.outline_markdown(deck)
    return Stream(_stream(markdown, deck, {}), media_type="text/event-stream")


async def _finished(rt: Runtime, key: KeyRecord, task: Task) -> Task:
    done = await rt.tasks.wait(key, task.id, RENDER_WAIT_S)
    if done.status is not Status.DONE:
        why = done.error.message if done.error else f"still {done.status.value}"
        raise UnavailableError(f"the deck {task.id} did not render: {why}")
    return done


@post(paths("generateContent"), status_code=200, summary="docmee: content, and a deck (streamed)")
async def generate_content(request: Request[Any, Any, Any]) -> Stream:
    rt, key = runtime_of(request), api_key(request)
    body = await _body(request)
    outline = _text(body, "outlineMarkdown")
    template = _template(body)
    deck = ppt.parse_outline(outline, template)
    if not any(p.points for c in deck.chapters for p in c.pages):  # only titles: fill them in
        deck = await _draft(rt, key, f"{deck.subject}\n{outline}\n{_text(body, 'prompt', False)}")
        deck.template = template
    extra: dict[str, Any] = {}
    if body.get("asyncGenPptx"):
        task = await decks.render(rt, key, deck)
        await rt.decks.keep(key, task.id, deck.subject, deck.template)
        extra = {"pptId": task.id, "total": len(deck.titles), "current": 0}
    return Stream(_stream(ppt.outline_markdown(deck), deck, extra), media_type="text/event-stream")


async def _deck_json(rt: Runtime, task: Task) -> dict[str, Any]:
    return msgspec.to_builtins(await decks.read_task(rt, task))  # type: ignore[no-any-return]


async def info(
    rt: Runtime, key: KeyRecord, root: str, deck: Deck, with_json: bool = False
) -> dict[str, Any]:
    task = await rt.tasks.get(key, deck.task_id)
    done = task.status is Status.DONE
    found: dict[str, Any] = {
        "id": deck.id, "subject": deck.subject, "name": deck.subject, "coverUrl": "",
        "fileUrl": rt.link(root, files(task.outputs)[0].key) if done else None,
        "templateId": deck.template, "userId": deck.key_id,
        "createTime": int(deck.created_at), "updateTime": int(deck.updated_at),
    }  # fmt: skip
    if with_json and done:
        found["pptxProperty"] = await _deck_json(rt, task)
    return found


@post(paths("generatePptx"), status_code=200, summary="docmee: a deck, directly")
async def generate_pptx(request: Request[Any, Any, Any]) -> dict[str, Any]:
    rt, key = runtime_of(request), api_key(request)
    body = await _body(request)
    deck = ppt.parse_outline(_text(body, "outlineContentMarkdown"), _template(body))
    task = await _finished(rt, key, await decks.render(rt, key, deck))
    kept = await rt.decks.keep(key, task.id, deck.subject, deck.template)
    return ok({"pptInfo": await info(rt, key, base_url(request), kept)})


@get(paths("asyncPptInfo"), summary="docmee: an async deck's progress")
async def async_info(request: Request[Any, Any, Any], pptId: str) -> dict[str, Any]:
    rt, key = runtime_of(request), api_key(request)
    deck = await rt.decks.get(key, pptId)
    task = await rt.tasks.get(key, deck.task_id)
    total = len(ppt.parse_outline(str(task.params.options.get("outline", ""))).titles)
    data: dict[str, Any] = {"current": total if task.status is Status.DONE else 0, "total": total}
    if task.status is Status.DONE:
        data["pptxProperty"] = await _deck_json(rt, task)
    elif task.status in (Status.FAILED, Status.CANCELLED):
        raise UnavailableError(task.error.message if task.error else "the deck did not render")
    return ok(data)


@post(paths("downloadPptx"), status_code=200, summary="docmee: a deck's file link")
async def download(request: Request[Any, Any, Any]) -> dict[str, Any]:
    rt, key = runtime_of(request), api_key(request)
    deck = await rt.decks.get(key, _text(await _body(request), "id"))
    await _finished(rt, key, await rt.tasks.get(key, deck.task_id))
    found = await info(rt, key, base_url(request), deck)
    return ok({k: found[k] for k in ("id", "name", "subject", "fileUrl")})


@post(paths("listPptx"), status_code=200, summary="docmee: the key's decks")
async def list_decks(request: Request[Any, Any, Any]) -> dict[str, Any]:
    rt, key, body = runtime_of(request), api_key(request), await _body(request)
    page, size = int(body.get("page") or 1), int(body.get("size") or 10)
    found, total = await rt.decks.page(key, page, size)
    return ok([await info(rt, key, base_url(request), d) for d in found], total=total)


@get(paths("loadPptx"), summary="docmee: a deck as JSON")
async def load(request: Request[Any, Any, Any], id: str) -> dict[str, Any]:
    rt, key = runtime_of(request), api_key(request)
    deck = await rt.decks.get(key, id)
    await _finished(rt, key, await rt.tasks.get(key, deck.task_id))
    return ok({"pptInfo": await info(rt, key, base_url(request), deck, with_json=True)})


async def _edit(request: Request[Any, Any, Any], deck_id: str, change: dict[str, Any]
                ) -> dict[str, Any]:  # fmt: skip
    """A new version of the deck (``change``: subject, template or the whole JSON)."""
    rt, key = runtime_of(request), api_key(request)
    deck = await rt.decks.get(key, deck_id)
    current = await _finished(rt, key, await rt.tasks.get(key, deck.task_id))
    edited = ppt.deck_from_json(change["json"]) if "json" in change else ppt.deck_from_json(
        await _deck_json(rt, current))  # fmt: skip
    edited.subject = change.get("subject") or edited.subject
    edited.template = change.get("template") or edited.template
    task = await _finished(rt, key, await decks.render(rt, key, edited))
    moved = await rt.decks.update(key, deck, task.id, edited.subject, edited.template)
    return ok({"pptInfo": await info(rt, key, base_url(request), moved, with_json=True)})


@post(paths("updatePptTemplate"), status_code=200, summary="docmee: change a deck's template")
async def change_template(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await _body(request)
    return await _edit(request, _text(body, "pptId"), {"template": _template(body)})


@post(paths("updatePptxAttr"), status_code=200, summary="docmee: rename a deck")
async def rename(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await _body(request)
    return await _edit(request, _text(body, "id"), {"subject": _text(body, "subject")})


@post(paths("savePptx"), status_code=200, summary="docmee: save a deck's JSON")
async def save(request: Request[Any, Any, Any]) -> dict[str, Any]:
    body = await _body(request)
    prop = body.get("pptxProperty")
    if not isinstance(prop, (dict, str)):
        raise InvalidRequestError("pptxProperty", "is required: the deck as loadPptx gave it")
    return await _edit(request, _text(body, "id"), {"json": prop})


@post(paths("ppt2json"), status_code=200, summary="docmee: a .pptx as JSON")
async def ppt_to_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    rt = runtime_of(request)
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidRequestError("file", "is required: the .pptx, as a multipart part")
    data = await upload.read()
    deck = await decks.read(rt, data)
    return ok({"pptxProperty": msgspec.to_builtins(deck)})


@post(paths("json2ppt"), status_code=200, summary="docmee: JSON to a .pptx")
async def json_to_ppt(request: Request[Any, Any, Any]) -> dict[str, Any]:
    rt, key = runtime_of(request), api_key(request)
    prop = (await _body(request)).get("pptxProperty")
    if not isinstance(prop, (dict, str)):
        raise InvalidRequestError("pptxProperty", "is required: the deck's JSON")
    deck = ppt.deck_from_json(prop)
    task = await _finished(rt, key, await decks.render(rt, key, deck))
    kept = await rt.decks.keep(key, task.id, deck.subject, deck.template)
    return ok({"pptInfo": await info(rt, key, base_url(request), kept)})


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    info_ = classify(exc, {})
    if info_ is None:
        raise exc
    body = {"code": info_.status, "message": info_.message, "data": None}
    return Response(body, status_code=info_.status, headers=info_.headers)


TAG = "docmee PPT (GPTNB format)"
error_body(TAG, msgspec.defstruct("DocmeeError", [("code", int), ("message", str)]))
router = dialect_router(
    [templates, random_templates, generate_outline, generate_content, generate_pptx, async_info,
     download, list_decks, load, change_template, rename, save, ppt_to_json, json_to_ppt],
    handle_error, TAG,
    key_guard(lambda c: c.headers.get("authorization") or c.headers.get("token")),
)  # fmt: skip
