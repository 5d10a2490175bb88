"""WebSocket proxying through the aiohttp Gateway and through IngressMiddleware + HTTPForwarder
(under a real uvicorn), to real aiohttp WebSocket upstreams, all on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

import ingresslib
from ingresslib.proxy import _headers as header_rules
from tests import support
from tests.support import echo_manifests, free_port

HOST = "ws.example.com"
PROXIES = ("gateway", "asgi")

# --- the upstream: an aiohttp WebSocket echo server --------------------------------------------


class Upstream:
    """A WebSocket echo server that says who it is and what it received.

    On connect it sends one JSON text message: its name, the raw path, the subprotocol it chose
    and the request headers. Then text and binary messages are echoed; the text `close:CODE`
    makes it close with CODE (reason "bye"), `vanish` drops the connection. The close code it
    ends with is kept in `closes`.
    `/forbidden...` is refused with 403, `/redirect...` with a 302, before any handshake;
    `/plain...` answers plain HTTP with the names of the request headers.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.closes: list[int | None] = []
        self.port = 0
        self._runner: web.ServerRunner | None = None

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.raw_path.startswith("/forbidden"):
            return web.Response(
                status=403, text="denied by upstream\n", headers={"X-Reason": "denied"}
            )
        if request.raw_path.startswith("/redirect"):
            return web.Response(status=302, headers={"Location": "/elsewhere"})
        if request.raw_path.startswith("/plain"):
            names = sorted({name.decode("latin-1").lower() for name, _ in request.raw_headers})
            return web.json_response({"server": self.name, "headers": names})
        ws = web.WebSocketResponse(protocols=("chat.v1", "chat.v2"))
        ws.headers["X-Upstream"] = self.name
        await ws.prepare(request)
        await ws.send_json(
            {
                "server": self.name,
                "raw_path": request.raw_path,
                "protocol": ws.ws_protocol,
                "headers": [
                    [k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers
                ],
            }
        )
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                if message.data.startswith("close:"):
                    await ws.close(code=int(message.data[6:]), message=b"bye")
                    break
                if message.data == "vanish":  # gone without a Close frame
                    assert request.transport is not None
                    request.transport.abort()
                    break
                await ws.send_str(message.data)
            elif message.type is aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(message.data)
        self.closes.append(ws.close_code)
        return ws

    async def start(self) -> int:
        server = web.Server(self.handle)
        self._runner = web.ServerRunner(server, shutdown_timeout=1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_closed(self, count: int = 1) -> None:
        """Wait until `count` sessions have ended (the close arrives asynchronously)."""
        for _ in range(200):
            if len(self.closes) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.name}: {len(self.closes)} sessions ended, not {count}")


@contextlib.asynccontextmanager
async def upstreams(*names: str) -> AsyncIterator[list[Upstream]]:
    servers = [Upstream(name) for name in names]
    try:
        for server in servers:
            await server.start()
        yield servers
    finally:
        for server in servers:
            await server.stop()


def _resources(*ports: int) -> Any:
    """`/` to Service shop/echo, with one EndpointSlice per port."""
    return ingresslib.load_manifests(echo_manifests(HOST, *ports), allow_loopback_endpoints=True)


# --- the two proxies ---------------------------------------------------------------------------


def serve_gateway(*ports: int, **options: Any) -> contextlib.AbstractAsyncContextManager[int]:
    """The aiohttp Gateway; yields its port."""
    return support.serve_gateway(_resources(*ports), **options)


def serve_asgi(*ports: int, **options: Any) -> contextlib.AbstractAsyncContextManager[int]:
    """IngressMiddleware + HTTPForwarder under uvicorn (in a thread); yields its port.

    uvicorn only: hypercorn reports a client's close code as 1006 (docs/asgi.md), which the
    close-code tests would see as 1001.
    """
    return support.serve_forwarder(_resources(*ports), **options)


Serve = Callable[..., contextlib.AbstractAsyncContextManager[int]]


@pytest.fixture(params=PROXIES)
def serve(request: pytest.FixtureRequest) -> Serve:
    return serve_gateway if request.param == "gateway" else serve_asgi


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 30))


def _url(port: int, target: str = "/ws") -> URL:
    path, _, query = target.partition("?")
    return URL.build(
        scheme="http", host="127.0.0.1", port=port, path=path, query_string=query, encoded=True
    )


async def _hello(ws: aiohttp.ClientWebSocketResponse[bool]) -> dict[str, Any]:
    """The upstream's first message: who served the session and what it received."""
    message = await ws.receive(timeout=5)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    hello: dict[str, Any] = json.loads(message.data)
    return hello


def _headers(hello: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in hello["headers"]:
        found.setdefault(name.lower(), []).append(value)
    return found


async def _raw(port: int, request: bytes) -> tuple[int, bytes]:
    """Send bytes as they are; read one response (head, and a body of Content-Length)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await asyncio.wait_for(reader.readexactly(length), 10)
    finally:
        writer.close()
        await writer.wait_closed()
    return int(head.split(b" ", 2)[1]), head + body


# --- tests ---------------------------------------------------------------------------------------


def test_text_and_binary_are_echoed_and_headers_forwarded(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(a.port) as port,
            aiohttp.ClientSession() as client,
            client.ws_connect(
                _url(port, "/ws/chat?room=1"),
                headers={
                    "Host": HOST,
                    "Cookie": "session=s1",
                    "Authorization": "Bearer t0k",
                    "Origin": "https://ws.example.com",
                    "X-Forwarded-For": "203.0.113.9",  # spoofed: the client is not trusted
                    "X-Custom": "kept",
                },
            ) as ws,
        ):
            hello = await _hello(ws)
            await ws.send_str("hello")
            assert (await ws.receive(timeout=5)).data == "hello"
            payload = bytes(range(256)) * 300
            await ws.send_bytes(payload)
            message = await ws.receive(timeout=5)
            assert message.type is aiohttp.WSMsgType.BINARY
            assert message.data == payload
            await ws.send_str("")  # an empty text message stays a text message
            message = await ws.receive(timeout=5)
            assert (message.type, message.data) == (aiohttp.WSMsgType.TEXT, "")
        assert hello["server"] == "a"
        assert hello["raw_path"] == "/ws/chat?room=1"
        headers = _headers(hello)
        assert headers["host"] == [HOST]
        assert headers["cookie"] == ["session=s1"]
        assert headers["authorization"] == ["Bearer t0k"]
        assert headers["origin"] == ["https://ws.example.com"]
        assert headers["x-custom"] == ["kept"]
        assert headers["x-forwarded-for"] == ["127.0.0.1"]
        assert headers["x-forwarded-proto"] == ["http"]
        assert headers["x-forwarded-host"] == [HOST]
        assert headers["upgrade"] == ["websocket"]
        assert headers["sec-websocket-version"] == ["13"]
        assert len(headers["sec-websocket-key"]) == 1  # the proxy's own, not a second one
        assert "sec-websocket-protocol" not in headers  # the client offered none
        assert "user-agent" in headers  # the client's own (aiohttp's), no proxy library's
        assert len(headers["user-agent"]) == 1

    run(main)


def test_the_decided_path_reaches_the_upstream(serve: Serve) -> None:
    target = "/ws/a%2Fb/../c/./d//e;p=1?x=%2F&y=a+b"
    # The router and the upstream see the same normalised path (RFC 3986 §6.2.2: dot
    # segments resolved, duplicate slashes merged; %2F stays data); the query as received.
    decided = "/ws/c/d/e;p=1?x=%2F&y=a+b"

    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(a.port) as port,
            aiohttp.ClientSession() as client,
            client.ws_connect(_url(port, target), headers={"Host": HOST}) as ws,
        ):
            hello = await _hello(ws)
        assert hello["raw_path"] == decided

    run(main)


def test_subprotocols_are_negotiated_by_the_upstream(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(a.port) as port,
            aiohttp.ClientSession() as client,
        ):
            # The upstream speaks chat.v1 and chat.v2; the client prefers chat.v3, then v2.
            async with client.ws_connect(
                _url(port), headers={"Host": HOST}, protocols=("chat.v3", "chat.v2", "chat.v1")
            ) as ws:
                hello = await _hello(ws)
                assert ws.protocol == "chat.v2"
            assert hello["protocol"] == "chat.v2"
            (offered,) = _headers(hello)["sec-websocket-protocol"]
            assert [name.strip() for name in offered.split(",")] == [
                "chat.v3",
                "chat.v2",
                "chat.v1",
            ]
            # Nothing in common: no subprotocol on either side.
            async with client.ws_connect(
                _url(port), headers={"Host": HOST}, protocols=("other",)
            ) as ws:
                hello = await _hello(ws)
                assert ws.protocol is None
            assert hello["protocol"] is None

    run(main)


def test_the_upstreams_101_headers_reach_the_client(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(a.port) as port,
            aiohttp.ClientSession() as client,
        ):
            response = await client.get(
                _url(port),
                headers={
                    "Host": HOST,
                    "Connection": "Upgrade",
                    "Upgrade": "websocket",
                    "Sec-WebSocket-Version": "13",
                    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                },
            )
            try:
                assert response.status == 101
                assert response.headers["X-Upstream"] == "a"
                # Our own accept, for our key (RFC 6455 §1.3's example).
                assert response.headers["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
            finally:
                response.close()

    run(main)


def test_the_client_close_code_reaches_the_upstream(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(a.port) as port,
            aiohttp.ClientSession() as client,
        ):
            ws = await client.ws_connect(_url(port), headers={"Host": HOST})
            await _hello(ws)
            await ws.close(code=4001, message=b"done")
            assert ws.close_code == 4001  # the close is answered with the same code
            await a.wait_closed()
            assert a.closes == [4001]

    run(main)


def test_the_upstream_close_code_reaches_the_client(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(a.port) as port,
            aiohttp.ClientSession() as client,
            client.ws_connect(_url(port), headers={"Host": HOST}, autoclose=False) as ws,
        ):
            await _hello(ws)
            await ws.send_str("close:4002")
            message = await ws.receive(timeout=5)
            assert message.type is aiohttp.WSMsgType.CLOSE
            assert (message.data, message.extra) == (4002, "bye")
            await ws.close(code=4002)
            await a.wait_closed()
            assert a.closes == [4002]

    run(main)


def test_a_refused_endpoint_is_retried_on_another(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(free_port(), a.port) as port,  # the first endpoint refuses connections
            aiohttp.ClientSession() as client,
        ):
            for _ in range(4):  # round robin: every other session first picks the dead one
                async with client.ws_connect(_url(port), headers={"Host": HOST}) as ws:
                    assert (await _hello(ws))["server"] == "a"

    run(main)


def test_sessions_are_balanced_across_endpoints(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a", "b") as (a, b),
            serve(a.port, b.port) as port,
            aiohttp.ClientSession() as client,
        ):
            served = []
            for _ in range(4):
                async with client.ws_connect(_url(port), headers={"Host": HOST}) as ws:
                    served.append((await _hello(ws))["server"])
            assert sorted(served) == ["a", "a", "b", "b"]

    run(main)


def test_all_endpoints_down_is_502(serve: Serve) -> None:
    async def main() -> None:
        async with (
            serve(free_port(), free_port()) as port,
            aiohttp.ClientSession() as client,
        ):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(_url(port), headers={"Host": HOST})
            assert refused.value.status == 502

    run(main)


def test_an_upstream_refusal_reaches_the_client(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(a.port) as port,
            aiohttp.ClientSession() as client,
        ):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await client.ws_connect(_url(port, "/forbidden"), headers={"Host": HOST})
            assert refused.value.status == 403
            assert refused.value.headers is not None
            assert refused.value.headers["X-Reason"] == "denied"
            # A redirect is the upstream's answer too: relayed, not followed (by the proxy;
            # aiohttp's client would follow it, hence the raw request).
            status, data = await _raw(
                port,
                b"GET /redirect HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n"
                b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            )
            assert status == 302, data
            assert b"\r\nlocation: /elsewhere\r\n" in data.lower()

    run(main)


def test_the_upstream_refusal_body_reaches_an_asgi_client() -> None:
    async def main() -> None:
        async with upstreams("a") as (a,), serve_asgi(a.port) as port:
            status, data = await _raw(
                port,
                b"GET /forbidden HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n"
                b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
            )
        assert status == 403
        head, _, body = data.partition(b"\r\n\r\n")
        assert body == b"denied by upstream\n"
        assert b"\r\nx-reason: denied" in head.lower()

    run(main)


def test_a_non_websocket_upgrade_is_ignored(serve: Serve) -> None:
    # What `curl --http2 http://...` sends: the request is served as HTTP/1.1 (RFC 9110 §7.8),
    # and the hop-by-hop upgrade fields never reach the endpoint.
    async def main() -> None:
        async with upstreams("a") as (a,), serve(a.port) as port:
            status, data = await _raw(
                port,
                b"GET /plain HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n"
                b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 0\r\n\r\n",
            )
        assert status == 200, data
        echoed = json.loads(data.partition(b"\r\n\r\n")[2])
        assert echoed["server"] == "a"
        assert not {"upgrade", "connection", "http2-settings"} & set(echoed["headers"])

    run(main)


def test_an_invalid_websocket_handshake_is_400_at_the_gateway() -> None:
    async def main() -> None:
        async with upstreams("a") as (a,), serve_gateway(a.port) as port:
            status, _ = await _raw(
                port,
                b"GET /ws HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\n"
                b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",  # no key, no version
            )
        assert status == 400
        assert a.closes == []

    run(main)


def test_a_trusted_proxy_chain_reaches_the_upstream(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(a.port, trusted_proxies=["127.0.0.0/8"]) as port,
            aiohttp.ClientSession() as client,
            client.ws_connect(
                _url(port),
                headers={
                    "Host": HOST,
                    "X-Forwarded-For": "203.0.113.9",
                    "X-Forwarded-Proto": "https",
                },
            ) as ws,
        ):
            headers = _headers(await _hello(ws))
        assert headers["x-forwarded-for"] == ["203.0.113.9, 127.0.0.1"]
        assert headers["x-forwarded-proto"] == ["https"]

    run(main)


def test_a_handshake_slower_than_the_read_timeout_is_504(serve: Serve) -> None:
    async def main() -> None:
        # A listener that accepts and never answers.
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        silent_port = server.sockets[0].getsockname()[1]
        try:
            async with (
                serve(silent_port, read_timeout=0.3) as port,
                aiohttp.ClientSession() as client,
            ):
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await client.ws_connect(_url(port), headers={"Host": HOST})
                assert refused.value.status == 504
        finally:
            server.close()
            await server.wait_closed()

    run(main)


def test_an_upstream_that_vanishes_closes_the_client_with_1011(serve: Serve) -> None:
    async def main() -> None:
        async with (
            upstreams("a") as (a,),
            serve(a.port) as port,
            aiohttp.ClientSession() as client,
            client.ws_connect(_url(port), headers={"Host": HOST}, autoclose=False) as ws,
        ):
            await _hello(ws)
            await ws.send_str("vanish")
            message = await ws.receive(timeout=5)
            assert message.type is aiohttp.WSMsgType.CLOSE
            assert message.data == 1011
            await ws.close()

    run(main)


@pytest.mark.parametrize(
    ("code", "fallback", "relayed"),
    [
        (1000, 1011, 1000),
        (1001, 1011, 1001),
        (1008, 1011, 1008),
        (1014, 1011, 1014),
        (3000, 1011, 3000),
        (4999, 1011, 4999),
        (1005, 1011, 1000),  # no status code: a normal close
        (1006, 1011, 1011),  # vanished: the fallback
        (1006, 1001, 1001),
        (1015, 1011, 1011),
        (1004, 1011, 1011),  # reserved
        (5000, 1011, 1011),
        (None, 1001, 1001),
    ],
)
def test_websocket_close_code(code: int | None, fallback: int, relayed: int) -> None:
    assert header_rules.websocket_close_code(code, fallback=fallback) == relayed


def test_upgrade_detection() -> None:
    assert header_rules.is_upgrade({"upgrade"}, "websocket")
    assert header_rules.is_upgrade({"keep-alive", "upgrade"}, "h2c")
    assert not header_rules.is_upgrade({"keep-alive"}, "websocket")  # Connection must name it
    assert not header_rules.is_upgrade({"upgrade"}, None)
    assert header_rules.is_websocket("WebSocket")
    assert header_rules.is_websocket("foo, websocket")
    assert not header_rules.is_websocket("h2c")
    assert not header_rules.is_websocket(None)
