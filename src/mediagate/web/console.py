"""The console's pages: sign in with a key, the playground (a form made from the catalogue's
rules), the gallery and task log with each task's timeline, files, webhooks and follow-up
buttons, and for admin keys accounts, keys, usage, webhook deliveries and the ledger check.

Every page acts through the same services as the API. A generation key sees its own tasks;
an admin key sees everything and cannot generate. Every POST carries the session's CSRF
token (a form field, or htmx's ``X-CSRF-Token`` header)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router

from mediagate.api.common import runtime_of
from mediagate.core.actions import act
from mediagate.core.errors import (
    AuthenticationError,
    InvalidRequestError,
    MediagateError,
    PermissionDeniedError,
)
from mediagate.core.keys import KeyRecord, hash_key
from mediagate.core.money import text as money_text
from mediagate.core.money import to_micros
from mediagate.core.numbers import is_digits
from mediagate.core.ports import TaskQuery
from mediagate.core.tasks import Mode, Status, Task, files, texts
from mediagate.runtime import Runtime
from mediagate.web import session as sessions
from mediagate.web.forms import choices_of, options_from

HERE = Path(__file__).parent
STATIC = create_static_files_router(
    path="/console/static", directories=[HERE / "static"], include_in_schema=False
)


def _secret(rt: Runtime) -> bytes:
    return rt.signer.derive("console-session")


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a valid session of a key that still works; POSTs need its CSRF token."""
    rt: Runtime = connection.app.state.runtime
    found = sessions.read(_secret(rt), connection.cookies.get(sessions.COOKIE))
    if found is None or await rt.console_sessions.ended(found.csrf):
        raise NotAuthorizedException("sign in")
    try:
        key = await rt.keys.authenticate_hash(found.key_hash)
    except AuthenticationError:
        raise NotAuthorizedException("the key was revoked") from None
    if connection.scope.get("method") == "POST":
        token = connection.headers.get("x-csrf-token")
        if token is None and connection.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            token = (await Request(connection.scope, connection.receive).form()).get("csrf")
        if not sessions.csrf_ok(found, token if isinstance(token, str) else None):
            raise PermissionDeniedError("the form is stale: reload the page (CSRF check)")
    connection.state.api_key = key
    connection.state.session = found


def _key(request: Request[Any, Any, Any]) -> KeyRecord:
    key: KeyRecord = request.state.api_key
    return key


def page(request: Request[Any, Any, Any], name: str, **context: Any) -> Template:
    key = _key(request)
    return Template(
        template_name=name,
        context={
            "key": key,
            "admin": key.mode is Mode.ADMIN,
            "csrf": request.state.session.csrf,
            "money": money_text,
            "when": when,
            **context,
        },
    )


def when(at: float) -> str:
    """A time as people read it, in UTC."""
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _admin(request: Request[Any, Any, Any]) -> None:
    if _key(request).mode is not Mode.ADMIN:
        raise PermissionDeniedError("this page needs an admin key")


# -- signing in and out ----------------------------------------------------------------------


@get("/", include_in_schema=False)
async def root() -> Redirect:
    return Redirect("/console")


@get("/console/login", include_in_schema=False)
async def login_form() -> Template:
    return Template(template_name="login.html", context={"error": ""})


def same_origin(request: Request[Any, Any, Any]) -> bool:
    """A browser's POST names the page it came from (Origin, else Referer): it must be this
    host. A client that sends neither is no browser, so no victim of a forged form."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True
    if source == "null":
        return False
    parts = urlsplit(source)
    return parts.netloc.lower() == request.headers.get("host", "").lower()


def is_https(request: Request[Any, Any, Any], trusted: list[str]) -> bool:
    """Served over HTTPS: directly, or behind a trusted proxy that says so in RFC 7239's
    ``Forwarded: proto=https`` (uvicorn already reads X-Forwarded-Proto from trusted hosts)."""
    if request.url.scheme == "https":
        return True
    client = request.client.host if request.client else ""
    if client not in trusted and "*" not in trusted:
        return False
    first = request.headers.get("forwarded", "").split(",")[0]
    for pair in first.split(";"):
        name, _, value = pair.strip().partition("=")
        if name.lower() == "proto":
            return value.strip('"').lower() == "https"
    return False


@post("/console/login", include_in_schema=False, status_code=303)
async def login(request: Request[Any, Any, Any]) -> Response[Any]:
    rt = runtime_of(request)
    if not same_origin(request):
        raise PermissionDeniedError("sign in from this console's own page (Origin check)")
    form = await request.form()
    raw = str(form.get("key") or "").strip()
    try:
        key = await rt.keys.authenticate(raw)
    except AuthenticationError as exc:
        return Template("login.html", context={"error": exc.message}, status_code=401)
    cookie, _ = sessions.issue(_secret(rt), hash_key(raw))
    home = "/console/tasks" if key.mode is Mode.ADMIN else "/console/playground"
    response: Response[Any] = Redirect(home, status_code=303)
    secure = is_https(request, rt.settings.trusted_proxies)
    response.set_cookie(
        sessions.COOKIE, cookie, max_age=sessions.LIFETIME_S, httponly=True,
        samesite="lax", secure=secure, path="/console",
    )  # fmt: skip
    return response


@post("/console/logout", include_in_schema=False, status_code=303, guards=[signed_in])
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    """Ends the session here, not only in this browser: the cookie, copied, no longer works."""
    rt = runtime_of(request)
    found: sessions.Session = request.state.session
    await rt.console_sessions.end(found.csrf, found.expires, rt.clock())
    response: Response[Any] = Redirect("/console/login", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/console")
    return response


@get("/console", include_in_schema=False, guards=[signed_in])
async def home(request: Request[Any, Any, Any]) -> Redirect:
    admin = _key(request).mode is Mode.ADMIN
    return Redirect("/console/tasks" if admin else "/console/playground")


# -- the playground ----------------------------------------------------------------------------


async def generating_key(rt: Runtime, key: KeyRecord) -> KeyRecord:
    """The key a console generation runs as: the signed-in key, or, for an admin (whose key
    never generates), a test key of the admin's account made for the console's playground
    once: its tasks run on the sandbox and cost nothing."""
    if key.mode is not Mode.ADMIN:
        return key
    name = f"console playground ({key.id})"
    for found in await rt.keys.list():
        if found.name == name and found.revoked_at is None and found.mode is Mode.TEST:
            return found
    _, made = await rt.keys.create(Mode.TEST, name, key.account_id)
    return made


@get("/console/playground", include_in_schema=False, guards=[signed_in])
async def playground(request: Request[Any, Any, Any], model: str = "") -> Template:
    rt = runtime_of(request)
    spec = rt.catalogue.get(model) if model else next(iter(rt.catalogue.models.values()))
    return page(
        request, "playground.html", models=list(rt.catalogue.models.values()), spec=spec,
        choices=choices_of(spec), error="",
    )  # fmt: skip


@post("/console/playground", include_in_schema=False, guards=[signed_in], status_code=200)
async def generate(request: Request[Any, Any, Any]) -> Response[Any]:
    rt = runtime_of(request)
    form = await request.form()
    spec = rt.catalogue.get(str(form.get("model") or ""))
    try:
        kwargs = options_from(spec, form)
        task = await rt.tasks.create(
            await generating_key(rt, _key(request)),
            spec.id,
            str(form.get("prompt") or ""),
            **kwargs,
        )
    except MediagateError as exc:
        return page(
            request, "playground.html", models=list(rt.catalogue.models.values()), spec=spec,
            choices=choices_of(spec), error=str(exc), status_code=400,
        )  # fmt: skip
    return Redirect(f"/console/tasks/{task.id}", status_code=303)


# -- tasks -------------------------------------------------------------------------------------


@get("/console/tasks", include_in_schema=False, guards=[signed_in])
async def task_log(
    request: Request[Any, Any, Any],
    model: str = "",
    status: str = "",
    dialect: str = "",
    provider: str = "",
    q: str = "",
    view: str = "gallery",
    since: str = "",
    until: str = "",
) -> Template:
    rt = runtime_of(request)
    query = TaskQuery(
        model=model, status=status, dialect=dialect, provider=provider, text=q.strip(),
        since=_day(since, "since"), until=_day(until, "until", end=True),
    )  # fmt: skip
    found = await rt.tasks.search(_key(request), query)
    root = str(request.base_url).rstrip("/")
    cards = [(t, [rt.link(root, o.key) for o in files(t.outputs)]) for t in found]
    return page(
        request, "tasks.html", cards=cards, query=query, view=view, since=since, until=until,
        models=sorted(rt.catalogue.models), statuses=[s.value for s in Status],
    )  # fmt: skip


def _day(value: str, param: str, end: bool = False) -> float | None:
    """A YYYY-MM-DD date (UTC) as Unix seconds: its start, or with ``end`` the next day's."""
    if not value:
        return None
    try:
        day = datetime.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=datetime.UTC)
    except ValueError:
        raise InvalidRequestError(param, f"{value!r} is not a date", ["YYYY-MM-DD"]) from None
    return (day + datetime.timedelta(days=1 if end else 0)).timestamp()


async def _task(request: Request[Any, Any, Any], task_id: str) -> Task:
    rt = runtime_of(request)
    key = _key(request)
    return await (
        rt.tasks.get_any(task_id) if key.mode is Mode.ADMIN else rt.tasks.get(key, task_id)
    )


def _buttons(rt: Runtime, task: Task) -> list[tuple[str, int]]:
    """The follow-ups a finished task offers: (action, index) pairs."""
    if task.status is not Status.DONE:
        return []
    spec = rt.catalogue.get(task.model)
    found: list[tuple[str, int]] = []
    for name, rule in spec.actions.items():
        if task.action in rule.after and not rule.waits:
            found += [(name, i) for i in range(1, rule.index + 1)] if rule.index else [(name, 0)]
    return found


@get("/console/tasks/{task_id:str}", include_in_schema=False, guards=[signed_in])
async def task_page(request: Request[Any, Any, Any], task_id: str) -> Template:
    rt = runtime_of(request)
    task = await _task(request, task_id)
    key = _key(request)
    events = await rt.task_repo.events(task.id)
    deliveries = await rt.webhook_repo.list_for(None if key.mode is Mode.ADMIN else key.id, task.id)
    root = str(request.base_url).rstrip("/")
    links = [(o, rt.link(root, o.key)) for o in files(task.outputs)]
    return page(
        request, "task.html", task=task, events=events, deliveries=deliveries, links=links,
        texts=texts(task.outputs), buttons=_buttons(rt, task) if key.mode is not Mode.ADMIN else [],
        spec=rt.catalogue.get(task.model),
    )  # fmt: skip


@get("/console/tasks/{task_id:str}/card", include_in_schema=False, guards=[signed_in])
async def task_card(request: Request[Any, Any, Any], task_id: str) -> Template:
    """The task's status and progress, for htmx to poll while it runs."""
    task = await _task(request, task_id)
    done = page(request, "card.html", task=task)
    if task.status.terminal and request.headers.get("hx-request"):
        done.headers["HX-Refresh"] = "true"  # the page shows the result when it reloads
    return done


@post("/console/tasks/{task_id:str}/act", include_in_schema=False, guards=[signed_in])
async def task_act(request: Request[Any, Any, Any], task_id: str) -> Redirect:
    rt = runtime_of(request)
    form = await request.form()
    raw_index = str(form.get("index") or "0")
    index = int(raw_index) if is_digits(raw_index, 2) else 0
    made = await act(
        rt.tasks, _key(request), task_id, str(form.get("action") or ""), index=index or None
    )
    return Redirect(f"/console/tasks/{made.id}", status_code=303)


@post("/console/webhooks/{delivery_id:str}/replay", include_in_schema=False, guards=[signed_in])
async def replay(request: Request[Any, Any, Any], delivery_id: str) -> Redirect:
    rt = runtime_of(request)
    key = _key(request)
    found = await rt.webhook_repo.replay(
        delivery_id, None if key.mode is Mode.ADMIN else key.id, rt.clock()
    )
    if found is None:
        raise InvalidRequestError("delivery", f"no delivery {delivery_id!r}")
    rt.webhooks.wake()
    # Back to the task's page, always: never wherever the Referer header points.
    return Redirect(f"/console/tasks/{found.task_id}", status_code=303)


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Signed out: to the sign-in page; a refusal: the page says why, in words."""
    if isinstance(exc, NotAuthorizedException):
        return Redirect("/console/login", status_code=303)
    status = (
        403 if isinstance(exc, PermissionDeniedError) else 404 if "not found" in str(exc) else 400
    )
    message = exc.message if isinstance(exc, MediagateError) else str(exc)
    return Template("error.html", context={"message": message}, status_code=status)


def money(value: str, param: str) -> int:
    return to_micros(value.strip(), param)


from mediagate.web.admin import ADMIN_PAGES  # noqa: E402 (the admin pages use the helpers above)
from mediagate.web.audio import AUDIO_PAGES  # noqa: E402 (and the audio page)
from mediagate.web.chat import CHAT_PAGES  # noqa: E402 (and so do the text pages)
from mediagate.web.models import MODEL_PAGES  # noqa: E402 (and the models page)
from mediagate.web.overview import OVERVIEW_PAGES  # noqa: E402 (and the admin's overview)
from mediagate.web.tools import TOOL_PAGES  # noqa: E402 (and the tools page)

router = Router(
    path="/",
    route_handlers=[
        root, login_form, login, logout, home, playground, generate, task_log, task_page,
        task_card, task_act, replay, *ADMIN_PAGES, *CHAT_PAGES,
        *AUDIO_PAGES, *OVERVIEW_PAGES,
        *MODEL_PAGES, *TOOL_PAGES, STATIC,
    ],
    exception_handlers={NotAuthorizedException: handle_error, MediagateError: handle_error},
    include_in_schema=False,
)  # fmt: skip
