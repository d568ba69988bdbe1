"""Suno upstream: a Suno-API compatible server (new-api, GPTNB, a self-hosted Suno-API), the
way new-api's Suno channel calls one. Suno has no official public API.

``POST /suno/submit/music|lyrics`` answers ``{"code": "success", "data": "<task id>"}``;
``POST /suno/fetch {"ids": [...]}`` reports many jobs at once (bulk polls); a job's
``data`` is its clips (each with ``audio_url`` and ``image_url``) or, for lyrics,
``{title, text}``. A continuation names the upstream's own clip id, read from the parent job.
Files come as audio 0..n-1, then the covers, like the sandbox's.
"""

from __future__ import annotations

from typing import Any

from mediagate.core.errors import (
    ContentRejectedError,
    ProviderError,
    UnavailableError,
    UpstreamInvalidRequest,
)
from mediagate.core.numbers import is_digits
from mediagate.core.provider import (
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Submitted,
    TextResult,
)
from mediagate.providers.http import HttpVendor, call_json, download, obj, percent

DONE, FAILED = "SUCCESS", "FAILURE"


class SunoApiProvider(HttpVendor):
    name = "sunoapi"

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        url = self._url(path)
        headers = {"Authorization": f"Bearer {self._creds.api_key}"}
        answer = obj(
            await call_json(self._session, self.name, method, url, headers=headers, json=body)
        )
        if answer.get("code") != "success":
            raise UpstreamInvalidRequest(
                f"{self.name}: {answer.get('code')}: {answer.get('message') or 'refused'}"
            )
        return answer.get("data")

    async def _job(self, upstream_id: str) -> dict[str, Any]:
        return obj(await self._call("GET", f"/suno/fetch/{upstream_id}"))

    async def submit(self, request: GenerationRequest) -> Submitted:
        params, opts = request.params, request.params.options
        if params.action == "lyrics":
            job = await self._call("POST", "/suno/submit/lyrics", {"prompt": request.prompt})
        elif params.action == "upload":  # the song by its link (the upstream fetches it)
            song = request.image("source")
            if song is None or not song.source_url:
                raise UpstreamInvalidRequest(f"{self.name}: an upload needs a public link")
            job = await self._call("POST", "/suno/uploads/audio-url", {"url": song.source_url})
        elif params.action == "concat":
            clip = await self._upstream_clip(request, "clip_id")
            job = await self._call(
                "POST", "/suno/submit/concat", {"clip_id": clip, "is_infill": False}
            )
        else:
            body: dict[str, Any] = {
                "prompt": request.prompt,
                "mv": request.upstream_model or request.spec.wire_name,
                "make_instrumental": bool(opts.get("make_instrumental", False)),
            }
            for name in ("title", "tags", "gpt_description_prompt"):
                if opts.get(name):
                    body[name] = opts[name]
            if params.action in ("continue", "cover"):
                name = "continue_clip_id" if params.action == "continue" else "cover_clip_id"
                body.update(task_id=params.parent_upstream,
                            continue_clip_id=await self._upstream_clip(request, name))  # fmt: skip
                if params.action == "continue":
                    body["continue_at"] = opts.get("continue_at")
                if opts.get("task"):  # Suno's own word for it: extend, upload_extend, ...
                    body["task"] = opts["task"]
            job = await self._call("POST", "/suno/submit/music", body)
        if not isinstance(job, str) or not job:
            raise UnavailableError(f"{self.name}: the submit answer has no task id")
        return Submitted(upstream_id=job, poll_after=self._poll_s)

    async def _upstream_clip(self, request: GenerationRequest, option: str) -> str:
        """Our clip id ``<task>-<i>`` is the parent job's i-th clip upstream."""
        ours = str(request.params.options.get(option, ""))
        index = int(ours.rsplit("-", 1)[1]) if ours[-2:-1] == "-" and is_digits(ours[-1]) else 0
        clips = (await self._job(request.params.parent_upstream)).get("data")
        if not isinstance(clips, list) or index >= len(clips):
            raise UpstreamInvalidRequest(f"{self.name}: the parent job has no clip {index}")
        return str(obj(clips[index]).get("id") or "")

    def _state(self, job: dict[str, Any]) -> Pending | Ready | ProviderError:
        status = str(job.get("status") or "")
        data = job.get("data")
        if status == DONE:
            if str(job.get("action") or "").upper() == "LYRICS":
                d = obj(data)
                return Ready(
                    texts=(
                        TextResult(str(d.get("text") or ""), str(d.get("title") or ""), "lyrics"),
                    ),
                    files=False,
                )
            return Ready()
        if status == FAILED:
            reason = str(job.get("fail_reason") or "failed")
            if any(w in reason.lower() for w in ("moderat", "sensitive", "banned", "copyright")):
                return ContentRejectedError(f"{self.name}: {reason}")
            return UpstreamInvalidRequest(f"{self.name}: the job failed: {reason}")
        return Pending(progress=percent(job.get("progress")), poll_after=self._poll_s)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        state = self._state(await self._job(upstream_id))
        if isinstance(state, ProviderError):
            raise state
        return state

    async def poll_many(
        self, upstream_ids: list[str]
    ) -> dict[str, Pending | Ready | ProviderError]:
        jobs = await self._call("POST", "/suno/fetch", {"ids": upstream_ids})
        found: dict[str, Pending | Ready | ProviderError] = {}
        for job in jobs if isinstance(jobs, list) else []:
            j = obj(job)
            if isinstance(j.get("task_id"), str):
                found[j["task_id"]] = self._state(j)
        return found

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        clips = [obj(c) for c in (await self._job(upstream_id)).get("data") or []]
        songs = [c for c in clips if c.get("audio_url")]
        if index < len(songs):
            clip = songs[index]
            media = await download(self._session, self.name, str(clip["audio_url"]))
            return _as(media, "clip", str(clip.get("title") or ""), clip.get("duration"))
        covers = [c for c in songs if c.get("image_url")]
        if index - len(songs) < len(covers):
            clip = covers[index - len(songs)]
            media = await download(self._session, self.name, str(clip["image_url"]))
            return _as(media, "cover", str(clip.get("title") or ""), None)
        return None


def _as(media: MediaStream, role: str, title: str, duration: Any) -> MediaStream:
    seconds = float(duration) if isinstance(duration, int | float) else media.duration_seconds
    return MediaStream(
        media.content_type, media.chunks, media.width, media.height, seconds, None, role, title
    )
