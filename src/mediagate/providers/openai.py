"""OpenAI's images API as an upstream: generations (JSON) and edits (multipart) for the
gpt-image models, answered inline as base64. Sora's videos API was shut down in 2026. The
same credentials' text API (chat, completions, embeddings) is ``.text``."""

from __future__ import annotations

from typing import Any

import aiohttp

from mediagate.core.catalogue import Kind
from mediagate.core.errors import ModelNotFoundError, UnavailableError
from mediagate.core.provider import (
    Clock,
    Finished,
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Result,
    Submitted,
)
from mediagate.providers.http import Credentials, call_json, decode_b64, download, obj
from mediagate.providers.openai_text import OpenAIText

CONTENT_CODES = ("moderation_blocked", "content_policy_violation")
SQUARE, LANDSCAPE, PORTRAIT = "1024x1024", "1536x1024", "1024x1536"


def size_for(aspect_ratio: str) -> str:
    """gpt-image makes three sizes; each catalogue ratio goes to the nearest shape."""
    w, h = (int(x) for x in aspect_ratio.split(":"))
    return SQUARE if w == h else LANDSCAPE if w > h else PORTRAIT


class OpenAIImagesProvider:
    def __init__(
        self, session: aiohttp.ClientSession, creds: Credentials, clock: Clock, name: str = "openai"
    ) -> None:
        self.name = name
        self._session = session
        self._creds = creds
        self._clock = clock
        self.text = OpenAIText(session, creds, name)  # the same credentials' text API

    async def submit(self, request: GenerationRequest) -> Submitted | Finished:
        if request.spec.kind is not Kind.IMAGE:
            raise ModelNotFoundError(f"{self.name}: OpenAI's video API was shut down")
        base = self._creds.base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {self._creds.api_key}"}
        fields: dict[str, Any] = {
            "model": request.upstream_model,
            "prompt": request.prompt,
            "n": request.params.sample_count,
            "size": size_for(request.params.aspect_ratio),
        }
        if request.images:
            form = aiohttp.FormData()
            for key, value in fields.items():
                form.add_field(key, str(value))
            for i, image in enumerate(request.images):
                ext = image.content_type.split("/")[-1]
                form.add_field(
                    "image[]",
                    image.data,
                    filename=f"input-{i}.{ext}",
                    content_type=image.content_type,
                )
            answer = await call_json(
                self._session,
                self.name,
                "POST",
                f"{base}/images/edits",
                headers=headers,
                data=form,
                content_codes=CONTENT_CODES,
            )
        else:
            answer = await call_json(
                self._session,
                self.name,
                "POST",
                f"{base}/images/generations",
                headers=headers,
                json=fields,
                content_codes=CONTENT_CODES,
            )
        fmt = str(obj(answer).get("output_format") or "png")
        results = []
        for item in obj(answer).get("data") or []:
            item = obj(item)
            if isinstance(item.get("b64_json"), str):
                results.append(Result(f"image/{fmt}", data=decode_b64(self.name, item["b64_json"])))
            elif isinstance(item.get("url"), str):
                results.append(Result(f"image/{fmt}", url=item["url"]))
        if not results:
            raise UnavailableError(f"{self.name}: the answer has no image")
        return Finished(
            upstream_id=f"{request.upstream_model}@{obj(answer).get('created', '')}",
            results=tuple(results),
        )

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        return Ready()  # never asked: submit finishes the work

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int) -> MediaStream:
        raise UnavailableError(f"{self.name}: images are answered at submit")

    async def open(self, request: GenerationRequest, result: Result) -> MediaStream:
        width, height = request.spec.size_for(request.params.aspect_ratio)
        return await download(
            self._session, self.name, result.url or "", width=width, height=height
        )

    async def cancel(self, request: GenerationRequest, upstream_id: str) -> None:
        return None
