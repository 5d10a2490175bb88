"""Which routes attach to which listeners of a Gateway, which references resolve, and why.

One computation for routing (`ingresslib.gatewayapi.GatewayFrontEnd`) and for status
(`ingresslib.gateway_status`), so that what a Gateway serves and what its status says
never disagree. Pure: resources in, facts out. The quotes are the Gateway API spec
(`apis/v1/*_types.go`, v1.6).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ingresslib.resources._core import Namespace, Secret, Service
from ingresslib.resources._gateway import (
    GROUP,
    BackendObjectReference,
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPRoute,
    Listener,
    ParentReference,
    ReferenceGrant,
    RouteGroupKind,
    SecretObjectReference,
)
from ingresslib.resources._meta import age_key
from ingresslib.rules._hosts import intersect_hostnames, normalize_host

__all__ = [
    "NAMESPACE_NAME_LABEL",
    "SUPPORTED_PROTOCOLS",
    "AttachedListener",
    "BackendResolution",
    "GatewayAttachment",
    "ListenerState",
    "ParentAttachment",
    "Route",
    "attach",
    "reference_permitted",
    "resolve_backend",
    "route_order",
]

#: The kinds of routes ingresslib serves.
Route = HTTPRoute | GRPCRoute

#: "Protocol specifies the network protocol this listener expects to receive": the ones
#: ingresslib serves (TLS passthrough, TCP and UDP are not).
SUPPORTED_PROTOCOLS = frozenset({"HTTP", "HTTPS"})

#: The label the apiserver puts on every Namespace (so `Selector` can name namespaces).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

# "When unspecified or empty, the kinds of Routes selected are determined using the
# Listener protocol."
_PROTOCOL_KINDS: Mapping[str, tuple[RouteGroupKind, ...]] = {
    "HTTP": (RouteGroupKind(GROUP, "HTTPRoute"), RouteGroupKind(GROUP, "GRPCRoute")),
    "HTTPS": (RouteGroupKind(GROUP, "HTTPRoute"), RouteGroupKind(GROUP, "GRPCRoute")),
}
_SUPPORTED_KINDS = frozenset((k.group, k.kind) for k in _PROTOCOL_KINDS["HTTP"])


@attrs.frozen
class ListenerState:
    """A listener of the Gateway, with what its status reports.

    Attributes:
        gateway: its Gateway.
        index: its position in `spec.listeners`.
        listener: the listener.
        hostname: its hostname, normalised ("" when it has none).
        supported_kinds: the route kinds it accepts (and ingresslib serves).
        invalid_kinds: kinds of `allowedRoutes.kinds` ingresslib does not serve
            (ResolvedRefs False, InvalidRouteKinds).
        conflict: None, "HostnameConflict" or "ProtocolConflict" (Conflicted True).
        unsupported_protocol: whether ingresslib does not serve its protocol.
        certificate_problem: None, or (reason, message) of a certificateRef that does
            not resolve (ResolvedRefs False: InvalidCertificateRef, RefNotPermitted).
        certificates: the Secrets its certificateRefs resolve to.
    """

    gateway: Gateway = attrs.field(repr=False)
    index: int
    listener: Listener
    hostname: str
    supported_kinds: tuple[RouteGroupKind, ...]
    invalid_kinds: tuple[RouteGroupKind, ...] = ()
    conflict: str | None = None
    unsupported_protocol: bool = False
    certificate_problem: tuple[str, str] | None = None
    certificates: tuple[Secret, ...] = ()

    @property
    def name(self) -> str:
        """The listener's name."""
        return self.listener.name

    @property
    def field(self) -> str:
        """Its field path in the Gateway."""
        return f"spec.listeners[{self.index}]"

    @property
    def accepted(self) -> bool:
        """Whether it is accepted: a protocol ingresslib serves, and no conflict."""
        return not self.unsupported_protocol and self.conflict is None

    @property
    def programmed(self) -> bool:
        """Whether it serves: accepted, and its references resolve."""
        return self.accepted and self.certificate_problem is None and not self.invalid_kinds

    def allows_kind(self, group: str, kind: str) -> bool:
        """Whether a route of this group and kind may attach."""
        return any(k.group == group and k.kind == kind for k in self.supported_kinds)


@attrs.frozen
class AttachedListener:
    """A listener a route parent attached to, and the hostnames it serves there.

    Attributes:
        listener: the listener.
        hostnames: the intersection of the route's and the listener's hostnames ("" for
            every host: neither names one).
    """

    listener: ListenerState
    hostnames: tuple[str, ...]


@attrs.frozen
class ParentAttachment:
    """What became of one `parentRefs` entry of a route that names our Gateway.

    Attributes:
        route: the route.
        index: the position of the entry in `spec.parentRefs`.
        parent_ref: the entry.
        listeners: the listeners it attached to (empty: not accepted).
        accepted: whether the route is accepted by this parent.
        reason: the Accepted condition's reason ("Accepted", "NotAllowedByListeners",
            "NoMatchingListenerHostname", "NoMatchingParent").
        message: the condition's message.
    """

    route: Route = attrs.field(repr=lambda r: f"{r.kind} {r.metadata.namespace}/{r.metadata.name}")
    index: int
    parent_ref: ParentReference
    listeners: tuple[AttachedListener, ...]
    accepted: bool
    reason: str
    message: str


@attrs.frozen
class BackendResolution:
    """A backendRef (or a mirror's), resolved.

    Attributes:
        namespace: the referenced object's namespace (the route's when omitted).
        service: the Service, when the reference resolves to one.
        reason: None, or why it does not resolve: "InvalidKind" (not a core Service),
            "RefNotPermitted" (another namespace without a ReferenceGrant),
            "BackendNotFound" (no such Service, or no port given / no such port).
        message: a sentence for the condition and for 500 logs.
    """

    namespace: str
    service: Service | None = None
    reason: str | None = None
    message: str = ""


@attrs.frozen
class GatewayAttachment:
    """Everything one Gateway serves, and everything its status reports.

    Attributes:
        gateway: the Gateway.
        gateway_class: its GatewayClass (None when there is none of that name).
        listeners: its listeners, in spec order.
        parents: every `parentRefs` entry of every route that names the Gateway.
    """

    gateway: Gateway
    gateway_class: GatewayClass | None
    listeners: tuple[ListenerState, ...]
    parents: tuple[ParentAttachment, ...]

    def attached_routes(self, listener_name: str) -> int:
        """The number of routes attached to a listener (`status.listeners[].attachedRoutes`)."""
        return sum(
            1
            for parent in self.parents
            if parent.accepted and any(a.listener.name == listener_name for a in parent.listeners)
        )


def route_order(route: Route) -> tuple[Any, ...]:
    """The order of routes that tie, first wins (precedence, and HTTPRoute vs GRPCRoute).

    "If ties still exist across multiple Routes, matching precedence MUST be determined in
    order of the following criteria, continuing on ties: The oldest Route based on creation
    timestamp. The Route appearing first in alphabetical order by "{namespace}/{name}"."
    The string itself, not (namespace, name): "team-a/r" comes before "team/r".
    """
    meta = route.metadata
    return (age_key(route)[0], f"{meta.namespace}/{meta.name}")


def _namespace_labels(namespaces: Iterable[Namespace]) -> dict[str, Mapping[str, str]]:
    return {ns.metadata.name: ns.labels for ns in namespaces}


def reference_permitted(
    grants: Sequence[ReferenceGrant],
    *,
    from_group: str,
    from_kind: str,
    from_namespace: str,
    to_group: str,
    to_kind: str,
    to_namespace: str,
    to_name: str,
) -> bool:
    """Whether a reference is allowed (the same namespace, or a ReferenceGrant allows it).

    ReferenceGrant: "identifies kinds of resources in other namespaces that are trusted to
    reference the specified kinds of resources in the same namespace as the policy"; a
    `to` entry without a name allows "all resources of the specified Group and Kind in
    the local namespace".
    """
    if from_namespace == to_namespace:
        return True
    for grant in grants:
        if grant.metadata.namespace != to_namespace:
            continue
        if not any(
            f.group == from_group and f.kind == from_kind and f.namespace == from_namespace
            for f in grant.spec.from_
        ):
            continue
        if any(
            t.group == to_group and t.kind == to_kind and (not t.name or t.name == to_name)
            for t in grant.spec.to
        ):
            return True
    return False


def resolve_backend(
    ref: BackendObjectReference,
    route_kind: str,
    route_namespace: str,
    services: Mapping[tuple[str, str], Service],
    grants: Sequence[ReferenceGrant],
) -> BackendResolution:
    """Resolve a backendRef of a route (or the backendRef of a mirror).

    HTTPBackendRef: "BackendRefs can be invalid for the following reasons ... The
    `BackendRef.Kind` is not a kind that the implementation supports (reason
    InvalidKind) ... A ReferenceGrant does not allow the reference (reason
    RefNotPermitted) ... The BackendRef refers to a resource that does not exist
    (reason BackendNotFound)"; "Port is required when the referent is a Kubernetes
    Service."
    """
    namespace = ref.namespace or route_namespace
    if ref.group != "" or ref.kind != "Service":
        kind = f"{ref.group}/{ref.kind}" if ref.group else ref.kind
        return BackendResolution(namespace, None, "InvalidKind", f"unsupported backend kind {kind}")
    if not reference_permitted(
        grants,
        from_group=GROUP,
        from_kind=route_kind,
        from_namespace=route_namespace,
        to_group="",
        to_kind="Service",
        to_namespace=namespace,
        to_name=ref.name,
    ):
        return BackendResolution(
            namespace,
            None,
            "RefNotPermitted",
            f"no ReferenceGrant allows a reference to Service {namespace}/{ref.name}",
        )
    service = services.get((namespace, ref.name))
    if service is None:
        return BackendResolution(
            namespace, None, "BackendNotFound", f"Service {namespace}/{ref.name} not found"
        )
    if ref.port is None:
        return BackendResolution(
            namespace,
            service,
            "BackendNotFound",
            f"no port given for Service {namespace}/{ref.name}",
        )
    if service.spec.ports and service.port_by_number(ref.port) is None:
        return BackendResolution(
            namespace,
            service,
            "BackendNotFound",
            f"Service {namespace}/{ref.name} has no port {ref.port}",
        )
    return BackendResolution(namespace, service)


def _listener_states(
    gateway: Gateway,
    secrets: Mapping[tuple[str, str], Secret],
    grants: Sequence[ReferenceGrant],
) -> tuple[ListenerState, ...]:
    listeners = gateway.spec.listeners
    # "each listener in a set MUST have a unique combination of Port, Protocol, and, if
    # supported by the protocol, Hostname"; listeners sharing a port with another
    # protocol (HTTP and HTTPS on one port) conflict on the protocol.
    protocols_by_port: dict[int, set[str]] = defaultdict(set)
    claims: dict[tuple[int, str, str], int] = defaultdict(int)
    for listener in listeners:
        protocols_by_port[listener.port].add(listener.protocol)
        claims[(listener.port, listener.protocol, normalize_host(listener.hostname))] += 1
    states = []
    for index, listener in enumerate(listeners):
        hostname = normalize_host(listener.hostname)
        conflict = None
        if len(protocols_by_port[listener.port]) > 1:
            conflict = "ProtocolConflict"
        elif claims[(listener.port, listener.protocol, hostname)] > 1:
            conflict = "HostnameConflict"
        unsupported = listener.protocol not in SUPPORTED_PROTOCOLS
        allowed = listener.allowed_routes.kinds
        if allowed:
            supported = tuple(k for k in allowed if (k.group, k.kind) in _SUPPORTED_KINDS)
            invalid = tuple(k for k in allowed if (k.group, k.kind) not in _SUPPORTED_KINDS)
        else:
            supported, invalid = _PROTOCOL_KINDS.get(listener.protocol, ()), ()
        problem, certificates = _certificates(gateway, listener, secrets, grants)
        states.append(
            ListenerState(
                gateway=gateway,
                index=index,
                listener=listener,
                hostname=hostname,
                supported_kinds=supported,
                invalid_kinds=invalid,
                conflict=conflict,
                unsupported_protocol=unsupported,
                certificate_problem=problem,
                certificates=certificates,
            )
        )
    return tuple(states)


def _certificates(
    gateway: Gateway,
    listener: Listener,
    secrets: Mapping[tuple[str, str], Secret],
    grants: Sequence[ReferenceGrant],
) -> tuple[tuple[str, str] | None, tuple[Secret, ...]]:
    """Resolve an HTTPS listener's `tls.certificateRefs`."""
    if listener.protocol != "HTTPS" or listener.tls is None:
        return None, ()
    found: list[Secret] = []
    for ref in listener.tls.certificate_refs:
        problem = _certificate_problem(gateway, ref, secrets, grants)
        if problem is not None:
            return problem, ()
        namespace = ref.namespace or gateway.metadata.namespace
        found.append(secrets[(namespace, ref.name)])
    return None, tuple(found)


def _certificate_problem(
    gateway: Gateway,
    ref: SecretObjectReference,
    secrets: Mapping[tuple[str, str], Secret],
    grants: Sequence[ReferenceGrant],
) -> tuple[str, str] | None:
    namespace = ref.namespace or gateway.metadata.namespace
    if ref.group != "" or ref.kind != "Secret":
        return ("InvalidCertificateRef", f"unsupported certificate kind {ref.kind}")
    if not reference_permitted(
        grants,
        from_group=GROUP,
        from_kind="Gateway",
        from_namespace=gateway.metadata.namespace,
        to_group="",
        to_kind="Secret",
        to_namespace=namespace,
        to_name=ref.name,
    ):
        return (
            "RefNotPermitted",
            f"no ReferenceGrant allows a reference to Secret {namespace}/{ref.name}",
        )
    secret = secrets.get((namespace, ref.name))
    if secret is None:
        return ("InvalidCertificateRef", f"Secret {namespace}/{ref.name} not found")
    if not secret.is_tls:
        return ("InvalidCertificateRef", f"Secret {namespace}/{ref.name} is not a TLS Secret")
    return None


def _names_gateway(ref: ParentReference, route_namespace: str, gateway: Gateway) -> bool:
    return (
        ref.group == GROUP
        and ref.kind == "Gateway"
        and ref.name == gateway.metadata.name
        and (ref.namespace or route_namespace) == gateway.metadata.namespace
    )


def _namespace_allowed(
    state: ListenerState, route_namespace: str, labels: Mapping[str, Mapping[str, str]]
) -> bool:
    # "Same: Only Routes in the same namespace may be used by this Gateway. All: Routes in
    # all namespaces may be used. Selector: Routes in namespaces selected by the selector
    # may be used."
    namespaces = state.listener.allowed_routes.namespaces
    if namespaces.from_ == "All":
        return True
    if namespaces.from_ == "Same":
        return route_namespace == state.gateway.metadata.namespace
    if namespaces.from_ == "Selector" and namespaces.selector is not None:
        known = dict(labels.get(route_namespace, {}))
        known.setdefault(NAMESPACE_NAME_LABEL, route_namespace)
        return namespaces.selector.matches(known)
    return False


def _attach_parent(
    route: Route,
    index: int,
    ref: ParentReference,
    listeners: Sequence[ListenerState],
    labels: Mapping[str, Mapping[str, str]],
) -> ParentAttachment:
    namespace = route.metadata.namespace
    # "SectionName is the name of a section within the target resource ... When
    # unspecified (empty string), this will reference the entire resource"; "Port is the
    # network port this Route targets ... When both Port and SectionName are specified,
    # the name and port of the selected listener must match both specified values."
    candidates = [
        state
        for state in listeners
        if (ref.section_name is None or state.name == ref.section_name)
        and (ref.port is None or state.listener.port == ref.port)
    ]
    if not candidates:
        return ParentAttachment(
            route, index, ref, (), False, "NoMatchingParent", "no listener matches the parentRef"
        )
    candidates = [state for state in candidates if state.accepted]
    allowed = [
        state
        for state in candidates
        if state.allows_kind(GROUP, route.kind) and _namespace_allowed(state, namespace, labels)
    ]
    if not allowed:
        return ParentAttachment(
            route,
            index,
            ref,
            (),
            False,
            "NotAllowedByListeners",
            "no listener allows this route (kind or namespace)",
        )
    route_hosts = tuple(normalize_host(h) for h in route.spec.hostnames) or ("",)
    attached = []
    for state in allowed:
        hosts = tuple(
            dict.fromkeys(
                h
                for h in (intersect_hostnames(state.hostname, r) for r in route_hosts)
                if h is not None
            )
        )
        if hosts:
            attached.append(AttachedListener(state, hosts))
    if not attached:
        return ParentAttachment(
            route,
            index,
            ref,
            (),
            False,
            "NoMatchingListenerHostname",
            "no listener hostname intersects the route's hostnames",
        )
    return ParentAttachment(route, index, ref, tuple(attached), True, "Accepted", "Accepted")


def attach(
    gateway: Gateway,
    *,
    gateway_classes: Iterable[GatewayClass] = (),
    routes: Iterable[Route] = (),
    namespaces: Iterable[Namespace] = (),
    secrets: Iterable[Secret] = (),
    reference_grants: Iterable[ReferenceGrant] = (),
) -> GatewayAttachment:
    """Attach routes to the listeners of one Gateway.

    Routes are taken in the spec's tie-break order (`route_order`: oldest first, then
    "{namespace}/{name}"), which also settles an HTTPRoute and a GRPCRoute sharing a
    hostname on a listener.
    """
    grants = tuple(reference_grants)
    secret_index = {(s.metadata.namespace, s.metadata.name): s for s in secrets}
    listeners = _listener_states(gateway, secret_index, grants)
    labels = _namespace_labels(namespaces)
    class_name = gateway.spec.gateway_class_name
    gateway_class = next((c for c in gateway_classes if c.metadata.name == class_name), None)
    parents = []
    for route in sorted(routes, key=route_order):
        for index, ref in enumerate(route.spec.parent_refs):
            if _names_gateway(ref, route.metadata.namespace, gateway):
                parents.append(_attach_parent(route, index, ref, listeners, labels))
    return GatewayAttachment(gateway, gateway_class, listeners, _one_kind_per_hostname(parents))


def _shares_a_hostname(a: AttachedListener, b: AttachedListener) -> bool:
    return any(intersect_hostnames(x, y) is not None for x in a.hostnames for y in b.hostnames)


def _one_kind_per_hostname(parents: Sequence[ParentAttachment]) -> tuple[ParentAttachment, ...]:
    """Reject, listener by listener, the newer of an HTTPRoute and a GRPCRoute that share one.

    GRPCRouteSpec.hostnames: "If a Route (A) of type HTTPRoute or GRPCRoute is attached to
    a Listener and that listener already has another Route (B) of the other type attached
    and the intersection of the hostnames of A and B is non-empty, then the implementation
    MUST accept exactly one of these two routes, determined by the following criteria, in
    order: The oldest Route based on creation timestamp. The Route appearing first in
    alphabetical order by "{namespace}/{name}". The rejected Route MUST raise an
    'Accepted' condition with a status of 'False' in the corresponding RouteParentStatus."
    `parents` come in that order, so an earlier accepted route wins.
    """
    kept: list[ParentAttachment] = []
    # listener name -> kind -> the attachments accepted there so far
    accepted: dict[str, dict[str, list[AttachedListener]]] = defaultdict(lambda: defaultdict(list))
    for parent in parents:
        if not parent.accepted:
            kept.append(parent)
            continue
        kind = parent.route.kind
        other = "GRPCRoute" if kind == "HTTPRoute" else "HTTPRoute"
        listeners = []
        conflicts = []
        for attached in parent.listeners:
            rivals = accepted[attached.listener.name][other]
            rival = next((r for r in rivals if _shares_a_hostname(attached, r)), None)
            if rival is None:
                listeners.append(attached)
            else:
                conflicts.append(attached.listener.name)
        for attached in listeners:
            accepted[attached.listener.name][kind].append(attached)
        if not conflicts:
            kept.append(parent)
        elif listeners:
            kept.append(attrs.evolve(parent, listeners=tuple(listeners)))
        else:
            kept.append(
                attrs.evolve(
                    parent,
                    listeners=(),
                    accepted=False,
                    reason="NotAllowedByListeners",
                    message=(
                        f"an older {other} shares a hostname with this {kind} on listener"
                        f" {', '.join(conflicts)}"
                    ),
                )
            )
    return tuple(kept)
