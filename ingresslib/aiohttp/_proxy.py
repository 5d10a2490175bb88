"""`ReverseProxy`: a whole reverse proxy as an aiohttp.web Application.

The decision is `RouteTable.decide()`'s (`ingresslib.aiohttp._middleware.decide`); this
module runs a forward: the endpoint attempts over one pooled `aiohttp.ClientSession`, the
response streamed back; the WebSocket path is `ingresslib.aiohttp._websocket`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import ssl
import time
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import aiohttp
import attrs
from aiohttp import web
from multidict import CIMultiDict

from ingresslib.aiohttp._bytes import exact_header_bytes
from ingresslib.aiohttp._middleware import (
    DECISION_KEY,
    MATCH_KEY,
    answer,
    decide,
    plain_response,
    response_of,
)
from ingresslib.aiohttp._upstream import (
    UpstreamError,
    arrival_port,
    connection_tokens_of,
    decode_fields,
    endpoint_url,
    forwarded_request_headers,
    forwarded_response_headers,
)
from ingresslib.aiohttp._websocket import (
    WebSocketRefusedError,
    handshake_trace,
    open_websocket,
    refusal_response,
    relay_websocket,
    subprotocols,
)
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
    AuthOutcome,
    Canned,
    PathPolicy,
    PolicyRunner,
    TrustedProxies,
    auth_outcome,
    auth_request,
    is_upgrade,
    is_websocket,
    request_changes,
    response_changes,
    unresolved,
    upstream_scheme,
)
from ingresslib.routing import Decision, DecisionPolicy, RequestView, RouteMatch, RouteTable
from ingresslib.rules import ExternalAuth, HeaderChanges, Mirror, Timeouts
from ingresslib.tls import CertificateStore, sni_context

__all__ = ["ReverseProxy"]

logger = logging.getLogger("ingresslib.aiohttp")

_MEMO_SIZE = 4096
_MEMO_MAX_BYTES = 512  # a longer Host or target is never kept


def _then(known: HeaderChanges | None, more: HeaderChanges) -> HeaderChanges:
    return more if known is None else known.then(more)


def _auth_headers(outcome: AuthOutcome) -> HeaderChanges:
    """`proxy_set_header <Name> $authHeaderN;`: an empty value removes the field."""
    return HeaderChanges(
        set=tuple((name, value) for name, value in outcome.upstream_headers if value),
        remove=tuple(name for name, value in outcome.upstream_headers if not value),
    )


class _Plan(NamedTuple):
    """What a Decision asks of one forward, for the chosen share."""

    request: HeaderChanges | None
    response: HeaderChanges | None
    timeouts: Timeouts | None
    scheme: str = "http"


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
        listener_ports: Mapping[int, int] | None = None,
        policies: PolicyRunner | None = None,
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
            listener_ports: for a Gateway API table, the Gateway listener port that each
                local port serves (`{8080: 80}`: a request arriving on 8080 is decided as
                one on the listener port 80; a local port not named is its own). Without
                it, requests are decided as arriving on 80 (http) or 443 (https).
            policies: runs the decisions' policies (ingress-nginx's limit-rps...); None: a
                runner of its own.

        Raises:
            ValueError: a bad `https_port` or trusted proxy CIDR.
        """
        self.table = table
        self.listener_ports: Mapping[int, int] = dict(listener_ports or {})
        self.index = index
        self.certificates = certificates
        self.balancer_factory = balancer_factory
        self.namespace = namespace
        #: How requests are decided (HTTPS redirects, path normalisation).
        self.policy = DecisionPolicy(
            paths=paths, https_redirect=https_redirect, https_port=https_port
        )
        self.trusted_proxies = TrustedProxies.parse(trusted_proxies)
        self.policies = PolicyRunner() if policies is None else policies
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=None, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._limit = max_connections
        self._limit_per_host = max_connections_per_endpoint
        self._keepalive_timeout = keepalive_timeout
        self._session: aiohttp.ClientSession | None = None
        self._init_backend_cache()
        self._mirrors: set[asyncio.Task[None]] = set()  # copies in flight (strong references)
        # (secure, raw Host, raw target, listener port) -> the reusable decision, for the
        # current table only.
        self._memo: dict[tuple[bool, bytes | None, str, int | None], Decision] = {}
        self._memo_table: RouteTable | None = None
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
            session = self._session = aiohttp.ClientSession(
                connector=connector,
                trace_configs=[handshake_trace()],
                timeout=self._timeout,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # a proxy keeps no cookies
                trust_env=False,
                # The client's headers go as sent: none of aiohttp's own defaults.
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            )
        return session

    def decide(self, request: web.Request) -> Decision:
        """The request's Decision (once per request: `ingresslib.aiohttp.decide`).

        For a Gateway API table, the request is decided as one on the listener port its
        local port serves (`listener_ports`).
        """
        found: Decision | None = request.get(DECISION_KEY)
        if found is not None:
            return found
        port = None
        if self.listener_ports:
            local = arrival_port(request)
            port = self.listener_ports.get(local, local) if local is not None else None
        table = self.table
        if table is not self._memo_table:
            self._memo = {}
            self._memo_table = table
        raw_host: bytes | None = None
        hosts = 0
        # PERF: one plain loop over the raw fields; a second Host is a 400 (decide says so).
        for name, value in request.raw_headers:
            if len(name) == 4 and name.lower() == b"host":
                raw_host = value
                hosts += 1
        raw_path = request.raw_path
        key = (request.secure, raw_host, raw_path, port)
        if hosts <= 1:
            # PERF: a decision that depends only on the scheme, Host and path (and the
            # listener port) is one dict lookup for a repeated request, as in the ASGI
            # middleware: no Request is made and no header decoded.
            found = self._memo.get(key)
            if found is not None:
                request[DECISION_KEY] = found
                request[MATCH_KEY] = found.match
                return found
        decision = decide(
            self, request, self.policy, port=port, client=self.client_address(request)
        )
        if (
            decision.reusable
            and len(raw_path) <= _MEMO_MAX_BYTES
            and len(raw_host or b"") <= _MEMO_MAX_BYTES
        ):
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()  # PERF: cheaper than LRU bookkeeping on every hit
            self._memo[key] = decision
        return decision

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Route and proxy one request (the app's only handler).

        An outer middleware that already routed the request (e.g. a rate limiter) leaves
        its match in `request[MATCH_KEY]`; it is used instead of matching again.
        """
        decision = self.decide(request)
        match = decision.match
        if decision.action != "forward" or match is None:
            return answer(decision)
        if not decision.policies:
            return await self._proxy(request, decision, match)
        client = self.client_address(request)
        admission = self.policies.admit(decision.policies, client, handled=(ExternalAuth,))
        if admission.refusal is not None:
            return response_of(admission.refusal)
        try:
            for policy in decision.policies:
                if type(policy) is ExternalAuth:
                    # auth_request runs in the access phase, after the limits.
                    outcome = await self._external_auth(request, policy, client)
                    if outcome.refusal is not None:
                        return response_of(outcome.refusal)
                    if outcome.upstream_headers:
                        decision = attrs.evolve(
                            decision,
                            request_headers=_then(decision.request_headers, _auth_headers(outcome)),
                        )
            return await self._proxy(request, decision, match)
        finally:
            admission.release()

    async def _external_auth(
        self, request: web.Request, policy: ExternalAuth, client: str | None
    ) -> AuthOutcome:
        """Send the `auth_request` subrequest and read its answer (no answer: 500)."""
        http_host = request.headers.get("Host", "")
        scheme = "https" if request.secure else "http"
        method, url, fields = auth_request(
            policy,
            method=request.method,
            scheme=scheme,
            http_host=http_host,
            request_uri=request.raw_path,
            client=client,
            headers=decode_fields(request.raw_headers),
        )
        status: int | None = None
        headers: list[tuple[str, str]] = []
        try:
            async with self._get_session().request(
                method,
                url,
                headers=CIMultiDict(fields),
                allow_redirects=False,
                timeout=self._timeout,
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
            ) as answer:
                status = answer.status
                headers = [(k, v) for k, v in answer.headers.items()]
                await answer.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("auth-url %s failed: %r", url, error)
        return auth_outcome(
            policy,
            status,
            headers,
            scheme=scheme,
            http_host=http_host,
            request_uri=request.raw_path,
        )

    async def _proxy(
        self, request: web.Request, decision: Decision, match: RouteMatch
    ) -> web.StreamResponse:
        """Forward an admitted request (or its WebSocket)."""
        upgrade = request.headers.get("Upgrade")
        # RFC 9110 §7.8: "A server MAY ignore a received Upgrade header field if it wishes to
        # continue using the current protocol on that connection." Other protocols (h2c) are
        # ignored, as nginx does: Upgrade is hop-by-hop, so the request goes on without it.
        if (
            upgrade
            and is_websocket(upgrade)
            and is_upgrade(connection_tokens_of(decode_fields(request.raw_headers)), upgrade)
        ):
            return await self._websocket(request, match)
        picked = self._pick(decision)
        if isinstance(picked, Canned):
            return response_of(picked)
        share, key, resolution = picked
        if not isinstance(resolution, EndpointSet):
            return response_of(unresolved(resolution.reason))
        plan = _Plan(
            request_changes(decision.request_headers, share),
            response_changes(decision.response_headers, share),
            decision.timeouts,
            upstream_scheme(decision.policies, request.secure) if decision.policies else "http",
        )
        body: bytes | None = None
        if decision.mirrors:
            # The copies need the body too: read it once (mirrored requests only).
            body = await request.read() if request.body_exists else b""
            self._mirror(request, decision.mirrors, body, plan)
        balancing = balancing_of(decision) if decision.policies else None
        balancer = self._balancer_for(key, resolution, balancing)
        first: Endpoint | None = None
        if balancing is not None:
            facts = RequestFacts(
                RequestView(request.method, tuple(request.headers.items()), request.query_string),
                self.client_address(request),
                decision.path,
                request.raw_path,
                decision.host,
                request.secure,
                match.path or "/",
            )
            first, set_cookie = self._first_endpoint(balancer, balancing, key, facts)
            if set_cookie is not None:
                cookie = HeaderChanges(add=(("set-cookie", set_cookie),))
                response = cookie if plan.response is None else plan.response.then(cookie)
                plan = plan._replace(response=response)
        timeouts = decision.timeouts
        if timeouts is not None and timeouts.request is not None and timeouts.request != math.inf:
            # HTTPRouteTimeouts.request: "If the gateway has not been able to respond before
            # this deadline is met, the gateway MUST return a timeout error" (504).
            try:
                return await asyncio.wait_for(
                    self._forward(request, key, resolution, balancer, plan, body, first),
                    timeouts.request,
                )
            except asyncio.TimeoutError:
                logger.warning("%s %s: request timeout", request.method, key)
                return response_of(GATEWAY_TIMEOUT)
        return await self._forward(request, key, resolution, balancer, plan, body, first)

    async def _forward(  # noqa: PLR0917 -- private: one call, every argument
        self,
        request: web.Request,
        key: BackendKey,
        resolution: EndpointSet,
        balancer: Balancer,
        plan: _Plan,
        body: bytes | None,
        first: Endpoint | None = None,
    ) -> web.StreamResponse:
        failure: UpstreamError | None = None
        for endpoint in attempts(balancer, len(resolution), first=first):
            start = time.monotonic()
            try:
                upstream = await self._open(request, endpoint, plan, body)
            except UpstreamError as error:
                balancer.report(endpoint, ok=False)
                logger.warning("%s %s -> %s failed: %s", request.method, key, endpoint, error)
                failure = error
                if error.retryable:
                    continue
                break
            latency = time.monotonic() - start
            ok = False
            try:
                response, ok = await self._relay(request, upstream, plan.response)
            finally:
                upstream.release()
                balancer.report(endpoint, ok=ok, latency=latency)
            return response
        return UpstreamError.answer(failure)

    def _mirror(
        self, request: web.Request, mirrors: Iterable[Mirror], body: bytes, plan: _Plan
    ) -> None:
        """Send copies of the request to the mirrors drawn; their responses are ignored.

        HTTPRequestMirrorFilter: "Requests are sent to the specified destination, but
        responses from that destination are ignored."
        """
        for endpoint in self._mirror_endpoints(mirrors):
            task = asyncio.create_task(self._send_copy(request, endpoint, plan, body))
            self._mirrors.add(task)
            task.add_done_callback(self._mirrors.discard)

    async def _send_copy(
        self, request: web.Request, endpoint: Endpoint, plan: _Plan, body: bytes
    ) -> None:
        try:
            upstream = await self._open(request, endpoint, plan, body)
        except UpstreamError as error:
            logger.info("mirror %s failed: %s", endpoint, error)
            return
        try:
            await upstream.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.info("mirror %s failed mid-response: %r", endpoint, error)
        finally:
            upstream.release()

    async def _open(
        self, request: web.Request, endpoint: Endpoint, plan: _Plan, body: bytes | None = None
    ) -> aiohttp.ClientResponse:
        url = endpoint_url(request, endpoint, plan.scheme)
        data = body if body is not None else (request.content if request.body_exists else None)
        try:
            with exact_header_bytes():  # the request head is serialised before this returns
                return await self._get_session().request(
                    request.method,
                    url,
                    headers=forwarded_request_headers(
                        request, endpoint, self.trusted_proxies, plan.request
                    ),
                    data=data,
                    allow_redirects=False,
                    compress=None,
                    raise_for_status=False,
                    # HTTPRouteTimeouts.backendRequest: "a timeout for an individual request
                    # from the gateway to a backend".
                    timeout=self._timeout
                    if plan.timeouts is None
                    else self._backend_timeout(plan.timeouts),
                )
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise UpstreamError.of(error) from error

    def _backend_timeout(self, timeouts: Timeouts) -> aiohttp.ClientTimeout:
        """The client timeouts of one forward: the rule's where it has some, else ours."""
        connect = self._timeout.sock_connect if timeouts.connect is None else timeouts.connect
        read = self._timeout.sock_read if timeouts.read is None else timeouts.read
        seconds = timeouts.backend_request
        if seconds == math.inf:
            # "0s" (math.inf): "SHOULD disable the timeout completely", the read timeout too.
            return aiohttp.ClientTimeout(total=None, sock_connect=connect)
        return aiohttp.ClientTimeout(total=seconds, sock_connect=connect, sock_read=read)

    @staticmethod
    async def _relay(
        request: web.Request, upstream: aiohttp.ClientResponse, changes: HeaderChanges | None
    ) -> tuple[web.StreamResponse, bool]:
        response = web.StreamResponse(
            status=upstream.status,
            reason=upstream.reason,
            headers=forwarded_response_headers(upstream.raw_headers, changes),
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
        protocols = subprotocols(request)
        if not web.WebSocketResponse(protocols=protocols).can_prepare(request).ok:
            return plain_response(400, "Bad Request: invalid WebSocket handshake")
        key, resolution = self._resolve(match)
        if not isinstance(resolution, EndpointSet):
            return response_of(unresolved(resolution.reason))
        balancer = self._balancer_for(key, resolution)
        failure: UpstreamError | None = None
        for endpoint in attempts(balancer, len(resolution)):
            start = time.monotonic()
            try:
                upstream, accepted = await open_websocket(
                    self._get_session(), request, endpoint, protocols, self.trusted_proxies
                )
            except WebSocketRefusedError as refusal:
                # An answer, like an HTTP 403 or 5xx: the endpoint is up.
                balancer.report(endpoint, ok=True, latency=time.monotonic() - start)
                return refusal_response(refusal)
            except UpstreamError as error:
                balancer.report(endpoint, ok=False)
                logger.warning("WebSocket %s -> %s failed: %s", key, endpoint, error)
                failure = error
                if error.retryable:
                    continue
                break
            latency = time.monotonic() - start
            try:
                return await relay_websocket(request, upstream, accepted)
            finally:
                # Reported once, at the end of the session (a balancer counting requests in
                # flight counts the session while it lasts).
                balancer.report(endpoint, ok=True, latency=latency)
        return UpstreamError.answer(failure)
