"""`ingresslib audit --kubeconfig`: the annotations of the Ingresses of a real kube-apiserver."""

from __future__ import annotations

import json

import pytest

from ingresslib import testing
from tests.kubernetes.conftest import KubeAPIServer
from tests.test_cli import run

pytest.importorskip("kubernetes_asyncio")

NGINX = "nginx.ingress.kubernetes.io/"


def test_audit_reads_the_ingresses_and_secrets_of_a_cluster(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    manifest = testing.ingress(
        "audited",
        [testing.ingress_rule("audit.example.com", ("/", "Prefix", "web"))],
        namespace=namespace,
        annotations={NGINX + "ssl-redirect": "false", NGINX + "enable-access-log": "false"},
    )
    created = kube_apiserver.request(
        "POST", f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses", manifest
    )
    assert created.status == 201, created.body
    result = run("audit", f"--kubeconfig={kube_apiserver.kubeconfig}", "--format=json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (row,) = [r for r in report["ingresses"] if r["ingress"] == f"{namespace}/audited"]
    assert {a["name"]: a["status"] for a in row["annotations"]} == {
        NGINX + "enable-access-log": "not implemented",
        NGINX + "ssl-redirect": "implemented",
    }
    assert report["notes"] == [], "the admin may list Secrets"
