"""The gateway as `ingresslib serve` runs it: the proxy, its access log, metrics and rate limit.

`ServeProxy` is the aiohttp `ReverseProxy` remembering the endpoint of each attempt and
counting upstream errors; `observe_middleware` logs each request on the `ingresslib.access`
logger and counts it; `limit_middleware` refuses routed requests per client address with 429.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware

from ingresslib.aiohttp import MATCH_KEY, Handler, ReverseProxy, response_of
from ingresslib.aiohttp._upstream import UpstreamError
from ingresslib.endpoints import Endpoint
from ingresslib.proxy import TOO_MANY, escape_log_value
from ingresslib.ratelimit import MemoryLimiter, RefusalHeaders
from ingresslib.server._metrics import Metrics, SeriesCache, route_labels

__all__ = ["UPSTREAM_KEY", "ServeProxy", "limit_middleware", "observe_middleware"]

access_logger = logging.getLogger("ingresslib.access")

#: The request key under which the address of the endpoint tried last is left ("host:port").
UPSTREAM_KEY = web.RequestKey("ingresslib.upstream", str)


class ServeProxy(ReverseProxy):
    """The proxy, remembering the endpoint of each attempt and counting upstream errors."""

    metrics: Metrics

    async def _open(
        self, request: web.Request, endpoint: Endpoint, plan: Any, body: bytes | None = None
    ) -> aiohttp.ClientResponse:
        request[UPSTREAM_KEY] = endpoint.key
        try:
            return await super()._open(request, endpoint, plan, body)
        except UpstreamError as error:
            _, backend = route_labels(request.get(MATCH_KEY), self.namespace)
            self.metrics.upstream_errors.labels(backend, str(error.status)).inc()
            raise


def observe_middleware(series: SeriesCache) -> Middleware:
    """The outermost middleware: each request counted, timed and logged once it is answered.

    Args:
        series: the metric children by match and status.
    """

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        except asyncio.CancelledError:
            status = 499  # nginx's "client closed request"
            raise
        finally:
            duration = time.perf_counter() - start
            match = request.get(MATCH_KEY)
            _, requests, latency, backend = series.get(match, status)
            requests.inc()
            latency.observe(duration)
            # nginx's `escape=default`: a quote or a control byte in a field the client sent
            # cannot forge another log line or field.
            access_logger.info(
                '%s "%s %s %s" %d backend=%s upstream=%s %.1fms',
                request.remote or "-",
                escape_log_value(request.method),
                escape_log_value(request.headers.get("Host", "-")),
                escape_log_value(request.raw_path),
                status,
                backend if match is not None else "-",
                request.get(UPSTREAM_KEY, "-"),
                duration * 1000,
            )

    return observe


def limit_middleware(
    gateway: ReverseProxy,
    limiter: MemoryLimiter[Any],
    refusal: RefusalHeaders,
    metrics: Metrics,
    namespace: str,
) -> Middleware:
    """The rate limit per client address, for the requests that are forwarded.

    404, 400 and redirects are not limited. The request is decided here, and the gateway
    uses that decision instead of deciding it a second time.

    Args:
        gateway: the proxy whose table decides and whose trusted proxies name the client.
        limiter: decides each request by client address.
        refusal: the 429's RateLimit fields.
        metrics: counts the refusals by route.
        namespace: the namespace of backends that come from no Ingress (for the labels).
    """

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = gateway.client_address(request)
        if key is None:
            return await handler(request)
        decision = gateway.decide(request)
        match = decision.match
        if decision.action != "forward" or match is None:  # 404, 400, redirects: not limited
            return await handler(request)
        limited = limiter.hit(key)
        if limited.allowed:
            return await handler(request)
        route, _ = route_labels(match, namespace)
        metrics.refusals.labels(route).inc()
        return response_of(TOO_MANY.with_headers(*refusal(limited)))

    return limit
