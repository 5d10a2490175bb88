"""`Server`: a running `ingresslib serve`, tying its parts together.

The snapshot comes from the manifest files (`_files`) or a cluster (`_cluster`); it is served by
the gateway (`_gateway`) on the listeners (`_listeners`), counted in the metrics (`_metrics`)
and shown on the admin listener (`_admin`). A new snapshot is swapped into the gateway at
once (table, endpoints, certificates); an invalid set of files keeps the last good one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Protocol

from ingresslib.aiohttp import ReverseProxy
from ingresslib.gatewayapi import GatewayNotFoundError
from ingresslib.ratelimit import MemoryLimiter, RefusalHeaders
from ingresslib.resources import ManifestError
from ingresslib.routing import RouteTableError, ScopedRouteTable
from ingresslib.server._admin import admin_app
from ingresslib.server._config import Address, ServeConfig, Snapshot, SourceError
from ingresslib.server._files import build_snapshot, file_changes, signature
from ingresslib.server._gateway import ServeProxy, limit_middleware, observe_middleware
from ingresslib.server._listeners import Listeners
from ingresslib.server._metrics import Metrics, SeriesCache

__all__ = ["Server", "SnapshotSource", "open_server"]

logger = logging.getLogger("ingresslib.serve")


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
        self._signature = signature(config.paths)
        self.snapshot = snapshot if snapshot is not None else build_snapshot(config)
        self.generation = 1
        self.limiter = None if config.rate_limit is None else MemoryLimiter(config.rate_limit)
        self._refusal = RefusalHeaders(
            None if config.rate_limit is None else config.rate_limit.policy("default")
        )
        tls = config.tls_listen
        gateway = ServeProxy(
            self.snapshot.table,
            self.snapshot.index,
            self.snapshot.certificates,
            namespace=config.namespace,
            https_redirect=tls is not None,
            https_port=tls.port if tls is not None and tls.port else 443,
            trusted_proxies=config.trusted_proxies,
            listener_ports={
                config.local_port(port): port for port in _gateway_ports(self.snapshot)
            },
        )
        gateway.metrics = self.metrics
        self._series = SeriesCache(self.metrics, config.namespace)
        gateway.app.middlewares.append(observe_middleware(self._series))
        if self.limiter is not None:
            gateway.app.middlewares.append(
                limit_middleware(
                    gateway, self.limiter, self._refusal, self.metrics, config.namespace
                )
            )
        self.gateway: ReverseProxy = gateway
        self.metrics.routes.set(len(self.snapshot.table))
        self.metrics.last_reload_ok.set(1)
        self._listeners = Listeners(config.shutdown_timeout)
        self.ready = False

    @property
    def addresses(self) -> dict[str, list[str]]:
        """The addresses bound, by listener name ("http", "https", "admin")."""
        return self._listeners.addresses

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
        except (ManifestError, RouteTableError, GatewayNotFoundError) as error:
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
        self._series.clear()  # let the old table's matches go
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
        changes = file_changes(self.config.paths, self.config.poll_interval, self._signature)
        async with contextlib.aclosing(changes):
            async for self._signature in changes:
                await self.reload()

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the listeners."""
        self._log_snapshot(self.snapshot, "loaded")
        config = self.config
        listeners = self._listeners
        if config.gateways:
            # One listening socket per Gateway listener port (bound where `listener_ports`
            # says); a port with an HTTPS listener serves TLS, certificates by SNI.
            table = self.snapshot.table
            for port in sorted(_gateway_ports(self.snapshot)):
                https = isinstance(table, ScopedRouteTable) and any(
                    s.port == port and s.protocol == "HTTPS" for s in table.scopes
                )
                await listeners.start(
                    f"gateway:{port}",
                    self.gateway.app,
                    Address(config.gateway_host, config.local_port(port)),
                    self.gateway.ssl_context() if https else None,
                )
        else:
            await listeners.start("http", self.gateway.app, config.listen)
            if config.tls_listen is not None:
                ssl_context = self.gateway.ssl_context()
                await listeners.start("https", self.gateway.app, config.tls_listen, ssl_context)
        if config.admin_listen is not None:
            admin = admin_app(self.metrics, lambda: self.ready)
            await listeners.start("admin", admin, config.admin_listen)
        for name, bound in self.addresses.items():
            logger.info("listening (%s) on %s", name, ", ".join(bound))
        self.ready = True
        logger.info("ready")

    async def stop(self) -> None:
        """Close the listeners, letting in-flight requests finish, the source and the pool."""
        self.ready = False  # /readyz answers 503 from now on
        # Drain: the gateway's listeners first, the admin listener last (`Listeners.stop`).
        await self._listeners.stop(self.gateway.app)
        if self.source is not None:
            await self.source.aclose()
        await self.gateway.aclose()


def _gateway_ports(snapshot: Snapshot) -> set[int]:
    table = snapshot.table
    return {s.port for s in table.scopes} if isinstance(table, ScopedRouteTable) else set()


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
        from ingresslib.server._cluster import start_cluster_source  # noqa: PLC0415
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
