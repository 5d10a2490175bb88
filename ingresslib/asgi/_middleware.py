"""`IngressMiddleware`: ASGI requests decided by a RouteTable, answered or passed on.

The order of what happens to one request is in the package's docstring (`ingresslib.asgi`);
this module holds the middleware, its extension points (`Limiter`, `Forwarder`) and the
default limit key (`client_address`). It needs no third-party package.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import quote, unquote_to_bytes

import attrs

from ingresslib.asgi._answers import refuse
from ingresslib.asgi._types import ASGIApp, Message, Receive, Scope, Send
from ingresslib.proxy import (
    ADMITTED,
    TOO_MANY,
    UNAVAILABLE,
    Canned,
    PathPolicy,
    PolicyRunner,
    TrustedProxies,
    decision_response,
)
from ingresslib.ratelimit import Decision as LimitDecision
from ingresslib.ratelimit import QuotaPolicy, RefusalHeaders
from ingresslib.routing import Decision, DecisionPolicy, Request, RouteMatch, RouteTable

__all__ = [
    "DECISION_SCOPE_KEY",
    "MATCH_SCOPE_KEY",
    "Forwarder",
    "IngressMiddleware",
    "Limiter",
    "client_address",
]


#: The scope key under which the middleware leaves the RouteMatch (None: no route) for the
#: limit key function and the app that takes the request.
MATCH_SCOPE_KEY = "ingresslib.match"

#: The scope key under which the middleware leaves the whole `ingresslib.Decision` (its
#: weighted backends, the upstream path and Host) for the forwarder and the app.
DECISION_SCOPE_KEY = "ingresslib.decision"

_EMPTY_SERVICES: Mapping[str, ASGIApp] = {}

# The dispatch memo of IngressMiddleware: at most this many (Host, path) pairs, each of at
# most this many bytes (longer ones are routed every time, never kept).
_MEMO_SIZE = 4096
_ROUTED_SCOPES = frozenset({"http", "websocket"})
_MEMO_MAX_BYTES = 256

# (the decision, the in-process app of its backend)
_Dispatch = tuple[Decision, "ASGIApp | None"]
_UNSEEN: Any = object()
# The characters a path keeps unescaped when a server gives no raw_path.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class Limiter(Protocol):
    """What the middleware asks for a decision: `MemoryLimiter` and the Redis stores fit.

    A synchronous `hit` runs on the event loop: fine for `MemoryLimiter` (a dict lookup under
    a lock); use `AsyncRedisLimiter` rather than the blocking `RedisLimiter` here.
    """

    def hit(self, key: str) -> LimitDecision | Awaitable[LimitDecision]:
        """Decide one request for `key`."""
        ...


class Forwarder(Protocol):
    """The extension point for backends without an in-process app.

    A forwarder receives the request after routing, redirect and rate limiting, with the
    RouteMatch that chose the backend, and answers it, e.g. by resolving the Service's
    endpoints (`EndpointIndex.resolve`), picking one with a balancer and streaming the request
    to it, as `HTTPForwarder` does. A forwarder with an `aclose()` coroutine method has it
    awaited when the middleware's lifespan shuts down.
    """

    def __call__(
        self, match: RouteMatch, scope: Scope, receive: Receive, send: Send
    ) -> Awaitable[None]:
        """Answer one request routed to `match.backend`."""
        ...


_NOBODY = TrustedProxies()


def client_address(
    scope: Scope, trusted_proxies: TrustedProxies | Iterable[str] = _NOBODY
) -> str | None:
    """The default limit key: the client's IP address.

    The peer's address as the server reports it (`scope["client"]`), unless the peer is
    among `trusted_proxies`: then the right-most address of X-Forwarded-For that is not
    trusted (nginx's realip module with `real_ip_recursive on`; see `TrustedProxies`).
    `IngressMiddleware(trusted_proxies=...)` passes its own.

    Args:
        scope: the ASGI connection scope.
        trusted_proxies: the proxies whose X-Forwarded-For is believed (CIDRs, parsed at
            each call unless given as a `TrustedProxies`); default: nobody.

    Returns:
        The address, or None (no limit) when the server reports no client.
    """
    client = scope.get("client")
    peer = str(client[0]) if client else None
    proxies = TrustedProxies.parse(trusted_proxies)
    if not proxies.networks or peer is None:
        return peer
    values = [v.decode("latin-1") for n, v in scope["headers"] if n.lower() == b"x-forwarded-for"]
    return proxies.client_address(peer, values)


class IngressMiddleware:
    """Route ASGI requests by Host and path through a RouteTable to in-process apps.

    Example::

        table = RouteTable.build(load_manifests("manifests/"))
        app = IngressMiddleware(
            None,
            table,
            services={"shop/api": api_app, "web": web_app},
            limiter=MemoryLimiter(LimitReq(10, burst=20, nodelay=True)),
        )
        # uvicorn module:app ... ; later, from a watcher:
        app.table = RouteTable.build(new_resources)

    Attributes:
        app: the wrapped app: unrouted requests and `lifespan`; None to answer 404 instead.
        table: the current RouteTable; assign a new one to swap it atomically.
        services: in-process apps by Service: "namespace/name" (tried first) or "name".
        limiter: decides each request (None: no rate limit).
        limit_key: the limiter's key for a scope; None from it exempts the request.
        ratelimit_policy: sent as `RateLimit-Policy` on a 429, and its name names the
            `RateLimit` item; None: `RateLimit` alone, for a policy named "default".
        https_redirect: redirect plain-HTTP requests for the TLS hosts of an Ingress.
        https_port: the port of the redirect target (443 is left out of the URL).
        forwarder: answers requests whose backend has no in-process app (None: 503).
        trusted_proxies: the peers whose X-Forwarded-For names the client, for the default
            `limit_key` (the forwarder has its own: `HTTPForwarder(trusted_proxies=...)`).
    """

    def __init__(
        self,
        app: ASGIApp | None,
        table: RouteTable,
        *,
        services: Mapping[str, ASGIApp] = _EMPTY_SERVICES,
        limiter: Limiter | None = None,
        limit_key: Callable[[Scope], str | None] = client_address,
        ratelimit_policy: QuotaPolicy | None = None,
        https_redirect: bool = True,
        https_port: int = 443,
        forwarder: Forwarder | None = None,
        trusted_proxies: Iterable[str] = (),
        paths: PathPolicy = "keep",
        policies: PolicyRunner | None = None,
    ) -> None:
        """Create the middleware.

        Args:
            app: the wrapped ASGI app, or None (unrouted requests get 404).
            table: the RouteTable to route with.
            services: in-process ASGI apps by Service key, "namespace/name" or "name".
            limiter: e.g. `MemoryLimiter(LimitReq(10, burst=20, nodelay=True))`.
            limit_key: the key the limiter counts by; default: the client address.
            ratelimit_policy: the policy advertised in `RateLimit-Policy` on a 429.
            https_redirect: False to serve TLS hosts over plain HTTP too.
            https_port: the HTTPS port clients are redirected to.
            forwarder: the extension point for backends without an in-process app.
            trusted_proxies: CIDRs of the proxies in front whose X-Forwarded-For is believed
                by the default `limit_key` (default: nobody; see `client_address`).
            paths: the request path normalisation (`ingresslib.DecisionPolicy.paths`):
                "keep" (the default), "reject", "decode", or "raw" (no normalisation).
            policies: runs the decisions' policies (ingress-nginx's limit-rps,
                limit-connections) by client address; None: a runner of its own.

        Raises:
            ValueError: a bad `https_port` or trusted proxy CIDR.
        """
        self.app = app
        self.table = table
        self.services = services
        self.limiter = limiter
        self.limit_key = limit_key
        self.ratelimit_policy = ratelimit_policy
        self.forwarder = forwarder
        self.trusted_proxies = TrustedProxies.parse(trusted_proxies)
        self.policies = PolicyRunner() if policies is None else policies
        if limit_key is client_address and self.trusted_proxies:
            self.limit_key = functools.partial(client_address, trusted_proxies=self.trusted_proxies)
        # Fixed once: the policy header and item name do not change per request.
        self._refusal = RefusalHeaders(ratelimit_policy)
        self.policy = DecisionPolicy(
            paths=paths, https_redirect=https_redirect, https_port=https_port
        )

    @property
    def policy(self) -> DecisionPolicy:
        """How requests are decided (path normalisation, HTTPS redirects)."""
        return self._policy

    @policy.setter
    def policy(self, policy: DecisionPolicy) -> None:
        self._policy = policy
        self._memo_table: RouteTable | None = None  # decisions of another policy: not reused

    @property
    def https_redirect(self) -> bool:
        """Whether plain-HTTP requests for TLS hosts are redirected (`policy.https_redirect`)."""
        return self._policy.https_redirect

    @https_redirect.setter
    def https_redirect(self, value: bool) -> None:
        self.policy = attrs.evolve(self._policy, https_redirect=value)

    @property
    def https_port(self) -> int:
        """The port of the HTTPS redirect target (`policy.https_port`)."""
        return self._policy.https_port

    @https_port.setter
    def https_port(self, value: int) -> None:
        self.policy = attrs.evolve(self._policy, https_port=value)

    @property
    def services(self) -> Mapping[str, ASGIApp]:
        """In-process apps by Service key (read-only; assign a new mapping to change it)."""
        return self._services

    @services.setter
    def services(self, services: Mapping[str, ASGIApp]) -> None:
        self._services: Mapping[str, ASGIApp] = MappingProxyType(dict(services))
        self._memo_table = None  # the memo is rebuilt for the new apps
        self._memo: dict[tuple[str, bytes | None, bytes | None], _Dispatch] = {}
        self._apps: dict[int, ASGIApp | None] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        kind = scope["type"]
        if kind not in _ROUTED_SCOPES:
            if kind == "lifespan":
                await self._lifespan(scope, receive, send)
            elif self.app is not None:
                await self.app(scope, receive, send)
            else:
                raise RuntimeError(f"IngressMiddleware cannot handle a {kind!r} scope alone")
            return
        # PERF: the decision is taken inline here and in the plain function `_dispatch`, not
        # in another coroutine: one coroutine frame less on the path every request takes.
        decision, target = self._dispatch(scope)
        # The ASGI spec: a middleware that changes the scope copies it first, so that the
        # change cannot leak upstream. PERF: dict() then the items, not {**scope, ...}.
        scope = dict(scope)
        scope[MATCH_SCOPE_KEY] = decision.match
        scope[DECISION_SCOPE_KEY] = decision
        action = decision.action
        if action != "forward":
            if decision.match is None and decision.status == 404 and self.app is not None:
                await self.app(scope, receive, send)  # unrouted: the wrapped app's
                return
            response = decision_response(decision)
            if action == "redirect" and kind == "websocket":
                # A WebSocket handshake is sent to wss://: the clients that follow a redirect
                # of the handshake (e.g. websockets) accept only ws:// and wss:// targets.
                location = (decision.location or "").replace("https://", "wss://", 1)
                response = decision_response(attrs.evolve(decision, location=location))
            await refuse(scope, send, response, deny_websocket=decision.status == 404)
            return
        # The upstream and the app see the path the router saw (normalised).
        raw_path = decision.path.encode("latin-1")
        if raw_path != scope.get("raw_path"):
            scope["raw_path"] = raw_path
            scope["path"] = unquote_to_bytes(decision.path).decode("utf-8", "surrogateescape")

        if self.limiter is not None:
            key = self.limit_key(scope)
            if key is not None:
                limited = self.limiter.hit(key)
                # PERF: an isinstance check on the NamedTuple is cheaper than
                # inspect.isawaitable; only the async stores return an awaitable.
                if not isinstance(limited, tuple):
                    limited = await limited
                if not limited.allowed:
                    await refuse(scope, send, self._too_many(limited))
                    return

        admission = ADMITTED
        if decision.policies:
            client = client_address(scope, self.trusted_proxies)
            admission = self.policies.admit(decision.policies, client)
            if admission.refusal is not None:
                await refuse(scope, send, admission.refusal)
                return
        try:
            if target is not None:
                await target(scope, receive, send)
            elif self.forwarder is not None:
                await self.forwarder(decision.match, scope, receive, send)  # type: ignore[arg-type]  # a forward always has its match
            else:
                await refuse(scope, send, UNAVAILABLE)
        finally:
            admission.release()

    def _dispatch(self, scope: Scope) -> _Dispatch:
        """Decide one http or websocket scope, through the memo of the current table."""
        # One read of the attribute: this request routes on one table, whatever is swapped in.
        table = self.table
        if table is not self._memo_table:
            self._memo = {}
            self._apps = {}
            self._memo_table = table
        raw_host: bytes | None = None
        hosts = 0
        # PERF: a plain loop over the header list; a second Host is a 400 (decide says so).
        for name, value in scope["headers"]:
            if name == b"host":
                raw_host = value
                hosts += 1
        raw_path: bytes | None = scope.get("raw_path")
        scheme = scope.get("scheme") or "http"
        query: bytes = scope.get("query_string") or b""
        key = (scheme, raw_host, raw_path)
        if hosts <= 1 and raw_path:
            # PERF: a decision that depends only on the scheme, Host and path is one dict
            # lookup for a repeated request.
            dispatch = self._memo.get(key)
            if dispatch is not None and (not query or dispatch[0].action != "redirect"):
                return dispatch
        # Latin-1 maps bytes to code points one to one: Host and path are decided as received.
        if raw_path:
            path = raw_path.split(b"?", 1)[0].decode("latin-1")
        else:
            path = quote(scope.get("path") or "/", safe=_PATH_SAFE)
        request = Request(
            method=scope.get("method") or "GET",
            scheme="https" if scheme in ("https", "wss") else "http",
            host=None if raw_host is None else raw_host.decode("latin-1"),
            path=path,
            query=query.decode("latin-1"),
            headers=[(n.decode("latin-1"), v.decode("latin-1")) for n, v in scope["headers"]],
            # The address source ranges (allowlist-source-range...) test: nginx's realip.
            client=client_address(scope, self.trusted_proxies),
        )
        decision = table.decide(request, self.policy)
        dispatch = (decision, self._service_app(decision))
        if (
            decision.reusable
            and raw_path
            and len(raw_path) <= _MEMO_MAX_BYTES
            and len(raw_host or b"") <= _MEMO_MAX_BYTES
        ):
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()  # PERF: cheaper than LRU bookkeeping on every hit
            self._memo[key] = dispatch
        return dispatch

    def _service_app(self, decision: Decision) -> ASGIApp | None:
        match = decision.match
        if decision.action != "forward" or match is None:
            return None
        # PERF: one lookup per match of the table, shared by every path that makes it.
        found = self._apps.get(id(match), _UNSEEN)
        if found is not _UNSEEN:
            return found  # type: ignore[no-any-return]  # the memo holds apps or None
        app = None
        service = match.backend.service
        if service is not None:  # a resource backend: nothing in-process serves it
            services = self._services
            if match.ingress is not None:
                app = services.get(f"{match.ingress.metadata.namespace}/{service.name}")
            if app is None:
                app = services.get(service.name)
        # The table keeps its matches alive, so their ids stay theirs while it is current.
        self._apps[id(match)] = app
        return app

    def _too_many(self, decision: LimitDecision) -> Canned:
        return TOO_MANY.with_headers(*self._refusal(decision))

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        closing = getattr(self.forwarder, "aclose", None)
        if closing is not None:
            forward = send

            async def send(message: Message) -> None:
                # The forwarder's pooled connections close before the server is told that
                # shutdown is complete (and even when the app reports that it failed).
                if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                    await closing()
                await forward(message)

        if self.app is not None:
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
