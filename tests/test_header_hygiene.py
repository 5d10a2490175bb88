"""Header hygiene of both proxies, asserted on the bytes on the wire.

A raw asyncio backend on 127.0.0.1 answers every request with the exact bytes it received
(request head and body) as its body, and a response header of non-ASCII bytes; a raw socket
client writes a request byte for byte and reads the response byte for byte. Every test runs
through both executors: the aiohttp `Gateway` and the ASGI `IngressMiddleware` +
`HTTPForwarder` under uvicorn (`tests.support.serve_gateway` / `serve_forwarder`). The rules
themselves are `ingresslib.proxy.forward_request_headers` / `forward_response_headers`, also
checked directly at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import pytest

import ingresslib
from ingresslib.proxy import TrustedProxies, forward_request_headers, forward_response_headers
from tests.support import echo_manifests, serve_forwarder, serve_gateway

HOST = b"app.example.com"
#: Valid UTF-8 ("café") and bytes that are no UTF-8 at all: both must cross unchanged.
NON_ASCII = b"caf\xc3\xa9 \xff\xfe"
#: The backend's own response fields (its Connection names a field and Content-Length).
RESPONSE_FIELDS = (
    b"X-Raw-Response: " + NON_ASCII + b"\r\n"
    b"Connection: close, X-Upstream-Hop, Content-Length\r\n"
    b"X-Upstream-Hop: 1\r\n"
    b"X-Upstream-Kept: 1\r\n"
)

Headers = list[tuple[bytes, bytes]]


# --- the raw backend and the raw client ----------------------------------------------------------


@attrs.define
class Backend:
    """An HTTP/1.1 backend that answers each request with the bytes it received."""

    port: int = 0
    received: list[bytes] = attrs.field(factory=list)


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> bytes:
    _, fields = _parse_head(head)
    length = _field(fields, b"content-length")
    if length is not None:
        return await reader.readexactly(int(length))
    if (_field(fields, b"transfer-encoding") or b"").lower() == b"chunked":
        body = b""
        while not body.endswith(b"0\r\n\r\n"):  # a test body never ends with "0" itself
            body += await reader.read(65536)
        return body
    return b""


@contextlib.asynccontextmanager
async def raw_backend() -> AsyncIterator[Backend]:
    """The echo backend on a free loopback port: one request per connection."""
    backend = Backend()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            received = head + await _read_body(reader, head)
            backend.received.append(received)
            writer.write(
                b"HTTP/1.1 200 OK\r\n"
                + RESPONSE_FIELDS
                + b"Content-Type: application/octet-stream\r\n"
                + b"Content-Length: "
                + str(len(received)).encode()
                + b"\r\n\r\n"
                + received
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    backend.port = server.sockets[0].getsockname()[1]
    try:
        yield backend
    finally:
        server.close()
        await server.wait_closed()


@attrs.frozen
class Response:
    """A response as read from the socket: status, fields as on the wire, de-chunked body."""

    status: int
    headers: Headers
    body: bytes


def _parse_head(head: bytes) -> tuple[bytes, Headers]:
    start, *lines = head.rstrip(b"\r\n").split(b"\r\n")
    fields = []
    for line in lines:
        name, _, value = line.partition(b":")
        fields.append((name, value.strip(b" \t")))
    return start, fields


def _field(fields: Headers, name: bytes) -> bytes | None:
    values = _fields(fields, name)
    return values[0] if values else None


def _fields(fields: Headers, name: bytes) -> list[bytes]:
    return [value for key, value in fields if key.lower() == name]


def _dechunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _, body = body.partition(b"\r\n")
        length = int(size.split(b";")[0], 16)
        if length == 0:
            break
        out, body = out + body[:length], body[length + 2 :]
    return out


async def raw_exchange(port: int, request: bytes) -> Response:
    """Write `request` byte for byte; read the whole response (the request asks to close)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    start, fields = _parse_head(head)
    if (_field(fields, b"transfer-encoding") or b"").lower() == b"chunked":
        body = _dechunk(body)
    return Response(int(start.split()[1]), fields, body)


def upstream_request(response: Response, backend: Backend) -> tuple[bytes, Headers, bytes]:
    """What the backend received: the request line, the fields, the body (also echoed)."""
    assert response.status == 200, response
    (received,) = backend.received
    assert response.body == received
    head, _, body = received.partition(b"\r\n\r\n")
    start, fields = _parse_head(head)
    return start, fields, body


# --- both executors ------------------------------------------------------------------------------

Serve = Callable[..., contextlib.AbstractAsyncContextManager[int]]


def _resources(backend: Backend) -> Any:
    return ingresslib.load_manifests(
        echo_manifests(HOST.decode(), backend.port), allow_loopback_endpoints=True
    )


EXECUTORS: dict[str, Serve] = {
    "gateway": lambda backend, **options: serve_gateway(_resources(backend), **options),
    "asgi": lambda backend, **options: serve_forwarder(_resources(backend), **options),
}


@pytest.fixture(params=sorted(EXECUTORS))
def executor(request: pytest.FixtureRequest) -> str:
    """The executor under test: "asgi" (uvicorn) or "gateway" (aiohttp)."""
    name: str = request.param
    return name


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 30))


async def through(executor: str, request: bytes, **options: Any) -> tuple[Response, Backend, int]:
    """`request` through the executor to a raw backend: the response, the backend, the port."""
    async with raw_backend() as backend, EXECUTORS[executor](backend, **options) as port:
        response = await raw_exchange(port, request)
    return response, backend, port


SPOOFED = (
    b"X-Forwarded-For: 203.0.113.9\r\n"
    b"X-Real-IP: 203.0.113.9\r\n"
    b"Forwarded: for=203.0.113.9;proto=https;host=evil.example\r\n"
    b"X-Forwarded-Port: 8443\r\n"
    b"X-Forwarded-Proto: https\r\n"
    b"X-Forwarded-Host: evil.example\r\n"
    b"X-Forwarded-Scheme: https\r\n"
    b"X-Scheme: https\r\n"
    b"Proxy: http://evil.example:3128\r\n"
)


# --- Connection never strips Host, Content-Length or the fields we set ---------------------------


def test_connection_tokens_never_strip_host_content_length_or_our_fields(executor: str) -> None:
    # RFC 9110 §7.6.1 has a proxy remove the fields Connection names; a client that names
    # Host must not make the proxy send the pod address as Host (nor Content-Length its body
    # chunked, nor X-Forwarded-For / X-Real-IP go missing).
    request = (
        b"POST /echo HTTP/1.1\r\n"
        b"Host: app.example.com\r\n"
        b"Connection: close, Host, Content-Length, X-Forwarded-For, X-Real-IP, "
        b"X-Forwarded-Port, X-Forwarded-Proto, X-Forwarded-Host, X-Client-Hop\r\n"
        b"X-Client-Hop: 1\r\n"
        b"X-Kept: yes\r\n"
        b"Content-Length: 5\r\n"
        b"\r\n"
        b"hello"
    )

    async def main() -> None:
        response, backend, port = await through(executor, request)
        start, fields, body = upstream_request(response, backend)
        assert start == b"POST /echo HTTP/1.1"
        assert _fields(fields, b"host") == [HOST]
        assert _fields(fields, b"content-length") == [b"5"]
        assert _fields(fields, b"transfer-encoding") == []
        assert body == b"hello"
        assert _fields(fields, b"x-forwarded-for") == [b"127.0.0.1"]
        assert _fields(fields, b"x-real-ip") == [b"127.0.0.1"]
        assert _fields(fields, b"x-forwarded-port") == [str(port).encode()]
        assert _fields(fields, b"x-forwarded-proto") == [b"http"]
        assert _fields(fields, b"x-forwarded-host") == [HOST]
        assert _fields(fields, b"x-kept") == [b"yes"]
        # Connection itself and the client's own hop-by-hop field named in it are gone.
        assert _fields(fields, b"connection") == []
        assert _fields(fields, b"x-client-hop") == []

    run(main)


def test_connection_tokens_of_a_response_never_strip_content_length(executor: str) -> None:
    request = b"GET /r HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n"

    async def main() -> None:
        response, backend, _ = await through(executor, request)
        assert response.status == 200
        # The backend's Content-Length (named in its Connection) frames the response.
        assert _fields(response.headers, b"content-length") == [
            str(len(backend.received[0])).encode()
        ]
        assert _fields(response.headers, b"transfer-encoding") == []
        assert response.body == backend.received[0]
        assert _fields(response.headers, b"x-upstream-hop") == []
        assert _fields(response.headers, b"x-upstream-kept") == [b"1"]

    run(main)


# --- Host ----------------------------------------------------------------------------------------


def test_a_second_host_never_reaches_the_backend(executor: str) -> None:
    # RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    # HTTP/1.1 request message ... that contains more than one Host header field". nginx does
    # ("client sent duplicate host header"), and so do both servers here, before the proxy
    # runs: aiohttp's parser (Host is a singleton field) and uvicorn's h11 ("Found multiple
    # Host: headers"). `forward_request_headers` would send the first one only (below).
    request = (
        b"GET /h HTTP/1.1\r\n"
        b"Host: app.example.com\r\n"
        b"Host: 10.0.0.1:8080\r\n"
        b"Connection: close\r\n"
        b"\r\n"
    )

    async def main() -> None:
        response, backend, _ = await through(executor, request)
        assert response.status == 400
        assert backend.received == []

    run(main)


# --- forwarding fields by peer -------------------------------------------------------------------


def test_untrusted_forwarding_fields_are_replaced_or_dropped(executor: str) -> None:
    request = (
        b"GET /f HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n" + SPOOFED + b"\r\n"
    )

    async def main() -> None:
        response, backend, port = await through(executor, request)
        _, fields, _ = upstream_request(response, backend)
        # ingress-nginx's default, use-forwarded-headers: "false": "NGINX ignores incoming
        # X-Forwarded-* headers, filling them with the request information it sees".
        assert _fields(fields, b"x-forwarded-for") == [b"127.0.0.1"]
        assert _fields(fields, b"x-real-ip") == [b"127.0.0.1"]
        assert _fields(fields, b"x-forwarded-port") == [str(port).encode()]
        assert _fields(fields, b"x-forwarded-proto") == [b"http"]
        assert _fields(fields, b"x-forwarded-host") == [HOST]
        assert _fields(fields, b"x-forwarded-scheme") == [b"http"]
        assert _fields(fields, b"x-scheme") == [b"http"]
        # Forwarded (RFC 7239) is not set by us: a client's own is dropped.
        assert _fields(fields, b"forwarded") == []
        # httpoxy: ingress-nginx's `proxy_set_header Proxy "";`.
        assert _fields(fields, b"proxy") == []

    run(main)


def test_trusted_forwarding_fields_are_kept(executor: str) -> None:
    request = (
        b"GET /f HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n" + SPOOFED + b"\r\n"
    )

    async def main() -> None:
        response, backend, _ = await through(executor, request, trusted_proxies=["127.0.0.1/32"])
        _, fields, _ = upstream_request(response, backend)
        # use-forwarded-headers: "true" with compute-full-forwarded-for: "true".
        assert _fields(fields, b"x-forwarded-for") == [b"203.0.113.9, 127.0.0.1"]
        # X-Real-IP is nginx's $remote_addr after the realip module: the client address the
        # trusted peer's X-Forwarded-For names.
        assert _fields(fields, b"x-real-ip") == [b"203.0.113.9"]
        assert _fields(fields, b"forwarded") == [b"for=203.0.113.9;proto=https;host=evil.example"]
        assert _fields(fields, b"x-forwarded-port") == [b"8443"]
        assert _fields(fields, b"x-forwarded-proto") == [b"https"]
        assert _fields(fields, b"x-forwarded-host") == [b"evil.example"]
        # $pass_access_scheme: the trusted X-Forwarded-Proto.
        assert _fields(fields, b"x-forwarded-scheme") == [b"https"]
        assert _fields(fields, b"x-scheme") == [b"https"]
        assert _fields(fields, b"proxy") == []
        assert _fields(fields, b"host") == [HOST]

    run(main)


# --- bytes pass through unchanged ----------------------------------------------------------------


def test_non_ascii_header_bytes_cross_unchanged_both_ways(executor: str) -> None:
    request = (
        b"GET /bytes HTTP/1.1\r\n"
        b"Host: app.example.com\r\n"
        b"X-Raw: " + NON_ASCII + b"\r\n"
        b"X-Latin: \xe9t\xe9\r\n"
        b"Connection: close\r\n"
        b"\r\n"
    )

    async def main() -> None:
        response, backend, _ = await through(executor, request)
        _, fields, _ = upstream_request(response, backend)
        assert _fields(fields, b"x-raw") == [NON_ASCII]
        assert _fields(fields, b"x-latin") == [b"\xe9t\xe9"]
        assert _fields(response.headers, b"x-raw-response") == [NON_ASCII]

    run(main)


# --- the rules themselves, without IO ------------------------------------------------------------

NOBODY = TrustedProxies()
LOOPBACK = TrustedProxies.parse(["127.0.0.1/32"])


def _forward(headers: Headers, **options: Any) -> Headers:
    arguments: dict[str, Any] = {
        "peer": "127.0.0.1",
        "scheme": "http",
        "trusted": NOBODY,
        "fallback_host": b"10.0.0.7:8080",
        "port": 8080,
        **options,
    }
    return forward_request_headers(headers, **arguments)


def test_forward_request_headers_order_and_names() -> None:
    sent = _forward([(b"host", HOST), (b"accept", b"*/*"), (b"connection", b"keep-alive")])
    assert sent == [
        (b"host", HOST),
        (b"accept", b"*/*"),
        (b"X-Real-IP", b"127.0.0.1"),
        (b"X-Forwarded-For", b"127.0.0.1"),
        (b"X-Forwarded-Host", HOST),
        (b"X-Forwarded-Port", b"8080"),
        (b"X-Forwarded-Proto", b"http"),
        (b"X-Forwarded-Scheme", b"http"),
        (b"X-Scheme", b"http"),
    ]


def test_forward_request_headers_host_fallback_and_replacement() -> None:
    # No Host (HTTP/1.0): the endpoint's address, first.
    sent = _forward([(b"Accept", b"*/*")], port=None, peer=None)
    assert sent[0] == (b"Host", b"10.0.0.7:8080")
    assert (b"X-Forwarded-Host", b"10.0.0.7:8080") in sent
    # Unknown peer and port: no X-Forwarded-For, X-Real-IP or X-Forwarded-Port of ours.
    names = {name.lower() for name, _ in sent}
    assert not names & {b"x-forwarded-for", b"x-real-ip", b"x-forwarded-port"}
    # `host` (an absolute-form target's authority) replaces the Host received, in place.
    sent = _forward([(b"Accept", b"*/*"), (b"Host", HOST)], host=b"other.example:81")
    assert sent[:2] == [(b"Accept", b"*/*"), (b"Host", b"other.example:81")]
    assert (b"X-Forwarded-Host", b"other.example:81") in sent
    # Two Host fields: one is sent, the first.
    sent = _forward([(b"Host", HOST), (b"Host", b"10.9.9.9")])
    assert [value for name, value in sent if name.lower() == b"host"] == [HOST]


def test_forward_request_headers_websocket_schemes_and_trust() -> None:
    sent = dict(_forward([(b"Host", HOST)], scheme="wss"))
    assert sent[b"X-Forwarded-Proto"] == sent[b"X-Scheme"] == b"https"
    # A trusted peer whose X-Forwarded-For names only trusted hops: the left-most.
    sent = dict(_forward([(b"Host", HOST), (b"X-Forwarded-For", b"127.0.0.1")], trusted=LOOPBACK))
    assert sent[b"X-Forwarded-For"] == b"127.0.0.1, 127.0.0.1"
    assert sent[b"X-Real-IP"] == b"127.0.0.1"


def test_forward_response_headers_server_owned() -> None:
    received = [
        (b"Date", b"Mon, 01 Jan 2024 00:00:00 GMT"),
        (b"Server", b"upstream"),
        (b"Connection", b"close, X-Hop, Content-Length"),
        (b"X-Hop", b"1"),
        (b"Keep-Alive", b"timeout=5"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Content-Length", b"3"),
        (b"X-Raw", NON_ASCII),
    ]
    # ASGI: the server writes its own Date and Server.
    assert forward_response_headers(received, server_owned=True) == [
        (b"Content-Length", b"3"),
        (b"X-Raw", NON_ASCII),
    ]
    # aiohttp: it adds Date and Server only when absent, so the upstream's are kept.
    assert forward_response_headers(received, server_owned=False) == [
        (b"Date", b"Mon, 01 Jan 2024 00:00:00 GMT"),
        (b"Server", b"upstream"),
        (b"Content-Length", b"3"),
        (b"X-Raw", NON_ASCII),
    ]
