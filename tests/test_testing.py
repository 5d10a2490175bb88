"""`ingresslib.testing`: the example of docs/testing.md runs; the builders build what they say."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ingresslib
from ingresslib import testing
from ingresslib.endpoints import EndpointIndex, EndpointSet
from ingresslib.resources import IngressBackend, IngressServiceBackend, ServiceBackendPort
from tests.certificates import CA

DOC = Path(__file__).resolve().parents[1] / "docs" / "testing.md"


def _doc_tests() -> dict[str, Callable[[], None]]:
    """The test functions the Python blocks of docs/testing.md define, run in one namespace."""
    blocks = re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), re.S | re.M)
    assert len(blocks) >= 2, "docs/testing.md lost its examples"
    namespace: dict[str, Any] = {"__name__": "docs_testing"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    return {name: value for name, value in namespace.items() if name.startswith("test_")}


@pytest.mark.parametrize("name", sorted(_doc_tests()))
def test_the_documented_example_passes(name: str) -> None:
    _doc_tests()[name]()


def test_the_builders_load_as_the_objects_they_describe() -> None:
    ca = CA()
    chain, key = ca.leaf("shop.example.com")
    resources = ingresslib.load_manifests(
        [
            testing.ingress_class("ours", "example.com/ours", default=True),
            testing.ingress(
                "shop",
                [
                    testing.ingress_rule(
                        "shop.example.com",
                        testing.ingress_path("/api", "api", port="http"),
                        ("/", "Exact", "web"),
                    ),
                    testing.ingress_rule("claimed.example.com"),
                ],
                namespace="shop",
                ingress_class="ours",
                default_backend=testing.service_backend("web", 8080),
                tls=[testing.ingress_tls("shop-tls", "shop.example.com")],
                annotations={"example.com/team": "shop"},
                labels={"app": "shop"},
                created="2024-01-01T00:00:00Z",
            ),
            testing.service("api", namespace="shop"),
            testing.endpoint_slice(
                "api",
                ["10.0.0.1", {"addresses": ["10.0.0.2"], "conditions": {"ready": False}}],
                namespace="shop",
            ),
            testing.tls_secret("shop-tls", chain, key, namespace="shop"),
        ]
    )
    (ingress,) = resources.ingresses
    assert ingress.class_name == "ours"
    assert ingress.metadata.annotations == {"example.com/team": "shop"}
    assert ingress.metadata.labels == {"app": "shop"}
    assert [rule.host for rule in ingress.spec.rules] == ["shop.example.com", "claimed.example.com"]
    assert ingress.spec.rules[1].http is None
    assert ingress.spec.default_backend is not None
    assert ingress.spec.default_backend.describe() == "web:8080"
    assert [tls.secret_name for tls in ingress.spec.tls] == ["shop-tls"]
    table = ingresslib.RouteTable.build(resources, controller="example.com/ours")
    match = table.match("shop.example.com", "/api/x")
    assert match is not None
    assert match.backend.describe() == "api:http"
    backend = IngressBackend(
        service=IngressServiceBackend(name="api", port=ServiceBackendPort(name="http"))
    )
    resolved = EndpointIndex.build(resources).resolve("shop", backend)
    assert isinstance(resolved, EndpointSet)
    assert [endpoint.key for endpoint in resolved.endpoints] == ["10.0.0.1:8080"]


def test_the_builders_write_only_what_is_asked() -> None:
    assert testing.ingress("a", [testing.ingress_rule(None, ("/", "Prefix", "web"))]) == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "a"},
        "spec": {
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "web", "port": {"number": 80}}},
                            }
                        ]
                    }
                }
            ]
        },
    }
    assert testing.endpoint_slice("web", ["10.0.0.1"]) == {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "web-1", "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }
    assert testing.service("web", type="ClusterIP")["spec"] == {
        "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        "type": "ClusterIP",
    }


def test_the_reference_router_is_importable_without_tests() -> None:
    # It is the library's now: a user's test needs no checkout of ingresslib's tests.
    assert testing.reference_match.__module__ == "ingresslib.testing._reference"
    assert testing.normalize_request_host("Shop.Example.COM.:8080") == "shop.example.com"
