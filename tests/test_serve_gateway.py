"""`ingresslib serve --gateway`: a Gateway's listeners served by a real subprocess.

Two listener ports (80 and 8081, bound on free local ports with `--listener-port`), routes
with a redirect, a rewrite, header edits and weights, plain HTTP upstreams on loopback.
"""

from __future__ import annotations

import collections
import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ingresslib import testing
from tests.serve_process import ServeProcess, http_upstream
from tests.support import free_port

NS = "infra"


@pytest.fixture
def upstreams() -> Iterator[dict[str, int]]:
    servers = {name: http_upstream(name) for name in ("one", "two")}
    try:
        yield {name: server.server_address[1] for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


def _manifests(ports: dict[str, int]) -> list[dict[str, object]]:
    docs: list[dict[str, object]] = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": {"name": "ours"},
            "spec": {"controllerName": "example.com/gateway"},
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": NS},
            "spec": {
                "gatewayClassName": "ours",
                "listeners": [
                    {"name": "web", "port": 80, "protocol": "HTTP"},
                    {"name": "alt", "port": 8081, "protocol": "HTTP", "hostname": "alt.test"},
                ],
            },
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "web", "namespace": NS},
            "spec": {
                "parentRefs": [{"name": "gw", "sectionName": "web"}],
                "hostnames": ["www.test"],
                "rules": [
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": "/old"}}],
                        "filters": [
                            {
                                "type": "RequestRedirect",
                                "requestRedirect": {
                                    "path": {"type": "ReplaceFullPath", "replaceFullPath": "/new"},
                                    "statusCode": 301,
                                },
                            }
                        ],
                    },
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                        "filters": [
                            {
                                "type": "URLRewrite",
                                "urlRewrite": {
                                    "path": {
                                        "type": "ReplacePrefixMatch",
                                        "replacePrefixMatch": "/v1",
                                    }
                                },
                            },
                            {
                                "type": "ResponseHeaderModifier",
                                "responseHeaderModifier": {
                                    "set": [{"name": "X-Served-By", "value": "gateway"}]
                                },
                            },
                        ],
                        "backendRefs": [{"name": "one", "port": 80}],
                    },
                    {
                        "backendRefs": [
                            {"name": "one", "port": 80, "weight": 1},
                            {"name": "two", "port": 80, "weight": 1},
                        ]
                    },
                ],
            },
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "alt", "namespace": NS},
            "spec": {
                "parentRefs": [{"name": "gw", "sectionName": "alt"}],
                "rules": [{"backendRefs": [{"name": "two", "port": 80}]}],
            },
        },
    ]
    for name, port in ports.items():
        docs.append(testing.service(name, namespace=NS, target_port=port))
        docs.append(
            testing.endpoint_slice(name, ["127.0.0.1"], name=f"{name}-1", namespace=NS, port=port)
        )
    return docs


def _get(port: int, host: str, path: str) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def test_serve_a_gateway(tmp_path: Path, upstreams: dict[str, int]) -> None:
    manifests = tmp_path / "manifests.yaml"
    manifests.write_text(yaml.safe_dump_all(_manifests(upstreams)), encoding="utf-8")
    web, alt = free_port(), free_port()
    process = ServeProcess(
        tmp_path / "serve.log",
        str(manifests),
        "--allow-loopback-endpoints",
        "--gateway=infra/gw",
        "--controller=example.com/gateway",
        f"--listener-port=80={web}",
        f"--listener-port=8081={alt}",
    )
    try:
        # A redirect, its Location on the listener port (80: left out).
        status, headers, _ = _get(web, "www.test", "/old/page?x=1")
        assert status == 301
        assert headers["Location"] == "http://www.test/new?x=1"
        # A rewrite: the upstream sees the new path; the response header is set.
        status, headers, body = _get(web, "www.test", "/api/items")
        assert (status, body) == (200, "one /v1/items\n")
        assert headers["X-Served-By"] == "gateway"
        # Weights 1:1 over two Services.
        seen = collections.Counter(_get(web, "www.test", "/")[2].split()[0] for _ in range(100))
        assert set(seen) == {"one", "two"}
        assert 25 <= seen["one"] <= 75, seen
        # The second listener: its own port and hostname only.
        assert _get(alt, "alt.test", "/x")[2] == "two /x\n"
        assert _get(alt, "www.test", "/x")[0] == 404
        assert _get(web, "alt.test", "/x")[0] == 404
        assert "listening (gateway:80)" in process.output()
    finally:
        assert process.stop() == 0
