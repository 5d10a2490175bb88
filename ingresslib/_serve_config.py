"""What `ingresslib serve` serves: its configuration and the snapshots it swaps in.

Shared by `ingresslib._serve` (the files, the listeners) and `ingresslib._serve_cluster` (a live
cluster as the source), which imports this module instead of `_serve`: the arrows point from
`_serve` to `_serve_cluster` to here, never back (tests/test_layers.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from ingresslib.endpoints import EndpointIndex
from ingresslib.proxy._headers import TrustedProxies
from ingresslib.ratelimit import LimitReq
from ingresslib.resources import ResourceSet
from ingresslib.routing import LintFinding, RouteTable, lint
from ingresslib.tls import CertificateStore, certificate_sources

__all__ = [
    "Address",
    "ClusterConfig",
    "ServeConfig",
    "Snapshot",
    "SourceError",
    "assemble_snapshot",
]


@attrs.frozen
class Address:
    """A listening address: host and TCP port (0: any free port)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@attrs.frozen
class ClusterConfig:
    """Where `ingresslib serve --kubeconfig/--in-cluster` finds its cluster, and what it writes.

    Attributes:
        kubeconfig: the kubeconfig file (None: the default one, `$KUBECONFIG` or
            `~/.kube/config`), unless `in_cluster`.
        in_cluster: use the pod's service account (`KUBERNETES_SERVICE_HOST` and the token
            mounted under /var/run/secrets/kubernetes.io/serviceaccount).
        context: the kubeconfig context, when not the current one.
        namespaces: watch only these namespaces (None: all of them).
        publish_status_addresses: IPs or hostnames written to `status.loadBalancer.ingress`
            of the Ingresses served (empty: no status is written).
        publish_service: "namespace/name" of the Service in front of the gateway, whose
            addresses become the status of the Ingresses served (exclusive with
            `publish_status_addresses`).
        election_id: the name of the coordination.k8s.io Lease that elects the one replica
            writing status.
        election_namespace: the Lease's namespace (None: the pod's namespace in-cluster,
            else "default").
    """

    kubeconfig: str | None = None
    in_cluster: bool = False
    context: str | None = None
    namespaces: tuple[str, ...] | None = None
    publish_status_addresses: tuple[str, ...] = ()
    publish_service: str | None = None
    election_id: str = "ingresslib-leader"
    election_namespace: str | None = None


@attrs.frozen
class ServeConfig:
    """What `ingresslib serve` serves and how.

    Attributes:
        paths: manifest files or directories (read recursively, like `load_manifests`).
        cluster: follow a cluster instead of files (`paths` is then empty).
        listen: the plain-HTTP listener.
        tls_listen: the TLS listener (None: no TLS, and no redirect of TLS hosts to https).
        admin_listen: `/metrics` and `/healthz` (None: no admin listener).
        namespace, controller, ingress_class, watch_without_class, implementation_specific:
            as for `RouteTable.build` and `load_manifests`.
        rate_limit: the limit per client address (None: no rate limit).
        trusted_proxies: CIDRs of the proxies in front whose X-Forwarded-For names the
            client (for the rate limit's key and upstream); default: nobody.
        allow_loopback_endpoints: accept EndpointSlice addresses on loopback (local use).
        poll_interval: seconds between two looks at the manifest files.
        shutdown_timeout: seconds in-flight requests get to finish at shutdown.
        loop: the event loop: "uvloop", "asyncio", or "auto" (uvloop when it is installed,
            as it is with the `serve` extra on Linux and macOS).
    """

    paths: tuple[str, ...]
    cluster: ClusterConfig | None = None
    listen: Address = Address("127.0.0.1", 8080)
    tls_listen: Address | None = Address("127.0.0.1", 8443)
    admin_listen: Address | None = Address("127.0.0.1", 9100)
    namespace: str = "default"
    controller: str | None = None
    ingress_class: str | None = None
    watch_without_class: bool = False
    implementation_specific: str = "prefix"
    rate_limit: LimitReq | None = None
    trusted_proxies: tuple[str, ...] = attrs.field(
        default=(), validator=lambda _, __, value: TrustedProxies.parse(value)
    )
    allow_loopback_endpoints: bool = False
    poll_interval: float = 0.5
    shutdown_timeout: float = 10.0
    loop: Literal["auto", "asyncio", "uvloop"] = "auto"


@attrs.frozen
class Snapshot:
    """One consistent configuration built from the manifests.

    Attributes:
        resources: what was loaded.
        table: the routes.
        index: the Services and EndpointSlices.
        certificates: the TLS certificates by host.
        warnings: skipped documents, certificate problems and lint findings, readable.
    """

    resources: ResourceSet
    table: RouteTable
    index: EndpointIndex
    certificates: CertificateStore
    warnings: tuple[str, ...]


def assemble_snapshot(
    resources: ResourceSet,
    table: RouteTable,
    index: EndpointIndex,
    certificates: CertificateStore | None = None,
    findings: Sequence[LintFinding] | None = None,
) -> Snapshot:
    """A snapshot of `resources` already routed and indexed; warnings gathered.

    Args:
        resources: the loaded objects.
        table: their routes.
        index: their Services and EndpointSlices.
        certificates: the store, when the caller has an up-to-date one (else it is built
            from `certificate_sources(table, resources)`).
        findings: `lint(table, resources)`, when the caller has it (else it is computed).
    """
    if certificates is None:
        certificates = CertificateStore.build(certificate_sources(table, resources))
    if findings is None:
        findings = lint(table, resources)
    warnings = [str(skipped) for skipped in resources.skipped]
    warnings += [f"certificate: {problem}" for problem in certificates.problems]
    warnings += [str(finding) for finding in findings]
    return Snapshot(resources, table, index, certificates, tuple(warnings))


class SourceError(Exception):
    """The configuration source cannot be used (the message says why)."""
