"""Midjourney upstream: any midjourney-proxy compatible server (midjourney-proxy, -plus,
new-api, GPTNB), the way new-api calls one. Midjourney has no official API.

Auth is ``mj-api-secret: <key>``. A submit answers ``{code, description, result}``: 1 and
22 (queued) are accepted, 21 asks for a modal (Vary Region, Custom Zoom; this adapter sends
``/mj/submit/modal`` at once, since mediagate has the mask already), 23 is a full queue, 24
a banned prompt and 3 no account available. A follow-up presses the upstream task's own
button, found among its ``buttons`` by what its customId does. Jobs are polled in bulk with
``/mj/task/list-by-condition``; an hour upstream is the catalogue's deadline.
"""

from __future__ import annotations

from typing import Any

from mediagate.core.errors import (
    ContentRejectedError,
    ProviderError,
    RateLimitedError,
    UnavailableError,
    UpstreamInvalidRequest,
)
from mediagate.core.provider import (
    GenerationRequest,
    MediaStream,
    Pending,
    Ready,
    Submitted,
    TextResult,
)
from mediagate.providers.http import HttpVendor, call_json, obj, percent

ROOTS = {  # action -> submit path
    "imagine": "/mj/submit/imagine",
    "describe": "/mj/submit/describe",
    "blend": "/mj/submit/blend",
    "shorten": "/mj/submit/shorten",
    "swap_face": "/mj/insight-face/swap",
}
TEXT_ACTIONS = ("describe", "shorten")


def wanted(action: str, options: dict[str, Any]) -> str:
    """What the customId of the button for ``action`` contains (midjourney-proxy's grammar:
    ``MJ::JOB::upsample::2::<hash>``)."""
    index = options.get("index")
    if action in ("upscale", "variation"):
        return f"::{'upsample' if action == 'upscale' else 'variation'}::{index}::"
    if action in ("upscale_subtle", "upscale_creative"):
        return "_2x_" + action.split("_")[1]
    if action == "pan":
        return f"::pan_{options.get('direction', 'left')}::"
    if action == "zoom":
        return "::Outpaint::50::" if float(options.get("zoom", 2)) >= 2 else "::Outpaint::75::"
    return {
        "reroll": "::reroll::",
        "low_variation": "::low_variation::",
        "high_variation": "::high_variation::",
        "inpaint": "::Inpaint::",
        "custom_zoom": "::CustomZoom::",
    }.get(action, f"::{action}::")


class MidjourneyProxyProvider(HttpVendor):
    name = "mjproxy"

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        url = self._url(path)
        headers = {"mj-api-secret": self._creds.api_key}
        return await call_json(self._session, self.name, method, url, headers=headers, json=body)

    def _accepted(self, answer: Any) -> str:
        """The job id of a submit answer, or the ProviderError its code means."""
        a = obj(answer)
        code, text = a.get("code"), str(a.get("description") or "")
        if code in (1, 21, 22) and isinstance(a.get("result"), str) and a["result"]:
            return str(a["result"])
        if code == 24:
            word = obj(a.get("properties")).get("bannedWord", "")
            raise ContentRejectedError(f"{self.name}: banned prompt word {word!r}: {text}")
        if code == 23:
            raise RateLimitedError(f"{self.name}: the queue is full: {text}", 30.0)
        if code in (3, 9):
            raise UnavailableError(f"{self.name}: code {code}: {text}")
        raise UpstreamInvalidRequest(f"{self.name}: code {code}: {text}")

    async def submit(self, request: GenerationRequest) -> Submitted:
        params = request.params
        action = params.action or "imagine"
        if action in ROOTS:
            job = self._accepted(await self._call("POST", ROOTS[action], self._root(request)))
            return Submitted(upstream_id=job, poll_after=self._poll_s)
        parent = await self._call("GET", f"/mj/task/{params.parent_upstream}/fetch")
        needle = wanted(action, dict(params.options))
        custom = next(
            (
                str(b.get("customId"))
                for b in obj(parent).get("buttons") or []
                if needle in str(obj(b).get("customId", ""))
            ),
            None,
        )
        if custom is None:
            raise UpstreamInvalidRequest(f"{self.name}: the upstream job has no {action} button")
        answer = obj(
            await self._call(
                "POST", "/mj/submit/action", {"taskId": params.parent_upstream, "customId": custom}
            )
        )
        job = self._accepted(answer)
        if answer.get("code") == 21:  # a modal: give it what the caller gave us
            modal: dict[str, Any] = {"taskId": job, "prompt": request.prompt}
            mask = request.image("mask")
            if mask is not None:
                modal["maskBase64"] = mask.data_url()
            if "zoom" in params.options and action == "custom_zoom":
                modal["prompt"] = f"{request.prompt} --zoom {params.options['zoom']}"
            job = self._accepted(await self._call("POST", "/mj/submit/modal", modal))
        return Submitted(upstream_id=job, poll_after=self._poll_s)

    def _root(self, request: GenerationRequest) -> dict[str, Any]:
        action = request.params.action or "imagine"
        refs = [i.data_url() for i in request.images_in("reference")]
        if action == "imagine":
            return {"prompt": request.prompt, "base64Array": refs}
        if action == "describe":
            return {"base64": refs[0] if refs else ""}
        if action == "blend":
            dims = request.params.options.get("dimensions", "SQUARE")
            return {"base64Array": refs, "dimensions": dims}
        if action == "swap_face":
            face, target = request.image("face"), request.image("source")
            return {
                "sourceBase64": face.data_url() if face else "",
                "targetBase64": target.data_url() if target else "",
            }
        return {"prompt": request.prompt}

    def _state(self, job: dict[str, Any], action: str) -> Pending | Ready | ProviderError:
        status = str(job.get("status") or "")
        if status == "SUCCESS":
            said: tuple[TextResult, ...] = ()
            final = str(obj(job.get("properties")).get("finalPrompt") or "")
            if action in TEXT_ACTIONS and final:
                said = (TextResult(final, role="prompts" if action == "describe" else "analysis"),)
            return Ready(texts=said, files=bool(job.get("imageUrl")))
        if status in ("FAILURE", "CANCEL"):
            reason = str(job.get("failReason") or status.lower())
            if any(w in reason.lower() for w in ("banned", "sensitive", "moderat", "违规")):
                return ContentRejectedError(f"{self.name}: {reason}")
            return UpstreamInvalidRequest(f"{self.name}: the job failed: {reason}")
        return Pending(progress=percent(job.get("progress")), poll_after=self._poll_s)

    async def poll(self, request: GenerationRequest, upstream_id: str) -> Pending | Ready:
        state = self._state(
            obj(await self._call("GET", f"/mj/task/{upstream_id}/fetch")), request.params.action
        )
        if isinstance(state, ProviderError):
            raise state
        return state

    async def poll_many(
        self, upstream_ids: list[str]
    ) -> dict[str, Pending | Ready | ProviderError]:
        """The jobs' states in one call. A text action's Ready is left to the single poll,
        which knows the task's action (list answers do not say which texts to keep)."""
        jobs = await self._call("POST", "/mj/task/list-by-condition", {"ids": upstream_ids})
        found: dict[str, Pending | Ready | ProviderError] = {}
        for job in jobs if isinstance(jobs, list) else []:
            j = obj(job)
            action = str(j.get("action") or "").lower()
            if isinstance(j.get("id"), str) and action not in TEXT_ACTIONS:
                found[j["id"]] = self._state(j, action)
        return found

    async def fetch(
        self, request: GenerationRequest, upstream_id: str, index: int
    ) -> MediaStream | None:
        if index > 0:
            return None
        job = obj(await self._call("GET", f"/mj/task/{upstream_id}/fetch"))
        url = str(job.get("imageUrl") or "")
        if not url:
            return None
        return await self._download(request, url)
