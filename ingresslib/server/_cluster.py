"""`ingresslib serve --kubeconfig PATH | --in-cluster`: the gateway's configuration from a cluster.

`ClusterSource` runs an `ingresslib.kubernetes.Watcher` (LIST + WATCH of Ingresses,
IngressClasses, Services, EndpointSlices and Secrets) and turns each of its snapshots into the
`Snapshot` a `Server` serves: the watcher's table and endpoint index as they are, and the TLS
certificates of the Ingresses it routes — rebuilt only when those Ingresses' `tls` sections or
the Secrets they name changed, since an EndpointSlice change (the common event) touches no
certificate. Objects the cluster holds but ingresslib rejects are logged by the watcher and left
out; the gateway keeps serving everything else.

With `publish_status_addresses` (or `publish_service`), a `LeaderElector` contends for a
coordination.k8s.io Lease and the replica holding it writes those addresses (or the Service's)
to `status.loadBalancer.ingress` of the Ingresses served (`StatusWriter`), as ingress-nginx's
`--publish-status-address` (`--publish-service`) does.

`start_cluster_source(config)` waits for the first complete LIST of every kind before it returns
the source and its first snapshot, so that the `Server` made of them never opens its listeners
on a partial view of the cluster.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from ingresslib.kubernetes import GatewayStatusWriter, LeaderElector, StatusWriter, Watcher
from ingresslib.kubernetes import Snapshot as ClusterSnapshot
from ingresslib.kubernetes._client import require_kubernetes_asyncio
from ingresslib.plugins import PathMatcherError
from ingresslib.resources import Ingress, Resource, ResourceSet, Secret, Service
from ingresslib.routing import LintFinding, RouteTable, lint
from ingresslib.server._config import (
    ClusterConfig,
    ServeConfig,
    Snapshot,
    SourceError,
    assemble_snapshot,
    build_table,
)
from ingresslib.tls import CertificateStore

__all__ = ["ClusterSource", "election_namespace", "start_cluster_source"]

logger = logging.getLogger("ingresslib.serve")

#: Where a pod finds its own namespace ("the namespace of the service account").
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")

# Stores with at least this many TLS Ingresses get their certificates loaded in a thread.
_THREAD_THRESHOLD = 50
# Tables with at least this many Ingresses are linted in a thread (~2 ms per 1,000).
_LINT_THREAD_THRESHOLD = 500

_CertificateKey = tuple[tuple[Any, ...], tuple[tuple[tuple[str, str], Secret], ...]]


def election_namespace(cluster: ClusterConfig) -> str:
    """The Lease's namespace.

    As configured; else the pod's own (`POD_NAMESPACE`, or the service account's); else
    "default".
    """
    if cluster.election_namespace:
        return cluster.election_namespace
    if os.environ.get("POD_NAMESPACE"):
        return os.environ["POD_NAMESPACE"]
    if cluster.in_cluster:
        try:
            return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
        except OSError:
            pass
    return "default"


def _split_addresses(addresses: Sequence[str]) -> tuple[list[str], list[str]]:
    """`status.loadBalancer.ingress` entries: IP addresses as `ip`, the rest as `hostname`."""
    ips: list[str] = []
    hostnames: list[str] = []
    for address in addresses:
        try:
            ips.append(str(ipaddress.ip_address(address)))
        except ValueError:  # noqa: PERF203 (a handful of addresses, read once at start)
            hostnames.append(address)
    return ips, hostnames


def _kube_config(cluster: ClusterConfig) -> object:
    """What the watcher connects with: an in-cluster Configuration, or a kubeconfig path."""
    if not cluster.in_cluster:
        return cluster.kubeconfig
    k8s = require_kubernetes_asyncio()
    configuration = k8s.client.Configuration()
    try:
        # The token is re-read when it is rotated (bound service-account tokens expire).
        k8s.config.load_incluster_config(client_configuration=configuration)
    except k8s.config.ConfigException as error:
        raise SourceError(f"--in-cluster: {error}") from error
    return configuration


def _certificate_inputs(
    table_ingresses: Sequence[Ingress], resources: Sequence[Resource]
) -> tuple[list[Resource], _CertificateKey]:
    """The Ingresses with `tls` and the Secrets they name; and a key equal while they are."""
    ingresses = [ingress for ingress in table_ingresses if ingress.spec.tls]
    named = {
        (ingress.metadata.namespace, tls.secret_name)
        for ingress in ingresses
        for tls in ingress.spec.tls
        if tls.secret_name
    }
    secrets = {
        (resource.metadata.namespace, resource.metadata.name): resource
        for resource in resources
        if isinstance(resource, Secret)
        and (resource.metadata.namespace, resource.metadata.name) in named
    }
    key: _CertificateKey = (
        tuple(
            (i.metadata.namespace, i.metadata.name, i.metadata.creation_timestamp, i.spec.tls)
            for i in ingresses
        ),
        tuple(sorted(secrets.items(), key=lambda item: item[0])),
    )
    return [*ingresses, *secrets.values()], key


class ClusterSource:
    """The configurations of a live cluster, as `Server` snapshots (a `SnapshotSource`).

    Args:
        config: the serve configuration; `config.cluster` says where the cluster is.
    """

    def __init__(self, config: ServeConfig) -> None:
        cluster = config.cluster
        if cluster is None:
            raise ValueError("ClusterSource needs a ServeConfig with `cluster` set")
        self.config = config
        kube = _kube_config(cluster)
        try:
            self.watcher = Watcher(
                kube,
                namespaces=cluster.namespaces,
                controller=config.controller,
                ingress_class=config.ingress_class,
                watch_without_class=config.watch_without_class,
                implementation_specific=config.implementation_specific,
                context=cluster.context,
            )
        except PathMatcherError as error:
            raise SourceError(str(error)) from error
        self.elector: LeaderElector | None = None
        self.status: StatusWriter | None = None
        if cluster.publish_status_addresses or cluster.publish_service:
            ips, hostnames = _split_addresses(cluster.publish_status_addresses)
            self.elector = LeaderElector(
                kube,
                name=cluster.election_id,
                namespace=election_namespace(cluster),
                context=cluster.context,
            )
            try:
                self.status = StatusWriter(
                    self.watcher,
                    self.elector,
                    ips=ips,
                    hostnames=hostnames,
                    publish_service=cluster.publish_service,
                )
            except ValueError as error:
                raise SourceError(str(error)) from error
        # Gateway API mode with a controller: the leader writes the Gateway API status of
        # our classes (ingresslib.kubernetes.GatewayStatusWriter), with the addresses the
        # Ingress status writer publishes.
        self.gateway_status: GatewayStatusWriter | None = None
        if config.gateways and config.controller:
            if self.elector is None:
                self.elector = LeaderElector(
                    kube,
                    name=cluster.election_id,
                    namespace=election_namespace(cluster),
                    context=cluster.context,
                )
            self.gateway_status = GatewayStatusWriter(
                self.watcher,
                self.elector,
                controller=config.controller,
                addresses_from=self.status,
            )
        self._generation = 0
        self._certificates: tuple[_CertificateKey, CertificateStore] | None = None
        self._lint: tuple[RouteTable, tuple[Service, ...], list[LintFinding]] | None = None

    async def start(self) -> Snapshot:
        """Connect, wait for the first complete view of the cluster and return it.

        Raises:
            SourceError: the kubeconfig cannot be loaded.
        """
        k8s = require_kubernetes_asyncio()
        try:
            await self.watcher.start()
        except (OSError, k8s.config.ConfigException) as error:
            await self.watcher.stop()
            raise SourceError(f"cannot load the cluster configuration: {error}") from error
        first = await self.watcher.wait_synced()
        if self.elector is not None:
            await self.elector.start()
        if self.status is not None:
            await self.status.start()
        if self.gateway_status is not None:
            await self.gateway_status.start()
        self._generation = first.generation
        return await self._convert(first)

    async def snapshots(self) -> AsyncIterator[Snapshot]:
        """Yield a `Server` snapshot for each watcher snapshot after the first."""
        async for snapshot in self.watcher.snapshots():
            if snapshot.generation <= self._generation:
                continue
            self._generation = snapshot.generation
            yield await self._convert(snapshot)

    async def aclose(self) -> None:
        """Stop writing status (releasing the Lease) and watching."""
        if self.gateway_status is not None:
            await self.gateway_status.stop()
        if self.status is not None:
            await self.status.stop()
        if self.elector is not None:
            await self.elector.stop()
        await self.watcher.stop()

    async def _convert(self, snapshot: ClusterSnapshot) -> Snapshot:
        if self.config.gateways:
            # Gateway API mode: the Gateways' listeners, from the Gateway API objects the
            # watcher follows (when their CRDs are installed).
            resources = ResourceSet(snapshot.resources)
            table, gateway_certificates, notes = build_table(resources, self.config)
            served = assemble_snapshot(
                resources, table, snapshot.endpoints, gateway_certificates, ()
            )
            return attrs.evolve(served, warnings=(*notes, *served.warnings))
        sources, key = _certificate_inputs(snapshot.table.ingresses, snapshot.resources)
        cached = self._certificates
        if cached is not None and cached[0] == key:
            certificates = cached[1]
        else:
            # PERF: loading a certificate (an SSLContext each) costs about a millisecond;
            # many of them are loaded off the event loop.
            if len(key[0]) >= _THREAD_THRESHOLD:
                certificates = await asyncio.to_thread(CertificateStore.build, sources)
            else:
                certificates = CertificateStore.build(sources)
            self._certificates = (key, certificates)
        # PERF: lint reads the table and the Services only; an EndpointSlice or Secret change
        # (most snapshots) keeps both, and its findings are reused rather than recomputed.
        services = tuple(r for r in snapshot.resources if isinstance(r, Service))
        linted = self._lint
        if linted is not None and linted[0] is snapshot.table and linted[1] == services:
            findings = linted[2]
        elif len(snapshot.table.ingresses) >= _LINT_THREAD_THRESHOLD:
            findings = await asyncio.to_thread(lint, snapshot.table, services)
        else:
            findings = lint(snapshot.table, services)
        self._lint = (snapshot.table, services, findings)
        served = assemble_snapshot(
            ResourceSet(snapshot.resources),
            snapshot.table,
            snapshot.endpoints,
            certificates,
            findings,
        )
        if snapshot.rejected:
            rejected = tuple(
                f"Ingress {i.metadata.namespace}/{i.metadata.name}: left out, a path matcher "
                "rejected one of its paths"
                for i in snapshot.rejected
            )
            served = attrs.evolve(served, warnings=served.warnings + rejected)
        return served


async def start_cluster_source(config: ServeConfig) -> tuple[ClusterSource, Snapshot]:
    """A started `ClusterSource` and its first snapshot: the cluster's, once it is synced.

    `ingresslib.server.open_server` makes the `Server` of them (this module does not import
    `ingresslib.server._server`, which imports it).

    Raises:
        SourceError: the cluster configuration cannot be loaded.
    """
    source = ClusterSource(config)
    cluster = config.cluster
    assert cluster is not None  # ClusterSource checked it
    where = "in-cluster" if cluster.in_cluster else (cluster.kubeconfig or "the default kubeconfig")
    logger.info("following the cluster (%s); waiting for the first sync", where)
    return source, await source.start()
