"""ASGI 3: a middleware that routes requests through a RouteTable, and a forwarder.

`IngressMiddleware` sits in front of (or instead of) an ASGI app. For each `http` and
`websocket` scope it reads the Host header and the raw request path, asks the current
`RouteTable` where the request goes, and then, in this order:

1. no route: the wrapped `app` takes the request, or it is answered 404 (a WebSocket is
   refused: the server answers 403);
2. the route's Ingress lists the host in `spec.tls[].hosts` and the request came over plain
   HTTP: 308 to `https://` (`wss://` for a WebSocket) with the same host, path and query
   (as ingress-nginx does);
3. the limiter refuses the request: 429 with `Retry-After` and the IETF `RateLimit` fields;
4. the backend Service has an in-process app registered in `services`: that app takes the
   request, unchanged (same scope, path and query);
5. otherwise the `forwarder`, when one is given, takes it; without one the answer is 503.
   `HTTPForwarder` is the forwarder that proxies HTTP requests and WebSocket sessions to the
   Service's endpoints (it needs httpx and websockets: `pip install 'ingresslib[asgi]'`).

The client address (the rate limit's default key, and X-Forwarded-For upstream) is the peer's,
or, from a peer in `trusted_proxies`, the right-most untrusted address of X-Forwarded-For
(nginx's realip module with `real_ip_recursive on`).

`lifespan` scopes go to the wrapped app, or are answered "complete" when there is none; at
shutdown the forwarder's `aclose()` (when it has one) runs before shutdown is reported. The
table is swapped while serving by one attribute assignment (`middleware.table = new_table`);
each request reads the attribute once, so it sees the old table or the new one, never a mix.

The middleware needs no third-party package: the ASGI types are spelled out in
`ingresslib.asgi._types`. The modules: `_middleware` (IngressMiddleware), `_forwarder`
(HTTPForwarder: the endpoint attempts), `_http` and `_websocket` (its clients, on httpx and
websockets, imported when first used), `_upstream` (what both clients share), `_answers`
(canned responses over ASGI), `_types`. docs/asgi.md describes it in full.
"""

from ingresslib.asgi._forwarder import HTTPForwarder
from ingresslib.asgi._middleware import (
    DECISION_SCOPE_KEY,
    MATCH_SCOPE_KEY,
    Forwarder,
    IngressMiddleware,
    Limiter,
    client_address,
)
from ingresslib.asgi._types import ASGIApp, Message, Receive, Scope, Send
from ingresslib.ingress import SSL_REDIRECT_ANNOTATION
from ingresslib.proxy import TrustedProxies

__all__ = [
    "DECISION_SCOPE_KEY",
    "MATCH_SCOPE_KEY",
    "SSL_REDIRECT_ANNOTATION",
    "ASGIApp",
    "Forwarder",
    "HTTPForwarder",
    "IngressMiddleware",
    "Limiter",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "TrustedProxies",
    "client_address",
]
