"""Service + EndpointSlices -> EndpointSet for one backend port, as kube-proxy reads them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal

import attrs

from ingresslib.endpoints._model import Endpoint, EndpointSet, Resolution, Unresolved
from ingresslib.resources._core import Service, ServicePort
from ingresslib.resources._discovery import Endpoint as SliceEndpoint
from ingresslib.resources._discovery import EndpointSlice
from ingresslib.resources._networking import IngressBackend, ServiceBackendPort

__all__ = ["EndpointIndex", "resolve_endpoints"]


def _service_port(service: Service, port: ServiceBackendPort) -> ServicePort | None:
    if port.name:
        return service.port_by_name(port.name)
    return service.port_by_number(port.number)


@attrs.frozen
class _Candidate:
    endpoint: Endpoint
    zones: tuple[str, ...]
    nodes: tuple[str, ...]


def _convert(endpoint: SliceEndpoint, address: str, port: int, publish: bool) -> _Candidate:
    conditions = endpoint.conditions
    # "ready ... A nil value should be interpreted as "true"." publishNotReadyAddresses:
    # "endpoints ... should be published ... regardless of their readiness".
    ready = publish or conditions.ready is not False
    # "serving ... A nil value should be interpreted as "true"." (kube-proxy:
    # `Serving == nil || *Serving`).
    serving = conditions.serving is not False
    # "terminating ... A nil value should be interpreted as "false"."
    terminating = conditions.terminating is True
    hints = endpoint.hints
    target = Endpoint(
        address=address,
        port=port,
        zone=endpoint.zone,
        node_name=endpoint.node_name,
        hostname=endpoint.hostname,
        ready=ready,
        serving=serving or publish,
        terminating=terminating and not publish,
    )
    if hints is None:
        return _Candidate(target, (), ())
    return _Candidate(
        target, tuple(z.name for z in hints.for_zones), tuple(n.name for n in hints.for_nodes)
    )


def resolve_endpoints(
    service: Service | None,
    slices: Iterable[EndpointSlice],
    port: ServiceBackendPort,
    *,
    zone: str | None = None,
    node_name: str | None = None,
) -> Resolution:
    """Resolve one Service port to the endpoints traffic may go to.

    Args:
        service: the Service (None when it does not exist).
        slices: EndpointSlices; those of other Services (by the
            `kubernetes.io/service-name` label and namespace) are ignored.
        port: the backend's Service port, by number or name.
        zone: the gateway's own zone, for topology hints (None: hints are not used).
        node_name: the gateway's node, for `PreferSameNode` hints.

    Returns:
        An `EndpointSet`, or an `Unresolved` saying why there is none.
    """
    if service is None:
        return Unresolved("service-not-found", "the Service does not exist")
    ref = f"{service.metadata.namespace}/{service.metadata.name}"
    wanted = port.name or str(port.number)
    service_port = _service_port(service, port)
    if service.effective_type == "ExternalName":
        # An ExternalName Service is a DNS alias: its name is the only endpoint, on the
        # Service port's number (or the backend's own number when the Service lists none).
        number = service_port.port if service_port is not None else port.number
        if not number:
            return Unresolved("port-not-found", f"Service {ref} has no port {wanted}")
        target = Endpoint(address=service.spec.external_name.removesuffix("."), port=number)
        return EndpointSet(service=ref, port=wanted, endpoints=(target,), address_type="FQDN")
    if service_port is None:
        return Unresolved("port-not-found", f"Service {ref} has no port {wanted}")
    publish = service.spec.publish_not_ready_addresses
    # The Service port maps to the EndpointSlice port of the same name ("" for unnamed).
    port_name = service_port.name
    found_slice = False
    merged: dict[tuple[str, int], _Candidate] = {}
    families: set[str] = set()
    # PERF-irrelevant but deterministic: slices in name order, so duplicates resolve alike.
    for slice_ in sorted(slices, key=lambda s: s.metadata.name):
        if (
            slice_.service_name != service.metadata.name
            or slice_.metadata.namespace != service.metadata.namespace
        ):
            continue
        found_slice = True
        slice_port = next(
            (p.port for p in slice_.ports if (p.name or "") == port_name and p.port), None
        )
        if slice_port is None:
            continue
        families.add(slice_.address_type)
        for slice_endpoint in slice_.endpoints:
            for address in slice_endpoint.addresses[:1]:
                # "addresses ... Consumers must handle different types of addresses in the
                # context of their own capabilities. This must contain at least one address
                # but no more than 100 ... These are all assumed to be fungible": one target.
                converted = _convert(slice_endpoint, address, slice_port, publish)
                key = (address, slice_port)
                seen = merged.get(key)
                # An endpoint may appear in two slices while the controller moves it;
                # keep the readier copy.
                if seen is None or (converted.endpoint.ready and not seen.endpoint.ready):
                    merged[key] = converted
    if not found_slice:
        return Unresolved("no-endpoint-slices", f"Service {ref} has no EndpointSlices")
    candidates = list(merged.values())
    # kube-proxy: use ready endpoints; only when there are none, serving-and-terminating.
    chosen = [c for c in candidates if c.endpoint.ready]
    fallback = False
    if not chosen:
        chosen = [c for c in candidates if c.endpoint.serving and c.endpoint.terminating]
        fallback = bool(chosen)
    if not chosen:
        return Unresolved("no-endpoints", f"Service {ref} port {wanted} has no ready endpoint")
    topology: Literal["zone", "node"] | None = None
    # kube-proxy decides the topology mode from ready endpoints only: a fallback set of
    # terminating endpoints is never narrowed by hints.
    narrowed = None if fallback else _by_hints(chosen, zone=zone, node_name=node_name)
    if narrowed is not None:
        chosen, topology = narrowed
    address_type = families.pop() if len(families) == 1 else "mixed"
    return EndpointSet(
        service=ref,
        port=wanted,
        endpoints=tuple(c.endpoint for c in chosen),
        address_type=address_type,
        fallback=fallback,
        topology=topology,
    )


def _by_hints(
    chosen: list[_Candidate], *, zone: str | None, node_name: str | None
) -> tuple[list[_Candidate], Literal["zone", "node"]] | None:
    """kube-proxy's all-or-nothing rule for topology hints.

    Hints are honoured only if every endpoint in use has one, and some endpoint's hint
    names the local node (PreferSameNode) or zone; otherwise every endpoint is used.
    """
    if node_name is not None and all(c.nodes for c in chosen):
        local = [c for c in chosen if node_name in c.nodes]
        if local:
            return local, "node"
    if zone is not None and all(c.zones for c in chosen):
        local = [c for c in chosen if zone in c.zones]
        if local:
            return local, "zone"
    return None


@attrs.frozen
class EndpointIndex:
    """Services and EndpointSlices indexed for resolving Ingress backends.

    Build one per resource snapshot: `EndpointIndex.build(resources, zone="zone-a")`.
    """

    services: Mapping[tuple[str, str], Service]
    slices: Mapping[tuple[str, str], tuple[EndpointSlice, ...]]
    zone: str | None = None
    node_name: str | None = None

    @classmethod
    def build(
        cls, resources: Iterable[object], *, zone: str | None = None, node_name: str | None = None
    ) -> EndpointIndex:
        """Index the Services and EndpointSlices among `resources`."""
        services: dict[tuple[str, str], Service] = {}
        slices: dict[tuple[str, str], list[EndpointSlice]] = {}
        for resource in resources:
            if isinstance(resource, Service):
                services[(resource.metadata.namespace, resource.metadata.name)] = resource
            elif isinstance(resource, EndpointSlice) and resource.service_name:
                key = (resource.metadata.namespace, resource.service_name)
                slices.setdefault(key, []).append(resource)
        return cls(
            services=services,
            slices={key: tuple(value) for key, value in slices.items()},
            zone=zone,
            node_name=node_name,
        )

    def resolve(self, namespace: str, backend: IngressBackend) -> Resolution:
        """Resolve an Ingress backend of an Ingress in `namespace`."""
        if backend.service is None:
            return Unresolved(
                "not-a-service", f"backend {backend.describe()} is a resource, not a Service"
            )
        key = (namespace, backend.service.name)
        return resolve_endpoints(
            self.services.get(key),
            self.slices.get(key, ()),
            backend.service.port,
            zone=self.zone,
            node_name=self.node_name,
        )
