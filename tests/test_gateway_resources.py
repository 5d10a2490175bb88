"""Gateway API v1 resources (v1.6 standard channel): models, loading, defaults, validation."""

from __future__ import annotations

import copy
import datetime
import warnings
from pathlib import Path
from typing import Any

import pytest

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
