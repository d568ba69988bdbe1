"""Builds the live providers a deployment has credentials for, from Settings only.

Each provider's credentials are a named set of secrets: the single settings
(``MEDIAGATE_ARK_API_KEY``, ``MEDIAGATE_ARK_BASE_URL``, ...) and, over them, the provider's
entry in ``MEDIAGATE_CREDENTIALS`` (JSON), which also takes any other secret an adapter
reads by name (``Credentials.secret``), such as a JWT key pair."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec

from mediagate.core.provider import Clock, Provider
from mediagate.providers.anthropic import AnthropicText
from mediagate.providers.ark import ArkProvider
from mediagate.providers.bfl import BflProvider
from mediagate.providers.feed import GoAmzLumaProvider, PikaFeedProvider, ProFeedProvider
from mediagate.providers.google import GoogleProvider
from mediagate.providers.http import Credentials
from mediagate.providers.ideogram import IdeogramProvider
from mediagate.providers.kling import KlingProvider
from mediagate.providers.luma import LumaProvider
from mediagate.providers.mjproxy import MidjourneyProxyProvider
from mediagate.providers.openai import OpenAIImagesProvider
from mediagate.providers.openai_text import TextOnlyProvider
from mediagate.providers.pictask import PicTaskProvider
from mediagate.providers.relays import GptunnelProvider, NewApiProvider
from mediagate.providers.runway import RunwayProvider
from mediagate.providers.stability import StabilityProvider
from mediagate.providers.sunoapi import SunoApiProvider
from mediagate.providers.vidu import ViduProvider
from mediagate.providers.viggle import ViggleProvider
from mediagate.providers.zhipu import ZhipuProvider
from mediagate.settings import Settings

NAMED = ("api_key", "base_url", "project", "location")
# The vendors whose own format mediagate speaks: adapter, and the path prefix under which
# new-api / GPTNB (and mediagate) serve that format.
OWN_FORMATS: dict[str, tuple[Any, str]] = {
    "runway": (RunwayProvider, "/runwayml"),
    "luma": (LumaProvider, "/luma/dream-machine/v1"),
    "zhipu": (ZhipuProvider, "/cogvideox/v4"),
    "kling": (KlingProvider, ""),  # its relay mode adds /kling itself (no secret key)
    "bfl": (BflProvider, "/flux"),
    "stability": (StabilityProvider, "/sd"),
    "ideogram": (IdeogramProvider, "/ideogram"),
    "vidu": (ViduProvider, "/vidu"),
}
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
    "viggle": "https://apis.viggle.ai",
    "pictask": "https://api.gpt.ge",  # GPTNB's image tools
    **{
        name: base
        for name, base in (
            ("deepseek", "https://api.deepseek.com/v1"),
            ("groq", "https://api.groq.com/openai/v1"),
            ("openrouter", "https://openrouter.ai/api/v1"),
            ("dashscope", "https://dashscope.aliyuncs.com/compatible-mode/v1"),
        )
    },
}
# OpenAI-compatible text vendors (credentials in MEDIAGATE_CREDENTIALS, or as channels);
# Anthropic (its Messages API, translated) is the other text provider.
TEXT_ONLY = ("deepseek", "groq", "openrouter", "dashscope")


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


def _maker(
    cls: Any, session: aiohttp.ClientSession, clock: Clock, name: str, poll: float | None
) -> Callable[[Credentials], Provider]:
    def make(creds: Credentials) -> Provider:
        adapter: Provider = cls(session, creds, clock, name, poll)
        return adapter

    return make


def _under_prefix(settings: Settings, name: str, creds: Credentials) -> Credentials:
    """A vendor's API through new-api's key lives under its prefix there (``/runwayml``),
    unless the provider's own entry in MEDIAGATE_CREDENTIALS names its base URL."""
    vendor = name.removeprefix("newapi-")
    own_base = "base_url" in settings.credentials.get(name, {})
    if name == vendor or vendor not in OWN_FORMATS or own_base:
        return creds
    base = creds.base_url.rstrip("/") + OWN_FORMATS[vendor][1]
    return msgspec.structs.replace(creds, base_url=base)


def makers(
    settings: Settings, session: aiohttp.ClientSession, clock: Clock
) -> dict[str, Callable[[Credentials], Provider]]:
    """Provider name (as the routes file says it) -> how to make its adapter from a set of
    credentials (the settings', or a channel's)."""
    poll = settings.upstream_poll_s
    found: dict[str, Callable[[Credentials], Provider]] = {
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
        "newapi-suno": lambda c: SunoApiProvider(session, c, clock, "newapi-suno", poll),
        # The aggregators' own formats (GPTNB's key serves them too): Runway v1, PixVerse,
        # Pika, Luma in GoAmzAI's format.
        "feed-runway": lambda c: ProFeedProvider(
            session, c, clock, "feed-runway", poll, family="runway"
        ),
        "feed-pixverse": lambda c: ProFeedProvider(
            session, c, clock, "feed-pixverse", poll, family="pixverse"
        ),
        "feed-pika": lambda c: PikaFeedProvider(session, c, clock, "feed-pika", poll),
        "goamz-luma": lambda c: GoAmzLumaProvider(session, c, clock, "goamz-luma", poll),
        "viggle": lambda c: ViggleProvider(session, c, clock, poll_s=poll),
        # GPTNB's image tools (/task/pic/*): its own key, or the new-api / GPTNB key.
        "pictask": lambda c: PicTaskProvider(session, c, clock, poll_s=poll),
        "newapi-pic": lambda c: PicTaskProvider(session, c, clock, "newapi-pic", poll),
    }
    # The vendors in their own formats, each also through new-api / GPTNB, which serve the
    # same API under a prefix with their one key (or through another mediagate).
    for vendor, (cls, _) in OWN_FORMATS.items():
        found[vendor] = _maker(cls, session, clock, vendor, poll)
        found[f"newapi-{vendor}"] = _maker(cls, session, clock, f"newapi-{vendor}", poll)
    for vendor in TEXT_ONLY:
        found[vendor] = _text_only(session, vendor)
    found["anthropic"] = lambda c: TextOnlyProvider(
        session, c, "anthropic", AnthropicText(session, c, "anthropic")
    )
    return found


def _text_only(session: aiohttp.ClientSession, name: str) -> Callable[[Credentials], Provider]:
    def make(creds: Credentials) -> Provider:
        return TextOnlyProvider(session, creds, name)

    return make


def live_providers(
    settings: Settings, session: aiohttp.ClientSession, clock: Clock
) -> dict[str, Provider]:
    """Provider name -> adapter, for each vendor configured in settings."""
    shares = {"newapi-mj": "newapi", "newapi-suno": "newapi", "newapi-kling": "newapi",
              "newapi-pic": "newapi"}  # fmt: skip
    shares.update({n: "newapi" for n in ("feed-runway", "feed-pixverse", "feed-pika",
                                         "goamz-luma")})  # fmt: skip
    shares.update({f"newapi-{v}": "newapi" for v in OWN_FORMATS})  # the same key, another API
    found: dict[str, Provider] = {}
    for name, make in makers(settings, session, clock).items():
        creds = credentials_for(settings, shares.get(name, name), also=name)
        if creds is not None and (name != "vertex" or creds.project):
            found[name] = make(_under_prefix(settings, name, creds))
    return found
