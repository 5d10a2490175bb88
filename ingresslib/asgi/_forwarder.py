"""`HTTPForwarder`: the ASGI executor of a forward, over HTTP/1.1 and WebSocket.

The endpoint attempts (resolution, balancer, retries, failure answers) are here; the HTTP
client is `ingresslib.asgi._http` (httpx, imported when the first forwarder is created, so
that the middleware needs no third-party package) and the WebSocket client
`ingresslib.asgi._websocket` (websockets, imported at the first handshake).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ingresslib.asgi._answers import refuse
from ingresslib.asgi._types import Receive, Scope, Send
from ingresslib.asgi._upstream import (
    ClientDisconnectedError,
    UpstreamError,
    UpstreamRefusedError,
)
from ingresslib.asgi._websocket import accepted_headers, open_websocket, relay_websocket
from ingresslib.endpoints import Balancer, Endpoint, EndpointIndex, EndpointSet, RoundRobin
from ingresslib.endpoints._backends import (
    BackendCache,
    BackendKey,
    BalancerFactory,
    RequestFacts,
    attempts,
    balancing_of,
)
from ingresslib.proxy import (
    GATEWAY_TIMEOUT,
    Canned,
    TrustedProxies,
    failure_response,
    request_changes,
    response_changes,
    unresolved,
    upstream_scheme,
)
from ingresslib.proxy import canned as _canned
from ingresslib.routing import Decision, RequestView, RouteMatch
from ingresslib.rules import HeaderChanges, Timeouts, WeightedBackend

if TYPE_CHECKING:
    from ingresslib.asgi._http import RequestBody

__all__ = ["HTTPForwarder"]

_log = logging.getLogger("ingresslib.asgi")

_NO_WEBSOCKET = _canned(501, "Not Implemented: WebSocket proxying needs websockets")

_HTTPX_MISSING = "HTTPForwarder needs httpx, an optional dependency: pip install 'ingresslib[asgi]'"
_WEBSOCKETS_MISSING = (
    "HTTPForwarder needs websockets to proxy WebSocket sessions: pip install 'ingresslib[asgi]'"
)
#: RFC 6455 §7.4.1: 1011 "indicates that a server is terminating the connection because it
#: encountered an unexpected condition": here, the endpoint failed or refused the handshake.
_UPSTREAM_FAILED = 1011


class HTTPForwarder(BackendCache):
    """A `Forwarder` that proxies HTTP requests and WebSockets to the Service's endpoints.

    For each request: the backend is resolved with `index.resolve(namespace, backend)` (503
    with the reason when it resolves to no endpoint); a balancer per (namespace, Service,
    port), built by `balancer_factory` and updated when the resolved set changes, picks an
    endpoint; the request is streamed to `http://address:port` with exactly the raw path and
    query received (the path the router matched on), and the response streamed back. Neither
    body is buffered whole. Hop-by-hop headers (RFC 9110 §7.6.1) are removed both ways; the
    Host header is forwarded as received; `X-Forwarded-For` is the peer address (appended to
    the incoming list when the peer is in `trusted_proxies`), `X-Forwarded-Proto` and
    `X-Forwarded-Host` are set (kept from a trusted peer).

    A `websocket` scope opens a WebSocket to the endpoint (with the `websockets` library) with
    the same path, headers and subprotocols, accepts the client with the subprotocol the
    endpoint chose, and relays messages both ways until either side closes (the close code
    is relayed). A handshake the endpoint refuses is answered with its response through the
    WebSocket Denial Response extension when the server offers it, else closed (1011).
    An http request asking to upgrade to another protocol (e.g. h2c) is proxied as HTTP/1.1
    without the upgrade, as RFC 9110 §7.8 allows ("A server MAY ignore a received Upgrade
    header field") and nginx does.

    Failures: a connection that cannot be opened (refused, unreachable, connect timeout) is
    retried once on another endpoint while no byte of the body beyond its first chunk was
    read; then the answer is 502 (504 when the last failure was a timeout). A response that
    does not start within `read_timeout` is 504; other upstream errors are 502. Every
    endpoint picked is reported to its balancer once, with the time to the response headers.

    One `httpx.AsyncClient` with a keep-alive pool is shared by all requests; it is created
    at the first request and closed by `aclose()`, which `IngressMiddleware` calls at
    lifespan shutdown. Needs httpx: `pip install 'ingresslib[asgi]'`.

    Example::

        resources = ingresslib.load_manifests("manifests/")
        forwarder = HTTPForwarder(EndpointIndex.build(resources))
        app = IngressMiddleware(None, RouteTable.build(resources), forwarder=forwarder)
        # later, from a watcher: both swapped by one assignment each
        app.table, forwarder.index = RouteTable.build(new), EndpointIndex.build(new)

    Attributes:
        index: the current EndpointIndex; assign a new one to swap it (each request reads it
            once).
        balancer_factory: builds the balancer of one backend port from its EndpointSet.
        namespace: the namespace for backends without an Ingress (the controller's
            `default_backend`).
    """

    def __init__(
        self,
        index: EndpointIndex,
        *,
        balancer_factory: BalancerFactory = RoundRobin,
        namespace: str = "default",
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        write_timeout: float = 60.0,
        pool_timeout: float = 5.0,
        max_connections: int | None = None,
        max_keepalive_connections: int | None = 100,
        keepalive_expiry: float = 60.0,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        """Create the forwarder (the HTTP client itself is created at the first request).

        Args:
            index: the Services and EndpointSlices to resolve backends with.
            balancer_factory: e.g. `RoundRobin` (the default), `PeakEwma`, or
                `functools.partial(LeastRequest, health=None)`.
            namespace: the namespace of backends that come from no Ingress.
            connect_timeout: seconds to open a connection to an endpoint
                (ingress-nginx: proxy-connect-timeout 5).
            read_timeout: seconds between two reads from the endpoint, the response
                headers included (ingress-nginx: proxy-read-timeout 60).
            write_timeout: seconds between two writes to the endpoint
                (ingress-nginx: proxy-send-timeout 60).
            pool_timeout: seconds to wait for a free connection when the pool is full.
            max_connections: the most connections open at once, all endpoints together
                (None: no limit).
            max_keepalive_connections: the most idle connections kept for reuse.
            keepalive_expiry: seconds an idle connection is kept.
            trusted_proxies: CIDRs of the proxies in front whose X-Forwarded-* fields are
                believed and passed on (default: nobody; see `TrustedProxies`).

        Raises:
            ImportError: httpx is not installed.
            ValueError: a trusted proxy is not an address or CIDR.
        """
        try:
            from ingresslib.asgi import _http  # noqa: PLC0415 (httpx is an optional extra)
        except ImportError as error:
            if error.name in ("httpx", "anyio", "httpcore"):
                raise ImportError(_HTTPX_MISSING, name=error.name) from error
            raise
        self.index = index
        self.balancer_factory = balancer_factory
        self.namespace = namespace
        self.trusted_proxies = TrustedProxies.parse(trusted_proxies)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._http = _http
        self._client = _http.UpstreamClient(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            trusted_proxies=self.trusted_proxies,
        )
        self._init_backend_cache()
        self._mirrors: set[Any] = set()  # copies in flight (strong references)

    async def aclose(self) -> None:
        """Close the pooled connections (a later request opens a new client)."""
        await self._client.aclose()

    async def __call__(self, match: RouteMatch, scope: Scope, receive: Receive, send: Send) -> None:
        """Proxy one request routed to `match` (with the decision the middleware left)."""
        if scope["type"] == "websocket":
            await self._websocket(match, scope, receive, send)
            return
        decision: Decision | None = scope.get("ingresslib.decision")
        share: WeightedBackend | None = None
        if decision is None or decision.match is not match:
            key, resolution = self._resolve(match)
        else:
            picked = self._pick(decision)
            if isinstance(picked, Canned):
                await refuse(scope, send, picked)
                return
            share, key, resolution = picked
        if not isinstance(resolution, EndpointSet):
            await refuse(scope, send, unresolved(resolution.reason))
            return
        balancing = None if decision is None or not decision.policies else balancing_of(decision)
        scheme = "http"
        if decision is not None and decision.policies:
            scheme = upstream_scheme(decision.policies, scope.get("scheme") == "https")
        balancer = self._balancer_for(key, resolution, balancing)
        first: Endpoint | None = None
        set_cookie: str | None = None
        if balancing is not None and decision is not None:
            first, set_cookie = self._first_endpoint(
                balancer, balancing, key, self._facts(scope, decision, match)
            )
        body = self._http.RequestBody(receive)
        try:
            await body.prime()
            if decision is not None and decision.mirrors:
                # The copies need the body too: read it once (mirrored requests only).
                self._mirror(scope, decision, await body.read_all())
        except ClientDisconnectedError:
            return
        plan = (
            None
            if decision is None
            else (
                request_changes(decision.request_headers, share),
                response_changes(decision.response_headers, share),
                decision.timeouts,
            )
        )
        if set_cookie is not None:
            cookie = HeaderChanges(add=(("set-cookie", set_cookie),))
            edits, response, limits = plan or (None, None, None)
            plan = (edits, cookie if response is None else response.then(cookie), limits)
        timeouts = None if plan is None else plan[2]
        if timeouts is not None and timeouts.request is not None and timeouts.request != math.inf:
            # HTTPRouteTimeouts.request: "If the gateway has not been able to respond before
            # this deadline is met, the gateway MUST return a timeout error" (504).
            import anyio  # noqa: PLC0415 -- httpx's dependency, imported with the client

            with anyio.move_on_after(timeouts.request) as deadline:
                await self._attempts(
                    key, resolution, balancer, scope, body, receive, send, plan, first, scheme
                )
            if deadline.cancelled_caught:
                _log.warning("%s %s: request timeout", scope["method"], key)
                await refuse(scope, send, GATEWAY_TIMEOUT)
            return
        await self._attempts(
            key, resolution, balancer, scope, body, receive, send, plan, first, scheme
        )

    def _facts(self, scope: Scope, decision: Decision, match: RouteMatch) -> RequestFacts:
        """What a Balancing policy reads of an ASGI request."""
        headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in scope["headers"])
        query = (scope.get("query_string") or b"").decode("latin-1")
        client = scope.get("client")
        peer = str(client[0]) if client else None
        if peer is not None and self.trusted_proxies.networks:
            forwarded = [v for n, v in headers if n.lower() == "x-forwarded-for"]
            peer = self.trusted_proxies.client_address(peer, forwarded)
        raw = scope.get("raw_path")
        target = raw.decode("latin-1") if raw else scope.get("path", "/")
        return RequestFacts(
            RequestView(scope.get("method", "GET"), headers, query),
            peer,
            decision.path,
            f"{target}?{query}" if query else target,
            decision.host,
            scope.get("scheme") in ("https", "wss"),
            match.path or "/",
        )

    async def _attempts(  # noqa: PLR0917 -- private: one caller, every argument
        self,
        key: BackendKey,
        resolution: EndpointSet,
        balancer: Balancer,
        scope: Scope,
        body: RequestBody,
        receive: Receive,
        send: Send,
        plan: tuple[HeaderChanges | None, HeaderChanges | None, Timeouts | None] | None,
        first: Endpoint | None = None,
        scheme: str = "http",
    ) -> None:
        request_edits, response_edits, timeouts = plan or (None, None, None)
        backend_timeout = None if timeouts is None else timeouts.backend_request
        failure: UpstreamError | None = None
        for endpoint in attempts(balancer, len(resolution), first=first):
            try:
                response, latency = await self._client.open(
                    endpoint,
                    scope,
                    body,
                    request_edits,
                    backend_timeout,
                    limits=timeouts,
                    scheme=scheme,
                )
            except ClientDisconnectedError:
                balancer.report(endpoint, ok=True)
                return
            except UpstreamError as error:
                # No latency: a refused connection is fast, and must not look like a fast
                # endpoint to a latency-aware balancer.
                balancer.report(endpoint, ok=False)
                _log.warning("%s %s -> %s failed: %s", scope["method"], key, endpoint, error)
                failure = error
                if error.retryable and body.replayable:
                    continue
                break
            ok = True
            try:
                ok = await self._http.UpstreamClient.relay(
                    response, body, receive, send, response_edits
                )
            finally:
                # Reported once, even when the client went away (the task was cancelled).
                balancer.report(endpoint, ok=ok, latency=latency)
            return
        await refuse(scope, send, failure_response(None if failure is None else failure.kind))

    def _mirror(self, scope: Scope, decision: Decision, body: bytes) -> None:
        """Send copies of the request to the mirrors drawn; their responses are ignored.

        HTTPRequestMirrorFilter: "Requests are sent to the specified destination, but
        responses from that destination are ignored."
        """
        import asyncio  # noqa: PLC0415 -- the copies run as tasks of the server's loop

        for endpoint in self._mirror_endpoints(decision.mirrors):
            task = asyncio.ensure_future(
                self._http.send_copy(self._client, endpoint, scope, body, decision.request_headers)
            )
            self._mirrors.add(task)
            task.add_done_callback(self._mirrors.discard)

    async def _websocket(
        self, match: RouteMatch, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Proxy one WebSocket session: handshake with an endpoint, accept, relay."""
        # The ASGI spec: the first message of a websocket scope is websocket.connect.
        if (await receive())["type"] != "websocket.connect":
            return
        key, resolution = self._resolve(match)
        if not isinstance(resolution, EndpointSet):
            await refuse(scope, send, unresolved(resolution.reason), close_code=_UPSTREAM_FAILED)
            return
        balancer = self._balancer_for(key, resolution)
        failure: UpstreamError | None = None
        for endpoint in attempts(balancer, len(resolution)):
            try:
                connection, latency = await open_websocket(
                    endpoint,
                    scope,
                    trusted_proxies=self.trusted_proxies,
                    connect_timeout=self._connect_timeout,
                    read_timeout=self._read_timeout,
                    subprotocols=scope.get("subprotocols") or (),
                )
            except ImportError:
                balancer.report(endpoint, ok=True)
                _log.error("%s", _WEBSOCKETS_MISSING)
                await refuse(scope, send, _NO_WEBSOCKET, close_code=_UPSTREAM_FAILED)
                return
            except UpstreamRefusedError as refusal:
                # An answer, like an HTTP 403 or 5xx: the endpoint is up.
                balancer.report(endpoint, ok=True)
                await _websocket_refusal(scope, send, refusal)
                return
            except UpstreamError as error:
                balancer.report(endpoint, ok=False)
                _log.warning("WebSocket %s -> %s failed: %s", key, endpoint, error)
                failure = error
                if error.retryable:
                    continue
                break
            accept = {
                "type": "websocket.accept",
                "subprotocol": connection.subprotocol,
                "headers": accepted_headers(connection),
            }
            try:
                await relay_websocket(connection, accept, receive, send)
            finally:
                # Reported once, at the end of the session (a balancer counting requests in
                # flight counts the session while it lasts).
                balancer.report(endpoint, ok=True, latency=latency)
            return
        kind = None if failure is None else failure.kind
        # A WebSocket has no connection pool to wait for: a pool timeout is a timeout too.
        response = failure_response("timeout" if kind == "pool-timeout" else kind)
        await refuse(scope, send, response, close_code=_UPSTREAM_FAILED)


async def _websocket_refusal(scope: Scope, send: Send, error: UpstreamRefusedError) -> None:
    """The endpoint's own answer to the handshake (e.g. 403), for the client."""
    headers = (*error.headers, (b"content-length", str(len(error.body)).encode()))
    await refuse(
        scope, send, Canned(error.status, error.body, headers), close_code=_UPSTREAM_FAILED
    )
