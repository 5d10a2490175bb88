"""Gateway API v1 resources (v1.6 standard channel): models, loading, defaults, validation."""

from __future__ import annotations

import copy
import datetime
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ingresslib
from ingresslib.resources import (
    NAMESPACE_NAME_LABEL,
    BackendObjectReference,
    Condition,
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPBackendRef,
    HTTPPathMatch,
    HTTPRoute,
    HTTPRouteMatch,
    HTTPRouteRule,
    LabelSelector,
    LabelSelectorRequirement,
    Listener,
    Namespace,
    ParentReference,
    ReferenceGrant,
    RouteNamespaces,
)
from ingresslib.resources._converter import structure_resource
from tests.support import conformance_dir

Manifest = dict[str, Any]


def conformance_files() -> list[Path]:
    root = conformance_dir("gateway-api")
    return sorted(root.rglob("*.yaml"))


def _ids(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


@pytest.mark.parametrize("path", conformance_files(), ids=_ids(conformance_files()))
def test_every_upstream_conformance_manifest_loads(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Deployments and ConfigMaps of base/ are not modelled
        resources = ingresslib.load_manifests(path)
    assert len(resources) > 0
    for resource in resources:
        # load -> to_dict -> load gives the same object
        assert ingresslib.load_manifests(resource.to_dict())[0] == resource


def test_the_conformance_base_has_the_infra_gateways_and_namespaces() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = ingresslib.load_manifests(conformance_dir("gateway-api", "base"))
    names = {(g.namespace, g.name) for g in base.gateways}
    assert ("gateway-conformance-infra", "same-namespace") in names
    same = next(g for g in base.gateways if g.name == "same-namespace")
    assert same.spec.gateway_class_name == "{GATEWAY_CLASS_NAME}"
    (listener,) = same.spec.listeners
    assert (listener.name, listener.port, listener.protocol) == ("http", 80, "HTTP")
    assert listener.allowed_routes.namespaces.from_ == "Same"
    infra = next(n for n in base.namespaces if n.name == "gateway-conformance-infra")
    assert infra.labels[NAMESPACE_NAME_LABEL] == "gateway-conformance-infra"


def _route(spec: Manifest, **metadata: Any) -> Manifest:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "r", "namespace": "ns", **metadata},
        "spec": spec,
    }


def test_http_route_defaults_are_the_crd_defaults() -> None:
    (route,) = ingresslib.load_manifests(
        _route(
            {
                "parentRefs": [{"name": "gw"}],
                "rules": [
                    {
                        "matches": [{"headers": [{"name": "x", "value": "1"}]}],
                        "backendRefs": [{"name": "svc", "port": 80}],
                    },
                    {"backendRefs": [{"name": "svc", "port": 80}]},
                ],
            }
        )
    )
    assert isinstance(route, HTTPRoute)
    (parent,) = route.spec.parent_refs
    assert (parent.group, parent.kind, parent.namespace) == (
        "gateway.networking.k8s.io",
        "Gateway",
        None,
    )
    first, second = route.spec.rules
    assert first.matches[0].path == HTTPPathMatch(type="PathPrefix", value="/")
    assert first.matches[0].headers[0].type == "Exact"
    backend = first.backend_refs[0]
    assert (backend.group, backend.kind, backend.weight) == ("", "Service", 1)
    assert isinstance(backend, BackendObjectReference)
    # A rule without matches matches the prefix "/".
    assert second.matches == (HTTPRouteMatch(path=HTTPPathMatch("PathPrefix", "/")),)
    # A route without rules has one that matches everything.
    (empty,) = ingresslib.load_manifests(_route({}))
    assert isinstance(empty, HTTPRoute)
    assert empty.spec.rules == (HTTPRouteRule(),)


def test_python_defaults_equal_loaded_defaults() -> None:
    assert HTTPBackendRef(name="a", port=1).weight == 1
    assert ParentReference(name="gw").kind == "Gateway"
    assert Listener(name="l", port=80, protocol="HTTP").allowed_routes.namespaces == (
        RouteNamespaces(from_="Same")
    )


def test_the_default_status_is_waiting_for_controller() -> None:
    (gateway,) = ingresslib.load_manifests(
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "gw"},
            "spec": {
                "gatewayClassName": "c",
                "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
            },
        }
    )
    assert isinstance(gateway, Gateway)
    assert [(c.type, c.status, c.reason) for c in gateway.status.conditions] == [
        ("Accepted", "Unknown", "Pending"),
        ("Programmed", "Unknown", "Pending"),
    ]
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    assert gateway.status.conditions[0].last_transition_time == epoch
    assert "status" not in gateway.to_dict()  # the default is not written back


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("gateway.networking.k8s.io/v1beta1", "Gateway"),
        ("gateway.networking.k8s.io/v1beta1", "GatewayClass"),
        ("gateway.networking.k8s.io/v1beta1", "HTTPRoute"),
        ("gateway.networking.k8s.io/v1beta1", "ReferenceGrant"),
        ("gateway.networking.k8s.io/v1", "ReferenceGrant"),
        ("gateway.networking.k8s.io/v1", "GRPCRoute"),
    ],
)
def test_every_served_version_loads_as_v1(api_version: str, kind: str) -> None:
    specs: dict[str, Manifest] = {
        "Gateway": {
            "gatewayClassName": "c",
            "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
        },
        "GatewayClass": {"controllerName": "example.com/gateway"},
        "HTTPRoute": {},
        "GRPCRoute": {},
        "ReferenceGrant": {
            "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "a"}],
            "to": [{"group": "", "kind": "Service"}],
        },
    }
    manifest = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": specs[kind],
    }
    (resource,) = ingresslib.load_manifests(manifest)
    assert resource.kind == kind
    assert resource.to_dict()["apiVersion"] == "gateway.networking.k8s.io/v1"


def test_the_typed_accessors_select_each_kind() -> None:
    gateway_api = "gateway.networking.k8s.io/v1"
    resources = ingresslib.load_manifests(
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}},
            {
                "apiVersion": gateway_api,
                "kind": "GatewayClass",
                "metadata": {"name": "c"},
                "spec": {"controllerName": "example.com/gw"},
            },
            _route({}),
            {"apiVersion": gateway_api, "kind": "GRPCRoute", "metadata": {"name": "g"}, "spec": {}},
            {
                "apiVersion": gateway_api,
                "kind": "ReferenceGrant",
                "metadata": {"name": "rg"},
                "spec": {
                    "from": [
                        {
                            "group": "gateway.networking.k8s.io",
                            "kind": "HTTPRoute",
                            "namespace": "a",
                        }
                    ],
                    "to": [{"group": "", "kind": "Service"}],
                },
            },
        ]
    )
    assert [type(r) for r in resources] == [
        Namespace,
        GatewayClass,
        HTTPRoute,
        GRPCRoute,
        ReferenceGrant,
    ]
    assert resources.namespaces[0].namespace == ""  # cluster-scoped
    assert resources.gateway_classes[0].namespace == ""
    assert resources.http_routes[0].name == "r"
    assert resources.grpc_routes[0].namespace == "default"
    (grant,) = resources.reference_grants
    assert grant.spec.from_[0].kind == "HTTPRoute"
    # `group: ""` is required: it is written even though empty.
    assert grant.to_dict()["spec"]["to"] == [{"group": "", "kind": "Service"}]
    assert resources.gateways == ()


def test_the_namespace_name_label_is_set_as_the_apiserver_sets_it() -> None:
    (namespace,) = ingresslib.load_manifests(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"x": "y"}}}
    )
    assert isinstance(namespace, Namespace)
    assert dict(namespace.labels) == {"x": "y", NAMESPACE_NAME_LABEL: "a"}
    assert namespace.status.phase == "Active"


def test_label_selectors_match_as_kubernetes_selectors_do() -> None:
    labels = {"env": "prod", "team": "a"}
    assert LabelSelector().matches(labels)
    assert LabelSelector(match_labels=ingresslib.FrozenMap({"env": "prod"})).matches(labels)
    assert not LabelSelector(match_labels=ingresslib.FrozenMap({"env": "dev"})).matches(labels)
    expressions = {
        ("In", ("prod", "dev")): True,
        ("NotIn", ("prod",)): False,
        ("Exists", ()): True,
        ("DoesNotExist", ()): False,
        ("Unknown", ()): False,
    }
    for (operator, values), expected in expressions.items():
        term = LabelSelectorRequirement(key="env", operator=operator, values=values)
        assert LabelSelector(match_expressions=(term,)).matches(labels) is expected


def test_required_fields_are_written_even_when_empty() -> None:
    condition = Condition(type="Accepted", status="True", reason="Accepted")
    manifest = structure_resource(
        {"metadata": {"name": "r", "namespace": "ns"}, "spec": {}}, HTTPRoute
    ).to_dict()
    assert manifest["kind"] == "HTTPRoute"
    from ingresslib.resources._converter import _CONVERTER

    assert _CONVERTER.unstructure(condition) == {
        "type": "Accepted",
        "status": "True",
        "reason": "Accepted",
        "message": "",
    }


def test_loading_does_not_modify_the_input() -> None:
    manifest = _route({"rules": [{"backendRefs": [{"name": "a", "port": 1}]}]})
    original = copy.deepcopy(manifest)
    ingresslib.load_manifests(manifest)
    assert manifest == original


# --- validation: the CRD schemas and CEL rules -------------------------------------------

GATEWAY_API = "gateway.networking.k8s.io/v1"


def _base(kind: str) -> Manifest:
    specs: dict[str, Manifest] = {
        "Gateway": {
            "gatewayClassName": "c",
            "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
        },
        "HTTPRoute": {
            "parentRefs": [{"name": "g"}],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [{"name": "s", "port": 80}],
                }
            ],
        },
        "GRPCRoute": {
            "parentRefs": [{"name": "g"}],
            "rules": [
                {
                    "matches": [{"method": {"service": "foo.Bar", "method": "Get"}}],
                    "backendRefs": [{"name": "s", "port": 80}],
                }
            ],
        },
        "GatewayClass": {"controllerName": "example.com/gateway"},
        "ReferenceGrant": {
            "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "a"}],
            "to": [{"group": "", "kind": "Service"}],
        },
    }
    metadata: Manifest = {"name": "x"}
    if kind != "GatewayClass":
        metadata["namespace"] = "ns"
    return {"apiVersion": GATEWAY_API, "kind": kind, "metadata": metadata, "spec": specs[kind]}


def _set(manifest: Manifest, path: str, value: Any) -> None:
    """Set `a.b[0].c` in a manifest (creating mappings on the way); `...` deletes it."""
    parts: list[str | int] = []
    for piece in path.split("."):
        name, *indexes = piece.replace("]", "").split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in indexes)
    node: Any = manifest
    for part in parts[:-1]:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    last = parts[-1]
    if value is ...:
        del node[last]
    elif isinstance(last, int) and last == len(node):
        node.append(value)  # one past the end: appended
    else:
        node[last] = value


def problems_of(manifest: Manifest) -> list[tuple[str, str]]:
    try:
        ingresslib.load_manifests(manifest)
    except ingresslib.ManifestError as error:
        return [(p.field, p.reason) for p in error.errors]
    return []


def _mutated(kind: str, changes: dict[str, Any]) -> Manifest:
    manifest = _base(kind)
    for path, value in changes.items():
        _set(manifest, path, copy.deepcopy(value))
    return manifest


@pytest.mark.parametrize(
    "kind", ["Gateway", "HTTPRoute", "GRPCRoute", "GatewayClass", "ReferenceGrant"]
)
def test_the_base_objects_are_valid(kind: str) -> None:
    assert problems_of(_base(kind)) == []


HOSTNAME_RE = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
EO = "when type one of ['Exact', 'PathPrefix']"
REDIRECT_PREFIX = {
    "type": "RequestRedirect",
    "requestRedirect": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/x"}},
}
REWRITE_PREFIX = {
    "type": "URLRewrite",
    "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/x"}},
}
EXACT_A = [{"path": {"type": "Exact", "value": "/a"}}]
MIRROR = {"backendRef": {"name": "m", "port": 80}}
#: A valid member for each filter type.
MEMBERS: dict[str, tuple[str, Any]] = {
    "CORS": ("cors", {"allowOrigins": ["https://a.example"]}),
    "RequestHeaderModifier": ("requestHeaderModifier", {"remove": ["x"]}),
    "ResponseHeaderModifier": ("responseHeaderModifier", {"remove": ["x"]}),
    "RequestMirror": ("requestMirror", MIRROR),
    "RequestRedirect": ("requestRedirect", {"statusCode": 301}),
    "URLRewrite": ("urlRewrite", {"hostname": "a.example"}),
    "ExtensionRef": ("extensionRef", {"group": "example.com", "kind": "F", "name": "f"}),
}


def _filter(type_: str, *, member_of: str | None = None) -> Manifest:
    member, value = MEMBERS[member_of or type_]
    return {"type": type_, member: value}


def _route_rule(**rule: Any) -> dict[str, Any]:
    return {"spec.rules[0]": rule}


#: (id, kind, changes, expected problems): one object for each CEL rule (and the schema's
#: keywords), invalid; `VALID` below holds the valid neighbour of each.
# fmt: off
INVALID: list[tuple[str, str, dict[str, Any], list[tuple[str, str]]]] = [
    # --- Gateway: spec.addresses
    ("ip-unique", "Gateway", {"spec.addresses": [{"value": "10.0.0.1"}, {"value": "10.0.0.1"}]},
     [("spec.addresses", "Invalid value: IPAddress values must be unique")]),
    ("hostname-unique", "Gateway",
     {"spec.addresses": [{"type": "Hostname", "value": "a.example"}] * 2},
     [("spec.addresses", "Invalid value: Hostname values must be unique")]),
    ("address-hostname", "Gateway", {"spec.addresses": [{"type": "Hostname", "value": "A_b"}]},
     [("spec.addresses[0]", "Invalid value: Hostname value must be empty or contain only valid "
       f"characters (matching {HOSTNAME_RE})")]),
    # --- Gateway: spec.infrastructure
    ("annotation-key", "Gateway", {"spec.infrastructure.annotations": {"-a": "x"}},
     [("spec.infrastructure.annotations", "Invalid value: Annotation keys must be in the form of "
       "an optional DNS subdomain prefix followed by a required name segment of up to 63 "
       "characters.")]),
    ("annotation-prefix", "Gateway",
     {"spec.infrastructure.annotations": {"a" * 253 + "/x": "x"}},
     [("spec.infrastructure.annotations", "Invalid value: If specified, the annotation key's "
       "prefix must be a DNS subdomain not longer than 253 characters in total.")]),
    ("label-key", "Gateway", {"spec.infrastructure.labels": {"a/b/c": "x"}},
     [("spec.infrastructure.labels", "Invalid value: Label keys must be in the form of an "
       "optional DNS subdomain prefix followed by a required name segment of up to 63 "
       "characters.")]),
    ("label-prefix", "Gateway", {"spec.infrastructure.labels": {"b" * 254 + "/x": "x"}},
     [("spec.infrastructure.labels", "Invalid value: If specified, the label key's prefix must "
       "be a DNS subdomain not longer than 253 characters in total.")]),
    # --- Gateway: spec.listeners
    ("http-tls", "Gateway", {"spec.listeners[0].tls": {"certificateRefs": [{"name": "c"}]}},
     [("spec.listeners", "Invalid value: tls must not be specified for protocols ['HTTP', "
       "'TCP', 'UDP']")]),
    ("https-passthrough", "Gateway",
     {"spec.listeners[0].protocol": "HTTPS", "spec.listeners[0].tls": {"mode": "Passthrough"}},
     [("spec.listeners", "Invalid value: tls mode must be Terminate for protocol HTTPS")]),
    ("tls-mode", "Gateway", {"spec.listeners[0].protocol": "TLS"},
     [("spec.listeners", "Invalid value: tls mode must be set for protocol TLS")]),
    ("tcp-hostname", "Gateway",
     {"spec.listeners[0].protocol": "TCP", "spec.listeners[0].hostname": "a.example"},
     [("spec.listeners", "Invalid value: hostname must not be specified for protocols ['TCP', "
       "'UDP']")]),
    ("listener-name", "Gateway",
     {"spec.listeners[1]": {"name": "http", "port": 81, "protocol": "HTTP"}},
     [("spec.listeners[1]", 'Duplicate value: {"name":"http"}'),
      ("spec.listeners", "Invalid value: Listener name must be unique within the Gateway")]),
    ("listener-combination", "Gateway",
     {"spec.listeners[1]": {"name": "other", "port": 80, "protocol": "HTTP"}},
     [("spec.listeners", "Invalid value: Combination of port, protocol and hostname must be "
       "unique for each listener")]),
    ("terminate-empty", "Gateway",
     {"spec.listeners[0].protocol": "HTTPS",
      "spec.listeners[0].tls": {"certificateRefs": [], "options": {}}},
     [("spec.listeners[0].tls", "Invalid value: certificateRefs or options must be specified "
       "when mode is Terminate")]),
    # CEL's "no such key" error: `size(self.options)` of an absent field.
    ("terminate-absent", "Gateway",
     {"spec.listeners[0].protocol": "HTTPS", "spec.listeners[0].tls": {"certificateRefs": []}},
     [("spec.listeners[0].tls", 'Invalid value: "object": no such key: options evaluating rule: '
       "certificateRefs or options must be specified when mode is Terminate")]),
    ("per-port", "Gateway",
     {"spec.tls.frontend": {"default": {}, "perPort": [{"port": 443, "tls": {}}] * 2}},
     [("spec.tls.frontend.perPort[1]", 'Duplicate value: {"port":443}'),
      ("spec.tls.frontend.perPort", "Invalid value: Port for TLS configuration must be unique "
       "within the Gateway")]),
    ("status-address", "Gateway", {"status.addresses": [{"type": "Hostname", "value": "A"}]},
     [("status.addresses[0]", "Invalid value: Hostname value must only contain valid characters "
       f"(matching {HOSTNAME_RE})")]),
    # --- routes: spec.parentRefs
    ("section-specified", "HTTPRoute",
     {"spec.parentRefs[1]": {"name": "g", "sectionName": "http"}},
     [("spec.parentRefs", "Invalid value: sectionName must be specified when parentRefs "
       "includes 2 or more references to the same parent")]),
    ("section-unique", "GRPCRoute",
     {"spec.parentRefs": [{"name": "g", "sectionName": "a"}, {"name": "g", "sectionName": "a"}]},
     [("spec.parentRefs", "Invalid value: sectionName must be unique when parentRefs includes 2 "
       "or more references to the same parent")]),
    ("http-total-matches", "HTTPRoute",
     {"spec.rules": [{"matches": [{"method": "GET"}] * 64}] * 3},
     [("spec.rules", "Invalid value: While 16 rules and 64 matches per rule are allowed, the "
       "total number of matches across all rules in a route must be less than 128")]),
    ("grpc-total-matches", "GRPCRoute", {"spec.rules": [{"matches": [{}] * 64}] * 3},
     [("spec.rules", "Invalid value: While 16 rules and 64 matches per rule are allowed, the "
       "total number of matches across all rules in a route must be less than 128")]),
    # --- HTTPRoute: spec.rules[i]
    ("redirect-and-backends", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "RequestRedirect", "requestRedirect": {}}]},
     [("spec.rules[0]", "Invalid value: RequestRedirect filter must not be used together with "
       "backendRefs")]),
    ("redirect-prefix", "HTTPRoute", _route_rule(matches=EXACT_A, filters=[REDIRECT_PREFIX]),
     [("spec.rules[0]", "Invalid value: When using RequestRedirect filter with "
       "path.replacePrefixMatch, exactly one PathPrefix match must be specified")]),
    ("rewrite-prefix", "HTTPRoute", _route_rule(matches=EXACT_A, filters=[REWRITE_PREFIX]),
     [("spec.rules[0]", "Invalid value: When using URLRewrite filter with "
       "path.replacePrefixMatch, exactly one PathPrefix match must be specified")]),
    ("backend-redirect-prefix", "HTTPRoute",
     _route_rule(matches=EXACT_A, backendRefs=[{"name": "s", "port": 80,
                                                "filters": [REDIRECT_PREFIX]}]),
     [("spec.rules[0]", "Invalid value: Within backendRefs, when using RequestRedirect filter "
       "with path.replacePrefixMatch, exactly one PathPrefix match must be specified")]),
    ("backend-rewrite-prefix", "HTTPRoute",
     _route_rule(matches=EXACT_A, backendRefs=[{"name": "s", "port": 80,
                                                "filters": [REWRITE_PREFIX]}]),
     [("spec.rules[0]", "Invalid value: Within backendRefs, When using URLRewrite filter with "
       "path.replacePrefixMatch, exactly one PathPrefix match must be specified")]),
    ("service-port", "HTTPRoute", {"spec.rules[0].backendRefs[0].port": ...},
     [("spec.rules[0].backendRefs[0]", "Invalid value: Must have port for Service reference")]),
    ("mirror-port", "GRPCRoute",
     {"spec.rules[0].filters": [{"type": "RequestMirror",
                                 "requestMirror": {"backendRef": {"name": "m"}}}]},
     [("spec.rules[0].filters[0].requestMirror.backendRef",
       "Invalid value: Must have port for Service reference")]),
    ("redirect-and-rewrite", "HTTPRoute",
     _route_rule(filters=[_filter("RequestRedirect"), _filter("URLRewrite")]),
     [("spec.rules[0].filters", "Invalid value: May specify either "
       "httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both")]),
    *[
        (f"repeated-{type_}", "HTTPRoute",
         _route_rule(filters=[_filter(type_), _filter(type_)]),
         [("spec.rules[0].filters", f"Invalid value: {type_} filter cannot be repeated")])
        for type_ in ("CORS", "RequestHeaderModifier", "ResponseHeaderModifier",
                      "RequestRedirect", "URLRewrite")
    ],
    ("grpc-repeated", "GRPCRoute",
     {"spec.rules[0].backendRefs[0].filters": [_filter("ResponseHeaderModifier")] * 2},
     [("spec.rules[0].backendRefs[0].filters",
       "Invalid value: ResponseHeaderModifier filter cannot be repeated")]),
    *[
        (f"missing-{type_}", "HTTPRoute", {"spec.rules[0].filters": [{"type": type_}]},
         [("spec.rules[0].filters[0]", f"Invalid value: filter.{MEMBERS[type_][0]} must be "
           f"specified for {type_} filter.type")])
        for type_ in MEMBERS
        if type_ != "RequestRedirect"  # with backendRefs; below
    ],
    ("missing-RequestRedirect", "HTTPRoute",
     _route_rule(filters=[{"type": "RequestRedirect"}]),
     [("spec.rules[0].filters[0]", "Invalid value: filter.requestRedirect must be specified for "
       "RequestRedirect filter.type")]),
    *[
        (f"stray-{type_}", "HTTPRoute",
         {"spec.rules[0].backendRefs[0].filters": [
             {**_filter("RequestHeaderModifier" if type_ != "RequestHeaderModifier"
                        else "ResponseHeaderModifier"),
              MEMBERS[type_][0]: MEMBERS[type_][1]}]},
         [("spec.rules[0].backendRefs[0].filters[0]", f"Invalid value: filter.{MEMBERS[type_][0]} "
           f"must be nil if the filter.type is not {type_}")])
        for type_ in MEMBERS
    ],
    ("cors-headers", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "CORS", "cors": {"allowHeaders": ["*", "x"]}}]},
     [("spec.rules[0].filters[0].cors.allowHeaders",
       "Invalid value: AllowHeaders cannot contain '*' alongside other methods")]),
    ("cors-methods", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "CORS", "cors": {"allowMethods": ["GET", "*"]}}]},
     [("spec.rules[0].filters[0].cors.allowMethods",
       "Invalid value: AllowMethods cannot contain '*' alongside other methods")]),
    ("cors-origins", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "CORS",
                                 "cors": {"allowOrigins": ["*", "https://a.example"]}}]},
     [("spec.rules[0].filters[0].cors.allowOrigins",
       "Invalid value: AllowOrigins cannot contain '*' alongside other origins")]),
    ("mirror-percent-and-fraction", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "RequestMirror", "requestMirror": {
         **MIRROR, "percent": 10, "fraction": {"numerator": 1}}}]},
     [("spec.rules[0].filters[0].requestMirror", "Invalid value: Only one of percent or "
       "fraction may be specified in HTTPRequestMirrorFilter")]),
    ("fraction", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "RequestMirror", "requestMirror": {
         **MIRROR, "fraction": {"numerator": 5, "denominator": 2}}}]},
     [("spec.rules[0].filters[0].requestMirror.fraction",
       "Invalid value: numerator must be less than or equal to denominator")]),
    ("full-path-missing", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "URLRewrite",
                                 "urlRewrite": {"path": {"type": "ReplaceFullPath"}}}]},
     [("spec.rules[0].filters[0].urlRewrite.path", "Invalid value: replaceFullPath must be "
       "specified when type is set to 'ReplaceFullPath'")]),
    ("full-path-type", "HTTPRoute",
     _route_rule(filters=[{"type": "RequestRedirect", "requestRedirect": {"path": {
         "type": "ReplacePrefixMatch", "replaceFullPath": "/a"}}}]),
     [("spec.rules[0].filters[0].requestRedirect.path", "Invalid value: type must be "
       "'ReplaceFullPath' when replaceFullPath is set"),
      ("spec.rules[0].filters[0].requestRedirect.path", "Invalid value: replacePrefixMatch must "
       "be specified when type is set to 'ReplacePrefixMatch'")]),
    ("prefix-type", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "URLRewrite", "urlRewrite": {"path": {
         "type": "ReplaceFullPath", "replacePrefixMatch": "/a"}}}]},
     [("spec.rules[0].filters[0].urlRewrite.path", "Invalid value: replaceFullPath must be "
       "specified when type is set to 'ReplaceFullPath'"),
      ("spec.rules[0].filters[0].urlRewrite.path", "Invalid value: type must be "
       "'ReplacePrefixMatch' when replacePrefixMatch is set")]),
    # --- HTTPRoute: spec.rules[i].matches[j].path
    *[
        (f"path-{value}", "HTTPRoute",
         {"spec.rules[0].matches[0].path": {"type": type_, "value": value}},
         [("spec.rules[0].matches[0].path",
           f"Invalid value: {message}" + ("" if "types" in message else f" {EO}"))
          for message in messages])
        for type_, value, messages in [
            ("Exact", "a", ["value must be an absolute path and start with '/'"]),
            ("PathPrefix", "/a//b", ["must not contain '//'"]),
            ("Exact", "/a/./b", ["must not contain '/./'"]),
            ("PathPrefix", "/a/../b", ["must not contain '/../'"]),
            ("Exact", "/a%2fb", ["must not contain '%2f'"]),
            ("Exact", "/a%2Fb", ["must not contain '%2F'"]),
            ("Exact", "/a#b", ["must not contain '#'", "must only contain valid characters "
                               "(matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$)"
                               " for types ['Exact', 'PathPrefix']"]),
            ("PathPrefix", "/a/..", ["must not end with '/..'"]),
            ("Exact", "/a/.", ["must not end with '/.'"]),
        ]
    ],
    ("path-characters", "HTTPRoute",
     {"spec.rules[0].matches[0].path": {"type": "Exact", "value": "/a b"}},
     [("spec.rules[0].matches[0].path", "Invalid value: must only contain valid characters "
       "(matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', "
       "'PathPrefix']")]),
    ("timeouts", "HTTPRoute", {"spec.rules[0].timeouts": {"request": "1s",
                                                          "backendRequest": "1m"}},
     [("spec.rules[0].timeouts",
       "Invalid value: backendRequest timeout cannot be longer than request timeout")]),
    # --- GRPCRoute: spec.rules[i].matches[j].method
    ("grpc-service-or-method", "GRPCRoute", {"spec.rules[0].matches[0].method": {}},
     [("spec.rules[0].matches[0].method",
       "Invalid value: One or both of 'service' or 'method' must be specified")]),
    ("grpc-service", "GRPCRoute", {"spec.rules[0].matches[0].method.service": "1a"},
     [("spec.rules[0].matches[0].method", "Invalid value: service must only contain valid "
       r"characters (matching ^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$)")]),
    ("grpc-method", "GRPCRoute", {"spec.rules[0].matches[0].method.method": "get-x"},
     [("spec.rules[0].matches[0].method", "Invalid value: method must only contain valid "
       "characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)")]),
]
# fmt: on

#: The valid neighbours: each close to an invalid example above, on the right side of the rule.
# fmt: off
VALID: list[tuple[str, str, dict[str, Any]]] = [
    ("ip-unique", "Gateway", {"spec.addresses": [{"value": "10.0.0.1"}, {"value": "10.0.0.2"},
                                                 {"type": "NamedAddress", "value": "10.0.0.1"}]}),
    ("hostname-unique", "Gateway", {"spec.addresses": [{"type": "Hostname", "value": "a.example"},
                                                       {"type": "Hostname"}]}),
    ("address-hostname", "Gateway",
     {"spec.addresses": [{"type": "Hostname", "value": "*.a.example"}]}),
    ("annotations", "Gateway", {"spec.infrastructure.annotations": {"a" * 252 + "/x": "x",
                                                                    "example.com/b_c.d": ""}}),
    ("labels", "Gateway", {"spec.infrastructure.labels": {"example.com/x": "y"}}),
    ("https", "Gateway", {"spec.listeners[0].protocol": "HTTPS",
                          "spec.listeners[0].tls": {"certificateRefs": [{"name": "c"}]}}),
    ("https-options", "Gateway", {"spec.listeners[0].protocol": "HTTPS",
                                  "spec.listeners[0].tls": {"options": {"a.example/x": "y"}}}),
    ("tls-passthrough", "Gateway", {"spec.listeners[0].protocol": "TLS",
                                    "spec.listeners[0].tls": {"mode": "Passthrough"}}),
    ("tcp", "Gateway", {"spec.listeners[0].protocol": "TCP"}),
    ("listeners", "Gateway",
     {"spec.listeners[1]": {"name": "other", "port": 80, "protocol": "HTTP",
                            "hostname": "a.example"},
      "spec.listeners[2]": {"name": "third", "port": 80, "protocol": "HTTP",
                            "hostname": "b.example"}}),
    ("per-port", "Gateway", {"spec.tls.frontend": {"default": {},
                                                   "perPort": [{"port": 443, "tls": {}},
                                                               {"port": 8443, "tls": {}}]}}),
    ("status-address", "Gateway", {"status.addresses": [{"type": "Hostname",
                                                         "value": "a.example"},
                                                        {"value": "10.0.0.1"}]}),
    ("sections", "HTTPRoute", {"spec.parentRefs": [{"name": "g", "sectionName": "a"},
                                                   {"name": "g", "sectionName": "b"},
                                                   {"name": "g", "namespace": "other"},
                                                   {"name": "h"}]}),
    ("grpc-sections", "GRPCRoute", {"spec.parentRefs": [{"name": "g", "namespace": "ns"},
                                                        {"name": "g", "namespace": "ns2"}]}),
    ("http-128-matches", "HTTPRoute", {"spec.rules": [{"matches": [{"method": "GET"}] * 64}] * 2}),
    ("grpc-128-matches", "GRPCRoute", {"spec.rules": [{"matches": [{}] * 64}] * 2}),
    ("redirect-alone", "HTTPRoute",
     _route_rule(filters=[_filter("RequestRedirect"), _filter("RequestHeaderModifier")])),
    ("redirect-prefix", "HTTPRoute", _route_rule(filters=[REDIRECT_PREFIX])),
    ("rewrite-prefix", "HTTPRoute",
     _route_rule(matches=[{"path": {"type": "PathPrefix", "value": "/a"}}],
                 filters=[REWRITE_PREFIX], backendRefs=[{"name": "s", "port": 80}])),
    ("backend-prefix", "HTTPRoute",
     _route_rule(backendRefs=[{"name": "s", "port": 80, "filters": [REWRITE_PREFIX]},
                              {"name": "t", "port": 80, "filters": [REDIRECT_PREFIX]}])),
    ("non-service", "HTTPRoute", {"spec.rules[0].backendRefs[0]": {"group": "example.com",
                                                                   "kind": "Bucket",
                                                                   "name": "b"}}),
    ("every-filter", "HTTPRoute",
     _route_rule(filters=[_filter(t) for t in MEMBERS if t != "RequestRedirect"],
                 backendRefs=[{"name": "s", "port": 80,
                               "filters": [_filter(t) for t in MEMBERS if t != "URLRewrite"]}])),
    ("grpc-filters", "GRPCRoute",
     {"spec.rules[0].filters": [_filter(t) for t in ("RequestHeaderModifier",
                                                     "ResponseHeaderModifier", "RequestMirror",
                                                     "ExtensionRef")]}),
    ("cors", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "CORS", "cors": {
         "allowHeaders": ["*"], "allowMethods": ["*"], "allowOrigins": ["*"],
         "exposeHeaders": ["x-a"], "allowCredentials": True, "maxAge": 60}}]}),
    ("mirror", "HTTPRoute",
     {"spec.rules[0].filters": [
         {"type": "RequestMirror", "requestMirror": {**MIRROR, "percent": 100}},
         {"type": "RequestMirror", "requestMirror": {**MIRROR, "fraction": {"numerator": 2,
                                                                            "denominator": 2}}},
     ]}),
    ("path-modifiers", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "URLRewrite", "urlRewrite": {"path": {
         "type": "ReplaceFullPath", "replaceFullPath": "/a"}}}]}),
    ("paths", "HTTPRoute",
     {"spec.rules[0].matches": [
         {"path": {"type": "Exact", "value": "/a/b%2e/c.d/~x@y:z"}},
         {"path": {"type": "PathPrefix", "value": "/a/"}},
         {"path": {"type": "RegularExpression", "value": "a//b#c"}}]}),
    ("timeouts", "HTTPRoute", {"spec.rules[0].timeouts": {"request": "0s",
                                                          "backendRequest": "1h2m3s4ms"}}),
    ("timeouts-equal", "HTTPRoute", {"spec.rules[0].timeouts": {"request": "60s",
                                                                "backendRequest": "1m"}}),
    ("grpc-methods", "GRPCRoute",
     {"spec.rules[0].matches": [{"method": {"service": ".A.b_1"}}, {"method": {"method": "_x"}},
                                {"method": {"type": "RegularExpression", "service": "a.*"}}]}),
]
# fmt: on


@pytest.mark.parametrize(
    ("kind", "changes", "expected"),
    [pytest.param(kind, changes, expected, id=id_) for id_, kind, changes, expected in INVALID],
)
def test_an_invalid_object_gets_the_apiservers_errors(
    kind: str, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert problems_of(_mutated(kind, changes)) == expected


@pytest.mark.parametrize(
    ("kind", "changes"), [pytest.param(kind, changes, id=id_) for id_, kind, changes in VALID]
)
def test_a_valid_neighbour_loads(kind: str, changes: dict[str, Any]) -> None:
    assert problems_of(_mutated(kind, changes)) == []


def _every_rule() -> list[tuple[str, str, str]]:
    """(kind, CEL text, message) of every rule of the vendored CRDs."""
    from ingresslib.resources._crd import CRD_FILES, crd_schema

    found: list[tuple[str, str, str]] = []

    def walk(schema: Any) -> None:
        found.extend(
            (kind, rule["rule"], rule["message"])
            for rule in schema.get("x-kubernetes-validations") or ()
        )
        for sub in (schema.get("properties") or {}).values():
            walk(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key])

    for kind in CRD_FILES:
        walk(crd_schema(kind))
    return found


def test_every_cel_rule_of_the_crds_is_implemented() -> None:
    from ingresslib.resources._gateway_rules import NOT_ON_CREATE, RULES

    texts = {text for _, text, _ in _every_rule()}
    assert len(_every_rule()) == 139  # 67 distinct texts
    assert texts - set(RULES) == set(NOT_ON_CREATE)
    assert set(RULES) <= texts


#: Rules no object the schema accepts can break: the enum of `path.type` is checked first.
UNREACHABLE = {"self.type in ['Exact','PathPrefix'] || self.type == 'RegularExpression'"}


def test_every_reachable_rule_has_an_invalid_example() -> None:
    """Each rule fails for at least one example of INVALID and for none of VALID."""
    from ingresslib.resources import _gateway_rules
    from ingresslib.resources._gateway_rules import RULES

    failed: set[str] = set()
    original = dict(RULES)

    def recording(text: str) -> Any:
        def check(value: Any) -> bool:
            holds = original[text](value)
            if not holds:
                failed.add(text)
            return holds

        return check

    try:
        RULES.update({text: recording(text) for text in original})
        for _, kind, changes, _ in INVALID:
            problems_of(_mutated(kind, changes))
        invalid_failures = set(failed)
        failed.clear()
        for _, kind, changes in VALID:
            problems_of(_mutated(kind, changes))
    finally:
        RULES.update(original)
    assert failed == set()
    missing = set(original) - invalid_failures - UNREACHABLE
    # The "no such key" example fails by error, not by a false result.
    missing.discard(
        "self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true"
    )
    assert missing == set()
    assert _gateway_rules.RULES is RULES


# --- the OpenAPI schema's keywords, worded as kube-openapi and apiextensions word them -------

NOT_CHECKED = (
    "<nil>",
    "Invalid value: null: some validation rules were not checked because the object was "
    "invalid; correct the existing errors to complete validation",
)
CONDITION = {
    "type": "Accepted",
    "status": "True",
    "reason": "Accepted",
    "message": "",
    "lastTransitionTime": "2024-01-01T00:00:00Z",
}

# fmt: off
SCHEMA_INVALID: list[tuple[str, str, dict[str, Any], list[tuple[str, str]]]] = [
    ("type", "Gateway", {"spec.listeners[0].port": "80"},
     [("spec.listeners[0].port", 'Invalid value: "string": spec.listeners[0].port in body must '
       'be of type integer: "string"'), NOT_CHECKED]),
    ("type-object", "HTTPRoute", {"spec.rules[0].matches[0].path": "/"},
     [("spec.rules[0].matches[0].path", 'Invalid value: "string": '
       'spec.rules[0].matches[0].path in body must be of type object: "string"'), NOT_CHECKED]),
    ("type-array", "HTTPRoute", {"spec.hostnames": "a.example"},
     [("spec.hostnames", 'Invalid value: "string": spec.hostnames in body must be of type '
       'array: "string"'), NOT_CHECKED]),
    ("type-number", "Gateway", {"spec.listeners[0].port": 80.5},
     [("spec.listeners[0].port", 'Invalid value: "number": spec.listeners[0].port in body must '
       'be of type integer: "number"'), NOT_CHECKED]),
    ("minimum", "Gateway", {"spec.listeners[0].port": 0},
     [("spec.listeners[0].port", "Invalid value: 0: spec.listeners[0].port in body should be "
       "greater than or equal to 1")]),
    ("maximum", "HTTPRoute", {"spec.rules[0].backendRefs[0].weight": 1000001},
     [("spec.rules[0].backendRefs[0].weight", "Invalid value: 1000001: "
       "spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000")]),
    ("enum", "HTTPRoute", {"spec.rules[0].matches[0].method": "FETCH"},
     [("spec.rules[0].matches[0].method", 'Unsupported value: "FETCH": supported values: '
       '"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"'),
      NOT_CHECKED]),
    ("enum-integer", "HTTPRoute",
     _route_rule(filters=[{"type": "RequestRedirect", "requestRedirect": {"statusCode": 300}}]),
     [("spec.rules[0].filters[0].requestRedirect.statusCode", 'Unsupported value: 300: '
       'supported values: "301", "302", "303", "307", "308"'), NOT_CHECKED]),
    ("pattern", "Gateway", {"spec.listeners[0].name": "HTTP"},
     [("spec.listeners[0].name", 'Invalid value: "HTTP": spec.listeners[0].name in body should '
       r"match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'")]),
    # RE2's `$` is the end of the text; Python's would also match before a final newline.
    ("pattern-newline", "HTTPRoute", {"spec.hostnames": ["a.example\n"]},
     [("spec.hostnames[0]", r'Invalid value: "a.example\n": spec.hostnames[0] in body should '
       rf"match '{HOSTNAME_RE}'")]),
    ("max-length", "HTTPRoute", {"spec.hostnames": ["a" * 254]},
     [("spec.hostnames[0]", "Too long: may not be more than 253 bytes"), NOT_CHECKED]),
    ("min-length", "Gateway", {"spec.gatewayClassName": ""},
     [("spec.gatewayClassName", 'Invalid value: "": spec.gatewayClassName in body should be at '
       "least 1 chars long")]),
    ("min-items", "Gateway", {"spec.listeners": []},
     [("spec.listeners", "Invalid value: 0: spec.listeners in body should have at least 1 "
       "items")]),
    ("max-items", "HTTPRoute", {"spec.hostnames": [f"h{i}.example" for i in range(17)]},
     [("spec.hostnames", "Too many: 17: must have at most 16 items"), NOT_CHECKED]),
    ("max-properties", "Gateway",
     {"spec.infrastructure.labels": {f"k{i}": "v" for i in range(9)}},
     [("spec.infrastructure.labels", "Too many: 9: must have at most 8 items"), NOT_CHECKED]),
    ("map-value", "Gateway", {"spec.infrastructure.labels": {"k": "-v"}},
     [("spec.infrastructure.labels.k", 'Invalid value: "-v": spec.infrastructure.labels.k in '
       "body should match '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'")]),
    ("required", "HTTPRoute", {"spec.parentRefs[0]": {"sectionName": "a"}},
     [("spec.parentRefs[0].name", "Required value"), NOT_CHECKED]),
    ("required-root", "Gateway", {"spec": ...}, [("spec", "Required value"), NOT_CHECKED]),
    ("date-time", "Gateway",
     {"status.conditions": [{**CONDITION, "lastTransitionTime": "yesterday"}]},
     [("status.conditions[0].lastTransitionTime", 'Invalid value: "yesterday": '
       'status.conditions[0].lastTransitionTime in body must be of type date-time: '
       '"yesterday"'), NOT_CHECKED]),
    ("list-map", "HTTPRoute",
     {"spec.rules[0].matches[0].headers": [{"name": "a", "value": "1"},
                                           {"name": "a", "value": "2"}]},
     [("spec.rules[0].matches[0].headers[1]", 'Duplicate value: {"name":"a"}')]),
    ("list-set", "HTTPRoute",
     {"spec.rules[0].filters": [{"type": "RequestHeaderModifier",
                                 "requestHeaderModifier": {"remove": ["a", "b", "a", "a"]}}]},
     [("spec.rules[0].filters[0].requestHeaderModifier.remove[2]", 'Duplicate value: "a"')]),
    ("metadata-name", "GatewayClass", {"metadata.name": "A"},
     [("metadata.name", 'Invalid value: "A": a lowercase RFC 1123 subdomain must consist of '
       "lower case alphanumeric characters, '-' or '.', and must start and end with an "
       "alphanumeric character (e.g. 'example.com', regex used for validation is "
       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")]),
    # A blocking error stops the CEL rules; a CRD without rules has no such message.
    ("metadata-name-missing", "ReferenceGrant", {"metadata.name": ..., "spec.to": []},
     [("metadata.name", "Required value: name or generateName is required"),
      ("spec.to", "Invalid value: 0: spec.to in body should have at least 1 items")]),
    ("metadata-name-missing-rules", "GRPCRoute", {"metadata.name": ...},
     [("metadata.name", "Required value: name or generateName is required"), NOT_CHECKED]),
    ("metadata-before-schema", "ReferenceGrant", {"metadata.name": "-x", "spec.to": []},
     [("metadata.name", 'Invalid value: "-x": a lowercase RFC 1123 subdomain must consist of '
       "lower case alphanumeric characters, '-' or '.', and must start and end with an "
       "alphanumeric character (e.g. 'example.com', regex used for validation is "
       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
      ("spec.to", "Invalid value: 0: spec.to in body should have at least 1 items")]),
]
# fmt: on


@pytest.mark.parametrize(
    ("kind", "changes", "expected"),
    [pytest.param(k, c, e, id=i) for i, k, c, e in SCHEMA_INVALID],
)
def test_the_schema_keywords_are_worded_as_the_apiserver_words_them(
    kind: str, changes: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert problems_of(_mutated(kind, changes)) == expected


def test_defaults_fill_in_before_validation_and_nulls_are_pruned() -> None:
    from ingresslib.resources._crd import apply_defaults, crd_schema

    manifest = _mutated(
        "HTTPRoute",
        {"spec.rules[0].backendRefs[0].weight": None, "spec.rules[0].matches": None,
         "spec.rules[0].timeouts": None, "spec.rules[0].backendRefs[0].port": 80.0},
    )  # fmt: skip
    defaulted = apply_defaults(manifest, crd_schema("HTTPRoute"))
    rule = defaulted["spec"]["rules"][0]
    assert rule["backendRefs"][0] == {
        "group": "",
        "kind": "Service",
        "name": "s",
        "port": 80,
        "weight": 1,
    }
    assert isinstance(rule["backendRefs"][0]["port"], int)
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]
    assert "timeouts" not in rule
    assert problems_of(manifest) == []


def test_a_route_with_every_field_loads_and_round_trips() -> None:
    manifest = _mutated(
        "HTTPRoute",
        {
            "spec.hostnames": ["a.example", "*.b.example"],
            "spec.parentRefs[0]": {"name": "g", "namespace": "gw", "sectionName": "http",
                                   "port": 80},
            "spec.rules[0].name": "first",
            "spec.rules[0].matches[0]": {
                "path": {"type": "Exact", "value": "/a"},
                "headers": [{"name": "x", "value": "1", "type": "RegularExpression"}],
                "queryParams": [{"name": "q", "value": "2"}],
                "method": "GET",
            },
            "spec.rules[0].timeouts": {"request": "10s"},
            "status.parents": [{"parentRef": {"name": "g"}, "controllerName": "example.com/gw",
                                "conditions": [CONDITION]}],
        },
    )  # fmt: skip
    (route,) = ingresslib.load_manifests(manifest)
    assert isinstance(route, HTTPRoute)
    match = route.spec.rules[0].matches[0]
    assert (match.headers[0].type, match.query_params[0].type) == ("RegularExpression", "Exact")
    (parent,) = route.status.parents
    assert parent.conditions[0].last_transition_time == datetime.datetime(
        2024, 1, 1, tzinfo=datetime.timezone.utc
    )
    assert route.to_dict()["status"]["parents"][0]["conditions"][0] == CONDITION
    assert ingresslib.load_manifests(route.to_dict())[0] == route


# --- patterns: Python's reading of the CRDs' RE2 patterns is RE2's ------------------------


def _patterns() -> list[str]:
    from ingresslib.resources._crd import CRD_FILES, crd_schema

    found: set[str] = set()

    def walk(schema: Any) -> None:
        if "pattern" in schema:
            found.add(schema["pattern"])
        for rule in schema.get("x-kubernetes-validations") or ():
            found.update(re.findall(r'r"""(.*?)"""', rule["rule"]))
        for sub in (schema.get("properties") or {}).values():
            walk(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key])

    for kind in CRD_FILES:
        walk(crd_schema(kind))
    return sorted(found)


SAMPLES = [
    "", "a", "A", "a.example", "*.a.example", "a..b", "-a", "a-", "a\n", "\na", "a/b", "/a",
    "/a b", "%2F", "%zz", "http://a.example", "https://*.a:8080", "*", "ftp://a", "GET",
    "example.com/x", "example.com/", "IPAddress", "Hostname", "NamedAddress", "x/y/z", "1h",
    "1h30m", "10ms", "0s", "1d", "h", "a_b", ".A.b_1", "1a", "foo.Bar", "x-y", "UPPER.case",
    "a" * 70, "1", "1.5", "ü", "Condition:reason_1", "a,b", "prefix.io/Name", "_a",
]  # fmt: skip


@pytest.mark.parametrize("pattern", _patterns())
def test_each_pattern_matches_as_re2_matches(pattern: str) -> None:
    re2 = pytest.importorskip("re2")
    from ingresslib.resources._crd import go_regex

    ours = go_regex(pattern)
    theirs = re2.compile(pattern)
    for sample in SAMPLES:
        assert (ours.search(sample) is not None) == (theirs.search(sample) is not None), sample

    @settings(max_examples=60, deadline=None, database=None)
    @given(st.one_of(st.from_regex(ours, fullmatch=False), st.text(max_size=12)))
    def agree(sample: str) -> None:
        assert (ours.search(sample) is not None) == (theirs.search(sample) is not None)

    agree()


# --- Hypothesis: load -> to_dict -> load gives the same object ----------------------------


_label = st.from_regex(r"[a-z]([-a-z0-9]{0,6}[a-z0-9])?", fullmatch=True)
_host = st.lists(_label, min_size=1, max_size=3).map(".".join)
_hostnames = st.one_of(_host, _host.map(lambda h: f"*.{h}"))
_segment = st.from_regex(r"[A-Za-z0-9_~-]{1,6}", fullmatch=True)
_path = st.lists(_segment, max_size=3).map(lambda parts: "/" + "/".join(parts))
_header_name = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,8}", fullmatch=True)
_value = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=8)
_port = st.integers(min_value=1, max_value=65535)


def _optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping with any subset of the fields."""
    return st.fixed_dictionaries({}, optional=fields)


def _unique_by_name(items: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return st.lists(items, max_size=3, unique_by=lambda item: item["name"])


_header_matches = _unique_by_name(
    st.fixed_dictionaries(
        {"name": _header_name, "value": _value},
        optional={"type": st.sampled_from(["Exact", "RegularExpression"])},
    )
)
_matches = st.lists(
    _optional(
        path=st.fixed_dictionaries(
            {"value": _path}, optional={"type": st.sampled_from(["Exact", "PathPrefix"])}
        ),
        headers=_header_matches,
        queryParams=_header_matches,
        method=st.sampled_from(["GET", "POST", "DELETE"]),
    ),
    max_size=3,
)
_backend_refs = st.lists(
    st.fixed_dictionaries(
        {"name": _label, "port": _port},
        optional={"weight": st.integers(0, 1000000), "namespace": _label},
    ),
    max_size=3,
)
_header_filter = st.sampled_from(["RequestHeaderModifier", "ResponseHeaderModifier"]).flatmap(
    lambda type_: st.fixed_dictionaries(
        {
            "type": st.just(type_),
            type_[0].lower() + type_[1:]: _optional(
                set=_unique_by_name(st.fixed_dictionaries({"name": _header_name,
                                                           "value": _value})),
                remove=st.lists(_header_name, max_size=2, unique=True),
            ),
        }
    )
)  # fmt: skip
_http_rules = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "matches": _matches,
            "backendRefs": _backend_refs,
            "filters": st.lists(_header_filter, max_size=1),
            "timeouts": _optional(request=st.sampled_from(["1s", "10m", "0s"])),
        },
    ),
    min_size=1,
    max_size=3,
)
_parent_refs = st.lists(
    st.fixed_dictionaries(
        {"name": _label, "sectionName": _label}, optional={"port": _port, "namespace": _label}
    ),
    max_size=3,
    unique_by=lambda ref: (ref["name"], ref.get("namespace"), ref["sectionName"]),
)


def _object(kind: str, spec: st.SearchStrategy[dict[str, Any]]) -> Any:
    return st.builds(
        lambda name, spec: {
            "apiVersion": GATEWAY_API,
            "kind": kind,
            "metadata": {"name": name, "namespace": "ns"},
            "spec": spec,
        },
        _host,
        spec,
    )


_listeners = st.lists(
    st.fixed_dictionaries(
        {"name": _label, "port": _port, "protocol": st.just("HTTP")},
        optional={
            "hostname": _host,
            "allowedRoutes": _optional(
                namespaces=_optional(from_=st.sampled_from(["All", "Same"])).map(
                    lambda ns: {"from": ns["from_"]} if ns else {}
                ),
                kinds=st.just([{"kind": "HTTPRoute"}]),
            ),
        },
    ),
    min_size=1,
    max_size=3,
    unique_by=(lambda listener: listener["name"], lambda listener: listener["port"]),
)

gateway_api_manifests = st.one_of(
    _object("HTTPRoute", _optional(hostnames=st.lists(_hostnames, max_size=2, unique=True),
                                   parentRefs=_parent_refs, rules=_http_rules)),
    _object("Gateway", st.fixed_dictionaries({"gatewayClassName": _label,
                                              "listeners": _listeners})),
    _object("GRPCRoute", _optional(parentRefs=_parent_refs, rules=st.lists(
        _optional(backendRefs=_backend_refs), max_size=2))),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(gateway_api_manifests)
def test_gateway_api_objects_round_trip(manifest: Manifest) -> None:
    original = copy.deepcopy(manifest)
    (resource,) = ingresslib.load_manifests(manifest)
    assert manifest == original, "loading must not modify its input"
    dumped = resource.to_dict()
    again = ingresslib.load_manifests(dumped)[0]
    assert again == resource
    assert again.to_dict() == dumped
    assert structure_resource(dumped, type(resource)) == resource
    assert hash(again) == hash(resource)


def test_the_validation_doc_lists_every_rule() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "gateway-api-validation.md").read_text()
    rows = [line for line in doc.splitlines() if line.startswith("| ") and "`" in line]
    for kind, _, message in _every_rule():
        shown = message.replace("|", "\\|")  # escaped in a table cell
        assert any(line.startswith(f"| {kind} |") and shown in line for line in rows), message
    assert sum(1 for line in rows if "implemented; tested" in line) == 139 - 2
