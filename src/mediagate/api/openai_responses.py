"""OpenAI's Responses API (POST /v1/responses), plain or streamed as typed events, for the
official SDK's ``client.responses``.

mediagate translates each request to a chat completion and runs it through the same relay
(routes, failover, holds, charges, the request log), then translates the answer back: so it
works on every upstream, OpenAI-compatible or the sandbox, not only on the ones that speak
Responses. What has no chat equivalent is a 400 naming the field: ``previous_response_id``
and ``conversation`` (mediagate keeps no conversation state), built-in tools (web search,
file search, code interpreter) and ``background``. A response cut short by its token limit
is ``status: incomplete`` and is charged for what it used, like any other."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.response import Stream

from mediagate.api.common import api_key, dialect_router, runtime_of
from mediagate.api.openai_text import check_chat, read_body, relay_handler
from mediagate.core.errors import InvalidRequestError, ProviderError

UNSUPPORTED = ("previous_response_id", "conversation", "background", "prompt")
PASSED = ("temperature", "top_p", "user", "metadata", "parallel_tool_calls", "seed", "store")


def _part(part: Any, where: str) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise InvalidRequestError(where, "must be a content part")
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return {"type": "text", "text": str(part.get("text") or "")}
    if kind == "input_image":
        url = part.get("image_url") or (part.get("image") or {}).get("url")
        return {"type": "image_url", "image_url": {"url": url}}
    raise InvalidRequestError(
        f"{where}.type", f"{str(kind)[:30]!r} is not supported here", ["input_text", "input_image"]
    )


def _messages_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if isinstance(body.get("instructions"), str):
        messages.append({"role": "developer", "content": body["instructions"]})
    given = body.get("input")
    if isinstance(given, str):
        return [*messages, {"role": "user", "content": given}]
    if not isinstance(given, list) or not given:
        raise InvalidRequestError("input", "must be text or a non-empty list of items")
    for i, item in enumerate(given):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            raise InvalidRequestError(where, "must be an object")
        kind = item.get("type", "message")
        if kind == "message":
            content = item.get("content")
            if isinstance(content, list):
                content = [_part(p, f"{where}.content[{j}]") for j, p in enumerate(content)]
            messages.append({"role": item.get("role"), "content": content})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments")},
            }
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append(
                {"role": "tool", "tool_call_id": item.get("call_id"), "content": item.get("output")}
            )
        else:
            raise InvalidRequestError(
                f"{where}.type",
                f"{str(kind)[:30]!r} is not supported",
                ["message", "function_call", "function_call_output"],
            )
    return messages


def to_chat(body: dict[str, Any]) -> dict[str, Any]:
    """The chat completion a Responses request asks for."""
    for name in UNSUPPORTED:
        if body.get(name) is not None:
            raise InvalidRequestError(
                name,
                "is not supported: mediagate keeps no conversation state; send the whole input",
            )
    chat: dict[str, Any] = {"model": body.get("model"), "messages": _messages_of(body)}
    for name in PASSED:
        if name in body:
            chat[name] = body[name]
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    tools = []
    for i, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            kind = tool.get("type") if isinstance(tool, dict) else tool
            raise InvalidRequestError(
                f"tools[{i}].type",
                f"{str(kind)[:30]!r}: only function tools are supported here",
                ["function"],
            )
        function = {
            k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool
        }
        tools.append({"type": "function", "function": function})
    if tools:
        chat["tools"] = tools
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function":
        chat["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif choice is not None:
        chat["tool_choice"] = choice
    fmt = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        chat["response_format"] = {"type": "json_schema", "json_schema": spec}
    elif isinstance(fmt, dict) and fmt.get("type") == "json_object":
        chat["response_format"] = {"type": "json_object"}
    if body.get("stream"):
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}  # the final event carries usage
    return chat


def _usage(raw: Any) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    cached = (raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    reasoning = (raw.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    given, made = int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0)
    return {
        "input_tokens": given,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": made,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": given + made,
    }


def _response(
    rid: str, body: dict[str, Any], output: list[dict[str, Any]], finish: str, usage: Any
) -> dict[str, Any]:
    incomplete = finish == "length"
    return {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if incomplete else "completed",
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "error": None,
        "model": body.get("model"),
        "output": output,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "text": body.get("text") or {"format": {"type": "text"}},
        "metadata": body.get("metadata") or {},
        "usage": _usage(usage) if usage is not None else None,
    }


def _message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}] if text else [],
    }


def _call_item(call: dict[str, Any]) -> dict[str, Any]:
    function = call.get("function") or {}
    return {
        "type": "function_call",
        "id": f"fc_{secrets.token_hex(12)}",
        "call_id": call.get("id") or f"call_{secrets.token_hex(12)}",
        "name": function.get("name"),
        "arguments": function.get("arguments") or "",
        "status": "completed",
    }


@post("/v1/responses", status_code=200, summary="Responses (OpenAI format)")
async def responses(request: Request[Any, Any, Any]) -> Response[Any]:
    rt = runtime_of(request)
    body = await read_body(request)
    if "input" not in body:
        raise InvalidRequestError("input", "is required")
    chat = to_chat(body)
    _, images = check_chat(rt, chat)
    plan = await rt.relay.plan(api_key(request), "responses", chat, images)
    rid = f"resp_{secrets.token_hex(16)}"
    if not plan.stream:
        answer, _ = await rt.relay.call(plan)
        choice = (answer.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        output = [_call_item(c) for c in message.get("tool_calls") or []]
        if message.get("content"):
            output.insert(0, _message_item(f"msg_{secrets.token_hex(12)}", message["content"]))
        finish = str(choice.get("finish_reason") or "stop")
        return Response(_response(rid, body, output, finish, answer.get("usage")))
    events = await rt.relay.open_stream(plan)  # started here: it settles however it ends
    return Stream(
        _events(rid, body, events),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache"},
    )


def _sse(kind: str, seq: int, data: dict[str, Any]) -> bytes:
    event = {"type": kind, "sequence_number": seq, **data}
    return f"event: {kind}\n".encode() + b"data: " + msgspec.json.encode(event) + b"\n\n"


async def _events(
    rid: str, body: dict[str, Any], chunks: AsyncIterator[dict[str, Any]]
) -> AsyncIterator[bytes]:
    """Chat chunks as the Responses API's typed events."""
    seq = 0

    def emit(kind: str, **data: Any) -> bytes:
        nonlocal seq
        seq += 1
        return _sse(kind, seq - 1, data)

    shell = _response(rid, body, [], "", None) | {"status": "in_progress"}
    yield emit("response.created", response=shell)
    yield emit("response.in_progress", response=shell)
    item_id, text, finish, usage = f"msg_{secrets.token_hex(12)}", "", "stop", None
    calls: dict[int, dict[str, Any]] = {}
    opened = False
    try:
        async for chunk in chunks:
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                finish = choice.get("finish_reason") or finish
                piece = delta.get("content") or ""
                if piece and not opened:
                    opened = True
                    yield emit(
                        "response.output_item.added",
                        output_index=0,
                        item=_message_item(item_id, "", "in_progress"),
                    )
                    yield emit(
                        "response.content_part.added",
                        item_id=item_id,
                        output_index=0,
                        content_index=0,
                        part={"type": "output_text", "text": "", "annotations": []},
                    )
                if piece:
                    text += piece
                    yield emit(
                        "response.output_text.delta",
                        item_id=item_id,
                        output_index=0,
                        content_index=0,
                        delta=piece,
                    )
                for call in delta.get("tool_calls") or []:
                    slot = calls.setdefault(
                        int(call.get("index") or 0),
                        {"id": None, "function": {"name": "", "arguments": ""}},
                    )
                    slot["id"] = call.get("id") or slot["id"]
                    function = call.get("function") or {}
                    slot["function"]["name"] += function.get("name") or ""
                    slot["function"]["arguments"] += function.get("arguments") or ""
    except ProviderError as exc:
        error = {"code": exc.code, "message": str(exc)}
        yield emit("response.failed", response=shell | {"status": "failed", "error": error})
        return
    output: list[dict[str, Any]] = []
    if opened:
        part = {"type": "output_text", "text": text, "annotations": []}
        yield emit(
            "response.output_text.done", item_id=item_id, output_index=0, content_index=0, text=text
        )
        yield emit(
            "response.content_part.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=part,
        )
        output.append(_message_item(item_id, text))
        yield emit("response.output_item.done", output_index=0, item=output[-1])
    for _, call in sorted(calls.items()):
        item = _call_item(call)
        index = len(output)
        yield emit("response.output_item.added", output_index=index, item=item | {"arguments": ""})
        yield emit(
            "response.function_call_arguments.done",
            item_id=item["id"],
            output_index=index,
            arguments=item["arguments"],
        )
        output.append(item)
        yield emit("response.output_item.done", output_index=index, item=item)
    final = _response(rid, body, output, finish, usage)
    kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    yield emit(kind, response=final)


router = dialect_router(
    [responses], relay_handler({"max_completion_tokens": "max_output_tokens"}), "OpenAI responses"
)
