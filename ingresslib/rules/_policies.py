"""Policies every executor runs: request-rate and connection limits per zone.

`decide()` passes them on in `Decision.policies` (they need state across requests); the
executors run them through one runner (`ingresslib.proxy.PolicyRunner`), so an
ingress-nginx `limit-rps` means the same in the ASGI middleware, the aiohttp proxy and
`ingresslib serve`. They restrict access: an executor that cannot run them answers 503.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import ClassVar

import attrs

from ingresslib.ratelimit._algorithms import LimitReq
from ingresslib.rules._steps import Policy

__all__ = [
    "ConnectionLimit",
    "Network",
    "RequestRateLimit",
    "client_ip",
    "exempt",
    "in_networks",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8192)
def client_ip(client: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of a client (an IPv4-mapped IPv6 address as IPv4), or None if invalid.

    PERF: cached: parsing an address costs more than the rest of an allowlist check, and a
    client sends many requests.
    """
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def in_networks(networks: tuple[Network, ...], client: str | None) -> bool:
    """Whether a client address is in one of `networks` (False for no or a bad address)."""
    if not networks or client is None:
        return False
    address = client_ip(client)
    return address is not None and any(address in network for network in networks)


def exempt(allowlist: tuple[Network, ...], client: str | None) -> bool:
    """Whether a client address is in an allowlist (ingress-nginx's `limit-allowlist`).

    The template's `geo $limit_<zone>` map gives an allowlisted client the key "", and
    "requests with an empty key value are not accounted" (limit_req, limit_conn).
    """
    return in_networks(allowlist, client)


@attrs.frozen
class RequestRateLimit(Policy):
    """nginx's `limit_req zone=<zone> burst=<b> nodelay;`, keyed by the client address.

    Attributes:
        zone: the zone's name: rules that name the same zone share its counters.
        algorithm: the rate, burst and delay (`LimitReq`).
        allowlist: client networks that are not limited.
        status: the status of a refused request (`limit-req-status-code`, 503).
    """

    restricts_access: ClassVar[bool] = True

    zone: str
    algorithm: LimitReq
    allowlist: tuple[Network, ...] = ()
    status: int = 503


@attrs.frozen
class ConnectionLimit(Policy):
    """nginx's `limit_conn <zone> <n>;`: requests in flight per client address.

    Attributes:
        zone: the zone's name.
        limit: the requests in flight allowed per client.
        allowlist: client networks that are not limited.
        status: the status of a refused request (`limit-conn-status-code`, 503).
    """

    restricts_access: ClassVar[bool] = True

    zone: str
    limit: int
    allowlist: tuple[Network, ...] = ()
    status: int = 503
