"""Builds the live providers a deployment has credentials for, from Settings only.

Each provider's credentials are a named set of secrets: the single settings
(``MEDIAGATE_ARK_API_KEY``, ``MEDIAGATE_ARK_BASE_URL``, ...) and, over them, the provider's
entry in ``MEDIAGATE_CREDENTIALS`` (JSON), which also takes any other secret an adapter
reads by name (``Credentials.secret``), such as a JWT key pair."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from mediagate.core.provider import Clock, Provider
from mediagate.providers.ark import ArkProvider
from mediagate.providers.bfl import BflProvider
from mediagate.providers.google import GoogleProvider
from mediagate.providers.http import Credentials
from mediagate.providers.ideogram import IdeogramProvider
from mediagate.providers.kling import KlingProvider
from mediagate.providers.luma import LumaProvider
from mediagate.providers.mjproxy import MidjourneyProxyProvider
from mediagate.providers.openai import OpenAIImagesProvider
from mediagate.providers.relays import GptunnelProvider, NewApiProvider
from mediagate.providers.runway import RunwayProvider
from mediagate.providers.stability import StabilityProvider
from mediagate.providers.sunoapi import SunoApiProvider
from mediagate.providers.vidu import ViduProvider
from mediagate.providers.zhipu import ZhipuProvider
from mediagate.settings import Settings

NAMED = ("api_key", "base_url", "project", "location")
# The vendors' own API bases, for those configured only in MEDIAGATE_CREDENTIALS.
VENDOR_BASES = {
    "runway": "https://api.dev.runwayml.com",
    "luma": "https://api.lumalabs.ai/dream-machine/v1",
    "zhipu": "https://open.bigmodel.cn/api/paas/v4",  # or https://api.z.ai/api/paas/v4
    "kling": "https://api.klingai.com",  # or https://api-singapore.klingai.com
    "bfl": "https://api.bfl.ai",  # or the regional api.eu.bfl.ai, api.us.bfl.ai
    "stability": "https://api.stability.ai",
    "vidu": "https://api.vidu.com",
    "ideogram": "https://api.ideogram.ai",
}


def credentials_for(settings: Settings, name: str, also: str = "") -> Credentials | None:
    """The provider's credentials, or None without an API key (or a base URL). ``also``: a
    provider sharing ``name``'s key (new-api's /mj), whose own entry in
    MEDIAGATE_CREDENTIALS overrides it."""
    s = settings
    single: dict[str, str | None] = {
        "gemini": s.gemini_api_key,
        "vertex": s.vertex_access_token,
        "ark": s.ark_api_key,
        "openai": s.openai_api_key,
        "gptunnel": s.gptunnel_api_key,
        "newapi": s.newapi_api_key,
    }
    bases: dict[str, str | None] = {
        "gemini": s.gemini_base_url,
        "vertex": s.vertex_base_url or f"https://{s.vertex_location}-aiplatform.googleapis.com",
        "ark": s.ark_base_url,
        "openai": s.openai_base_url,
        "gptunnel": s.gptunnel_base_url,
        "newapi": s.newapi_base_url,
    }
    values: dict[str, str] = {
        "api_key": single.get(name) or "",
        "base_url": bases.get(name) or VENDOR_BASES.get(name, ""),
    }
    if name == "vertex":
        values.update(project=s.vertex_project, location=s.vertex_location)
    values.update(s.credentials.get(name, {}))
    if also:
        values.update(s.credentials.get(also, {}))
    if not values["api_key"] or not values["base_url"]:
        return None
    return Credentials(
        api_key=values["api_key"],
        base_url=values["base_url"],
        project=values.get("project", ""),
        location=values.get("location", ""),
        secrets={k: v for k, v in values.items() if k not in NAMED},
    )


def live_providers(
    settings: Settings, session: aiohttp.ClientSession, clock: Clock
) -> dict[str, Provider]:
    """Provider name (as the routes file says it) -> adapter, for each configured vendor."""
    poll = settings.upstream_poll_s
    makers: dict[str, Callable[[Credentials], Provider]] = {
        "gemini": lambda c: GoogleProvider(session, c, clock, poll_s=poll),
        "vertex": lambda c: GoogleProvider(session, c, clock, vertex=True, poll_s=poll),
        "ark": lambda c: ArkProvider(session, c, clock, poll_s=poll),
        "openai": lambda c: OpenAIImagesProvider(session, c, clock),
        "gptunnel": lambda c: GptunnelProvider(session, c, clock, poll_s=poll),
        "newapi": lambda c: NewApiProvider(session, c, clock, poll_s=poll),
        # Midjourney and Suno: a server of their own (credentials in MEDIAGATE_CREDENTIALS),
        # or the new-api / GPTNB key, which serves /mj and /suno too.
        "mjproxy": lambda c: MidjourneyProxyProvider(session, c, clock, poll_s=poll),
        "newapi-mj": lambda c: MidjourneyProxyProvider(session, c, clock, "newapi-mj", poll),
        "sunoapi": lambda c: SunoApiProvider(session, c, clock, poll_s=poll),
        "runway": lambda c: RunwayProvider(session, c, clock, poll_s=poll),
        "luma": lambda c: LumaProvider(session, c, clock, poll_s=poll),
        "zhipu": lambda c: ZhipuProvider(session, c, clock, poll_s=poll),
        "kling": lambda c: KlingProvider(session, c, clock, poll_s=poll),
        "bfl": lambda c: BflProvider(session, c, clock, poll_s=poll),
        "stability": lambda c: StabilityProvider(session, c, clock),
        "vidu": lambda c: ViduProvider(session, c, clock, poll_s=poll),
        "ideogram": lambda c: IdeogramProvider(session, c, clock),
        "newapi-kling": lambda c: KlingProvider(session, c, clock, "newapi-kling", poll),
        "newapi-suno": lambda c: SunoApiProvider(session, c, clock, "newapi-suno", poll),
    }
    shares = {
        "newapi-mj": "newapi",
        "newapi-suno": "newapi",
        "newapi-kling": "newapi",
    }  # the same key, another API
    found: dict[str, Provider] = {}
    for name, make in makers.items():
        creds = credentials_for(settings, shares.get(name, name), also=name)
        if creds is not None and (name != "vertex" or creds.project):
            found[name] = make(creds)
    return found
