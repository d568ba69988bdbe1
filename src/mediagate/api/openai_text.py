"""OpenAI's text endpoints, relayed (``relay.service``): POST /v1/chat/completions (plain or
streamed as server-sent events), /v1/completions (legacy) and /v1/embeddings. The official
``openai`` SDK works with only its base URL and key changed.

Bodies pass through as sent, unknown fields too; what mediagate must understand (the model,
messages, token limits, n, tools, response_format, image parts, inputs) is checked first,
and a bad one is a 400 in OpenAI's shape naming the field. Every answer carries
``x-request-id`` and ``x-mediagate-overhead-ms`` (the time mediagate spent before the
upstream was called)."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.response import Stream

from mediagate.api import chat_media
from mediagate.api.common import api_key, dialect_router, runtime_of
from mediagate.api.openai_shared import error_response, make_handler
from mediagate.core.errors import InvalidRequestError, NotFoundError, ProviderError
from mediagate.core.images import check_pixels, inline_image
from mediagate.core.text import TextKind, TextModel
from mediagate.jobs.netguard import policy, spells_blocked_address
from mediagate.relay.plans import Plan, status_of
from mediagate.relay.upstreams import require_dimensions

ROLES = ("system", "developer", "user", "assistant", "tool", "function")
FORMATS = ("text", "json_object", "json_schema")
MAX_N = 128
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SCHEMA_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}


async def read_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidRequestError("body", f"is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise InvalidRequestError("body", "must be a JSON object")
    return body


def _count(body: dict[str, Any], name: str, low: int, high: int) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidRequestError(name, f"{str(value)[:40]} is out of range", [f"{low}..{high}"])


def _number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidRequestError(name, f"{str(value)[:40]} is out of range", [f"{low}..{high}"])


def check_schema(schema: Any, param: str, depth: int = 0) -> None:
    """The JSON Schema a tool or a structured output names: an object whose ``type`` (if
    any) is a JSON type and whose subschemas are schemas."""
    if depth > 32:
        raise InvalidRequestError(param, "is nested too deeply")
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise InvalidRequestError(param, "must be a JSON Schema object")
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind is not None else []
    if any(k not in SCHEMA_TYPES for k in kinds):
        raise InvalidRequestError(
            f"{param}.type", f"{kind!r} is not a JSON type", sorted(SCHEMA_TYPES)
        )
    props = schema.get("properties")
    if props is not None:
        if not isinstance(props, dict):
            raise InvalidRequestError(f"{param}.properties", "must be an object of schemas")
        for name, sub in props.items():
            check_schema(sub, f"{param}.properties.{name}", depth + 1)
    if "items" in schema:
        check_schema(schema["items"], f"{param}.items", depth + 1)
    required = schema.get("required")
    if required is not None and not (
        isinstance(required, list) and all(isinstance(r, str) for r in required)
    ):
        raise InvalidRequestError(f"{param}.required", "must be a list of property names")


def _image(url: Any, param: str, max_bytes: int, allow_private: bool) -> str:
    """What the sandbox says it received; data URLs are checked like media inputs, and a
    link must not name a private address."""
    if not isinstance(url, str) or not url:
        raise InvalidRequestError(param, "must be a URL or a data URL")
    if url.startswith("data:"):
        found = inline_image(url, param, max_bytes)
        data = found[1] if found else b""
        width, height = check_pixels(data, param, 40_000_000)
        return f"a {width}x{height} image"
    if not url.startswith(("http://", "https://")):
        raise InvalidRequestError(param, "must be an http(s) URL or a data:image URL")
    if spells_blocked_address(url, policy(allow_private)):
        raise InvalidRequestError(param, "names a private address; give a public URL")
    return "an image link"


def check_messages(body: dict[str, Any], vision: bool, max_bytes: int, private: bool) -> list[str]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequestError("messages", "must be a non-empty list of messages")
    images: list[str] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequestError(f"messages[{i}]", "must be an object")
        if message.get("role") not in ROLES:
            raise InvalidRequestError(
                f"messages[{i}].role",
                f"{str(message.get('role'))[:30]!r} is not a role",
                list(ROLES),
            )
        content = message.get("content")
        if isinstance(content, list):
            for j, part in enumerate(content):
                where = f"messages[{i}].content[{j}]"
                if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                    raise InvalidRequestError(where, "must be a content part with a type")
                if part["type"] == "image_url":
                    if not vision:
                        raise InvalidRequestError(where, "this model takes no images")
                    url = (part.get("image_url") or {}).get("url")
                    images.append(_image(url, f"{where}.image_url.url", max_bytes, private))
        elif content is not None and not isinstance(content, str):
            raise InvalidRequestError(f"messages[{i}].content", "must be text or a list of parts")
    return images


def check_tools(body: dict[str, Any]) -> None:
    tools = body.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise InvalidRequestError("tools", "must be a list of tools")
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or tool.get("type") != "function":
            raise InvalidRequestError(f"tools[{i}]", "must be {type: function, function: {...}}")
        if not TOOL_NAME.match(str(function.get("name") or "")):
            raise InvalidRequestError(
                f"tools[{i}].function.name", "must be 1-64 of a-z A-Z 0-9 _ -"
            )
        if "parameters" in function:
            check_schema(function["parameters"], f"tools[{i}].function.parameters")


def check_response_format(body: dict[str, Any]) -> None:
    fmt = body.get("response_format")
    if fmt is None:
        return
    if not isinstance(fmt, dict) or fmt.get("type") not in FORMATS:
        raise InvalidRequestError("response_format.type", "is not supported", list(FORMATS))
    if fmt["type"] == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or "schema" not in spec:
            raise InvalidRequestError("response_format.json_schema", "needs a name and a schema")
        check_schema(spec["schema"], "response_format.json_schema.schema")


def check_limits(body: dict[str, Any], model: TextModel) -> None:
    most = model.max_output or model.context
    _count(body, "max_tokens", 1, most)
    _count(body, "max_completion_tokens", 1, most)
    _count(body, "n", 1, MAX_N)
    _count(body, "top_logprobs", 0, 20)
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    _number(body, "presence_penalty", -2, 2)
    _number(body, "frequency_penalty", -2, 2)
    stop = body.get("stop")
    if stop is not None and not (
        isinstance(stop, str)
        or (isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop))
    ):
        raise InvalidRequestError("stop", "must be a string or up to 4 strings")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise InvalidRequestError("stream", "must be true or false")


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + msgspec.json.encode(event) + b"\n\n"


async def _run(
    request: Request[Any, Any, Any], route: str, body: dict[str, Any], images: list[str]
) -> Response[Any]:
    rt = runtime_of(request)
    relay = rt.relay
    plan = await relay.plan(api_key(request), route, body, images)
    overhead = {"x-mediagate-overhead-ms": ""}
    if not plan.stream:
        answer, outcome = await relay.call(plan)
        overhead["x-mediagate-overhead-ms"] = _ms(plan, outcome.upstream_at)
        return Response(answer, headers=overhead)
    events = await relay.open_stream(plan)  # failover happens here; errors are plain 4xx/5xx
    overhead["x-mediagate-overhead-ms"] = _ms(plan, time.perf_counter())
    return Stream(
        _forward(events),
        media_type="text/event-stream",
        headers={**overhead, "cache-control": "no-cache", "x-accel-buffering": "no"},
    )


def _ms(plan: Plan, upstream_at: float | None) -> str:
    return f"{((upstream_at or time.perf_counter()) - plan.started) * 1000:.2f}"


async def _forward(events: AsyncGenerator[dict[str, Any], None]) -> AsyncIterator[bytes]:
    """The stream as the caller reads it; an upstream failure after the first byte ends it
    with an error event in OpenAI's shape, then [DONE], never a hang."""
    try:
        async for event in events:
            yield _sse(event)
    except ProviderError as exc:
        error = {"message": str(exc), "type": "upstream_error", "param": None, "code": exc.code}
        yield _sse({"error": error})
    finally:
        await events.aclose()
    yield b"data: [DONE]\n\n"


def check_chat(rt: Any, body: dict[str, Any]) -> tuple[TextModel, list[str]]:
    """Everything a chat body must get right before it runs: its model, messages (and the
    images they hold), limits, tools and response format. The model, and the images'
    descriptions."""
    model = find_model(rt, body, TextKind.CHAT)
    settings = rt.settings
    private = settings.input_allow_private
    images = check_messages(body, model.vision, settings.input_max_bytes, private)
    check_limits(body, model)
    check_tools(body)
    check_response_format(body)
    return model, images


@post("/v1/chat/completions", status_code=200, summary="Chat completions (OpenAI format)")
async def chat_completions(request: Request[Any, Any, Any]) -> Response[Any]:
    body = await read_body(request)
    rt = runtime_of(request)
    if (spec := chat_media.media_model(rt, body.get("model"))) is not None:
        made: Response[Any] = await chat_media.run(request, body, spec)  # gpt-4-all style
        return made
    _, images = check_chat(rt, body)
    return await _run(request, "chat.completions", body, images)


@post("/v1/completions", status_code=200, summary="Completions, legacy (OpenAI format)")
async def completions(request: Request[Any, Any, Any]) -> Response[Any]:
    rt = runtime_of(request)
    body = await read_body(request)
    model = find_model(rt, body, TextKind.COMPLETION)
    prompt = body.get("prompt")
    if not isinstance(prompt, str | list) or (isinstance(prompt, list) and not prompt):
        raise InvalidRequestError("prompt", "must be text or a non-empty list")
    check_limits(body, model)
    return await _run(request, "completions", body, [])


def check_embeddings(rt: Any, body: dict[str, Any]) -> TextModel:
    """An embeddings body: its model, input, dimensions and encoding."""
    model = find_model(rt, body, TextKind.EMBEDDING)
    given = body.get("input")
    ok = (isinstance(given, str) and given) or (
        isinstance(given, list)
        and 0 < len(given) <= 2048
        and all((isinstance(x, str) and x) or _tokens(x) for x in given)
    )
    if not ok and not _tokens(given):
        raise InvalidRequestError(
            "input", "must be text, a list of up to 2048 texts, or token arrays"
        )
    require_dimensions(model, body.get("dimensions"))
    fmt = body.get("encoding_format")
    if fmt is not None and fmt not in ("float", "base64"):
        raise InvalidRequestError("encoding_format", f"{str(fmt)[:20]!r}", ["float", "base64"])
    if body.get("stream"):
        raise InvalidRequestError("stream", "embeddings are not streamed")
    return model


@post("/v1/embeddings", status_code=200, summary="Embeddings (OpenAI format)")
async def embeddings(request: Request[Any, Any, Any]) -> Response[Any]:
    body = await read_body(request)
    check_embeddings(runtime_of(request), body)
    return await _run(request, "embeddings", body, [])


def _tokens(value: Any) -> bool:
    return (
        isinstance(value, list)
        and 0 < len(value) <= 8192
        and all(isinstance(t, int) and not isinstance(t, bool) and 0 <= t < 2**31 for t in value)
    )


class ModelNotFound(NotFoundError):
    """An unknown model is OpenAI's 404 ``model_not_found`` (the SDK's NotFoundError)."""

    code = "model_not_found"


def find_model(rt: Any, body: dict[str, Any], kind: TextKind) -> TextModel:
    name = body.get("model")
    if not isinstance(name, str) or not name:
        raise InvalidRequestError("model", "is required")
    if rt.relay.catalogue.find(name) is None:
        raise ModelNotFound(f"The model {name!r} does not exist or you do not have access to it.")
    model: TextModel = rt.relay.catalogue.get(name, kind)
    return model


def relay_handler(field_names: dict[str, str]) -> Any:
    """OpenAI's error shape; an upstream's failure before any byte (every route tried) is a
    5xx or 429 as its kind says, never the 400 a caller's mistake gets."""
    plain = make_handler(field_names)

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if isinstance(exc, ProviderError):
            status = status_of(exc)
            kind = "invalid_request_error" if status < 500 and status != 429 else "upstream_error"
            resp = error_response(status, kind, exc.code, str(exc))
            wait = getattr(exc, "retry_after", None)
            if isinstance(wait, int | float) and wait > 0:
                resp.headers["Retry-After"] = str(int(wait))
            return resp
        response: Response[Any] = plain(request, exc)
        return response

    return handle


router = dialect_router(
    [chat_completions, completions, embeddings], relay_handler({}), "OpenAI text"
)
