"""Request host normalisation, as the router compares hosts."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Literal

__all__ = [
    "WildcardLabels",
    "gateway_covers",
    "host_covers",
    "intersect_hostnames",
    "is_ip_literal",
    "normalize_host",
    "wildcard_keys",
    "wildcard_parent",
]

#: How many labels a `*.` wildcard covers: "one" (Ingress) or "many" (Gateway API).
WildcardLabels = Literal["one", "many"]


def normalize_host(host: str | None) -> str:
    """Normalise a Host header value (or `:authority`) for matching.

    Hosts compare case-insensitively; a port is ignored ("The `:` delimiter is not
    respected because ports are not allowed" in rule hosts); a trailing dot is dropped
    (`example.com.` is `example.com`). An IPv6 literal keeps its brackets: `[::1]:80` ->
    `[::1]`. `None` and "" give "" (no host).
    """
    if not host:
        return ""
    if host[0] == "[":
        end = host.find("]")
        host = host if end < 0 else host[: end + 1]
    else:
        colon = host.find(":")
        if colon >= 0:
            host = host[:colon]
    if host.endswith("."):
        host = host[:-1]
    # ASCII case folding only, as nginx does: str.lower() would fold "\u212a" (KELVIN
    # SIGN) to "k" and let a look-alike host reach another host's rules.
    return host.lower() if host.isascii() else host.translate(_ASCII_LOWER)


_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def wildcard_parent(host: str) -> str | None:
    """The domain a `*.` rule must name to match `host`: `bar.foo.com` -> `foo.com`.

    "If host is a wildcard, then the request matches this rule if the http host header is
    to equal to the suffix (removing the first label) of the wildcard rule." A wildcard
    covers exactly one label, so a host without a dot has no wildcard parent.
    """
    dot = host.find(".")
    if dot <= 0 or dot == len(host) - 1:
        return None
    return host[dot + 1 :]


def host_covers(rule_host: str, name: str) -> bool:
    """Whether an Ingress rule or TLS host (normalised) covers a request host (normalised).

    "Precise matches ... `foo.bar.com` matches `foo.bar.com`"; a wildcard covers exactly
    one label: "`*.foo.com` matches `bar.foo.com` ... but not `baz.bar.foo.com`" nor
    `foo.com`. The one rule for routing and for TLS (redirects, certificates) alike.
    """
    if rule_host == name:
        return True
    if not rule_host.startswith("*."):
        return False
    return wildcard_parent(name) == rule_host[2:]


def wildcard_keys(name: str, labels: WildcardLabels) -> Iterator[str]:
    """The parent domains a `*.` hostname must name to cover `name`, most specific first.

    Ingress ("one"): the name without its first label. Gateway API ("many"): "Hostnames
    that are prefixed with a wildcard label (`*.`) are interpreted as a suffix match.
    That means that a match for `*.example.com` would match both `test.example.com`,
    and `foo.test.example.com`, but not `example.com`", and "more specific wildcard
    entries must be processed before less specific wildcard entries": `a.b.example.com`
    gives `b.example.com`, `example.com`, `com`.
    """
    parent = wildcard_parent(name)
    while parent is not None:
        yield parent
        if labels == "one":
            return
        parent = wildcard_parent(parent)


def is_ip_literal(name: str) -> bool:
    """Whether a normalised host is an IP address (`10.0.0.1`, `[::1]`).

    A Host that is an IP address matches only rules and listeners without hostnames
    (Gateway API: "IPs are not allowed" in hostnames; a conformance suite reaches a
    Gateway by its address).
    """
    if not name:
        return False
    if name[0] == "[":
        return True
    if not name[-1].isdigit():
        return False
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def gateway_covers(pattern: str, name: str) -> bool:
    """Whether a Gateway API hostname (exact or `*.` wildcard) covers a precise host."""
    if pattern == name:
        return True
    return pattern.startswith("*.") and name.endswith(pattern[1:]) and len(name) > len(pattern) - 1


def intersect_hostnames(listener: str, route: str) -> str | None:
    """The hostnames a route hostname serves through a listener hostname (None: none).

    Gateway API (`HTTPRouteSpec.hostnames`): "A Listener with `test.example.com` as the
    hostname matches HTTPRoutes that have either not specified any hostnames, or have
    specified at least one of `test.example.com` or `*.example.com`. A Listener with
    `*.example.com` as the hostname matches HTTPRoutes that have either not specified
    any hostnames or have specified at least one hostname that matches the Listener
    hostname. For example, `*.example.com`, `test.example.com`, and
    `foo.test.example.com` would all match." The result is the narrower of the two, "".
    standing for "no hostname" on either side.
    """
    if not listener:
        return route
    if not route:
        return listener
    if listener == route:
        return route
    # `gateway_covers` compares suffixes, so a narrower wildcard is covered too:
    # `*.example.com` covers `*.foo.example.com`.
    if gateway_covers(listener, route):
        return route
    if gateway_covers(route, listener):
        return listener
    return None
