"""The ASGI executor (IngressMiddleware + HTTPForwarder under uvicorn) honours the policies
of ingress-nginx's annotations as `serve` does: cookie affinity, upstream-hash-by,
proxy-read-timeout; two real upstreams that say which one answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import ingresslib
from ingresslib import testing
from ingresslib.asgi import HTTPForwarder, IngressMiddleware
from ingresslib.endpoints import EndpointIndex
from tests.support import serve_asgi
from tests.test_asgi_proxy import _echo_app

P = "nginx.ingress.kubernetes.io/"
HOSTS = {
    "sticky.test": {P + "affinity": "cookie", P + "session-cookie-name": "SERVERID"},
    "hash.test": {P + "upstream-hash-by": "$request_uri"},
    "timeout.test": {P + "proxy-read-timeout": "1"},
}


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with serve_asgi(_echo_app("a")) as first, serve_asgi(_echo_app("b")) as second:
        documents: list[dict[str, Any]] = [testing.service("echo", namespace="shop")]
        documents += [
            testing.endpoint_slice(
                "echo", ["127.0.0.1"], name=f"echo-{i}", namespace="shop", port=port
            )
            for i, port in enumerate((first, second))
        ]
        documents += [
            testing.ingress(
                host.split(".")[0],
                [testing.ingress_rule(host, testing.ingress_path("/", "echo", port="http"))],
                namespace="shop",
                annotations=annotations,
            )
            for host, annotations in HOSTS.items()
        ]
        resources = ingresslib.load_manifests(documents, allow_loopback_endpoints=True)
        forwarder = HTTPForwarder(EndpointIndex.build(resources))
        app = IngressMiddleware(None, ingresslib.RouteTable.build(resources), forwarder=forwarder)
        with (
            serve_asgi(app) as port,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c,
        ):
            yield c


def _server(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    name: str = response.json()["server"]
    return name


def test_cookie_affinity(client: httpx.Client) -> None:
    first = client.get("/", headers={"Host": "sticky.test"})
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("SERVERID=")
    assert cookie.endswith("; Path=/; HttpOnly")
    pair = cookie.split(";", 1)[0]
    servers = {
        _server(client.get("/", headers={"Host": "sticky.test", "Cookie": pair})) for _ in range(8)
    }
    assert servers == {_server(first)}


def test_upstream_hash_by(client: httpx.Client) -> None:
    for uri in ("/x", "/y", "/z?q=1"):
        assert len({_server(client.get(uri, headers={"Host": "hash.test"})) for _ in range(6)}) == 1
    spread = {_server(client.get(f"/item/{i}", headers={"Host": "hash.test"})) for i in range(30)}
    assert spread == {"a", "b"}


def test_proxy_read_timeout(client: httpx.Client) -> None:
    slow = client.get("/slow", params={"delay": "1.5"}, headers={"Host": "timeout.test"})
    assert slow.status_code == 504
    quick = client.get("/slow", params={"delay": "0.1"}, headers={"Host": "timeout.test"})
    assert quick.status_code == 200
