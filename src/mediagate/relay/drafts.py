"""Drafts a task's missing option with a chat model through the relay (``core.ports.Drafter``):
a presentation's outline from its topic. It is an ordinary chat completion on the caller's
key: held, failed over, logged and charged like any other, and on a test key answered by the
sandbox's chat model (an outline whose words are the sandbox's, in the asked structure)."""

from __future__ import annotations

from typing import Any

from mediagate.core.errors import InputError, InvalidRequestError
from mediagate.core.keys import KeyRecord
from mediagate.providers.sandbox.local import ppt
from mediagate.relay.service import RelayService

OUTLINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["subject", "chapters"],
    "additionalProperties": False,
    "properties": {
        "subject": {"type": "string"},
        "chapters": {
            "type": "array", "minItems": 2, "maxItems": 6,
            "items": {
                "type": "object", "required": ["title", "pages"], "additionalProperties": False,
                "properties": {
                    "title": {"type": "string"},
                    "pages": {
                        "type": "array", "minItems": 2, "maxItems": 4,
                        "items": {
                            "type": "object", "required": ["title", "points"],
                            "additionalProperties": False,
                            "properties": {
                                "title": {"type": "string"},
                                "points": {"type": "array", "minItems": 3, "maxItems": 5,
                                           "items": {"type": "string"}},
                            },
                        },
                    },
                },
            },
        },
    },
}  # fmt: skip
INSTRUCTIONS = (
    "You write outlines for slide decks. Answer in the language of the topic: a subject, "
    "2 to 6 chapters, each of 2 to 4 pages, each page with 3 to 5 short points."
)


class RelayDrafter:
    def __init__(self, relay: RelayService) -> None:
        self._relay = relay

    async def draft(self, key: KeyRecord, chat_model: str, option: str, prompt: str) -> str:
        if option != "outline":
            raise InvalidRequestError(f"options.{option}", "only an outline can be drafted")
        body = {
            "model": chat_model,
            "messages": [
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": f"Topic: {prompt}"},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "outline", "strict": True, "schema": OUTLINE_SCHEMA},
            },
        }
        plan = await self._relay.plan(key, "chat.completions", body)
        answer, _ = await self._relay.call(plan)
        content = str(answer["choices"][0]["message"].get("content") or "")
        try:  # the schema's JSON is a deck's (``ppt.Deck``): as docmee's outline markdown
            return ppt.outline_markdown(ppt.deck_from_json(content))
        except InputError:
            return content  # a model that answered markdown: the renderer checks it
