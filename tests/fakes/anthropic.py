"""A fake of Anthropic's Messages API, from its public reference (docs.anthropic.com, Messages
and Streaming Messages): ``x-api-key`` (or, as the 2.x SDKs send it, ``Authorization: Bearer``) and
``anthropic-version`` headers; POST /v1/messages
with ``max_tokens`` required, ``system``, ``messages`` of text / image / tool_use /
tool_result blocks and ``tools`` (``input_schema``); the answer ``{id, type: "message", role,
content, model, stop_reason, usage: {input_tokens, output_tokens}}``; a stream of
``message_start``, ``content_block_start`` / ``_delta`` (``text_delta``,
``input_json_delta``) / ``_stop``, ``message_delta`` (stop_reason and output usage) and
``message_stop`` events. Errors: ``{"type": "error", "error": {"type", "message"}}``.

With ``tools`` and ``tool_choice`` ``any`` or a named tool, it calls the first such tool
with ``{"city": "Paris"}``; otherwise it answers ``words`` words."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeVendor


def aerror(status: int, kind: str, message: str) -> web.Response:
    return web.json_response(
        {"type": "error", "error": {"type": kind, "message": message}}, status=status
    )


class FakeAnthropic(FakeVendor):
    name = "anthropic"

    def __init__(self, api_key: str = "sk-ant-test", words: int = 6) -> None:
        super().__init__()
        self.api_key = api_key
        self.words = words

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self.messages)

    def _blocks(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        tools = body.get("tools") or []
        choice = body.get("tool_choice") or {"type": "auto"}
        if tools and choice.get("type") in ("any", "tool"):
            name = choice.get("name") or tools[0]["name"]
            call = {
                "type": "tool_use",
                "id": "toolu_01fake",
                "name": name,
                "input": {"city": "Paris"},
            }
            return [call], "tool_use"
        text = " ".join(f"word{i}" for i in range(self.words))
        limit = int(body["max_tokens"])
        if limit < self.words:
            text = " ".join(text.split()[:limit])
            return [{"type": "text", "text": text}], "max_tokens"
        return [{"type": "text", "text": text}], "end_turn"

    async def messages(self, request: web.Request) -> web.StreamResponse:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.api_key not in (request.headers.get("x-api-key"), bearer):
            return aerror(401, "authentication_error", "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return aerror(400, "invalid_request_error", "anthropic-version header is required")
        body = await request.json()
        if not isinstance(body.get("max_tokens"), int):
            return aerror(400, "invalid_request_error", "max_tokens: Field required")
        roles = [m.get("role") for m in body.get("messages") or []]
        if not roles or any(r not in ("user", "assistant") for r in roles):
            return aerror(400, "invalid_request_error", "messages: roles must be user/assistant")
        blocks, stop = self._blocks(body)
        used_in = 10 + len(json.dumps(body.get("messages")).split())
        used_out = len(blocks[0].get("text", "").split()) or 5
        message = {
            "id": "msg_01fake",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": used_in, "output_tokens": used_out},
        }
        if not body.get("stream"):
            return web.json_response(message)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)

        async def send(kind: str, data: dict[str, Any]) -> None:
            payload = json.dumps({"type": kind, **data})
            await resp.write(f"event: {kind}\ndata: {payload}\n\n".encode())

        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": used_in, "output_tokens": 1},
        }
        await send("message_start", {"message": start})
        for index, block in enumerate(blocks):
            if block["type"] == "text":
                await send(
                    "content_block_start",
                    {"index": index, "content_block": {"type": "text", "text": ""}},
                )
                for n, word in enumerate(block["text"].split()):
                    piece = word if n == 0 else " " + word
                    await send(
                        "content_block_delta",
                        {"index": index, "delta": {"type": "text_delta", "text": piece}},
                    )
            else:
                shell = {**block, "input": {}}
                await send("content_block_start", {"index": index, "content_block": shell})
                raw = json.dumps(block["input"])
                for part in (raw[: len(raw) // 2], raw[len(raw) // 2 :]):
                    await send(
                        "content_block_delta",
                        {
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": part},
                        },
                    )
            await send("content_block_stop", {"index": index})
        await send(
            "message_delta",
            {
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": used_out},
            },
        )
        await send("message_stop", {})
        return resp
