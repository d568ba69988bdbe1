"""The SSRF guard every outbound fetch of a caller's URL goes through (input images, webhooks).

Two layers, one rule (``is_public_address``):
- the resolver refuses a name that resolves to a non-public address, with a clear message;
- the connector's socket factory checks the address actually connected to. aiohttp/yarl
  normalise hosts (IDNA turns fullwidth or other Unicode digits and dots into ``127.0.0.1``)
  and skip the resolver for IP literals, so this is the check nothing gets around.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from mediagate.core.addresses import (
    is_public_address,
    local_name,
    spells_blocked_address,
    url_host,
)

__all__ = [
    "AddressPolicy",
    "BlockedAddressError",
    "GuardedResolver",
    "allow_all",
    "blocked_cause",
    "guarded_connector",
    "is_public_address",
    "local_name",
    "policy",
    "spells_blocked_address",
    "url_host",
]


class BlockedAddressError(OSError):
    """A connection to an address outbound fetches must never reach."""


def blocked_cause(exc: BaseException) -> BlockedAddressError | None:
    """The BlockedAddressError somewhere in ``exc``'s chain, if any."""
    seen: BaseException | None = exc
    for _ in range(20):
        if seen is None:
            return None
        if isinstance(seen, BlockedAddressError):
            return seen
        inner = getattr(seen, "os_error", None)
        seen = inner if isinstance(inner, BaseException) else (seen.__cause__ or seen.__context__)
    return None


AddressPolicy = Callable[[str], bool]  # may this address be connected to?


def allow_all(_: str) -> bool:
    return True


def policy(allow_private: bool) -> AddressPolicy:
    """The address rule for a setting: public addresses only, or anything (self-hosted)."""
    return allow_all if allow_private else is_public_address


class GuardedResolver(AbstractResolver):
    """Resolves names and refuses any that lead to a non-public address."""

    def __init__(self, allow: AddressPolicy) -> None:
        self._allow = allow

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, family=family)
        except OSError as exc:
            raise OSError(f"cannot resolve {host}: {exc}") from None
        results: list[ResolveResult] = []
        for fam, _, proto, _, sockaddr in infos:
            addr = str(sockaddr[0])
            if not self._allow(addr):
                raise BlockedAddressError(f"{host} resolves to a non-public address")
            results.append(
                ResolveResult(
                    hostname=host,
                    host=addr,
                    port=int(sockaddr[1]),
                    family=fam,
                    proto=proto,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        return results

    async def close(self) -> None:
        return None


def guarded_connector(allow: AddressPolicy, **kwargs: Any) -> aiohttp.TCPConnector:
    """A connector whose every socket is checked against the address it will connect to."""

    def make_socket(addr_info: Any) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        if not allow(str(sockaddr[0])):
            raise BlockedAddressError("not a public address")
        return socket.socket(family=family, type=type_, proto=proto)

    return aiohttp.TCPConnector(
        resolver=GuardedResolver(allow), socket_factory=make_socket, **kwargs
    )
