"""`service_addresses`: what `--publish-service` writes, by Service type (ingress-nginx)."""

from __future__ import annotations

from typing import Any

import pytest

import ingresslib
from ingresslib.kubernetes._lease import service_addresses


def service(spec: dict[str, Any], status: dict[str, Any] | None = None) -> Any:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "gw", "namespace": "ingresslib"},
        "spec": {"ports": [{"port": 80}], **spec},
    }
    if status is not None:
        doc["status"] = status
    return ingresslib.load_manifests(doc)[0]


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [
        pytest.param(
            {"type": "ExternalName", "externalName": "gw.example.test", "ports": []},
            None,
            [{"hostname": "gw.example.test"}],
            id="external-name",
        ),
        pytest.param({"clusterIP": "10.0.0.7"}, None, [{"ip": "10.0.0.7"}], id="cluster-ip"),
        pytest.param({"clusterIP": "None"}, None, [], id="headless"),
        pytest.param(
            {"type": "NodePort", "clusterIP": "10.0.0.7"},
            None,
            [{"ip": "10.0.0.7"}],
            id="node-port",
        ),
        pytest.param(
            {"type": "NodePort", "clusterIP": "10.0.0.7", "externalIPs": ["203.0.113.1"]},
            None,
            [{"ip": "203.0.113.1"}],
            id="node-port-external-ips",
        ),
        pytest.param({"type": "LoadBalancer"}, None, [], id="load-balancer-pending"),
        pytest.param(
            {"type": "LoadBalancer", "externalIPs": ["203.0.113.1", "203.0.113.2"]},
            {"loadBalancer": {"ingress": [{"ip": "203.0.113.1"}, {"hostname": "lb.test"}]}},
            [{"ip": "203.0.113.1"}, {"hostname": "lb.test"}, {"ip": "203.0.113.2"}],
            id="load-balancer-then-new-external-ips",
        ),
    ],
)
def test_service_addresses(
    spec: dict[str, Any], status: dict[str, Any] | None, expected: list[dict[str, str]]
) -> None:
    assert service_addresses(service(spec, status)) == expected
