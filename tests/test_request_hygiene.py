"""The request attacks of issue 11, through both executors, on the bytes on the wire.

Each was tried against the wave-1 gateway and compared with nginx 1.22. The tables: an
Exact `/public/admin` rule to a Service without endpoints (its answer, 503, says the
request reached it) beside the Prefix `/` rule of the echo backend, which answers with the
exact bytes it received (tests/test_header_hygiene.py). Both executors run every test: the
aiohttp proxy and `IngressMiddleware` + `HTTPForwarder` under uvicorn.
"""

from __future__ import annotations

from typing import Any

import pytest

import ingresslib
from tests.support import echo_manifests, serve_forwarder, serve_gateway
from tests.test_header_hygiene import (
    HOST,
    Backend,
    _field,
    raw_backend,
    raw_exchange,
    run,
    upstream_request,
)

GUARD = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {"name": "guard", "namespace": "shop"},
    "spec": {
        "tls": [{"hosts": ["secure.example.com"]}],
        "rules": [
            {
                "host": HOST.decode(),
                "http": {
                    "paths": [
                        {
                            "path": "/public/admin",
                            "pathType": "Exact",
                            "backend": {"service": {"name": "deny", "port": {"number": 80}}},
                        }
                    ]
                },
            },
            {
                "host": "secure.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "deny", "port": {"number": 80}}},
                        }
                    ]
                },
            },
        ],
    },
}
DENY = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "deny", "namespace": "shop"},
    "spec": {"ports": [{"port": 80}]},
}


def _resources(backend: Backend) -> Any:
    documents = [*echo_manifests(HOST.decode(), backend.port), GUARD, DENY]
    return ingresslib.load_manifests(documents, allow_loopback_endpoints=True)


EXECUTORS = {
    "gateway": lambda backend: serve_gateway(_resources(backend)),
    "asgi": lambda backend: serve_forwarder(_resources(backend)),
}


@pytest.fixture(params=sorted(EXECUTORS))
def executor(request: pytest.FixtureRequest) -> str:
    """The executor under test: "asgi" (uvicorn) or "gateway" (aiohttp)."""
    name: str = request.param
    return name


def exchange(executor: str, request: bytes) -> tuple[Any, Backend]:
    result: list[Any] = []

    async def main() -> None:
        async with raw_backend() as backend, EXECUTORS[executor](backend) as port:
            result.append((await raw_exchange(port, request), backend))

    run(main)
    return result[0]  # type: ignore[no-any-return]  # (Response, Backend)


def get(target: bytes, host: bytes = HOST) -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"


def test_an_encoded_unreserved_character_cannot_bypass_an_exact_rule(executor: str) -> None:
    # nginx routes /public/%61dmin to `location = /public/admin`; wave 1 proxied it to the
    # Prefix backend, which decoded it and served its admin page.
    response, backend = exchange(executor, get(b"/public/%61dmin"))
    assert response.status == 503  # the Exact rule's Service (no endpoints) answered
    assert backend.received == []


@pytest.mark.parametrize(
    "target", [b"/public/..%2Finternal", b"/public/admin%00", b"/%zz", b"/a/%2e%2e%5Cb"]
)
def test_paths_that_cannot_be_normalised_are_400(executor: str, target: bytes) -> None:
    response, backend = exchange(executor, get(target))
    assert response.status == 400
    assert backend.received == []


def test_the_upstream_sees_the_path_the_router_saw(executor: str) -> None:
    response, backend = exchange(executor, get(b"/x/./y//z/../%7Euser?q=%2F"))
    start, _, _ = upstream_request(response, backend)
    assert start == b"GET /x/y/~user?q=%2F HTTP/1.1"


def test_an_absolute_form_target_is_routed_by_its_authority(executor: str) -> None:
    # Routed by the Host header, it would be 404 (no rule for other.example); RFC 9112
    # §3.2.2 has the authority of the target win, and the upstream gets origin form.
    request = get(b"http://" + HOST + b"/x?y=1", host=b"other.example")
    response, backend = exchange(executor, request)
    start, fields, _ = upstream_request(response, backend)
    assert start == b"GET /x?y=1 HTTP/1.1"
    assert _field(fields, b"host") == HOST


@pytest.mark.parametrize("host", [b"app..example.com", b"app.example.com/x", b" "])
def test_invalid_hosts_are_400(executor: str, host: bytes) -> None:
    response, backend = exchange(executor, get(b"/", host=host))
    assert response.status == 400
    assert backend.received == []


def test_the_redirect_location_is_built_from_the_normalised_host(executor: str) -> None:
    response, _ = exchange(executor, get(b"/a/./b?c=d", host=b"SECURE.Example.com.:80"))
    assert response.status == 308
    assert _field(response.headers, b"location") == b"https://secure.example.com/a/b?c=d"
