"""aiohttp adapters: `ingress_middleware` for aiohttp.web apps and `ReverseProxy`.

`ingress_middleware(holder, services=...)` routes each request of an aiohttp.web app by Host and
raw path through the holder's current `RouteTable`: no route is 404; a TLS host of its Ingress
reached over plain HTTP is redirected (308) to https; a backend Service with a handler in
`services` gets the request; any other backend is 503 (or, with `passthrough=True`, the app's
own router takes it).

Both execute `RouteTable.decide()`: each request is decided once (docs/pipeline.md).

`ReverseProxy(table, index, certificates)` (named `Gateway` before: renamed so that it does not
collide with the Gateway API kind; the old name still works, with a DeprecationWarning) is a
whole reverse proxy as an `aiohttp.web.Application` (`proxy.app`): the same decision, then
the backend's endpoints are resolved in the `EndpointIndex`, one is picked by a balancer, and
the request is streamed to it with one pooled keep-alive `aiohttp.ClientSession`, the response
streamed back. The semantics are those of `ingresslib.asgi.HTTPForwarder`: the decided
(normalised) path and the query as received are forwarded, hop-by-hop headers
are removed both ways, X-Forwarded-For/-Proto/-Host are set (the incoming ones are believed only
from `trusted_proxies`), a connection that fails before any byte was sent is retried once on
another endpoint, connect and read timeouts are 504, other failures 502. A WebSocket handshake
opens a WebSocket to the endpoint with the same path, headers and subprotocols, and messages are
relayed both ways until either side closes; other protocol upgrades (h2c) are ignored: the
request is proxied as HTTP/1.1 without them.
`gateway.swap(table=..., index=..., certificates=...)` replaces any of them atomically;
`gateway.ssl_context()` serves each SNI name the certificate of the current `CertificateStore`.
The session is closed in the app's `on_cleanup`, after aiohttp's shutdown has let in-flight
requests finish.

The modules: `_middleware` (ingress_middleware, the request keys, decide, response_of),
`_proxy` (ReverseProxy), `_websocket` (its WebSocket path), `_upstream` (what both paths
share: forwarded headers, the endpoint URL, upstream errors), `_bytes` (header bytes through
aiohttp unchanged). The third-party `aiohttp` is imported by its absolute name.

Needs aiohttp: `pip install 'ingresslib[aiohttp]'`. docs/aiohttp.md describes it in full.
"""

from __future__ import annotations

from ingresslib.aiohttp._middleware import (
    DECISION_KEY,
    MATCH_KEY,
    Handler,
    TableHolder,
    decide,
    ingress_middleware,
    request_of,
    response_of,
)
from ingresslib.aiohttp._proxy import ReverseProxy
from ingresslib.proxy import HOP_BY_HOP

__all__ = [
    "DECISION_KEY",
    "HOP_BY_HOP",
    "MATCH_KEY",
    "Handler",
    "ReverseProxy",
    "TableHolder",
    "decide",
    "ingress_middleware",
    "request_of",
    "response_of",
]


def __getattr__(name: str) -> object:
    """`Gateway`, the old name of `ReverseProxy`, with a DeprecationWarning."""
    if name == "Gateway":
        import warnings  # noqa: PLC0415 -- only the deprecated name needs it

        warnings.warn(
            "ingresslib.aiohttp.Gateway is now ingresslib.aiohttp.ReverseProxy "
            "(it is not a Gateway API Gateway)",
            DeprecationWarning,
            stacklevel=2,
        )
        return ReverseProxy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
