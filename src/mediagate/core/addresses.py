"""Which network addresses a caller's URL may make mediagate connect to: pure rules, shared by
the create-time checks (core) and the connector that enforces them (jobs/netguard.py)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and routes to: IPv4-mapped ``::ffff:a.b.c.d``,
    IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d`` (and the local-use /48), and
    6to4 ``2002:aabb:ccdd::``."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64) or ip in _V4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(host: str) -> bool:
    """True for globally routable unicast addresses only: no loopback, private, link-local,
    site-local, metadata, multicast or reserved address, nor one embedded in IPv6."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local or ip.teredo is not None:
            return False
        inner = embedded_ipv4(ip)
        if inner is not None:
            ip = inner
    return ip.is_global and not ip.is_multicast


def literal_address(host: str) -> str | None:
    """The address ``host`` spells, in canonical form, after the normalisation aiohttp applies
    (IDNA: fullwidth and other Unicode digits and dots) and for the legacy IPv4 spellings that
    C resolvers accept (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``)."""
    from yarl import URL  # on first use: the CLI imports this module and starts faster

    try:
        host = URL.build(scheme="http", host=host).host or host
    except (ValueError, TypeError, UnicodeError):
        return None
    host = host.strip("[]").rstrip(".")
    try:
        return str(ipaddress.ip_address(host.split("%")[0]))
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def url_host(url: str) -> str | None:
    """The host aiohttp will connect to for ``url`` (normalised), or None if it has none."""
    from yarl import URL

    try:
        return URL(url).host
    except (ValueError, TypeError, UnicodeError):
        return None


LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".home.arpa")


def spells_blocked_address(url: str, allow: Callable[[str], bool]) -> bool:
    """True when ``url`` names, without any lookup, a place ``allow`` refuses: an address in
    any spelling, or a name that is local by definition (taken as 127.0.0.1).

    Checked before connecting as well as by the connector: aiohttp rejects the legacy IPv4
    forms (``127.1``, ``2130706433``) as invalid URLs, which would otherwise read as a
    network failure (and a webhook would be retried for a day) instead of a refusal."""
    host = url_host(url)
    if host is None:
        return False
    address = literal_address(host) or ("127.0.0.1" if local_name(host) else None)
    return address is not None and not allow(address)


def private_target(url: str) -> bool:
    """True when ``url`` names a private place without any lookup (the create-time check)."""
    return spells_blocked_address(url, is_public_address)


def local_name(host: str) -> bool:
    """A name that is local by definition (RFC 6761 and friends), whatever DNS says."""
    name = host.lower().rstrip(".")
    return name == LOCAL_NAMES[0] or name.endswith(LOCAL_NAMES[1:])
