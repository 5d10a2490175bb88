"""The aiohttp Gateway, ingress_middleware and CertificateStore, with real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import ssl
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import aiohttp
import httpx
import pytest
from aiohttp import web

import ingresslib
from ingresslib.aiohttp import MATCH_KEY, ReverseProxy, ingress_middleware
from ingresslib.endpoints import EndpointIndex
from ingresslib.tls import CertificateStore, load_certificate
from tests.certificates import CA
from tests.support import echo_manifests, free_port

HOST = "app.example.com"

# --- certificates ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> CA:
    return CA()


def _secret(name: str, chain: bytes, key: bytes, namespace: str = "shop") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": base64.b64encode(chain).decode(),
            "tls.key": base64.b64encode(key).decode(),
        },
    }


# --- the upstream: an echo server ----------------------------------------------------------------


async def _echo(request: web.BaseRequest) -> web.StreamResponse:
    """`?delay=s` waits first; `/upload` streams the body back; else the request as JSON."""
    query = request.raw_path.partition("?")[2]
    if query.startswith("delay="):
        await asyncio.sleep(float(query[6:]))
    if request.raw_path == "/truncate":
        # Promises 100 bytes, sends 10, and closes the connection.
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b"0123456789")
        await asyncio.sleep(0.05)
        assert request.transport is not None
        request.transport.close()
        return response
    if request.raw_path == "/upload":
        response = web.StreamResponse()
        await response.prepare(request)
        async for chunk in request.content.iter_chunked(1 << 16):
            await response.write(chunk)
        await response.write_eof()
        return response
    body = await request.read()
    payload = {
        "method": request.method,
        "raw_path": request.raw_path,
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers],
        "length": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
    }
    return web.json_response(
        payload,
        headers={
            # Hop-by-hop on the way back: none of these may reach the client.
            "Connection": "x-upstream-hop",
            "X-Upstream-Hop": "1",
            "Keep-Alive": "timeout=5",
            "Proxy-Authenticate": "Basic",
            "X-Upstream-Kept": "1",
        },
    )


@contextlib.asynccontextmanager
async def _serve_upstream() -> AsyncIterator[int]:
    server = web.Server(_echo, handler_cancellation=True)
    runner = web.ServerRunner(server, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield _port_of(runner)
    finally:
        await runner.cleanup()


def _port_of(runner: web.BaseRunner) -> int:
    port: int = runner.addresses[0][1]
    return port


# --- manifests and the gateway -------------------------------------------------------------------


def _resources(*ports: int, extra: list[dict[str, Any]] | None = None) -> Any:
    """An Ingress for HOST (`/` to shop/echo, `/empty` to shop/empty with no endpoints), and one
    for the TLS hosts a.test and x.b.test (also to shop/echo)."""
    docs = echo_manifests(HOST, *ports, empty=True)
    root = docs[0]["spec"]["rules"][0]["http"]["paths"][:1]
    docs.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "secure", "namespace": "shop"},
            "spec": {
                "tls": [
                    {"hosts": ["a.test"], "secretName": "a-tls"},
                    {"hosts": ["*.b.test"], "secretName": "b-tls"},
                ],
                "rules": [
                    {"host": "a.test", "http": {"paths": root}},
                    {"host": "*.b.test", "http": {"paths": root}},
                ],
            },
        }
    )
    docs.extend(extra or [])
    return ingresslib.load_manifests(docs, allow_loopback_endpoints=True)


class Running:
    def __init__(self, gateway: ReverseProxy, port: int, tls_port: int | None) -> None:
        self.gateway = gateway
        self.port = port
        self.tls_port = tls_port
        self.url = f"http://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def _serve_gateway(
    *ports: int, ca: CA | None = None, **options: Any
) -> AsyncIterator[Running]:
    extra: list[dict[str, Any]] = []
    if ca is not None:
        extra = [_secret("a-tls", *ca.leaf("a.test")), _secret("b-tls", *ca.leaf("*.b.test"))]
    resources = _resources(*ports, extra=extra)
    store = CertificateStore.build(resources)
    gateway = ReverseProxy(
        ingresslib.RouteTable.build(resources), EndpointIndex.build(resources), store, **options
    )
    runner = web.AppRunner(gateway.app, shutdown_timeout=2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = _port_of(runner)
    tls_port = None
    if ca is not None:
        assert store.problems == ()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=gateway.ssl_context()).start()
        tls_port = runner.addresses[1][1]
    try:
        yield Running(gateway, port, tls_port)
    finally:
        await runner.cleanup()


async def _raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (clients normalise paths); read to the close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        data = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 30))


# --- routing and proxying -------------------------------------------------------------------------


def test_host_routing_headers_and_x_forwarded() -> None:
    async def main() -> None:
        async with (
            _serve_upstream() as up,
            _serve_gateway(up) as gw,
            aiohttp.ClientSession() as client,
        ):
            async with client.get(
                f"{gw.url}/hello?q=1",
                headers={
                    "Host": HOST,
                    "X-Forwarded-For": "203.0.113.9",
                    "X-Forwarded-Proto": "spoofed",
                    "Connection": "keep-alive, x-client-hop",
                    "X-Client-Hop": "1",
                    "Proxy-Authorization": "Basic eDp5",
                    "X-Kept": "yes",
                },
            ) as response:
                assert response.status == 200
                echoed = await response.json()
                for name in ("x-upstream-hop", "keep-alive", "proxy-authenticate"):
                    assert name not in response.headers
                assert response.headers["X-Upstream-Kept"] == "1"
            headers = {k.lower(): v for k, v in echoed["headers"]}
            assert echoed["method"] == "GET"
            assert echoed["raw_path"] == "/hello?q=1"
            assert headers["host"] == HOST
            # The client is no trusted proxy: its X-Forwarded-For is replaced, not extended
            # (tests/test_trusted_proxies.py has the trusted case).
            assert headers["x-forwarded-for"] == "127.0.0.1"
            assert headers["x-forwarded-proto"] == "http"
            assert headers["x-forwarded-host"] == HOST
            assert headers["x-kept"] == "yes"
            for name in ("x-client-hop", "proxy-authorization"):
                assert name not in headers
            names = [k.lower() for k, _ in echoed["headers"]]
            assert names.count("x-forwarded-proto") == 1
            assert headers["user-agent"].startswith("Python/")  # the client's own, kept

    run(main)


def test_head_and_an_empty_post() -> None:
    async def main() -> None:
        async with (
            _serve_upstream() as up,
            _serve_gateway(up) as gw,
            httpx.AsyncClient(base_url=gw.url, headers={"Host": HOST}) as c,
        ):
            response = await c.head("/h")
            assert response.status_code == 200
            assert response.content == b""
            assert int(response.headers["content-length"]) > 0
            response = await c.post("/p")
            assert response.status_code == 200
            assert response.json()["method"] == "POST"
            assert response.json()["length"] == 0
            # A WebSocket upgrade without its handshake fields is refused, not half-proxied
            # (tests/test_websocket_proxy.py has the proxied sessions).
            response = await c.get("/ws", headers={"Connection": "Upgrade", "Upgrade": "websocket"})
            assert response.status_code == 400

    run(main)


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        # The router and the upstream see the same normalised path (RFC 3986 §6.2.2); the
        # query is forwarded as received.
        ("keep", "/c/d/e..?x=%2F&y=a+b&z=..%2F"),
        ("raw", "/a%2Fb/../c/./d//e%2e%2E?x=%2F&y=a+b&z=..%2F"),
    ],
)
def test_the_decided_path_reaches_the_upstream(paths: str, expected: str) -> None:
    target = b"/a%2Fb/../c/./d//e%2e%2E?x=%2F&y=a+b&z=..%2F"

    async def main() -> None:
        async with _serve_upstream() as up, _serve_gateway(up, paths=paths) as gw:
            status, _, body = await _raw(
                gw.port,
                b"GET " + target + b" HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n"
                b"Connection: close\r\n\r\n",
            )
        assert status == 200, body
        echoed = json.loads(body)
        assert echoed["raw_path"] == expected
        # No header of aiohttp's own (User-Agent, Accept, Accept-Encoding, Content-Type):
        # only the forwarding fields ingress-nginx sets (docs/proxy.md).
        assert sorted(k.lower() for k, _ in echoed["headers"]) == [
            "host",
            "x-forwarded-for",
            "x-forwarded-host",
            "x-forwarded-port",
            "x-forwarded-proto",
            "x-forwarded-scheme",
            "x-real-ip",
            "x-scheme",
        ]

    run(main)


def test_unknown_host_is_404_and_no_endpoints_is_503() -> None:
    async def main() -> None:
        async with (
            _serve_upstream() as up,
            _serve_gateway(up) as gw,
            httpx.AsyncClient(base_url=gw.url) as client,
        ):
            response = await client.get("/", headers={"Host": "unknown.example.com"})
            assert response.status_code == 404
            assert response.text == "404 Not Found\n"
            response = await client.get("/empty/x", headers={"Host": HOST})
            assert response.status_code == 503
            assert response.text.startswith("503 Service Unavailable: ")

    run(main)


def test_all_endpoints_down_is_502_and_a_refused_endpoint_is_retried() -> None:
    async def main() -> None:
        async with _serve_gateway(free_port(), free_port()) as gw, httpx.AsyncClient() as c:
            response = await c.get(f"{gw.url}/", headers={"Host": HOST})
            assert response.status_code == 502
            assert response.text == "502 Bad Gateway\n"
        async with (
            _serve_upstream() as up,
            _serve_gateway(free_port(), up) as gw,
            httpx.AsyncClient() as c,
        ):
            for _ in range(4):  # round robin: every other request first picks the dead one
                response = await c.get(f"{gw.url}/", headers={"Host": HOST})
                assert response.status_code == 200

    run(main)


def test_a_slow_upstream_is_504() -> None:
    async def main() -> None:
        async with (
            _serve_upstream() as up,
            _serve_gateway(up, read_timeout=0.2) as gw,
            httpx.AsyncClient() as c,
        ):
            response = await c.get(f"{gw.url}/?delay=2", headers={"Host": HOST})
            assert response.status_code == 504
            assert response.text == "504 Gateway Timeout\n"

    run(main)


def test_100_mb_stream_through_without_growing_memory() -> None:
    # Client, gateway and upstream share this process: a copy of the whole body anywhere
    # along the way would show as a peak of 100 MB or more.
    chunk = bytes(range(256)) * 1024  # 256 KiB
    count = 400  # 100 MiB

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk

    async def main() -> None:
        async with (
            _serve_upstream() as up,
            _serve_gateway(up) as gw,
            aiohttp.ClientSession() as client,
        ):
            tracemalloc.start()
            try:
                received = 0
                digest = hashlib.sha256()
                async with client.post(
                    f"{gw.url}/upload", data=body(), headers={"Host": HOST}
                ) as response:
                    assert response.status == 200
                    async for part in response.content.iter_any():
                        received += len(part)
                        digest.update(part)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
        assert received == len(chunk) * count
        assert digest.hexdigest() == hashlib.sha256(chunk * count).hexdigest()
        assert peak < 24 << 20, f"peak {peak / 2**20:.1f} MiB while streaming 100 MiB"

    run(main)


def test_a_large_body_is_streamed_both_ways() -> None:
    size = 5 * 1024 * 1024
    chunk = bytes(range(256)) * 256

    async def body() -> AsyncIterator[bytes]:
        for _ in range(size // len(chunk)):
            yield chunk

    async def main() -> None:
        async with (
            _serve_upstream() as up,
            _serve_gateway(up) as gw,
            aiohttp.ClientSession() as client,
        ):
            async with client.post(
                f"{gw.url}/upload", data=body(), headers={"Host": HOST}
            ) as response:
                assert response.status == 200
                digest, length = hashlib.sha256(), 0
                async for part in response.content.iter_any():
                    digest.update(part)
                    length += len(part)
            assert length == size
            assert digest.hexdigest() == hashlib.sha256(chunk * (size // len(chunk))).hexdigest()
            async with client.put(
                f"{gw.url}/sum", data=chunk * 8, headers={"Host": HOST}
            ) as response:
                echoed = await response.json()
            assert echoed["length"] == len(chunk) * 8
            assert echoed["method"] == "PUT"

    run(main)


def test_swap_replaces_the_table_and_index() -> None:
    async def main() -> None:
        async with (
            _serve_upstream() as up,
            _serve_gateway(free_port()) as gw,
            httpx.AsyncClient() as c,
        ):
            assert (await c.get(f"{gw.url}/", headers={"Host": HOST})).status_code == 502
            resources = _resources(up)
            gw.gateway.swap(index=EndpointIndex.build(resources))
            assert (await c.get(f"{gw.url}/", headers={"Host": HOST})).status_code == 200
            assert gw.gateway._session is not None
        # The app's cleanup closed the pooled upstream connections.
        assert gw.gateway._session is None

    run(main)


def test_an_upstream_failing_mid_response_truncates_the_client_response() -> None:
    async def main() -> None:
        async with (
            _serve_upstream() as up,
            _serve_gateway(up) as gw,
            aiohttp.ClientSession() as client,
        ):
            async with client.get(f"{gw.url}/truncate", headers={"Host": HOST}) as response:
                assert response.status == 200
                with pytest.raises(aiohttp.ClientPayloadError):
                    await response.read()
            # The gateway still serves the next request.
            async with client.get(f"{gw.url}/", headers={"Host": HOST}) as response:
                assert response.status == 200

    run(main)


# --- TLS ------------------------------------------------------------------------------------------


async def _peer_names(port: int, server_hostname: str, ca: CA) -> list[str]:
    _, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ca.client_context(), server_hostname=server_hostname
    )
    try:
        cert = writer.get_extra_info("peercert")
    finally:
        writer.close()
        await writer.wait_closed()
    return [value for kind, value in cert["subjectAltName"] if kind == "DNS"]


def test_sni_selects_the_exact_and_the_wildcard_certificate(ca: CA) -> None:
    async def main() -> None:
        async with _serve_upstream() as up, _serve_gateway(up, ca=ca) as gw:
            assert gw.tls_port is not None
            assert await _peer_names(gw.tls_port, "a.test", ca) == ["a.test"]
            assert await _peer_names(gw.tls_port, "x.b.test", ca) == ["*.b.test"]
            # No certificate covers the name and there is no default: the handshake fails.
            with pytest.raises((ssl.SSLError, ConnectionResetError)):
                await _peer_names(gw.tls_port, "c.test", ca)
            # A request over TLS, verified against the CA, reaches the upstream.
            async with (
                aiohttp.ClientSession() as client,
                client.get(
                    f"https://127.0.0.1:{gw.tls_port}/x",
                    headers={"Host": "x.b.test"},
                    ssl=ca.client_context(),
                    server_hostname="x.b.test",
                ) as response,
            ):
                assert response.status == 200
                echoed = await response.json()
            headers = {k.lower(): v for k, v in echoed["headers"]}
            assert headers["x-forwarded-proto"] == "https"
            assert headers["host"] == "x.b.test"

    run(main)


def test_plain_http_to_a_tls_host_is_redirected(ca: CA) -> None:
    async def main() -> None:
        async with (
            _serve_upstream() as up,
            _serve_gateway(up, ca=ca, https_port=8443) as gw,
            httpx.AsyncClient() as c,
        ):
            response = await c.get(f"{gw.url}/p%2Fq?x=1", headers={"Host": "a.test:80"})
            assert response.status_code == 308
            assert response.headers["location"] == "https://a.test:8443/p%2Fq?x=1"
            # A host without TLS is served over plain HTTP.
            assert (await c.get(f"{gw.url}/", headers={"Host": HOST})).status_code == 200

    run(main)


def test_certificate_store_reports_problems_without_breaking_other_hosts(ca: CA) -> None:
    a_chain, _ = ca.leaf("a.test")
    _, other_key = ca.leaf("other.test")
    expired = ca.leaf("old.test", days=-1)
    resources = _resources(
        extra=[
            _secret("a-tls", a_chain, other_key),  # key mismatch
            # b-tls is missing
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {"name": "more", "namespace": "shop"},
                "spec": {
                    "tls": [
                        {"hosts": ["good.test"], "secretName": "good-tls"},
                        {"hosts": ["old.test"], "secretName": "old-tls"},
                        {"hosts": ["bad.test"], "secretName": "bad-tls"},
                    ],
                    "defaultBackend": {"service": {"name": "echo", "port": {"number": 80}}},
                },
            },
            _secret("good-tls", *ca.leaf("good.test")),
            _secret("old-tls", *expired),
            _secret("bad-tls", b"-----BEGIN CERTIFICATE-----\nnope\n", b"-----BEGIN x"),
        ]
    )
    store = CertificateStore.build(resources)
    problems = "\n".join(store.problems)
    assert len(store.problems) == 4, problems
    assert (
        "Ingress shop/secure: spec.tls[0].secretName: Secret shop/a-tls: the private key"
        " in tls.key does not match the certificate" in problems
    )
    assert "Ingress shop/secure: spec.tls[1].secretName: Secret shop/b-tls does not exist" in (
        problems
    )
    assert (
        "Ingress shop/more: spec.tls[1].secretName: Secret shop/old-tls: the certificate expired"
        in problems
    )
    assert "Ingress shop/more: spec.tls[2].secretName: Secret shop/bad-tls:" in problems
    good = store.select("GOOD.test.")
    assert good is not None
    assert good.name == "shop/good-tls"
    assert store.select("a.test") is None
    assert store.select("x.b.test") is None
    assert {"a.test", "*.b.test", "good.test"} <= store.tls_hosts
    # A default certificate serves what nothing else covers; a wildcard covers one label.
    default = load_certificate("default", *ca.leaf("default.test"))
    store = CertificateStore.build(resources, default=default)
    assert store.select("a.test") is default
    assert store.select(None) is default


def test_wildcard_covers_exactly_one_label(ca: CA) -> None:
    resources = _resources(
        extra=[_secret("a-tls", *ca.leaf("a.test")), _secret("b-tls", *ca.leaf("*.b.test"))]
    )
    store = CertificateStore.build(resources)
    assert store.problems == ()
    wildcard = store.select("x.b.test")
    assert wildcard is not None
    assert wildcard.name == "shop/b-tls"
    assert store.select("b.test") is None
    assert store.select("y.x.b.test") is None


# --- the middleware for aiohttp.web apps ---------------------------------------------------------


def test_ingress_middleware_routes_to_service_handlers() -> None:
    async def echo_handler(request: web.Request) -> web.StreamResponse:
        match = cast(ingresslib.RouteMatch, request[MATCH_KEY])  # a Service's handler: matched
        return web.Response(text=f"echo {match.path} {request.raw_path}")

    async def own(request: web.Request) -> web.StreamResponse:
        return web.Response(text="own router")

    resources = _resources()

    async def main() -> None:
        for passthrough, expected in ((False, 503), (True, 200)):
            app = web.Application(
                middlewares=[
                    ingress_middleware(
                        ingresslib.RouteTable.build(resources),
                        services={"shop/echo": echo_handler},
                        passthrough=passthrough,
                    )
                ]
            )
            app.router.add_route("*", "/{tail:.*}", own)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            url = f"http://127.0.0.1:{_port_of(runner)}"
            try:
                async with httpx.AsyncClient(base_url=url) as c:
                    response = await c.get("/x/y?z=1", headers={"Host": HOST})
                    assert response.text == "echo / /x/y?z=1"
                    assert (await c.get("/", headers={"Host": "nope.test"})).status_code == 404
                    response = await c.get("/", headers={"Host": "a.test"})
                    assert response.status_code == 308
                    # ingress-nginx drops the "/" that ends the target.
                    assert response.headers["location"] == "https://a.test"
                    response = await c.get("/empty", headers={"Host": HOST})
                    assert response.status_code == expected
            finally:
                await runner.cleanup()

    run(main)


def test_gateway_is_the_deprecated_name_of_reverse_proxy() -> None:
    import ingresslib.aiohttp

    with pytest.warns(DeprecationWarning, match="ReverseProxy"):
        old = ingresslib.aiohttp.Gateway  # the deprecated name, through __getattr__
    assert old is ReverseProxy


def test_ingress_middleware_types_as_an_aiohttp_middleware() -> None:
    # `mypy --strict` checks this file (make typecheck): the documented use must type-check
    # in user code, which a plain Callable return type did not (aiohttp's `Middleware` is a
    # Protocol with named parameters).
    table = ingresslib.RouteTable.build([])
    middleware = ingress_middleware(table)
    app = web.Application(middlewares=[middleware])
    assert list(app.middlewares) == [middleware]


def test_the_decision_memo_keeps_every_check() -> None:
    # A repeated request is decided from the memo (scheme, Host, target, port); a second
    # Host field is still a 400, and another table (swap) decides afresh.
    async def main() -> None:
        async with _serve_upstream() as upstream, _serve_gateway(upstream) as running:
            plain = f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
            assert (await _raw(running.port, plain))[0] == 200
            assert (await _raw(running.port, plain))[0] == 200
            doubled = (
                f"GET / HTTP/1.1\r\nHost: {HOST}\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"
            ).encode()
            assert (await _raw(running.port, doubled))[0] == 400
            running.gateway.swap(table=ingresslib.RouteTable.build([]))
            assert (await _raw(running.port, plain))[0] == 404

    run(main)
