"""Relays to aggregators (GPTNB, new-api forks, another mediagate) in the formats of
``api/feed.py`` and ``api/luma_goamz.py``: the generate/feed format of Runway v1 and PixVerse
(``/{family}/v1/pro/generate``, ``/{family}/v1/pro/feed?task_id=``), Pika's
(``/pika/generate``, ``/pika/feed/{id}``) and Luma in GoAmzAI's (``/luma/generations``, or
``/vip/luma/generations`` when the route's model is ``vip``). Bearer keys. The route's
``model`` is the upstream's name for it (``v5``, ``gen4``, ``2.2``, ``vip``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import quote

from mediagate.core.errors import UnavailableError, UpstreamInvalidRequest
from mediagate.core.provider import GenerationRequest, MediaStream, Pending, Ready, Submitted
from mediagate.providers.http import call_json, obj
from mediagate.providers.relays import _Relay

PRO_DONE, PRO_FAILED = {"succeeded", "success", "3"}, {"error", "failed", "2"}
PIKA_DONE, PIKA_FAILED = {"finished", "completed"}, {"failed", "error"}
LUMA_DONE, LUMA_FAILED = {"completed"}, {"failed"}
RUNWAY_RATIOS = {"1280:720": "16:9", "720:1280": "9:16", "960:960": "1:1", "1104:832": "4:3",
                 "832:1104": "3:4", "1584:672": "21:9"}  # fmt: skip


def _image(request: GenerationRequest, role: str = "first_frame") -> str | None:
    found = request.image(role)
    if found is None:
        return None
    return found.source_url or found.data_url()


class _Bearer(_Relay, ABC):
    """A Bearer-key aggregator whose finished task names one video (``_video``)."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._creds.api_key}"}
        return obj(
            await call_json(
                self._session, self.name, method, self._url(path), headers=headers, **kwargs
            )
        )

    async def fetch(self, request: GenerationRequest, upstream_id: str, index: int) -> MediaStream:
        if index > 0:
            raise UnavailableError(f"{self.name}: a task makes one video")
        url = await self._video(upstream_id)
        if not url:
            raise UnavailableError(f"{self.name}: task {upstream_id} has no video")
        return await self._media(request, url)

    @abstractmethod
    async def _video(self, upstream_id: str) -> str:
        """The finished task's video link ("" when it has none)."""


class ProFeedProvider(_Bearer):
    """Runway v1 and PixVerse through an aggregator: ``family`` is ``runway`` or
    ``pixverse``. Answers are ``{code, msg, data}``; a code other than 200 is a refusal."""

    def __init__(self, *args: Any, family: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._family = family

    def _data(self, answer: dict[str, Any]) -> dict[str, Any]:
        code = answer.get("code", 200)
        if code not in (200, 0, "200"):
            raise UpstreamInvalidRequest(f"{self.name}: code {code}: {answer.get('msg')}")
        return obj(answer.get("data"))

    async def submit(self, request: GenerationRequest) -> Submitted:
        params = request.params
        body: dict[str, Any] = {"prompt": request.prompt, "model": request.upstream_model}
        if self._family == "runway":
            body["ratio"] = RUNWAY_RATIOS.get(params.aspect_ratio, "16:9")
            body["style"] = "cinematic"
            body["options"] = {"seconds": params.duration_seconds or 5}
        else:
            body["ratio"] = params.aspect_ratio
            body["duration"] = params.duration_seconds
            for name in ("style", "negative_prompt", "seed", "template_id"):
                if name in params.options:
                    body[name] = params.options[name]
            if "resolution" in params.options:
                body["quality"] = params.options["resolution"]
        if (image := _image(request)) is not None:
            body["image"] = image
        path = f"/{self._family}/v1/pro/generate"
        data = self._data(await self._call("POST", path, json=body))
        if not isinstance(data.get("task_id"), str):
            raise UnavailableError(f"{self.name}: the generate answer has no task_id")
        return Submitted(upstream_id=data["task_id"], poll_after=self._poll_s)

    async def _task(self, upstream_id: str) -> dict[str, Any]:
        path = f"/{self._family}/v1/pro/feed?task_id={quote(upstream_id)}"
        return self._data(await self._call("GET", path))

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        task = await self._task(upstream_id)
        state = {str(task.get("state") or "").lower(), str(task.get("status") or "")}
        if state & PRO_DONE:
            return Ready()
        if state & PRO_FAILED:
            raise UnavailableError(f"{self.name}: task failed: {task.get('msg') or 'no reason'}")
        return Pending(progress=50 if "running" in state or "1" in state else 5,
                       poll_after=self._poll_s)  # fmt: skip

    async def _video(self, upstream_id: str) -> str:
        return str((await self._task(upstream_id)).get("video_url") or "")


class PikaFeedProvider(_Bearer):
    name = "feed-pika"

    async def submit(self, request: GenerationRequest) -> Submitted:
        opts = request.params.options
        width, height = request.spec.size_for(request.params.aspect_ratio)
        parameters = {"guidanceScale": opts.get("guidance_scale", 12),
                      "motion": opts.get("motion", 1),
                      "negativePrompt": opts.get("negative_prompt", "")}  # fmt: skip
        if "seed" in opts:
            parameters["seed"] = opts["seed"]
        body: dict[str, Any] = {
            "promptText": request.prompt, "model": request.upstream_model,
            "pikaffect": opts.get("pikaffect", ""),
            "options": {"aspectRatio": width / height, "frameRate": 24, "camera": {},
                        "parameters": parameters, "extend": bool(opts.get("extend"))},
        }  # fmt: skip
        if (image := _image(request)) is not None:
            body["image"] = image
        if (video := _image(request, "source")) is not None:
            body["video"] = video
        answer = await self._call("POST", "/pika/generate", json=body)
        if not isinstance(answer.get("id"), str):
            raise UnavailableError(f"{self.name}: the generate answer has no id")
        return Submitted(upstream_id=answer["id"], poll_after=self._poll_s)

    async def _first(self, upstream_id: str) -> dict[str, Any]:
        videos = (await self._call("GET", f"/pika/feed/{upstream_id}")).get("videos") or [{}]
        return obj(videos[0])

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        video = await self._first(upstream_id)
        status = str(video.get("status") or "").lower()
        if status in PIKA_DONE:
            return Ready()
        if status in PIKA_FAILED:
            raise UnavailableError(f"{self.name}: task failed: {video.get('error') or status}")
        return Pending(progress=int(video.get("progress") or 5), poll_after=self._poll_s)

    async def _video(self, upstream_id: str) -> str:
        return str((await self._first(upstream_id)).get("resultUrl") or "")


class GoAmzLumaProvider(_Bearer):
    name = "goamz-luma"

    def _root(self, request: GenerationRequest) -> str:
        return "/vip/luma" if request.upstream_model == "vip" else "/luma"

    async def submit(self, request: GenerationRequest) -> Submitted:
        body: dict[str, Any] = {
            "user_prompt": request.prompt, "aspect_ratio": request.params.aspect_ratio,
            "expand_prompt": False, "loop": bool(request.params.options.get("loop", False)),
        }  # fmt: skip
        if (first := _image(request)) is not None:
            body["image_url"] = first
        if (last := _image(request, "last_frame")) is not None:
            body["image_end_url"] = last
        answer = await self._call("POST", f"{self._root(request)}/generations", json=body)
        if not isinstance(answer.get("id"), str):
            raise UnavailableError(f"{self.name}: the generation has no id")
        return Submitted(upstream_id=answer["id"], poll_after=self._poll_s)

    async def _generation(self, upstream_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/luma/generations/{upstream_id}")

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        found = await self._generation(upstream_id)
        state = str(found.get("state") or "").lower()
        if state in LUMA_DONE:
            return Ready()
        if state in LUMA_FAILED:
            raise UnavailableError(f"{self.name}: {found.get('failure_reason') or 'failed'}")
        return Pending(progress=50 if state == "processing" else 5, poll_after=self._poll_s)

    async def _video(self, upstream_id: str) -> str:
        return str(obj((await self._generation(upstream_id)).get("video")).get("url") or "")
