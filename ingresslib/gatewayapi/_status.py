"""`gateway_status()`: the Gateway API status a controller writes, computed from resources.

Pure: resources in, conditions out, from the same attachment computation that routing
uses (`ingresslib.gatewayapi.attach`), so a route's status never says something its
routing does not do. The conditions, reasons and their meanings are the spec's
(`apis/v1/gateway_types.go`, `gatewayclass_types.go`, `shared_types.go`, v1.6); the
watcher writes them for the classes of its controller.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from ingresslib.gatewayapi._attachment import (
    GatewayAttachment,
    ListenerState,
    ParentAttachment,
    Route,
    attach,
    resolve_backend,
)
from ingresslib.gatewayapi._frontend import rule_problems
from ingresslib.resources._core import Namespace, Secret, Service
from ingresslib.resources._gateway import (
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPRoute,
    ReferenceGrant,
    RouteGroupKind,
)
from ingresslib.resources._meta import Condition

__all__ = ["GatewayStatusReport", "ParentKey", "gateway_status"]

#: A route parent as status names it: (gateway namespace, gateway name, sectionName).
ParentKey = tuple[str, str, "str | None"]

#: The address types ingresslib can serve (`spec.addresses[].type`).
_ADDRESS_TYPES = frozenset({"IPAddress"})


def _condition(
    type_: str, ok: bool, reason: str, message: str = "", generation: int | None = None
) -> Condition:
    return Condition(
        type=type_,
        status="True" if ok else "False",
        reason=reason,
        message=message or reason,
        observed_generation=generation or 0,
    )


@attrs.frozen
class GatewayStatusReport:
    """The computed status of every object of our classes (pinned: DESIGN.md).

    Attributes:
        controller: the controller name the report was computed for (None: every
            GatewayClass counts as ours).
        attachments: the attachment of every Gateway of our classes, by
            (namespace, name).
    """

    controller: str | None
    classes: Mapping[str, GatewayClass] = attrs.field(repr=False)
    attachments: Mapping[tuple[str, str], GatewayAttachment] = attrs.field(repr=False)
    services: Mapping[tuple[str, str], Service] = attrs.field(repr=False)
    grants: tuple[ReferenceGrant, ...] = attrs.field(repr=False)

    def conditions(self, kind: str, namespace: str, name: str) -> tuple[Condition, ...]:
        """The conditions of a GatewayClass or Gateway (empty: not one of ours).

        Args:
            kind: "GatewayClass" or "Gateway".
            namespace: the Gateway's namespace ("" for a GatewayClass).
            name: its name.
        """
        if kind == "GatewayClass":
            gateway_class = self.classes.get(name)
            if gateway_class is None:
                return ()
            generation = gateway_class.metadata.generation
            return (
                _condition("Accepted", True, "Accepted", generation=generation),
                _condition("SupportedVersion", True, "SupportedVersion", generation=generation),
            )
        if kind == "Gateway":
            attachment = self.attachments.get((namespace, name))
            return () if attachment is None else _gateway_conditions(attachment)
        raise ValueError(f"conditions() takes GatewayClass or Gateway, not {kind!r}")

    def listener_conditions(
        self, namespace: str, gateway: str, listener: str
    ) -> tuple[Condition, ...]:
        """The conditions of one listener of a Gateway (empty: no such listener)."""
        state = self._listener(namespace, gateway, listener)
        if state is None:
            return ()
        return _listener_conditions(state, state.gateway.metadata.generation)

    def attached_routes(self, namespace: str, gateway: str, listener: str) -> int:
        """`status.listeners[].attachedRoutes`: the routes accepted by that listener."""
        attachment = self.attachments.get((namespace, gateway))
        return 0 if attachment is None else attachment.attached_routes(listener)

    def supported_kinds(
        self, namespace: str, gateway: str, listener: str
    ) -> tuple[RouteGroupKind, ...]:
        """`status.listeners[].supportedKinds`."""
        state = self._listener(namespace, gateway, listener)
        return () if state is None else state.supported_kinds

    def route_parents(self, kind: str, namespace: str, name: str) -> tuple[ParentKey, ...]:
        """The parents of a route that are Gateways of our classes, in parentRefs order."""
        keys: list[ParentKey] = []
        for (gw_namespace, gw_name), attachment in self.attachments.items():
            for parent in attachment.parents:
                route = parent.route
                if (route.kind, route.metadata.namespace, route.metadata.name) == (
                    kind,
                    namespace,
                    name,
                ):
                    key = (gw_namespace, gw_name, parent.parent_ref.section_name)
                    if key not in keys:
                        keys.append(key)
        return tuple(keys)

    def route_conditions(
        self, kind: str, namespace: str, name: str, *, parent: ParentKey
    ) -> tuple[Condition, ...]:
        """The conditions of a route for one parent (empty: not a parent of ours).

        Args:
            kind: "HTTPRoute" or "GRPCRoute".
            namespace: the route's namespace.
            name: its name.
            parent: (gateway namespace, gateway name, sectionName or None).
        """
        gw_namespace, gw_name, section = parent
        attachment = self.attachments.get((gw_namespace, gw_name))
        if attachment is None:
            return ()
        for entry in attachment.parents:
            route = entry.route
            if (
                route.kind == kind
                and route.metadata.namespace == namespace
                and route.metadata.name == name
                and entry.parent_ref.section_name == section
            ):
                return self._route_conditions(entry)
        return ()

    def _listener(self, namespace: str, gateway: str, listener: str) -> ListenerState | None:
        attachment = self.attachments.get((namespace, gateway))
        if attachment is None:
            return None
        return next((s for s in attachment.listeners if s.name == listener), None)

    def _route_conditions(self, entry: ParentAttachment) -> tuple[Condition, ...]:
        route = entry.route
        generation = route.metadata.generation
        accepted = _condition("Accepted", entry.accepted, entry.reason, entry.message, generation)
        problems = _backend_problems(route, self.services, self.grants)
        if problems:
            reason, message = problems[0]
            resolved = _condition("ResolvedRefs", False, reason, message, generation)
        else:
            resolved = _condition("ResolvedRefs", True, "ResolvedRefs", generation=generation)
        dropped = rule_problems(route) if entry.accepted else ()
        if not dropped:
            return (accepted, resolved)
        details = "; ".join(message for _, message in dropped)
        if len(dropped) == len(route.spec.rules):
            # Every rule is refused: the route is not accepted (PartiallyInvalid "MUST NOT
            # be set if a Route is fully valid, fully invalid, or not accepted").
            return (
                _condition("Accepted", False, "UnsupportedValue", details, generation),
                resolved,
            )
        # PartiallyInvalid: "Drop Rule(s) ... The message for this condition MUST start with
        # the prefix "Dropped Rule" ... the "Accepted" condition MUST be set to "True"".
        indexes = ", ".join(str(index) for index, _ in dropped)
        partially = _condition(
            "PartiallyInvalid",
            True,
            "UnsupportedValue",
            f"Dropped Rule(s) {indexes}: {details}",
            generation,
        )
        return (accepted, resolved, partially)


def _backend_problems(
    route: Route, services: Mapping[tuple[str, str], Service], grants: Sequence[ReferenceGrant]
) -> list[tuple[str, str]]:
    """Every backendRef (and mirror backendRef) of a route that does not resolve."""
    problems = []
    namespace = route.metadata.namespace
    for rule in route.spec.rules:
        refs = [*rule.backend_refs]
        refs.extend(
            f.request_mirror.backend_ref for f in rule.filters if f.request_mirror is not None
        )
        for ref in refs:
            resolution = resolve_backend(ref, route.kind, namespace, services, grants)
            if resolution.reason is not None:
                problems.append((resolution.reason, resolution.message))
    return problems


def _gateway_conditions(attachment: GatewayAttachment) -> tuple[Condition, ...]:
    gateway = attachment.gateway
    generation = gateway.metadata.generation
    infrastructure = gateway.spec.infrastructure
    if infrastructure is not None and infrastructure.parameters_ref is not None:
        # ingresslib takes no parameters: "the Gateway was not accepted because the
        # parametersRef field was invalid".
        ref = infrastructure.parameters_ref
        message = f"unsupported parametersRef {ref.kind} {ref.name}"
        return (
            _condition("Accepted", False, "InvalidParameters", message, generation),
            _condition("Programmed", False, "Invalid", message, generation),
        )
    unsupported = [a for a in gateway.spec.addresses if a.type not in _ADDRESS_TYPES]
    if unsupported:
        message = f"unsupported address type {unsupported[0].type}"
        return (
            _condition("Accepted", False, "UnsupportedAddress", message, generation),
            _condition("Programmed", False, "Invalid", message, generation),
        )
    invalid = [s.name for s in attachment.listeners if not s.accepted]
    valid = [s for s in attachment.listeners if s.accepted]
    if invalid:
        # "This can be the reason when "Accepted" is "True" or "False", depending on
        # whether the listener being invalid causes the entire Gateway to not be accepted."
        message = f"listeners not valid: {', '.join(invalid)}"
        accepted = _condition("Accepted", bool(valid), "ListenersNotValid", message, generation)
    else:
        accepted = _condition("Accepted", True, "Accepted", generation=generation)
    if any(s.programmed for s in attachment.listeners):
        programmed = _condition("Programmed", True, "Programmed", generation=generation)
    else:
        programmed = _condition(
            "Programmed", False, "Invalid", "no listener can be served", generation
        )
    return (accepted, programmed)


def _listener_conditions(state: ListenerState, generation: int | None) -> tuple[Condition, ...]:
    if state.unsupported_protocol:
        accepted = _condition(
            "Accepted",
            False,
            "UnsupportedProtocol",
            f"protocol {state.listener.protocol} is not supported",
            generation,
        )
    elif state.conflict is not None:
        accepted = _condition("Accepted", False, state.conflict, generation=generation)
    else:
        accepted = _condition("Accepted", True, "Accepted", generation=generation)
    if state.conflict is not None:
        conflicted = _condition("Conflicted", True, state.conflict, generation=generation)
    else:
        conflicted = _condition("Conflicted", False, "NoConflicts", generation=generation)
    if state.certificate_problem is not None:
        reason, message = state.certificate_problem
        resolved = _condition("ResolvedRefs", False, reason, message, generation)
    elif state.invalid_kinds:
        kinds = ", ".join(k.kind for k in state.invalid_kinds)
        resolved = _condition(
            "ResolvedRefs",
            False,
            "InvalidRouteKinds",
            f"unsupported route kinds: {kinds}",
            generation,
        )
    else:
        resolved = _condition("ResolvedRefs", True, "ResolvedRefs", generation=generation)
    if state.programmed:
        programmed = _condition("Programmed", True, "Programmed", generation=generation)
    else:
        programmed = _condition("Programmed", False, "Invalid", generation=generation)
    return (accepted, programmed, resolved, conflicted)


def gateway_status(
    resources: Iterable[object], *, controller: str | None = None
) -> GatewayStatusReport:
    """Compute the status of every GatewayClass, Gateway and route of our controller.

    Args:
        resources: any iterable of resources (a `ResourceSet`...).
        controller: our controller name (GatewayClass `spec.controllerName`); None: every
            GatewayClass is ours.
    """
    items = list(resources)
    classes = {
        c.metadata.name: c
        for c in items
        if isinstance(c, GatewayClass)
        and (controller is None or c.spec.controller_name == controller)
    }
    routes = [r for r in items if isinstance(r, HTTPRoute | GRPCRoute)]
    namespaces = [r for r in items if isinstance(r, Namespace)]
    secrets = [r for r in items if isinstance(r, Secret)]
    grants = tuple(r for r in items if isinstance(r, ReferenceGrant))
    attachments = {
        (g.metadata.namespace, g.metadata.name): attach(
            g,
            gateway_classes=classes.values(),
            routes=routes,
            namespaces=namespaces,
            secrets=secrets,
            reference_grants=grants,
        )
        for g in items
        if isinstance(g, Gateway) and g.spec.gateway_class_name in classes
    }
    services = {(s.metadata.namespace, s.metadata.name): s for s in items if isinstance(s, Service)}
    return GatewayStatusReport(
        controller=controller,
        classes=classes,
        attachments=attachments,
        services=services,
        grants=grants,
    )
