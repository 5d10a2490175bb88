"""gateway_status(): the conditions a Gateway API controller writes, computed from resources.

The cases restate the upstream conformance tests of sigs.k8s.io/gateway-api v1.6.1
(conformance/tests/*.go) that check status: each names the test it comes from.
"""

from __future__ import annotations

import textwrap

import pytest

import ingresslib
from ingresslib import Request, RouteTable, gateway_status
from ingresslib.gatewayapi import GatewayStatusReport
from ingresslib.routing import ScopedRouteTable

CONTROLLER = "example.com/gateway"

_BASE = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ours}
spec: {controllerName: example.com/gateway}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: theirs}
spec: {controllerName: example.com/other}
---
apiVersion: v1
kind: Namespace
metadata: {name: infra, labels: {shared: "yes"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: apps}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: infra}
spec: {ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: other, port: 8080, protocol: HTTP, hostname: "*.example.com"}
"""


def _report(extra: str) -> tuple[GatewayStatusReport, ingresslib.ResourceSet]:
    resources = ingresslib.load_manifests(_BASE + "---\n" + textwrap.dedent(extra))
    return gateway_status(resources, controller=CONTROLLER), resources


def _route(name: str, namespace: str, spec: str) -> str:
    return f"""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {namespace}}}
spec:
{textwrap.indent(textwrap.dedent(spec).strip(), "  ")}
"""


_WEB = "{name: web, port: 8080}"


def _simple(name: str, namespace: str, parent: str, backend: str = _WEB, extra: str = "") -> str:
    """An HTTPRoute with one parentRef and one rule forwarding to one backendRef."""
    return _route(
        name, namespace, f"parentRefs: [{parent}]\n{extra}rules: [{{backendRefs: [{backend}]}}]"
    )


def _conditions(
    report: GatewayStatusReport, name: str, namespace: str = "infra"
) -> dict[str, tuple[str, str]]:
    return {
        c.type: (c.status, c.reason)
        for c in report.route_conditions("HTTPRoute", namespace, name, parent=("infra", "gw", None))
    }


def test_gateway_class_of_our_controller_is_accepted() -> None:
    report, _ = _report("")
    assert {c.type: c.status for c in report.conditions("GatewayClass", "", "ours")} == {
        "Accepted": "True",
        "SupportedVersion": "True",
    }
    # Another controller's class is not ours: we write nothing for it.
    assert report.conditions("GatewayClass", "", "theirs") == ()


def test_gateway_and_listeners_accepted_and_programmed() -> None:
    report, _ = _report("")
    gateway = {c.type: (c.status, c.reason) for c in report.conditions("Gateway", "infra", "gw")}
    assert gateway == {"Accepted": ("True", "Accepted"), "Programmed": ("True", "Programmed")}
    listener = {
        c.type: (c.status, c.reason) for c in report.listener_conditions("infra", "gw", "http")
    }
    assert listener == {
        "Accepted": ("True", "Accepted"),
        "Programmed": ("True", "Programmed"),
        "ResolvedRefs": ("True", "ResolvedRefs"),
        "Conflicted": ("False", "NoConflicts"),
    }
    assert [k.kind for k in report.supported_kinds("infra", "gw", "http")] == [
        "HTTPRoute",
        "GRPCRoute",
    ]


def test_attached_routes_counts_accepted_routes_per_listener() -> None:
    # GatewayWithAttachedRoutes: attachedRoutes counts the routes each listener accepted.
    report, _ = _report(
        _simple("a", "infra", "{name: gw}")
        + "---"
        + _simple("b", "infra", "{name: gw, sectionName: http}")
    )
    assert report.attached_routes("infra", "gw", "http") == 2
    assert report.attached_routes("infra", "gw", "other") == 1


@pytest.mark.parametrize(
    ("parent_ref", "reason"),
    [
        # HTTPRouteInvalidParentRefNotMatchingSectionName
        ("{name: gw, sectionName: nope}", "NoMatchingParent"),
        # HTTPRouteInvalidParentRefNotMatchingListenerPort
        ("{name: gw, port: 81}", "NoMatchingParent"),
        # HTTPRouteInvalidParentRefSectionNameNotMatchingPort
        ("{name: gw, sectionName: http, port: 8080}", "NoMatchingParent"),
    ],
)
def test_parent_refs_that_match_no_listener(parent_ref: str, reason: str) -> None:
    report, resources = _report(_simple("r", "infra", parent_ref))
    [parent] = report.route_parents("HTTPRoute", "infra", "r")
    conditions = {
        c.type: (c.status, c.reason)
        for c in report.route_conditions("HTTPRoute", "infra", "r", parent=parent)
    }
    assert conditions["Accepted"] == ("False", reason)
    # An unattached route routes nothing.
    table = RouteTable.build(resources, gateway="infra/gw")
    assert table.decide(Request(host="x.example.com", path="/")).status == 404


def test_route_from_another_namespace_not_allowed_by_listeners() -> None:
    # HTTPRouteInvalidCrossNamespaceParentRef: listeners allow routes of their own namespace
    # only (allowedRoutes.namespaces.from: Same, the default).
    report, _ = _report(_simple("r", "apps", "{name: gw, namespace: infra}"))
    assert _conditions(report, "r", "apps")["Accepted"] == ("False", "NotAllowedByListeners")


def test_route_with_no_intersecting_hostname() -> None:
    # HTTPRouteHostnameIntersection: a route whose hostnames meet no listener hostname.
    report, _ = _report(
        _simple(
            "r", "infra", "{name: gw, sectionName: other}", _WEB, extra="hostnames: [example.net]\n"
        )
    )
    [parent] = report.route_parents("HTTPRoute", "infra", "r")
    conditions = {
        c.type: (c.status, c.reason)
        for c in report.route_conditions("HTTPRoute", "infra", "r", parent=parent)
    }
    assert conditions["Accepted"] == ("False", "NoMatchingListenerHostname")


@pytest.mark.parametrize(
    ("backend_ref", "reason", "status"),
    [
        # HTTPRouteInvalidNonExistentBackendRef: 500 for the share of a missing Service.
        ("{name: nowhere, port: 8080}", "BackendNotFound", 500),
        # HTTPRouteInvalidBackendRefUnknownKind
        ("{group: unknown.example.com, kind: Thing, name: web}", "InvalidKind", 500),
        # HTTPRouteInvalidCrossNamespaceBackendRef: no ReferenceGrant.
        ("{name: web, namespace: apps, port: 8080}", "RefNotPermitted", 500),
    ],
)
def test_backend_refs_that_do_not_resolve(backend_ref: str, reason: str, status: int) -> None:
    report, resources = _report(_simple("r", "infra", "{name: gw, sectionName: http}", backend_ref))
    conditions = {
        c.type: (c.status, c.reason)
        for c in report.route_conditions("HTTPRoute", "infra", "r", parent=("infra", "gw", "http"))
    }
    assert conditions["Accepted"] == ("True", "Accepted")
    assert conditions["ResolvedRefs"] == ("False", reason)
    decision = RouteTable.build(resources, gateway="infra/gw").decide(Request(host="a.b", path="/"))
    assert decision.action == "forward"
    [share] = decision.backends
    assert share.invalid is not None


def test_reference_grant_allows_cross_namespace_backend() -> None:
    # HTTPRouteReferenceGrant: a ReferenceGrant in the Service's namespace allows it.
    grant = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: allow, namespace: apps}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
  to: [{group: "", kind: Service, name: web}]
"""
    report, resources = _report(
        _simple(
            "r",
            "infra",
            "{name: gw, sectionName: http}",
            "{name: web, namespace: apps, port: 8080}",
        )
        + grant
    )
    conditions = {
        c.type: (c.status, c.reason)
        for c in report.route_conditions("HTTPRoute", "infra", "r", parent=("infra", "gw", "http"))
    }
    assert conditions["ResolvedRefs"] == ("True", "ResolvedRefs")
    decision = RouteTable.build(resources, gateway="infra/gw").decide(Request(host="a.b", path="/"))
    [share] = decision.backends
    assert (share.backend.namespace, share.backend.name, share.invalid) == ("apps", "web", None)


def test_selector_namespaces_use_namespace_labels() -> None:
    # allowedRoutes.namespaces.from: Selector: the labels of the route's Namespace decide.
    gateway = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {shared: "yes"}}}}
"""
    resources = ingresslib.load_manifests(
        _BASE
        + gateway
        + "---"
        + _simple("in-infra", "infra", "{name: shared}")
        + "---"
        + _simple("in-apps", "apps", "{name: shared, namespace: infra}")
    )
    report = gateway_status(resources, controller=CONTROLLER)
    accepted = {
        name: next(
            c.reason
            for c in report.route_conditions(
                "HTTPRoute", ns, name, parent=("infra", "shared", None)
            )
            if c.type == "Accepted"
        )
        for name, ns in (("in-infra", "infra"), ("in-apps", "apps"))
    }
    assert accepted == {"in-infra": "Accepted", "in-apps": "NotAllowedByListeners"}


def test_unsupported_protocol_and_conflicts() -> None:
    # GatewayInvalidListenersUnsupportedProtocol: an unsupported listener is not accepted;
    # the Gateway is accepted (reason ListenersNotValid) while another listener is valid.
    gateway = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: mixed, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - {name: http, port: 80, protocol: HTTP}
  - {name: udp, port: 53, protocol: UDP}
  - {name: a, port: 81, protocol: HTTP, hostname: a.example.com}
  - name: b
    port: 81
    protocol: HTTPS
    hostname: b.example.com
    tls: {certificateRefs: [{name: x}]}
"""
    report = gateway_status(ingresslib.load_manifests(_BASE + gateway), controller=CONTROLLER)
    gateway_conditions = {
        c.type: (c.status, c.reason) for c in report.conditions("Gateway", "infra", "mixed")
    }
    assert gateway_conditions["Accepted"] == ("True", "ListenersNotValid")
    udp = {
        c.type: (c.status, c.reason) for c in report.listener_conditions("infra", "mixed", "udp")
    }
    assert udp["Accepted"] == ("False", "UnsupportedProtocol")
    a = {c.type: (c.status, c.reason) for c in report.listener_conditions("infra", "mixed", "a")}
    # The CRD refuses two listeners with one port, protocol and hostname; one port with
    # two protocols is valid and conflicts ("each listener in a set MUST have a unique
    # combination of Port, Protocol, and, if supported by the protocol, Hostname").
    assert a["Conflicted"] == ("True", "ProtocolConflict")
    assert a["Accepted"][0] == "False"


def test_https_listener_without_its_secret_is_not_programmed() -> None:
    # GatewayInvalidTLSConfiguration: a certificateRef to a missing Secret.
    gateway = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: tls, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    tls: {certificateRefs: [{name: missing}]}
"""
    report = gateway_status(ingresslib.load_manifests(_BASE + gateway), controller=CONTROLLER)
    listener = {
        c.type: (c.status, c.reason) for c in report.listener_conditions("infra", "tls", "https")
    }
    assert listener["ResolvedRefs"] == ("False", "InvalidCertificateRef")
    assert listener["Programmed"][0] == "False"


def test_gateway_of_another_controller_gets_no_status() -> None:
    gateway = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: foreign, namespace: infra}
spec:
  gatewayClassName: theirs
  listeners: [{name: http, port: 80, protocol: HTTP}]
"""
    resources = ingresslib.load_manifests(_BASE + gateway)
    report = gateway_status(resources, controller=CONTROLLER)
    assert report.conditions("Gateway", "infra", "foreign") == ()
    # Nor is it served with a controller given; without one, it is.
    ours_only = RouteTable.build(resources, gateway="infra/foreign", controller=CONTROLLER)
    any_class = RouteTable.build(resources, gateway="infra/foreign")
    assert isinstance(ours_only, ScopedRouteTable)
    assert isinstance(any_class, ScopedRouteTable)
    assert ours_only.scopes == ()
    assert [s.name for s in any_class.scopes] == ["http"]


def test_http_and_grpc_routes_on_one_hostname_the_older_wins() -> None:
    # GRPCRoute.hostnames: of an HTTPRoute and a GRPCRoute with intersecting hostnames on one
    # listener, exactly one is accepted: the oldest.
    grpc = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: infra, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [api.example.com]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: h, namespace: infra, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: elsewhere, namespace: infra, creationTimestamp: "2024-01-03T00:00:00Z"}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  hostnames: [api.example.org]
  rules: [{backendRefs: [{name: web, port: 8080}]}]
"""
    report, _ = _report(grpc)
    parent = ("infra", "gw", "http")

    def accepted(kind: str, name: str) -> tuple[str, str]:
        conditions = report.route_conditions(kind, "infra", name, parent=parent)
        return next((c.status, c.reason) for c in conditions if c.type == "Accepted")

    assert accepted("HTTPRoute", "h") == ("True", "Accepted")
    assert accepted("GRPCRoute", "g")[0] == "False"
    # A GRPCRoute whose hostnames meet no HTTPRoute's is accepted.
    assert accepted("GRPCRoute", "elsewhere") == ("True", "Accepted")


def test_explain_names_the_listener_and_the_candidates() -> None:
    _, resources = _report(
        _simple(
            "r", "infra", "{name: gw, sectionName: other}", extra="hostnames: [a.example.com]\n"
        )
    )
    table = RouteTable.build(resources, gateway="infra/gw")
    assert isinstance(table, ScopedRouteTable)
    text = str(table.explain("a.example.com", "/x", port=8080))
    assert "listener 'other' (port 8080, hostname '*.example.com')" in text
    assert "'a.example.com' is a rule host" in text
    assert "chosen" in text
    missing = str(table.explain("a.example.org", "/x", port=8080))
    assert "no listener of port 8080 takes 'a.example.org'" in missing


def test_a_rule_that_cannot_be_compiled_is_dropped_and_reported() -> None:
    # A header RegularExpression that is no valid pattern passes the CRD: that rule is
    # dropped, the route's other rules keep serving, and the route parent says
    # PartiallyInvalid ("Dropped Rule..."); with every rule refused, Accepted is False.
    header = '{type: RegularExpression, name: x, value: "("}'
    bad = f"{{matches: [{{path: {{value: /bad}}, headers: [{header}]}}], backendRefs: [{_WEB}]}}"
    good = f"{{matches: [{{path: {{value: /good}}}}], backendRefs: [{_WEB}]}}"
    parents = "parentRefs: [{name: gw, sectionName: http}]"
    report, resources = _report(
        _route("mixed", "infra", f"{parents}\nrules: [{bad}, {good}]")
        + "---"
        + _route("broken", "infra", f"{parents}\nhostnames: [b.test]\nrules: [{bad}]")
    )
    parent = ("infra", "gw", "http")
    mixed = {
        c.type: c for c in report.route_conditions("HTTPRoute", "infra", "mixed", parent=parent)
    }
    assert (mixed["Accepted"].status, mixed["PartiallyInvalid"].status) == ("True", "True")
    assert mixed["PartiallyInvalid"].reason == "UnsupportedValue"
    assert mixed["PartiallyInvalid"].message.startswith(
        "Dropped Rule(s) 0: spec.rules[0].matches[0]: x:"
    )
    broken = {
        c.type: c for c in report.route_conditions("HTTPRoute", "infra", "broken", parent=parent)
    }
    assert (broken["Accepted"].status, broken["Accepted"].reason) == ("False", "UnsupportedValue")
    assert "PartiallyInvalid" not in broken
    # The Gateway keeps serving: the good rule routes, the dropped one does not.
    table = RouteTable.build(resources, gateway="infra/gw")
    assert table.decide(Request(host="a.test", path="/good")).action == "forward"
    assert table.decide(Request(host="a.test", path="/bad", headers=(("x", "("),))).status == 404
