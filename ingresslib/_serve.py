"""`ingresslib serve`: the aiohttp Gateway as a standalone process that follows manifest files.

`serve(config)` loads the manifests (Ingress, IngressClass, Service, EndpointSlice, Secret),
builds a `RouteTable`, an `EndpointIndex` and a `CertificateStore`, and serves an
`ingresslib.aiohttp.ReverseProxy` on a plain-HTTP listener and a TLS listener (the certificate of
each SNI name comes from the current store). Certificate problems and lint warnings are logged
at start and at each reload.

The manifest files are polled every `poll_interval` seconds (their paths, sizes and mtimes: no
extra dependency). A change rebuilds everything from scratch: a valid set is swapped into the
gateway at once (table, index and certificates); an invalid one is logged with its
`ManifestError` text and the last good configuration keeps serving.

Each request is logged on the `ingresslib.access` logger (client, method, host, path, status,
backend, upstream address, duration) and counted in Prometheus metrics (prometheus-client),
exposed with `/healthz` on a separate admin listener. An optional limiter (`--rate-limit`)
refuses routed requests per client address with 429 and the same `RateLimit`, `Retry-After`
and `RateLimit-Policy` fields as `ingresslib.asgi.IngressMiddleware`. SIGINT and SIGTERM stop
the listeners and let in-flight requests finish.

Needs aiohttp and prometheus-client. docs/serve.md describes it in full.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol

import aiohttp
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ingresslib._serve_config import (
    Address,
    ClusterConfig,
    ServeConfig,
    Snapshot,
    SourceError,
    assemble_snapshot,
)
from ingresslib.aiohttp import MATCH_KEY, Handler, ReverseProxy, decide, response_of
from ingresslib.aiohttp._upstream import UpstreamError
from ingresslib.endpoints import Endpoint, EndpointIndex
from ingresslib.proxy import TOO_MANY, escape_log_value
from ingresslib.ratelimit import (
    LimitReq,
    MemoryLimiter,
    RefusalHeaders,
)
from ingresslib.resources import ManifestError, load_manifests
from ingresslib.resources._loader import MANIFEST_SUFFIXES
from ingresslib.routing import RouteMatch, RouteTable, RouteTableError

__all__ = [
    "Address",
    "ClusterConfig",
    "ServeConfig",
    "Server",
    "Snapshot",
    "SnapshotSource",
    "SourceError",
    "assemble_snapshot",
    "build_snapshot",
    "loop_factory",
    "open_server",
    "parse_address",
    "parse_rate_limit",
    "serve",
]

logger = logging.getLogger("ingresslib.serve")
access_logger = logging.getLogger("ingresslib.access")

#: The request key under which the address of the endpoint tried last is left ("host:port").
UPSTREAM_KEY = web.RequestKey("ingresslib.upstream", str)

_RATE = re.compile(r"^(?P<rate>[1-9][0-9]*)/(?P<per>[sm])(?::(?P<burst>[0-9]+))?$")


def parse_address(value: str) -> Address:
    """Parse `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces is spelled `0.0.0.0:PORT`).

    Raises:
        ValueError: not an address with a port in 0..65535.
    """
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, not {value!r}")
    host = host.removeprefix("[").removesuffix("]") or "127.0.0.1"
    return Address(host, int(port))


def parse_rate_limit(value: str) -> LimitReq:
    """Parse `RATE/s[:BURST]` or `RATE/m[:BURST]` into nginx's limit_req with nodelay.

    `10/s:20` admits 10 requests a second per client and a burst of 20 more at once, as
    `limit_req_zone ... rate=10r/s; limit_req burst=20 nodelay;` does.

    Raises:
        ValueError: for any other spelling.
    """
    found = _RATE.match(value.strip())
    if found is None:
        raise ValueError(f"expected RATE/s[:BURST] or RATE/m[:BURST], not {value!r}")
    per: Literal["s", "m"] = "s" if found["per"] == "s" else "m"
    return LimitReq(int(found["rate"]), per=per, burst=int(found["burst"] or 0), nodelay=True)


def build_snapshot(config: ServeConfig) -> Snapshot:
    """Load the manifests of `config` and build everything the gateway needs.

    Raises:
        ManifestError: the manifests do not load or validate.
        RouteTableError: the table cannot be built (e.g. an unknown path matcher).
    """
    resources = load_manifests(
        list(config.paths),
        namespace=config.namespace,
        unknown_kinds="ignore",
        allow_loopback_endpoints=config.allow_loopback_endpoints,
    )
    table = RouteTable.build(
        resources,
        controller=config.controller,
        ingress_class=config.ingress_class,
        watch_without_class=config.watch_without_class,
        implementation_specific=config.implementation_specific,
    )
    return assemble_snapshot(resources, table, EndpointIndex.build(resources))


def _signature(paths: Sequence[str]) -> tuple[tuple[str, int, int], ...]:
    """The files the manifests come from, with their mtimes and sizes (-1: missing)."""
    entries: list[tuple[str, int, int]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            )
        else:
            files = [path]
        entries.extend(_stat(file) for file in files)
    return tuple(entries)


def _stat(file: Path) -> tuple[str, int, int]:
    try:
        stat = os.stat(file)
    except OSError:
        return str(file), -1, -1
    return str(file), stat.st_mtime_ns, stat.st_size


class Metrics:
    """The Prometheus metrics of one server, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ingresslib_requests",
            "Requests answered, by route, backend and status.",
            ["route", "backend", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ingresslib_request_duration_seconds",
            "Time from the request to the end of the response, by route and backend.",
            ["route", "backend"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "ingresslib_ratelimit_refusals",
            "Requests refused by the rate limit (429), by route.",
            ["route"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "ingresslib_upstream_errors",
            "Failed attempts to reach an endpoint, by backend and resulting status (502/504).",
            ["backend", "status"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "ingresslib_config_reloads",
            "Configuration reloads, by result (ok, error).",
            ["result"],
            registry=self.registry,
        )
        self.last_reload_ok = Gauge(
            "ingresslib_config_last_reload_successful",
            "1 when the last reload was valid, 0 when the last good configuration is kept.",
            registry=self.registry,
        )
        self.routes = Gauge(
            "ingresslib_routes", "Routes in the current table.", registry=self.registry
        )


# (the match, its requests counter child, its latency histogram child, its backend label)
_Series = tuple["RouteMatch | None", Counter, Histogram, str]


def _labels(match: RouteMatch | None, namespace: str) -> tuple[str, str]:
    """The route and backend labels of a match: ("shop.example.test/api", "demo/api:80").

    A default backend's route is "HOST (default)", the catch-all's "* (default)"; no match is
    "(none)" for both.
    """
    if match is None:
        return "(none)", "(none)"
    host = match.host or "*"
    route = f"{host}{match.path}" if match.path is not None else f"{host} (default)"
    ns = match.ingress.metadata.namespace if match.ingress is not None else namespace
    return route, f"{ns}/{match.backend.describe()}"


class _ServeGateway(ReverseProxy):
    """The Gateway, remembering the endpoint of each attempt and counting upstream errors."""

    metrics: Metrics

    async def _open(self, request: web.Request, endpoint: Endpoint) -> aiohttp.ClientResponse:
        request[UPSTREAM_KEY] = endpoint.key
        try:
            return await super()._open(request, endpoint)
        except UpstreamError as error:
            _, backend = _labels(request.get(MATCH_KEY), self.namespace)
            self.metrics.upstream_errors.labels(backend, str(error.status)).inc()
            raise


class SnapshotSource(Protocol):
    """Where a `Server` gets its configurations from, when not from manifest files."""

    def snapshots(self) -> AsyncIterator[Snapshot]:
        """Yield each new configuration (the first one was given to the Server)."""
        ...

    async def aclose(self) -> None:
        """Stop following and release what it holds."""
        ...


class Server:
    """A running `ingresslib serve`: the gateway, its listeners, the watcher and the metrics.

    `await server.start()`, then `await server.watch()` (until cancelled), then
    `await server.stop()`; `serve(config)` does all three and handles the signals.
    """

    def __init__(
        self,
        config: ServeConfig,
        snapshot: Snapshot | None = None,
        source: SnapshotSource | None = None,
    ) -> None:
        """Build the first snapshot (raising ManifestError/RouteTableError when invalid).

        Args:
            config: what to serve and how.
            snapshot: the first configuration, when it does not come from `config.paths`.
            source: where later configurations come from, instead of polling the files
                (e.g. a cluster watcher); `watch()` follows it and `stop()` stops it.
        """
        self.config = config
        self.metrics = Metrics()
        self.source = source
        # The files are listed before they are read: an edit in between is reloaded later.
        self._signature = _signature(config.paths)
        self.snapshot = snapshot if snapshot is not None else build_snapshot(config)
        self.generation = 1
        self.limiter = None if config.rate_limit is None else MemoryLimiter(config.rate_limit)
        self._refusal = RefusalHeaders(
            None if config.rate_limit is None else config.rate_limit.policy("default")
        )
        tls = config.tls_listen
        gateway = _ServeGateway(
            self.snapshot.table,
            self.snapshot.index,
            self.snapshot.certificates,
            namespace=config.namespace,
            https_redirect=tls is not None,
            https_port=tls.port if tls is not None and tls.port else 443,
            trusted_proxies=config.trusted_proxies,
        )
        gateway.metrics = self.metrics
        gateway.app.middlewares.append(self._observe)
        if self.limiter is not None:
            gateway.app.middlewares.append(self._limit)
        self.gateway: ReverseProxy = gateway
        self.metrics.routes.set(len(self.snapshot.table))
        self.metrics.last_reload_ok.set(1)
        self._series_cache: dict[tuple[int, int], _Series] = {}
        self._runners: list[web.AppRunner] = []
        self.addresses: dict[str, list[str]] = {}
        self.ready = False

    # --- requests ----------------------------------------------------------------------------

    @web.middleware
    async def _observe(self, request: web.Request, handler: Handler) -> web.StreamResponse:
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
            _, requests, latency, backend = self._series(match, status)
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

    def _series(self, match: RouteMatch | None, status: int) -> _Series:
        """The metric children (and backend label) of a match and status, remembered.

        PERF: building the labels and looking the children up costs a few µs per request;
        the matches of a table are long-lived objects, so (id, status) finds them again. The
        match is kept in the entry and compared, so an id reused after a swap never hits.
        """
        key = (id(match), status)
        series = self._series_cache.get(key)
        if series is None or series[0] is not match:
            route, backend = _labels(match, self.config.namespace)
            series = (
                match,
                self.metrics.requests.labels(route, backend, str(status)),
                self.metrics.latency.labels(route, backend),
                backend,
            )
            if len(self._series_cache) >= 4096:
                self._series_cache.clear()
            self._series_cache[key] = series
        return series

    @web.middleware
    async def _limit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        limiter = self.limiter
        key = self.gateway.client_address(request)
        if limiter is None or key is None:
            return await handler(request)
        # The gateway uses this decision instead of deciding the request a second time.
        decision = decide(self.gateway, request, self.gateway.policy)
        match = decision.match
        if decision.action != "forward" or match is None:  # 404, 400, redirects: not limited
            return await handler(request)
        limited = limiter.hit(key)
        if limited.allowed:
            return await handler(request)
        route, _ = _labels(match, self.config.namespace)
        self.metrics.refusals.labels(route).inc()
        return response_of(TOO_MANY.with_headers(*self._refusal(limited)))

    # --- admin -------------------------------------------------------------------------------

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok\n", content_type="text/plain")

    async def _readyz(self, _: web.Request) -> web.Response:
        # Ready once the listeners are open, until shutdown begins: a load balancer (or a
        # Kubernetes readinessProbe) stops sending new requests while in-flight ones drain.
        if self.ready:
            return web.Response(text="ready\n", content_type="text/plain")
        return web.Response(status=503, text="not ready\n", content_type="text/plain")

    # --- configuration -----------------------------------------------------------------------

    def _log_snapshot(
        self, snapshot: Snapshot, verb: str, previous: Snapshot | None = None
    ) -> None:
        """Log what `snapshot` serves, and its warnings (those `previous` had: counted only)."""
        table = snapshot.table
        logger.info(
            "%s %d resources: %d route(s) across %d host(s), %d TLS certificate host(s)",
            verb,
            len(snapshot.resources),
            len(table),
            sum(1 for _ in table.virtual_hosts()),
            len(snapshot.certificates.hosts),
        )
        # A cluster publishes a snapshot on every EndpointSlice change: repeating each
        # standing warning every time would bury the new ones.
        known = set(previous.warnings) if previous is not None else set()
        for warning in snapshot.warnings:
            if warning not in known:
                logger.warning("%s", warning)
        repeated = sum(1 for warning in snapshot.warnings if warning in known)
        if repeated:
            logger.info("%d warning(s) unchanged since the previous configuration", repeated)

    async def reload(self) -> bool:
        """Rebuild from the manifests; swap when valid, keep the last good one otherwise."""
        try:
            snapshot = await asyncio.to_thread(build_snapshot, self.config)
        except (ManifestError, RouteTableError) as error:
            self.metrics.reloads.labels("error").inc()
            self.metrics.last_reload_ok.set(0)
            logger.error(
                "reload failed; the last good configuration (generation %d) keeps serving:\n%s",
                self.generation,
                error,
            )
            return False
        self.apply(snapshot)
        return True

    def apply(self, snapshot: Snapshot) -> None:
        """Swap `snapshot` into the gateway (table, endpoints and certificates at once)."""
        self.gateway.swap(
            table=snapshot.table, index=snapshot.index, certificates=snapshot.certificates
        )
        previous, self.snapshot = self.snapshot, snapshot
        self._series_cache.clear()  # let the old table's matches go
        self.generation += 1
        self.metrics.reloads.labels("ok").inc()
        self.metrics.last_reload_ok.set(1)
        self.metrics.routes.set(len(snapshot.table))
        self._log_snapshot(snapshot, f"reloaded (generation {self.generation}):", previous)

    async def watch(self) -> None:
        """Poll the manifest files and reload on each change, until cancelled.

        A change is reloaded once the files have stayed the same for 0.1 s, so that a file
        caught half-written is not reported as an invalid configuration. With a `source`,
        its snapshots are applied instead.
        """
        if self.source is not None:
            async for snapshot in self.source.snapshots():
                self.apply(snapshot)
            return
        interval = self.config.poll_interval
        while True:
            await asyncio.sleep(interval)
            signature = await asyncio.to_thread(_signature, self.config.paths)
            if signature == self._signature:
                continue
            while True:
                await asyncio.sleep(min(0.1, interval))
                settled = await asyncio.to_thread(_signature, self.config.paths)
                if settled == signature:
                    break
                signature = settled
            self._signature = signature
            await self.reload()

    # --- lifecycle ---------------------------------------------------------------------------

    async def _start_app(
        self, name: str, app: web.Application, address: Address, *, tls: bool = False
    ) -> None:
        # One runner per app, with a site per listener: the plain-HTTP and TLS listeners of
        # the gateway share its runner, so that the app starts once and is cleaned up once
        # (its on_cleanup closes the upstream pool), after the requests of both are drained.
        runner = next((r for r in self._runners if r.app is app), None)
        if runner is None:
            runner = web.AppRunner(
                app,
                access_log=None,
                handle_signals=False,
                shutdown_timeout=self.config.shutdown_timeout,
            )
            await runner.setup()
            self._runners.append(runner)
        site = web.TCPSite(
            runner,
            address.host,
            address.port,
            ssl_context=self.gateway.ssl_context() if tls else None,
        )
        await site.start()
        bound = [str(Address(*sock.getsockname()[:2])) for sock in _sockets(site)]
        self.addresses[name] = bound or [str(address)]

    async def start(self) -> None:
        """Open the listeners."""
        self._log_snapshot(self.snapshot, "loaded")
        config = self.config
        await self._start_app("http", self.gateway.app, config.listen)
        if config.tls_listen is not None:
            await self._start_app("https", self.gateway.app, config.tls_listen, tls=True)
        if config.admin_listen is not None:
            admin = web.Application()
            admin.router.add_get("/metrics", self._metrics)
            admin.router.add_get("/healthz", self._healthz)
            admin.router.add_get("/readyz", self._readyz)
            await self._start_app("admin", admin, config.admin_listen)
        for name, bound in self.addresses.items():
            logger.info("listening (%s) on %s", name, ", ".join(bound))
        self.ready = True
        logger.info("ready")

    async def stop(self) -> None:
        """Close the listeners, letting in-flight requests finish, the source and the pool."""
        self.ready = False  # /readyz answers 503 from now on
        runners, self._runners = self._runners, []
        # Drain: first every listener of the gateway closes (a new connection is refused
        # from here on), then the requests in flight get up to `shutdown_timeout` seconds to
        # finish (idle keep-alive connections are closed, busy ones after their response);
        # those still running then are cancelled. The admin listener closes last, so that
        # /metrics and /readyz answer during the drain.
        gateway_runners = [runner for runner in runners if runner.app is self.gateway.app]
        for runner in gateway_runners:
            for site in runner.sites:
                await site.stop()
        if gateway_runners:
            logger.info(
                "listeners closed; draining the requests in flight (for up to %g s)",
                self.config.shutdown_timeout,
            )
        for runner in gateway_runners:
            await runner.cleanup()
        for runner in runners:
            if runner not in gateway_runners:
                await runner.cleanup()
        if self.source is not None:
            await self.source.aclose()
        await self.gateway.aclose()


def _sockets(site: web.TCPSite) -> list[socket.socket]:
    # The asyncio.Server behind the site, to report the ports actually bound (port 0).
    server = getattr(site, "_server", None)
    return list(getattr(server, "sockets", None) or [])


async def open_server(config: ServeConfig) -> Server:
    """The Server of `config`: from its manifest files, or synced from its cluster.

    Raises:
        ManifestError, RouteTableError: the manifests do not load.
        SourceError: the cluster cannot be followed (e.g. no kubeconfig, or no
            kubernetes_asyncio).
    """
    if config.cluster is None:
        return Server(config)
    try:
        # kubernetes_asyncio is needed only to follow a cluster (the `kubernetes` extra).
        from ingresslib._serve_cluster import start_cluster_source  # noqa: PLC0415
    except ImportError as error:
        raise SourceError(
            f"following a cluster needs kubernetes_asyncio ({error}): "
            "pip install 'ingresslib[serve,kubernetes]'"
        ) from error
    source, snapshot = await start_cluster_source(config)
    try:
        return Server(config, snapshot, source)
    except BaseException:
        await source.aclose()
        raise


async def _serve(config: ServeConfig) -> int:
    try:
        server = await open_server(config)
    except (ManifestError, RouteTableError) as error:
        logger.error("the manifests do not load:\n%s", error)
        return 1
    except SourceError as error:
        logger.error("%s", error)
        return 1
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        try:
            await server.start()
        except OSError as error:
            logger.error("cannot listen: %s", error)
            await server.stop()
            return 1
        watcher = asyncio.create_task(server.watch())
        await stopping.wait()
        logger.info("shutting down")
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await server.stop()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    logger.info("stopped")
    return 0


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory of `ServeConfig.loop` (None: asyncio's default).

    Raises:
        ImportError: "uvloop" was asked for and is not installed.
    """
    if choice == "asyncio":
        return None
    try:
        import uvloop  # noqa: PLC0415 (optional: the `serve` extra brings it where it builds)
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def serve(config: ServeConfig) -> int:
    """Serve until SIGINT or SIGTERM; return the exit status (0 after a clean shutdown).

    Raises:
        ImportError: `config.loop` is "uvloop" and uvloop is not installed.
    """
    factory = loop_factory(config.loop)
    # PERF: uvloop's event loop and transports take ~15 % off the CPU time of a proxied
    # request here (docs/benchmarks.md).
    name = "asyncio" if factory is None else "uvloop"
    logger.info("event loop: %s", name)
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(_serve(config))
    # Python 3.10: asyncio.run() takes no loop factory; this is what it does, with one.
    loop = (factory or asyncio.new_event_loop)()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(_serve(config))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
