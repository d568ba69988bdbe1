"""Builds the live providers a deployment has credentials for, from Settings only."""

from __future__ import annotations

import aiohttp

from mediagate.core.provider import Clock, Provider
from mediagate.providers.ark import ArkProvider
from mediagate.providers.google import GoogleProvider
from mediagate.providers.http import Credentials
from mediagate.providers.openai import OpenAIImagesProvider
from mediagate.providers.relays import GptunnelProvider, NewApiProvider
from mediagate.settings import Settings


def live_providers(
    settings: Settings, session: aiohttp.ClientSession, clock: Clock
) -> dict[str, Provider]:
    """Provider name (as the routes file says it) -> adapter, for each configured vendor."""
    s = settings
    poll = s.upstream_poll_s
    found: dict[str, Provider] = {}
    if s.gemini_api_key:
        found["gemini"] = GoogleProvider(
            session, Credentials(s.gemini_api_key, s.gemini_base_url), clock, poll_s=poll
        )
    if s.vertex_access_token and s.vertex_project:
        base = s.vertex_base_url or f"https://{s.vertex_location}-aiplatform.googleapis.com"
        creds = Credentials(s.vertex_access_token, base, s.vertex_project, s.vertex_location)
        found["vertex"] = GoogleProvider(session, creds, clock, vertex=True, poll_s=poll)
    if s.ark_api_key:
        found["ark"] = ArkProvider(
            session, Credentials(s.ark_api_key, s.ark_base_url), clock, poll_s=poll
        )
    if s.openai_api_key:
        found["openai"] = OpenAIImagesProvider(
            session, Credentials(s.openai_api_key, s.openai_base_url), clock
        )
    if s.gptunnel_api_key:
        found["gptunnel"] = GptunnelProvider(
            session, Credentials(s.gptunnel_api_key, s.gptunnel_base_url), clock, poll_s=poll
        )
    if s.newapi_api_key and s.newapi_base_url:
        found["newapi"] = NewApiProvider(
            session, Credentials(s.newapi_api_key, s.newapi_base_url), clock, poll_s=poll
        )
    return found
