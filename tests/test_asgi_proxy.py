"""HTTPForwarder under a real uvicorn, proxying to real uvicorn upstreams, all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import itertools
import json
import logging
import os
import socket
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import ingresslib
import ingresslib.asgi
from ingresslib.asgi import ASGIApp, HTTPForwarder, IngressMiddleware, Receive, Scope, Send
from ingresslib.endpoints import EndpointIndex
from tests.support import ASGI_SERVERS, echo_manifests, free_port, serve_asgi

HOST = "app.example.com"

# --- the upstream: an echo app -----------------------------------------------------------------


def _echo_app(name: str) -> ASGIApp:
    """`/stream`: 5 chunks 0.2 s apart; `/upload`: the body back, streamed in chunks;
    `/download?size=N`: N bytes in 256 KiB chunks; `?delay=s`: waits before answering;
    anything else: the request as JSON (with the body's length and SHA-256, read as it comes)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        raw_path: bytes = scope["raw_path"]
        query: bytes = scope["query_string"]
        if query.startswith(b"delay="):
            await asyncio.sleep(float(query[6:]))
        if raw_path == b"/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for index in range(5):
                await send(
                    {"type": "http.response.body", "body": b"chunk%d\n" % index, "more_body": True}
                )
                await asyncio.sleep(0.2)
            await send({"type": "http.response.body", "body": b""})
            return
        if raw_path == b"/download":
            size = int(query.removeprefix(b"size="))
            block = bytes(range(256)) * 1024
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for start in range(0, size, len(block)):
                body = block[: size - start]
                await send({"type": "http.response.body", "body": body, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if raw_path == b"/upload":
            # The body back, in 64 KiB chunks, once it is all read: HTTP/1.1 proxies (httpcore
            # and nginx alike) send the whole request before they read the response.
            received = bytearray()
            more = True
            while more:
                message = await receive()
                received += message.get("body", b"")
                more = message.get("more_body", False)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for start in range(0, len(received), 1 << 16):
                chunk = bytes(received[start : start + (1 << 16)])
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        digest = hashlib.sha256()
        length = 0
        more = True
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            digest.update(chunk)
            length += len(chunk)
            more = message.get("more_body", False)
        body = json.dumps(
            {
                "server": name,
                "method": scope["method"],
                "raw_path": raw_path.decode("latin-1"),
                "query": query.decode("latin-1"),
                "headers": [
                    [k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]
                ],
                "length": length,
                "sha256": digest.hexdigest(),
            }
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            # Hop-by-hop on the way back: none of these may reach the client.
            (b"connection", b"x-upstream-hop"),
            (b"x-upstream-hop", b"1"),
            (b"keep-alive", b"timeout=5"),
            (b"proxy-authenticate", b"Basic"),
            (b"x-upstream-kept", b"1"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


# --- servers -------------------------------------------------------------------------------------


GatewayFactory = Callable[
    ..., contextlib.AbstractContextManager[tuple[httpx.Client, HTTPForwarder]]
]
Serve = Callable[[ASGIApp], contextlib.AbstractContextManager[int]]


@pytest.fixture(params=ASGI_SERVERS)
def asgi_server(request: pytest.FixtureRequest) -> str:
    """The server the gateway under test runs under: uvicorn, then hypercorn."""
    server: str = request.param
    return server


@pytest.fixture
def serve(asgi_server: str) -> Serve:
    """`with serve(app) as port`: `app` under the server of `asgi_server`."""
    return functools.partial(serve_asgi, kind=asgi_server)


@pytest.fixture
def gateway(asgi_server: str) -> GatewayFactory:
    """`with gateway(*ports, **options) as (client, forwarder)`, under `asgi_server`."""
    return functools.partial(_gateway, asgi_server)


@pytest.fixture(scope="module")
def upstreams() -> Iterator[tuple[int, int]]:
    # The upstreams run under uvicorn for both servers of the gateway under test.
    with serve_asgi(_echo_app("a")) as a, serve_asgi(_echo_app("b")) as b:
        yield a, b


def _resources(*ports: int) -> Any:
    """`/` to shop/echo (one EndpointSlice per upstream port), `/empty` to shop/empty (none)."""
    return ingresslib.load_manifests(
        echo_manifests(HOST, *ports, empty=True), allow_loopback_endpoints=True
    )


@contextlib.contextmanager
def _gateway(
    asgi_server: str, *ports: int, **options: Any
) -> Iterator[tuple[httpx.Client, HTTPForwarder]]:
    resources = _resources(*ports)
    forwarder = HTTPForwarder(EndpointIndex.build(resources), **options)
    app = IngressMiddleware(None, ingresslib.RouteTable.build(resources), forwarder=forwarder)
    with (
        serve_asgi(app, asgi_server) as port,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Host": HOST}, timeout=10) as c,
    ):
        yield c, forwarder


def _raw_request(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (httpx would remove dot segments); read to the close."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (h.split(":", 1) for h in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _down_port() -> int:
    return free_port()  # nothing listens there: connections are refused


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        # The router and the upstream see the same normalised path (RFC 3986 §6.2.2); the
        # query is forwarded as received.
        ("keep", "/c/d/e..?x=%2F&y=a+b&z=..%2F"),
        ("raw", "/a%2Fb/../c/./d//e%2e%2E?x=%2F&y=a+b&z=..%2F"),
    ],
)
def test_the_decided_path_and_query_reach_the_upstream(
    serve: Serve, upstreams: tuple[int, int], paths: Any, expected: str
) -> None:
    resources = _resources(upstreams[0])
    forwarder = HTTPForwarder(EndpointIndex.build(resources))
    app = IngressMiddleware(
        None, ingresslib.RouteTable.build(resources), forwarder=forwarder, paths=paths
    )
    target = b"/a%2Fb/../c/./d//e%2e%2E?x=%2F&y=a+b&z=..%2F"
    with serve(app) as port:
        status, _, body = _raw_request(
            port,
            b"GET " + target + b" HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n",
        )
    assert status == 200
    echoed = json.loads(body)
    assert echoed["raw_path"] + "?" + echoed["query"] == expected
    assert echoed["method"] == "GET"
    # A GET without a body is forwarded without one (no framing header invented).
    names = {k for k, _ in echoed["headers"]}
    assert "transfer-encoding" not in names
    assert "content-length" not in names
    # The proxy's own client adds no header of its own (User-Agent, Accept, ...): only the
    # forwarding fields ingress-nginx sets (docs/proxy.md).
    assert sorted(names) == [
        "host",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-proto",
        "x-forwarded-scheme",
        "x-real-ip",
        "x-scheme",
    ]


def test_a_large_body_streams_both_ways(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    payload = os.urandom(6 << 20)
    digest = hashlib.sha256(payload).hexdigest()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 256 << 10):
            yield payload[start : start + (256 << 10)]

    with gateway(upstreams[0]) as (client, _):
        # With Content-Length: the upstream receives exactly the body.
        echoed = client.post("/json", content=payload).json()
        assert (echoed["length"], echoed["sha256"]) == (len(payload), digest)
        assert dict(echoed["headers"])["content-length"] == str(len(payload))
        # Chunked from the client: forwarded chunked, echoed back chunk by chunk.
        response = client.post("/upload", content=chunks())
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == digest


def test_100_mb_stream_through_without_growing_memory(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    # Client, forwarder and upstream share this process: a copy of the whole body anywhere
    # along the way would show as a peak of 100 MB or more.
    chunk = bytes(range(256)) * 1024  # 256 KiB
    count = 400  # 100 MiB

    def chunks() -> Iterator[bytes]:
        for _ in range(count):
            yield chunk

    expected = hashlib.sha256(chunk * count).hexdigest()
    with gateway(upstreams[0]) as (client, _):
        tracemalloc.start()
        try:
            # Up: the endpoint hashes the body as it arrives.
            echoed = client.post("/sum", content=chunks()).json()
            # Down: the endpoint generates the body chunk by chunk.
            received = 0
            digest = hashlib.sha256()
            with client.stream("GET", f"/download?size={len(chunk) * count}") as response:
                assert response.status_code == 200
                for part in response.iter_raw():
                    received += len(part)
                    digest.update(part)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert (echoed["length"], echoed["sha256"]) == (len(chunk) * count, expected)
    assert (received, digest.hexdigest()) == (len(chunk) * count, expected)
    assert peak < 24 << 20, f"peak {peak / 2**20:.1f} MiB while streaming 100 MiB"


def test_hop_by_hop_headers_are_removed_and_forwarded_headers_set(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    with gateway(upstreams[0]) as (client, _):
        response = client.get(
            "/h",
            headers={
                "Host": "App.Example.com:8080",
                "Connection": "keep-alive, X-Client-Hop",
                "X-Client-Hop": "1",
                "Keep-Alive": "timeout=5",
                "TE": "trailers",
                "Proxy-Authorization": "Basic eDp5",
                "Proxy-Connection": "keep-alive",
                "Trailer": "x-foo",
                "X-Forwarded-For": "10.1.2.3",
                "X-Forwarded-Proto": "https",
                "X-Kept": "yes",
            },
        )
    assert response.status_code == 200
    sent = response.json()["headers"]
    names = [k for k, _ in sent]
    headers = dict(sent)
    for hop in (
        "connection",
        "x-client-hop",
        "keep-alive",
        "te",
        "proxy-authorization",
        "proxy-connection",
        "trailer",
        "transfer-encoding",
    ):
        assert hop not in names, hop
    assert headers["host"] == "App.Example.com:8080"  # the original Host, as received
    assert headers["x-kept"] == "yes"
    # The client is no trusted proxy: its X-Forwarded-For is replaced, not extended.
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == "App.Example.com:8080"
    assert names.count("x-forwarded-proto") == 1
    # And on the way back; Date and Server are the ASGI server's own, once each.
    assert response.headers["x-upstream-kept"] == "1"
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) == 1
    for hop in ("x-upstream-hop", "keep-alive", "proxy-authenticate"):
        assert hop not in response.headers, hop


def test_requests_are_balanced_round_robin(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    with gateway(*upstreams) as (client, _):
        servers = [client.get(f"/rr/{i}").json()["server"] for i in range(6)]
    assert sorted(servers) == ["a", "a", "a", "b", "b", "b"]
    assert all(x != y for x, y in itertools.pairwise(servers))


def test_a_down_endpoint_is_retried_on_another(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    down = _down_port()
    with gateway(down, upstreams[0]) as (client, forwarder):
        responses = [client.post("/retry", content=b"body") for _ in range(4)]
        assert [r.status_code for r in responses] == [200] * 4
        assert {r.json()["server"] for r in responses} == {"a"}
        assert {r.json()["length"] for r in responses} == {4}
        balancer: Any = forwarder.balancer("shop", "echo", "http")
        states = {e.port: balancer.state(e) for e in balancer.endpoints}
        assert states[down].failures >= 1
        assert states[upstreams[0]].failures == 0


def test_all_endpoints_down_is_502(gateway: GatewayFactory) -> None:
    with gateway(_down_port(), _down_port()) as (client, _):
        response = client.get("/down")
    assert response.status_code == 502
    assert response.text == "502 Bad Gateway\n"


def test_an_upstream_slower_than_the_read_timeout_is_504(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    with gateway(upstreams[0], read_timeout=0.3) as (client, _):
        started = time.monotonic()
        response = client.get("/slow", params={"delay": "1"})
        elapsed = time.monotonic() - started
        assert response.status_code == 504
        assert response.text == "504 Gateway Timeout\n"
        assert elapsed < 0.9  # not retried, not waited out
        # Within the timeout it is served.
        assert client.get("/slow", params={"delay": "0.05"}).status_code == 200


def test_a_backend_without_endpoints_is_503(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    with gateway(upstreams[0]) as (client, _):
        response = client.get("/empty")
    assert response.status_code == 503
    assert response.text == "503 Service Unavailable: no-endpoint-slices\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_a_streamed_response_arrives_before_the_upstream_finishes(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    with gateway(upstreams[0]) as (client, _):
        started = time.monotonic()
        arrivals: list[tuple[float, bytes]] = []
        with client.stream("GET", "/stream") as response:
            assert response.status_code == 200
            arrivals.extend((time.monotonic() - started, c) for c in response.iter_raw())
    total = arrivals[-1][0]
    assert b"".join(c for _, c in arrivals) == b"".join(b"chunk%d\n" % i for i in range(5))
    assert len(arrivals) >= 3  # not one buffered block
    assert total >= 0.8  # the upstream takes 5 x 0.2 s
    assert arrivals[0][0] < total / 3


def test_the_index_is_swapped_and_the_balancer_updated(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    with gateway(upstreams[0]) as (client, forwarder):
        assert client.get("/x").json()["server"] == "a"
        forwarder.index = EndpointIndex.build(_resources(upstreams[1]))
        assert client.get("/x").json()["server"] == "b"
        balancer: Any = forwarder.balancer("shop", "echo", "http")
        assert [e.port for e in balancer.endpoints] == [upstreams[1]]


def test_the_client_is_closed_at_lifespan_shutdown(
    gateway: GatewayFactory, upstreams: tuple[int, int]
) -> None:
    with gateway(upstreams[0]) as (client, forwarder):
        assert client.get("/x").status_code == 200
        assert forwarder._client._client is not None
    assert forwarder._client._client is None


def test_a_missing_httpx_is_a_clear_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "httpx", None)
    monkeypatch.delitem(sys.modules, "ingresslib.asgi._http", raising=False)
    monkeypatch.delattr(ingresslib.asgi, "_http", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'ingresslib\[asgi\]'"):
        HTTPForwarder(EndpointIndex.build([]))


def test_a_client_that_leaves_mid_body_or_mid_response_leaves_no_error(
    gateway: GatewayFactory, upstreams: tuple[int, int], caplog: pytest.LogCaptureFixture
) -> None:
    with gateway(upstreams[0]) as (client, forwarder):
        port = int(str(client.base_url).rsplit(":", 1)[1].rstrip("/"))
        # Mid request body: 10 of 1,000,000 bytes, then gone.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /json HTTP/1.1\r\nHost: app.example.com\r\n"
                b"Content-Length: 1000000\r\n\r\n0123456789"
            )
            time.sleep(0.2)
        # Mid response: the first chunk of /stream, then gone.
        with client.stream("GET", "/stream") as response:
            next(response.iter_raw())
        time.sleep(0.3)
        assert client.get("/after").json()["server"] == "a"
        balancer: Any = forwarder.balancer("shop", "echo", "http")
        assert balancer.state(balancer.endpoints[0]).failures == 0
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
