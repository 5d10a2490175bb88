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

Needs aiohttp: `pip install 'ingresslib[aiohttp]'`. docs/aiohttp.md describes it in full.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import http
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import CIMultiDict, CIMultiDictProxy, MultiMapping
from yarl import URL

from ingresslib._aiohttp_bytes import exact_header_bytes, latin1_headers
from ingresslib.asgi import DECISION_SCOPE_KEY, MATCH_SCOPE_KEY
from ingresslib.endpoints import (
    Endpoint,
    EndpointIndex,
    EndpointSet,
    RoundRobin,
)
from ingresslib.endpoints._backends import BackendCache, BalancerFactory, attempts
from ingresslib.proxy import (
    Canned,
    FailureKind,
    PathPolicy,
    _headers,
    decision_response,
    failure_response,
    unresolved,
)
from ingresslib.proxy._headers import TrustedProxies
from ingresslib.routing import Decision, DecisionPolicy, Request, RouteMatch, RouteTable
from ingresslib.tls import CertificateStore, sni_context

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

logger = logging.getLogger("ingresslib.aiohttp")

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

#: RFC 9110 §7.6.1 hop-by-hop fields (lower case): `ingresslib.proxy.HOP_BY_HOP`.
HOP_BY_HOP = _headers.HOP_BY_HOP
_NOBODY = TrustedProxies()
#: RFC 6455 §7.4.1: 1011, "a server is terminating the connection because it encountered an
#: unexpected condition": here, the endpoint vanished without a Close frame.
_UPSTREAM_FAILED = 1011
#: 1001, "an endpoint is "going away"": the client vanished without a Close frame.
_CLIENT_GONE = 1001


class TableHolder(Protocol):
    """Anything with a current `table` attribute (e.g. a `ReverseProxy`); swapped by assignment."""

    table: RouteTable


def _plain(status: int, text: str, **headers: str) -> web.Response:
    # The same short bodies as ingresslib.asgi: "404 Not Found\n".
    return web.Response(
        status=status,
        text=f"{status} {text}\n",
        content_type="text/plain",
        charset="utf-8",
        headers=headers or None,
    )


def request_of(request: web.Request) -> Request:
    """The `ingresslib.Request` of an aiohttp request: Host, target and fields as received.

    aiohttp's parser gives the header fields as bytes (`raw_headers`); latin-1 keeps each
    byte as one character, as the ASGI executor does.
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
        client=request.remote,
    )


def decide(
    holder: TableHolder | RouteTable, request: web.Request, policy: DecisionPolicy
) -> Decision:
    """The request's Decision: the one an outer middleware left, else the table's.

    Leaves it in `request[DECISION_KEY]` and its match in `request[MATCH_KEY]`: each
    request is decided once, however many ingresslib middlewares and handlers it passes.
    """
    found: Decision | None = request.get(DECISION_KEY)
    if found is not None:
        return found
    table = holder if isinstance(holder, RouteTable) else holder.table
    decision = table.decide(request_of(request), policy)
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


def _answer(decision: Decision) -> web.Response:
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

    Returns:
        The middleware: `web.Application(middlewares=[ingress_middleware(...)])`. The match
        is left in `request[MATCH_KEY]`.
    """
    registered = dict(services or {})
    policy = DecisionPolicy(paths=paths, https_redirect=https_redirect, https_port=https_port)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        decision = decide(holder, request, policy)
        if decision.action != "forward" or decision.match is None:
            return _answer(decision)
        target = _service_handler(decision.match, registered)
        if target is not None:
            return await target(request)
        if passthrough:
            return await handler(request)
        return _plain(503, "Service Unavailable")

    return middleware


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    return _headers.connection_tokens(headers, "connection")


def _decode(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    # aiohttp's parser gives bytes; latin-1 keeps each byte as one character.
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw]


def _arrival_port(request: web.BaseRequest) -> int | None:
    """The port of the listening socket the request arrived on (None: not a TCP socket)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and len(sockname) >= 2 and isinstance(sockname[1], int):
        return sockname[1]
    return None


def forwarded_request_headers(
    request: web.Request, endpoint: Endpoint, trusted_proxies: TrustedProxies = _NOBODY
) -> CIMultiDict[str]:
    """The headers sent upstream for `request`, for aiohttp's client.

    `ingresslib.proxy.forward_request_headers`, the rules both proxies share (docs/proxy.md),
    on `request.raw_headers` with the peer (`request.remote`), the scheme, the port of the
    listening socket and the endpoint's `address:port` as the Host when the client sent
    none. The fields are latin-1 str, one character per byte: send them inside
    `exact_header_bytes()` for the bytes received to be the bytes sent.
    """
    decision = request.get(DECISION_KEY)
    # An absolute-form target's authority is the Host (RFC 9112 §3.2.2), as decided.
    authority = None if decision is None else decision.authority
    return latin1_headers(
        _headers.forward_request_headers(
            request.raw_headers,
            peer=request.remote,
            scheme="https" if request.secure else "http",
            trusted=trusted_proxies,
            fallback_host=endpoint.key.encode("latin-1"),
            port=_arrival_port(request),
            host=None if authority is None else authority.encode("latin-1"),
        )
    )


def forwarded_response_headers(raw: Iterable[tuple[bytes, bytes]]) -> CIMultiDict[str]:
    """The upstream response headers sent to the client (latin-1 str, one per byte).

    `ingresslib.proxy.forward_response_headers` with `server_owned=False`: aiohttp writes a
    Date and a Server only when the response has none, so the endpoint's pass, once each.
    """
    return latin1_headers(_headers.forward_response_headers(raw, server_owned=False))


class _UpstreamError(Exception):
    def __init__(self, kind: FailureKind, retryable: bool, cause: BaseException) -> None:
        super().__init__(f"{kind}: {cause!r}")
        self.kind: FailureKind = kind
        self.retryable = retryable

    @property
    def status(self) -> int:
        """The status the client gets when this is the last failure."""
        return failure_response(self.kind).status

    @classmethod
    def of(cls, error: aiohttp.ClientError | asyncio.TimeoutError) -> _UpstreamError:
        """What a failure of the client means to the client and to the retry.

        Retryable when the connection never opened (nothing was sent).
        """
        if isinstance(error, aiohttp.ConnectionTimeoutError):
            return cls("connect-timeout", True, error)
        if isinstance(error, aiohttp.ClientConnectorError):
            return cls("connect", True, error)
        if isinstance(error, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
            return cls("timeout", False, error)
        return cls("error", False, error)

    @staticmethod
    def answer(failure: _UpstreamError | None) -> web.Response:
        """The client's answer when no attempt succeeded (None: no endpoint to try)."""
        return response_of(failure_response(None if failure is None else failure.kind))


class _WebSocketRefusedError(Exception):
    """The endpoint answered a WebSocket handshake with another status than 101."""

    def __init__(self, status: int, headers: Iterable[tuple[str, str]]) -> None:
        super().__init__(f"the endpoint answered {status}")
        self.status = status
        self.headers = list(headers)


# The 101 response of the handshake under way in this task, caught by the session's trace
# (`ClientSession.ws_connect` keeps the response to itself).
_HANDSHAKE: contextvars.ContextVar[list[CIMultiDictProxy[str]] | None] = contextvars.ContextVar(
    "ingresslib.aiohttp.handshake", default=None
)


async def _on_request_end(
    _session: aiohttp.ClientSession,
    _context: SimpleNamespace,
    params: aiohttp.TraceRequestEndParams,
) -> None:
    holder = _HANDSHAKE.get()
    if holder is not None and params.response.status == 101:
        holder.append(params.response.headers)


async def _on_request_redirect(
    _session: aiohttp.ClientSession,
    _context: SimpleNamespace,
    params: aiohttp.TraceRequestRedirectParams,
) -> None:
    # `ws_connect` follows redirects (it offers no allow_redirects=False); a proxy must not:
    # the redirect is the endpoint's answer, for the client. (HTTP requests are sent with
    # allow_redirects=False and never get here.)
    response = params.response
    refused = _WebSocketRefusedError(response.status, _refusal_headers(response.headers))
    response.close()
    raise refused


def _refusal_headers(headers: MultiMapping[str] | None) -> list[tuple[str, str]]:
    """An endpoint's response fields, sent with a body of ours: end-to-end ones only."""
    items = [] if headers is None else list(headers.items())
    drop = (
        HOP_BY_HOP
        | _connection_tokens(items)
        | {"content-length", "content-type", "content-encoding"}
    )
    return [(n, v) for n, v in items if n.lower() not in drop]


def _accepted_headers(headers: CIMultiDictProxy[str] | None) -> list[tuple[str, str]]:
    """The endpoint's 101 fields for the client's: end-to-end ones (not the handshake's)."""
    if headers is None:
        return []
    items = list(headers.items())
    drop = (
        HOP_BY_HOP
        | _headers.WEBSOCKET_HANDSHAKE
        | _connection_tokens(items)
        | {"date", "server", "content-length", "content-type"}
    )
    return [(n, v) for n, v in items if n.lower() not in drop]


def _subprotocols(request: web.Request) -> list[str]:
    """The subprotocols the client offers, in its order (every Sec-WebSocket-Protocol)."""
    offered: list[str] = []
    for value in request.headers.getall("Sec-WebSocket-Protocol", ()):
        offered.extend(name.strip() for name in value.split(",") if name.strip())
    return offered


class ReverseProxy(BackendCache):
    """An aiohttp.web reverse proxy from a RouteTable to the endpoints of an EndpointIndex.

    Example::

        resources = ingresslib.load_manifests("manifests/")
        gateway = ReverseProxy(
            RouteTable.build(resources),
            EndpointIndex.build(resources),
            CertificateStore.build(resources),
        )
        web.run_app(gateway.app, port=8080)   # and a TLS site with gateway.ssl_context()
        # later, from a watcher:
        gateway.swap(table=RouteTable.build(new), index=EndpointIndex.build(new))

    Attributes:
        app: the aiohttp.web.Application to serve.
        table, index, certificates: the current snapshots (replace them with `swap`).
        trusted_proxies: the peers whose X-Forwarded-* fields are believed.
    """

    def __init__(
        self,
        table: RouteTable,
        index: EndpointIndex,
        certificates: CertificateStore | None = None,
        *,
        balancer_factory: BalancerFactory = RoundRobin,
        namespace: str = "default",
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        https_redirect: bool = True,
        https_port: int = 443,
        max_connections: int = 0,
        max_connections_per_endpoint: int = 0,
        keepalive_timeout: float = 60.0,
        client_max_size: int = 1024**2,
        trusted_proxies: Iterable[str] = (),
        paths: PathPolicy = "keep",
    ) -> None:
        """Create the gateway (its client session is created at the first proxied request).

        Args:
            table: the RouteTable to route with.
            index: the Services and EndpointSlices to resolve backends with.
            certificates: the TLS certificates by host, for `ssl_context()`.
            balancer_factory: builds the balancer of one backend port (default RoundRobin).
            namespace: the namespace of backends that come from no Ingress.
            connect_timeout: seconds to open a connection to an endpoint (504 after).
            read_timeout: seconds between two reads from the endpoint, the response headers
                included (504 when no response started in time).
            https_redirect: redirect plain-HTTP requests for TLS hosts (308).
            https_port: the port of the redirect target.
            max_connections: the most upstream connections at once (0: no limit).
            max_connections_per_endpoint: the most connections to one endpoint (0: no limit).
            keepalive_timeout: seconds an idle upstream connection is kept.
            client_max_size: aiohttp's limit for bodies read whole (the proxy streams them).
            trusted_proxies: CIDRs of the proxies in front whose X-Forwarded-For names the
                client and whose X-Forwarded-* fields are passed on (default: nobody; see
                `ingresslib.proxy.TrustedProxies`).
            paths: the request path normalisation (`ingresslib.DecisionPolicy.paths`):
                "keep" (the default), "reject", "decode", or "raw" (no normalisation).

        Raises:
            ValueError: a bad `https_port` or trusted proxy CIDR.
        """
        self.table = table
        self.index = index
        self.certificates = certificates
        self.balancer_factory = balancer_factory
        self.namespace = namespace
        #: How requests are decided (HTTPS redirects, path normalisation).
        self.policy = DecisionPolicy(
            paths=paths, https_redirect=https_redirect, https_port=https_port
        )
        self.trusted_proxies = TrustedProxies.parse(trusted_proxies)
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=None, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._limit = max_connections
        self._limit_per_host = max_connections_per_endpoint
        self._keepalive_timeout = keepalive_timeout
        self._session: aiohttp.ClientSession | None = None
        self._init_backend_cache()
        self.app = web.Application(client_max_size=client_max_size)
        self.app.router.add_route("*", "/{path:.*}", self.handle)
        self.app.on_cleanup.append(self._on_cleanup)

    @property
    def https_redirect(self) -> bool:
        """Whether plain-HTTP requests for TLS hosts are redirected (`policy.https_redirect`)."""
        return self.policy.https_redirect

    @property
    def https_port(self) -> int:
        """The port of the HTTPS redirect target (`policy.https_port`)."""
        return self.policy.https_port

    def swap(
        self,
        *,
        table: RouteTable | None = None,
        index: EndpointIndex | None = None,
        certificates: CertificateStore | None = None,
    ) -> None:
        """Replace the table, the index and/or the certificates (None keeps the current one).

        Each request reads each snapshot once; new TLS handshakes use the new certificates.
        """
        if table is not None:
            self.table = table
        if index is not None:
            self.index = index
        if certificates is not None:
            self.certificates = certificates

    def ssl_context(self) -> ssl.SSLContext:
        """A server SSLContext selecting, per SNI name, a certificate of the current store."""
        return sni_context(lambda: self.certificates)

    async def aclose(self) -> None:
        """Close the pooled upstream connections (a later request opens a new session)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _on_cleanup(self, _: web.Application) -> None:
        await self.aclose()

    def client_address(self, request: web.Request) -> str | None:
        """The client's address: the peer's, or from X-Forwarded-For when the peer is trusted.

        nginx's realip module with `real_ip_recursive on` (`TrustedProxies.client_address`):
        the key `ingresslib serve` rate-limits by.
        """
        peer = request.remote
        if not self.trusted_proxies.networks or peer is None:
            return peer
        return self.trusted_proxies.client_address(
            peer, request.headers.getall("X-Forwarded-For", ())
        )

    def _get_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                keepalive_timeout=self._keepalive_timeout,
                ssl=False,
            )
            trace = aiohttp.TraceConfig()
            trace.on_request_end.append(_on_request_end)
            trace.on_request_redirect.append(_on_request_redirect)
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                trace_configs=[trace],
                timeout=self._timeout,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # a proxy keeps no cookies
                trust_env=False,
                # The client's headers go as sent: none of aiohttp's own defaults.
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return session

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Route and proxy one request (the app's only handler).

        An outer middleware that already routed the request (e.g. a rate limiter) leaves
        its match in `request[MATCH_KEY]`; it is used instead of matching again.
        """
        decision = decide(self, request, self.policy)
        match = decision.match
        if decision.action != "forward" or match is None:
            return _answer(decision)
        upgrade = request.headers.get("Upgrade")
        # RFC 9110 §7.8: "A server MAY ignore a received Upgrade header field if it wishes to
        # continue using the current protocol on that connection." Other protocols (h2c) are
        # ignored, as nginx does: Upgrade is hop-by-hop, so the request goes on without it.
        if (
            upgrade
            and _headers.is_websocket(upgrade)
            and _headers.is_upgrade(_connection_tokens(_decode(request.raw_headers)), upgrade)
        ):
            return await self._websocket(request, match)
        key, resolution = self._resolve(match)
        if not isinstance(resolution, EndpointSet):
            return response_of(unresolved(resolution.reason))
        balancer = self._balancer_for(key, resolution)
        failure: _UpstreamError | None = None
        for endpoint in attempts(balancer, len(resolution)):
            start = time.monotonic()
            try:
                upstream = await self._open(request, endpoint)
            except _UpstreamError as error:
                balancer.report(endpoint, ok=False)
                logger.warning("%s %s -> %s failed: %s", request.method, key, endpoint, error)
                failure = error
                if error.retryable:
                    continue
                break
            latency = time.monotonic() - start
            ok = False
            try:
                response, ok = await self._relay(request, upstream)
            finally:
                upstream.release()
                balancer.report(endpoint, ok=ok, latency=latency)
            return response
        return _UpstreamError.answer(failure)

    async def _open(self, request: web.Request, endpoint: Endpoint) -> aiohttp.ClientResponse:
        url = _endpoint_url(request, endpoint)
        data = request.content if request.body_exists else None
        try:
            with exact_header_bytes():  # the request head is serialised before this returns
                return await self._get_session().request(
                    request.method,
                    url,
                    headers=forwarded_request_headers(request, endpoint, self.trusted_proxies),
                    data=data,
                    allow_redirects=False,
                    compress=None,
                    raise_for_status=False,
                )
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise _UpstreamError.of(error) from error

    @staticmethod
    async def _relay(
        request: web.Request, upstream: aiohttp.ClientResponse
    ) -> tuple[web.StreamResponse, bool]:
        response = web.StreamResponse(
            status=upstream.status,
            reason=upstream.reason,
            headers=forwarded_response_headers(upstream.raw_headers),
        )
        with exact_header_bytes():
            await response.prepare(request)
        try:
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            # The client must see a truncated response, not a short one that looks complete.
            logger.warning("upstream %s failed mid-response: %r", upstream.url, error)
            if request.transport is not None:
                request.transport.close()
            return response, False
        except ConnectionResetError:
            return response, True  # the client went away
        await response.write_eof()
        return response, True

    # --- WebSocket -------------------------------------------------------------------------

    async def _websocket(self, request: web.Request, match: RouteMatch) -> web.StreamResponse:
        """Proxy one WebSocket session: handshake with an endpoint, then relay messages.

        The endpoint is picked and retried like an HTTP request's; its refusal (a status other
        than 101, e.g. 403) is the client's answer, sent before the client's handshake is
        accepted; then the client is accepted with the subprotocol the endpoint chose.
        """
        # The client's handshake is checked first, as aiohttp would (400 when invalid).
        protocols = _subprotocols(request)
        if not web.WebSocketResponse(protocols=protocols).can_prepare(request).ok:
            return _plain(400, "Bad Request: invalid WebSocket handshake")
        key, resolution = self._resolve(match)
        if not isinstance(resolution, EndpointSet):
            return response_of(unresolved(resolution.reason))
        balancer = self._balancer_for(key, resolution)
        failure: _UpstreamError | None = None
        for endpoint in attempts(balancer, len(resolution)):
            start = time.monotonic()
            try:
                upstream, accepted = await self._open_websocket(request, endpoint, protocols)
            except _WebSocketRefusedError as refusal:
                # An answer, like an HTTP 403 or 5xx: the endpoint is up.
                balancer.report(endpoint, ok=True, latency=time.monotonic() - start)
                return _refusal(refusal)
            except _UpstreamError as error:
                balancer.report(endpoint, ok=False)
                logger.warning("WebSocket %s -> %s failed: %s", key, endpoint, error)
                failure = error
                if error.retryable:
                    continue
                break
            latency = time.monotonic() - start
            try:
                return await self._relay_websocket(request, upstream, accepted)
            finally:
                # Reported once, at the end of the session (a balancer counting requests in
                # flight counts the session while it lasts).
                balancer.report(endpoint, ok=True, latency=latency)
        return _UpstreamError.answer(failure)

    async def _open_websocket(
        self, request: web.Request, endpoint: Endpoint, protocols: list[str]
    ) -> tuple[aiohttp.ClientWebSocketResponse[bool], list[tuple[str, str]]]:
        headers = forwarded_request_headers(request, endpoint, self.trusted_proxies)
        # Key, version and extensions are generated by ws_connect for this hop; the
        # subprotocols go as its `protocols` argument.
        for name in _headers.WEBSOCKET_HANDSHAKE:
            headers.popall(name, None)
        handshake: list[CIMultiDictProxy[str]] = []
        token = _HANDSHAKE.set(handshake)
        try:
            with exact_header_bytes():
                upstream = await self._get_session().ws_connect(
                    _endpoint_url(request, endpoint),
                    protocols=protocols,
                    headers=headers,
                    autoclose=False,  # a close is relayed with its code before it is answered
                    autoping=True,
                )
        except aiohttp.WSServerHandshakeError as error:
            if error.status == 101:  # a 101 that is not a valid WebSocket answer
                raise _UpstreamError("error", False, error) from error
            raise _WebSocketRefusedError(error.status, _refusal_headers(error.headers)) from error
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise _UpstreamError.of(error) from error
        finally:
            _HANDSHAKE.reset(token)
        return upstream, _accepted_headers(handshake[0] if handshake else None)

    @staticmethod
    async def _relay_websocket(
        request: web.Request,
        upstream: aiohttp.ClientWebSocketResponse[bool],
        accepted: list[tuple[str, str]],
    ) -> web.WebSocketResponse:
        """Accept the client and relay messages both ways until either side closes.

        A Close is relayed with its code and reason before it is answered: the side that
        closed gets its own code back. Pings are answered by aiohttp on each side.
        """
        client = web.WebSocketResponse(
            protocols=(upstream.protocol,) if upstream.protocol else (),
            autoclose=False,
            autoping=True,
        )
        for name, value in accepted:
            client.headers.add(name, value)
        try:
            await client.prepare(request)
        except BaseException:
            await upstream.close(code=_CLIENT_GONE)
            raise

        task = asyncio.ensure_future(_downstream(upstream, client))
        try:
            while True:
                message = await client.receive()
                if message.type is aiohttp.WSMsgType.TEXT:
                    with contextlib.suppress(ConnectionResetError):
                        await upstream.send_str(message.data)
                elif message.type is aiohttp.WSMsgType.BINARY:
                    with contextlib.suppress(ConnectionResetError):
                        await upstream.send_bytes(message.data)
                elif message.type is aiohttp.WSMsgType.CLOSE:
                    code = _headers.websocket_close_code(message.data, fallback=_CLIENT_GONE)
                    reason = (message.extra or "").encode()
                    await upstream.close(code=code, message=reason)
                    await client.close(code=code, message=reason)
                    break
                elif message.type is aiohttp.WSMsgType.CLOSING:
                    break  # the endpoint closed first: `downstream` relays it
                else:  # CLOSED or ERROR: the client vanished or broke the protocol
                    code = _headers.websocket_close_code(client.close_code, fallback=_CLIENT_GONE)
                    await upstream.close(code=code)
                    break
            await task
        finally:
            task.cancel()
        return client


def _endpoint_url(request: web.Request, endpoint: Endpoint, scheme: str = "http") -> URL:
    host = f"[{endpoint.address}]" if ":" in endpoint.address else endpoint.address
    raw_path, _, query = request.raw_path.partition("?")
    decision = request.get(DECISION_KEY)
    # The path the router saw (normalised), in origin form even for an absolute-form target.
    path = raw_path if decision is None else decision.path
    # encoded=True: the path goes byte for byte (no dot-segment removal, `%2F` kept).
    return URL.build(
        scheme=scheme,
        host=host,
        port=endpoint.port,
        path=path,
        query_string=query,
        encoded=True,
    )


def _refusal(refusal: _WebSocketRefusedError) -> web.Response:
    """The endpoint's refusal of a handshake, with its end-to-end fields and a body of ours.

    `ws_connect` releases the refused response before its body can be read.
    """
    status = refusal.status
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Refused"
    response = web.Response(status=status, headers=CIMultiDict(refusal.headers))
    if status not in (204, 304):
        response.content_type = "text/plain"
        response.charset = "utf-8"
        response.text = f"{status} {phrase}\n"
    return response


async def _downstream(
    upstream: aiohttp.ClientWebSocketResponse[bool], client: web.WebSocketResponse
) -> None:
    """Relay the endpoint's messages to the client until a close (relayed with its code)."""
    try:
        while True:
            message = await upstream.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                await client.send_str(message.data)
            elif message.type is aiohttp.WSMsgType.BINARY:
                await client.send_bytes(message.data)
            elif message.type is aiohttp.WSMsgType.CLOSE:
                code = _headers.websocket_close_code(message.data, fallback=1011)
                reason = (message.extra or "").encode()
                await client.close(code=code, message=reason)
                await upstream.close(code=code, message=reason)
                return
            elif message.type is aiohttp.WSMsgType.CLOSING:
                return  # the client closed first: the other side relays it
            else:  # CLOSED or ERROR: the endpoint vanished or broke the protocol
                code = _headers.websocket_close_code(upstream.close_code, fallback=_UPSTREAM_FAILED)
                await client.close(code=code)
                return
    except ConnectionResetError:
        return  # the client went away: the other side sees it


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
