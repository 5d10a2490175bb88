"""Policies every executor runs: request-rate and connection limits per zone.

`decide()` passes them on in `Decision.policies` (they need state across requests); the
executors run them through one runner (`ingresslib.proxy.PolicyRunner`), so an
ingress-nginx `limit-rps` means the same in the ASGI middleware, the aiohttp proxy and
`ingresslib serve`. They restrict access: an executor that cannot run them answers 503.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import ClassVar, Literal

import attrs

from ingresslib.ratelimit._algorithms import LimitReq
from ingresslib.rules._steps import HeaderReader, Policy

__all__ = [
    "Balancing",
    "ConnectionLimit",
    "ExternalAuth",
    "Network",
    "RequestRateLimit",
    "SessionCookie",
    "UpstreamProtocol",
    "client_ip",
    "cookie_value",
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


@attrs.frozen
class SessionCookie:
    """The affinity cookie (ingress-nginx's `session-cookie-*`; balancer/sticky.lua).

    Attributes:
        name: `session-cookie-name` (INGRESSCOOKIE).
        path: `session-cookie-path`, else the location's path.
        domain: `session-cookie-domain` ("" for none).
        max_age: `session-cookie-max-age` seconds, or None.
        expires: `session-cookie-expires` seconds from now, or None.
        secure: `session-cookie-secure`; None: when the request came over https.
        samesite: `session-cookie-samesite` ("" for none).
        mode: `affinity-mode`: "balanced" or "persistent".
    """

    name: str = "INGRESSCOOKIE"
    path: str | None = None
    domain: str = ""
    max_age: int | None = None
    expires: int | None = None
    secure: bool | None = None
    samesite: str = ""
    mode: Literal["balanced", "persistent"] = "balanced"


@attrs.frozen
class Balancing(Policy):
    """How the executor picks an endpoint of the rule's backend (not an access rule).

    Attributes:
        algorithm: "round_robin", "ewma" (`load-balance`), "hash" (`upstream-hash-by`:
            consistent hashing of `hash_by`), or "cookie" (`affinity: cookie`).
        hash_by: the nginx variables template hashed (`$request_uri`, `$remote_addr`,
            `$http_<name>`, `$cookie_<name>`, `$arg_<name>`, `$host`, `$uri`).
        cookie: the session cookie of cookie affinity.
    """

    algorithm: Literal["round_robin", "ewma", "hash", "cookie"] = "round_robin"
    hash_by: str = ""
    cookie: SessionCookie | None = None

    def hash_key(
        self, view: HeaderReader, *, client: str | None, uri: str, request_uri: str, host: str
    ) -> str:
        """The `hash_by` template for one request (nginx's variables; unknown ones: "")."""
        return _NGINX_VARIABLE.sub(
            lambda found: _variable(
                found.group(1), view, client=client, uri=uri, request_uri=request_uri, host=host
            ),
            self.hash_by,
        )


_NGINX_VARIABLE = re.compile(r"\$\{?([A-Za-z0-9_]+)\}?")


def _variable(
    name: str, view: HeaderReader, *, client: str | None, uri: str, request_uri: str, host: str
) -> str:
    if name == "request_uri":
        return request_uri
    if name == "uri":
        return uri
    if name in ("remote_addr", "binary_remote_addr"):
        return client or ""
    if name in ("host", "http_host"):
        return host
    if name.startswith("http_"):
        return view.header(name[5:].replace("_", "-").lower()) or ""
    if name.startswith("cookie_"):
        return cookie_value(view.header("cookie"), name[7:]) or ""
    if name.startswith("arg_"):
        return view.query_param(name[4:]) or ""
    return ""


def cookie_value(header: str | None, name: str) -> str | None:
    """Nginx's `$cookie_<name>`: the first cookie of that name (case-insensitive)."""
    if not header:
        return None
    wanted = name.lower()
    for part in header.replace(",", ";").split(";"):
        key, equals, value = part.strip().partition("=")
        if equals and key.lower() == wanted:
            return value
    return None


@attrs.frozen
class ExternalAuth(Policy):
    """nginx's `auth_request` to an external service (ingress-nginx's `auth-url`).

    The executor sends a subrequest (no body) to `url` before forwarding: a 2xx admits
    the request, 401 and 403 are the client's answer (401 redirects to `signin` when
    set), anything else or no answer is 500. `ingresslib.proxy.external_auth` has the
    rules; executors that cannot send it answer 503.

    Attributes:
        url: the auth service's URL.
        method: `auth-method` (None: the request's method).
        response_headers: `auth-response-headers`: fields of the auth response set on the
            request sent upstream.
        signin: `auth-signin`: where a 401 redirects to, or None.
        signin_param: `auth-signin-redirect-param` (rd).
        request_redirect: `auth-request-redirect`: X-Auth-Request-Redirect (None: the
            request's target).
    """

    restricts_access: ClassVar[bool] = True

    url: str
    method: str | None = None
    response_headers: tuple[str, ...] = ()
    signin: str | None = None
    signin_param: str = "rd"
    request_redirect: str | None = None


@attrs.frozen
class UpstreamProtocol(Policy):
    """The protocol to the endpoints (ingress-nginx's `backend-protocol`).

    Attributes:
        scheme: "https" (TLS to the endpoints, not verified: nginx's `proxy_ssl_verify`
            is off by default) or "auto" (the request's own scheme, `AUTO_HTTP`).
    """

    scheme: Literal["https", "auto"] = "https"
