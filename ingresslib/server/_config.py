"""What `ingresslib serve` serves: its configuration and the snapshots it swaps in.

The bottom of `ingresslib.server`: the sources (`_files`, `_cluster`) build `Snapshot`s, the
`Server` (`_server`) serves them; this module imports none of them, nor aiohttp. The command
line's spellings of an address and a rate limit are parsed here too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

import attrs

from ingresslib.endpoints import EndpointIndex
from ingresslib.gatewayapi import GatewayFrontEnd, ListenerState
from ingresslib.proxy import TrustedProxies
from ingresslib.ratelimit import LimitReq
from ingresslib.resources import ResourceSet
from ingresslib.routing import LintFinding, RouteTable, ScopedRouteTable, lint
from ingresslib.rules import Scope
from ingresslib.tls import CertificateStore, certificate_sources

__all__ = [
    "Address",
    "ClusterConfig",
    "ServeConfig",
    "Snapshot",
    "SourceError",
    "assemble_snapshot",
    "parse_address",
    "parse_rate_limit",
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
        gateways: Gateway API mode: serve these Gateways ("namespace/name"; with a
            `controller`, only those whose GatewayClass names it) instead of Ingresses,
            one listening socket per Gateway listener port.
        listener_ports: (Gateway listener port, local port) pairs: where each listener
            port is bound (a non-root local run maps 80 to 8080); a port not named is
            bound as it is.
        gateway_host: the local address Gateway listener ports are bound on.
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
    gateways: tuple[str, ...] = ()
    listener_ports: tuple[tuple[int, int], ...] = ()
    gateway_host: str = "127.0.0.1"

    def local_port(self, listener_port: int) -> int:
        """The local port a Gateway listener port is bound on."""
        return dict(self.listener_ports).get(listener_port, listener_port)


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
    # The annotations' problems: a value ignored, paths answering 503, an Ingress refused
    # (ingresslib.ingress.annotations); logged once, while they stand.
    warnings += [
        f"annotation: {problem.object_ref}: {problem.field}: {problem.reason}"
        for problem in table.annotation_problems
    ]
    warnings += [f"{ingress.ref}: not routed: {why}" for ingress, why in table.refused_ingresses]
    return Snapshot(resources, table, index, certificates, tuple(warnings))


class SourceError(Exception):
    """The configuration source cannot be used (the message says why)."""


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


def parse_listener_port(value: str) -> tuple[int, int]:
    """Parse `LISTENER=LOCAL` (e.g. `80=8080`): where a Gateway listener port is bound.

    Raises:
        ValueError: not two ports.
    """
    listener, sep, local = value.partition("=")
    if not sep or not listener.isdigit() or not local.isdigit():
        raise ValueError(f"expected LISTENER_PORT=LOCAL_PORT, not {value!r}")
    ports = int(listener), int(local)
    if not all(0 < port < 65536 for port in ports):
        raise ValueError(f"ports are 1..65535, not {value!r}")
    return ports


def build_table(
    resources: ResourceSet, config: ServeConfig
) -> tuple[RouteTable, CertificateStore | None, list[str]]:
    """The table `config` serves: its Ingresses, or its Gateways' listeners merged.

    Returns:
        The table; for Gateways, the certificates of their HTTPS listeners (None for
        Ingress: they come from the Ingresses' TLS sections) and what was left out.

    Raises:
        RouteTableError: the table cannot be built (e.g. an unknown path matcher).
        GatewayNotFoundError: a Gateway of `config.gateways` is not among the resources.
    """
    if not config.gateways:
        table = RouteTable.build(
            resources,
            controller=config.controller,
            ingress_class=config.ingress_class,
            watch_without_class=config.watch_without_class,
            implementation_specific=config.implementation_specific,
        )
        return table, None, []
    scopes: list[Scope] = []
    listeners: list[ListenerState] = []
    notes: list[str] = []
    taken: dict[tuple[int, str], str] = {}
    fronts = [
        GatewayFrontEnd.build(resources, key, controller=config.controller)
        for key in config.gateways
    ]
    for key, front in zip(config.gateways, fronts, strict=True):
        if not front.served:
            notes.append(f"Gateway {key}: its GatewayClass is not ours: not served")
        for scope in front.scopes:
            # Listeners of several Gateways on one port share it; two with one hostname
            # are not distinct: the first Gateway named keeps it.
            owner = taken.setdefault((scope.port, scope.hostname), key)
            if owner != key:
                notes.append(
                    f"Gateway {key}: listener {scope.name} (port {scope.port}, hostname "
                    f"{scope.hostname or '-'}) conflicts with Gateway {owner}: not served"
                )
                continue
            scopes.append(scope)
        listeners.extend(s for s in front.attachment.listeners if s.accepted)
    table = ScopedRouteTable.from_scopes(scopes, gateway=fronts[0] if len(fronts) == 1 else fronts)
    return table, CertificateStore.from_listeners(listeners), notes


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
