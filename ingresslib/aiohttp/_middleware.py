"""`ingress_middleware` for aiohttp.web apps, and what every aiohttp executor shares.

The request keys (`MATCH_KEY`, `DECISION_KEY`), the `Request` of an aiohttp request
(`request_of`), the one decision per request (`decide`) and canned answers as aiohttp
responses (`response_of`): `ReverseProxy` (`ingresslib.aiohttp._proxy`) and `ingresslib serve`
build on them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import CIMultiDict

from ingresslib.asgi import DECISION_SCOPE_KEY, MATCH_SCOPE_KEY
from ingresslib.proxy import Canned, PathPolicy, PolicyRunner, decision_response
from ingresslib.routing import Decision, DecisionPolicy, Request, RouteMatch, RouteTable

__all__ = [
    "DECISION_KEY",
    "MATCH_KEY",
    "Handler",
    "TableHolder",
    "answer",
    "decide",
    "ingress_middleware",
    "plain_response",
    "request_of",
    "response_of",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _request_key(name: str) -> Any:
    """A `web.RequestKey` called `name` (plain str keys before aiohttp 3.14)."""
    key_type = getattr(web, "RequestKey", None)
    if key_type is None:  # pragma: no cover - aiohttp < 3.14 takes (and prefers) plain str keys
        return name
    return key_type(name)


#: The request key under which the RouteMatch (None: no route) is left for handlers:
#: `request[MATCH_KEY]` (a `web.RequestKey` named "ingresslib.match").
MATCH_KEY: web.RequestKey[RouteMatch | None] = _request_key(MATCH_SCOPE_KEY)


#: The request key under which the whole `ingresslib.Decision` is left: an outer middleware
#: that decided the request (e.g. a rate limiter) leaves it, and the proxy uses it instead of
#: deciding again.
DECISION_KEY: web.RequestKey[Decision] = _request_key(DECISION_SCOPE_KEY)


class TableHolder(Protocol):
    """Anything with a current `table` attribute (e.g. a `ReverseProxy`); swapped by assignment."""

    table: RouteTable


def plain_response(status: int, text: str, **headers: str) -> web.Response:
    """A short text/plain answer, as ingresslib.asgi gives them ("404 Not Found" and a newline)."""
    return web.Response(
        status=status,
        text=f"{status} {text}\n",
        content_type="text/plain",
        charset="utf-8",
        headers=headers or None,
    )


def request_of(request: web.Request, port: int | None = None, client: str | None = None) -> Request:
    """The `ingresslib.Request` of an aiohttp request: Host, target and fields as received.

    aiohttp's parser gives the header fields as bytes (`raw_headers`); latin-1 keeps each
    byte as one character, as the ASGI executor does. `port`: the (Gateway listener) port
    the request is decided for (None: 80 or 443 by scheme). `client`: the client address
    (None: the peer's; a proxy that trusts X-Forwarded-For passes the one it names).
    """
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in request.raw_headers]
    host = None
    for name, value in headers:
        if name.lower() == "host":
            host = value
            break
    path, _, query = request.raw_path.partition("?")
    return Request(
        method=request.method,
        scheme="https" if request.secure else "http",
        host=host,
        path=path,
        query=query,
        headers=headers,
        port=port,
        client=request.remote if client is None else client,
    )


def decide(
    holder: TableHolder | RouteTable,
    request: web.Request,
    policy: DecisionPolicy,
    *,
    port: int | None = None,
    client: str | None = None,
) -> Decision:
    """The request's Decision: the one an outer middleware left, else the table's.

    Leaves it in `request[DECISION_KEY]` and its match in `request[MATCH_KEY]`: each
    request is decided once, however many ingresslib middlewares and handlers it passes.
    """
    found: Decision | None = request.get(DECISION_KEY)
    if found is not None:
        return found
    table = holder if isinstance(holder, RouteTable) else holder.table
    decision = table.decide(request_of(request, port, client), policy)
    request[DECISION_KEY] = decision
    request[MATCH_KEY] = decision.match
    return decision


# The spelling of the fields a canned response carries, as aiohttp sends names as given.
_FIELD_NAMES = {
    b"location": "Location",
    b"retry-after": "Retry-After",
    b"ratelimit": "RateLimit",
    b"ratelimit-policy": "RateLimit-Policy",
}


def response_of(answer: Canned) -> web.Response:
    """A canned response as an aiohttp response (aiohttp sets Content-Length itself)."""
    headers = CIMultiDict(
        (_FIELD_NAMES.get(n) or n.decode("latin-1").title(), v.decode("latin-1"))
        for n, v in answer.headers
        if n not in (b"content-length", b"content-type")
    )
    return web.Response(
        status=answer.status,
        body=answer.body,
        content_type="text/plain",
        charset="utf-8",
        headers=headers,
    )


def answer(decision: Decision) -> web.Response:
    """The response of a decision that is not a forward (a redirect, 404, 400...)."""
    return response_of(decision_response(decision))


def _service_handler(match: RouteMatch, services: Mapping[str, Handler]) -> Handler | None:
    service = match.backend.service
    if service is None:
        return None
    if match.ingress is not None:
        found = services.get(f"{match.ingress.metadata.namespace}/{service.name}")
        if found is not None:
            return found
    return services.get(service.name)


def ingress_middleware(
    holder: TableHolder | RouteTable,
    *,
    services: Mapping[str, Handler] | None = None,
    https_redirect: bool = True,
    https_port: int = 443,
    passthrough: bool = False,
    paths: PathPolicy = "keep",
    policies: PolicyRunner | None = None,
) -> Middleware:
    """An aiohttp.web middleware that routes by Host and raw path through a RouteTable.

    Args:
        holder: a RouteTable, or an object whose `table` attribute is read at each request
            (assign a new table to swap it).
        services: request handlers by backend Service: "namespace/name" (tried first) or "name".
        https_redirect: redirect plain-HTTP requests for the TLS hosts of an Ingress (308).
        https_port: the port of the redirect target (443 is left out of the URL).
        passthrough: a routed request whose Service has no handler goes to the app's own
            router instead of being answered 503.
        paths: the request path normalisation (`ingresslib.DecisionPolicy.paths`).
        policies: runs the decisions' policies (ingress-nginx's limit-rps,
            limit-connections) by the peer's address; None: a runner of its own.

    Returns:
        The middleware: `web.Application(middlewares=[ingress_middleware(...)])`. The match
        is left in `request[MATCH_KEY]`.
    """
    registered = dict(services or {})
    policy = DecisionPolicy(paths=paths, https_redirect=https_redirect, https_port=https_port)
    runner = PolicyRunner() if policies is None else policies

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        decision = decide(holder, request, policy)
        if decision.action != "forward" or decision.match is None:
            return answer(decision)
        if not decision.policies:
            return await _serve(decision, request, handler)
        admission = runner.admit(decision.policies, request.remote)
        if admission.refusal is not None:
            return response_of(admission.refusal)
        try:
            return await _serve(decision, request, handler)
        finally:
            admission.release()

    async def _serve(
        decision: Decision, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        assert decision.match is not None  # a forward always has its match
        target = _service_handler(decision.match, registered)
        if target is not None:
            return await target(request)
        if passthrough:
            return await handler(request)
        return plain_response(503, "Service Unavailable")

    return middleware
