"""The client side of `ingresslib.asgi.HTTPForwarder`: HTTP/1.1 on httpx, WebSocket on websockets.

This module imports httpx and anyio at import time: `ingresslib.asgi` imports it lazily, only
when an `HTTPForwarder` is created, so that the middleware itself needs no third-party package.
The `websockets` library is imported at the first WebSocket handshake only. Nothing here is
public API.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import anyio
import httpx

from ingresslib.endpoints import Endpoint
from ingresslib.proxy import _headers

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection
    from websockets.uri import WebSocketURI

    from ingresslib._asgi_types import Message, Receive, Scope, Send

__all__ = [
    "HOP_BY_HOP",
    "MAX_WEBSOCKET_MESSAGE",
    "ClientDisconnectedError",
    "RequestBody",
    "UpstreamClient",
    "UpstreamError",
    "UpstreamRefusedError",
    "accepted_headers",
    "forwarded_request_headers",
    "forwarded_response_headers",
    "open_websocket",
    "relay_websocket",
    "request_target",
]

logger = logging.getLogger("ingresslib.asgi")

#: `ingresslib.proxy.HOP_BY_HOP` as the bytes ASGI headers use.
HOP_BY_HOP = frozenset(name.encode("ascii") for name in _headers.HOP_BY_HOP)
_WEBSOCKET_HANDSHAKE = frozenset(name.encode("ascii") for name in _headers.WEBSOCKET_HANDSHAKE)
_NOBODY = _headers.TrustedProxies()
#: The largest WebSocket message taken from an endpoint (aiohttp's default, as the Gateway).
MAX_WEBSOCKET_MESSAGE = 4 * 1024 * 1024

ErrorKind = Literal["connect", "connect-timeout", "timeout", "pool-timeout", "error"]


class UpstreamError(Exception):
    """A request to one endpoint failed before its response headers arrived.

    Attributes:
        kind: "connect" (refused, unreachable, reset while connecting), "connect-timeout",
            "timeout" (the request was sent, no response in time), "pool-timeout", "error".
        retryable: True when no byte of the request reached the endpoint, so that it may
            be sent to another endpoint.
    """

    def __init__(self, kind: ErrorKind, retryable: bool, cause: BaseException) -> None:
        super().__init__(f"{kind}: {cause!r}")
        self.kind: ErrorKind = kind
        self.retryable = retryable


class UpstreamRefusedError(UpstreamError):
    """The endpoint answered a WebSocket handshake with an HTTP response other than 101.

    Attributes:
        status: the response's status code (e.g. 403).
        headers: its header fields, hop-by-hop ones removed, names lower case.
        body: its body (empty when it had none).
    """

    def __init__(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        cause: BaseException,
    ) -> None:
        super().__init__("error", False, cause)
        self.status = status
        self.headers = headers
        self.body = body


class ClientDisconnectedError(Exception):
    """The client went away while its request body was being forwarded."""


def forwarded_request_headers(
    scope: Scope, endpoint: Endpoint, trusted_proxies: _headers.TrustedProxies = _NOBODY
) -> list[tuple[bytes, bytes]]:
    """The headers sent upstream for the client's request in `scope`.

    `ingresslib.proxy.forward_request_headers`, the rules both proxies share (docs/proxy.md),
    with what the scope says: the peer (`scope["client"]`), the scheme, the port the request
    arrived on (`scope["server"]`), and the endpoint's `address:port` as the Host when the
    client sent none (HTTP/1.0).

    Args:
        scope: the ASGI http or websocket scope of the client's request.
        endpoint: the endpoint the request goes to.
        trusted_proxies: the peers whose forwarding fields are believed.

    Returns:
        The header list: the client's names as ASGI gives them (lower case), ours as
        nginx.tmpl spells them.
    """
    client = scope.get("client")
    server = scope.get("server")
    port = server[1] if server and isinstance(server[1], int) else None
    # An absolute-form target's authority is the Host (RFC 9112 §3.2.2), as decided.
    decision = scope.get("ingresslib.decision")
    authority = getattr(decision, "authority", None)
    return _headers.forward_request_headers(
        scope["headers"],
        peer=str(client[0]) if client else None,
        scheme=str(scope.get("scheme") or "http"),
        trusted=trusted_proxies,
        fallback_host=endpoint.key.encode("latin-1"),
        port=port,
        host=None if authority is None else authority.encode("latin-1"),
    )


def forwarded_response_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The upstream response headers sent to the client, names lower case as ASGI wants them.

    `ingresslib.proxy.forward_response_headers` with `server_owned=True`: the ASGI server
    writes its own Date and Server, so the endpoint's would appear twice.
    """
    return [
        (name.lower(), value)
        for name, value in _headers.forward_response_headers(raw, server_owned=True)
    ]


def request_target(scope: Scope) -> bytes:
    """The request target exactly as received: `raw_path`, then `?` and the query string.

    Without `raw_path` (a server that does not give it) the decoded `path` is
    percent-encoded again, leaving the characters a path may hold as they are.
    """
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path:
        path = raw_path.split(b"?", 1)[0]
    else:
        path = quote(scope.get("path") or "/", safe="/:@!$&'()*+,;=-._~%").encode("ascii")
    query: bytes = scope.get("query_string") or b""
    return path + b"?" + query if query else path


class _TargetURL(httpx.URL):
    """An httpx URL whose request target is sent byte for byte.

    httpx removes dot segments from every URL it parses (`/a/../b` becomes `/b`); a gateway
    must send exactly the path it routed on, so the target is kept aside and returned as
    `raw_path`, which is what the transport writes on the request line.
    """

    def __init__(self, origin: str, target: bytes) -> None:
        super().__init__(origin)
        self._target = target

    @property
    def raw_path(self) -> bytes:
        return self._target


class RequestBody(httpx.AsyncByteStream):
    """The client's request body, read from ASGI `receive` chunk by chunk as httpx sends it.

    The first message is read before any endpoint is tried: a body that fits in it can be
    sent again to another endpoint; a longer one only until its second chunk was read.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._first = b""
        self._more = True
        self.started = False  # a message after the first was read: no replay possible
        self.complete = False  # every message was read

    async def prime(self) -> None:
        """Read the first body message."""
        message = await self._receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        self._first = message.get("body", b"")
        self._more = bool(message.get("more_body", False))
        self.complete = not self._more

    @property
    def empty(self) -> bool:
        """The request has no body at all."""
        return not self._first and not self._more

    @property
    def replayable(self) -> bool:
        """The body can still be sent from its start."""
        return not self.started

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._first:
            yield self._first
        while self._more:
            self.started = True
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnectedError
            self._more = bool(message.get("more_body", False))
            self.complete = not self._more
            chunk: bytes = message.get("body", b"")
            if chunk:
                yield chunk


def _no_cookies() -> http.cookiejar.CookieJar:
    # httpx stores every Set-Cookie of every response in the client's jar: a proxy must not
    # (it would grow without bound); a policy that allows no domain keeps it empty.
    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


class UpstreamClient:
    """One pooled, keep-alive httpx.AsyncClient shared by every request; created lazily."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        write_timeout: float,
        pool_timeout: float,
        max_connections: int | None,
        max_keepalive_connections: int | None,
        keepalive_expiry: float,
        trusted_proxies: _headers.TrustedProxies = _NOBODY,
    ) -> None:
        self.trusted_proxies = trusted_proxies
        self._timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=write_timeout, pool=pool_timeout
        )
        self._limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
        )
        self._client: httpx.AsyncClient | None = None

    def _get(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                limits=self._limits,
                follow_redirects=False,
                trust_env=False,  # no proxy, netrc or certificates from the environment
                cookies=_no_cookies(),
            )
        return self._client

    async def aclose(self) -> None:
        """Close the pooled connections; the next request opens a new client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def open(
        self, endpoint: Endpoint, scope: Scope, body: RequestBody
    ) -> tuple[httpx.Response, float]:
        """Send the request to `endpoint` and wait for its response headers.

        Returns:
            The response (its body not read yet) and the seconds until its headers.

        Raises:
            UpstreamError: the endpoint did not answer.
            ClientDisconnectedError: the client went away while its body was being sent.
        """
        headers = forwarded_request_headers(scope, endpoint, self.trusted_proxies)
        if not body.empty and not any(n.lower() == b"content-length" for n, _ in headers):
            headers.append((b"transfer-encoding", b"chunked"))
        url = _TargetURL(f"http://{endpoint.key}/", request_target(scope))
        # `stream=` rather than `content=`: httpx then adds no header of its own (no
        # Accept, User-Agent, Accept-Encoding, Connection): the client's headers go as sent.
        request = httpx.Request(scope["method"], url, headers=headers, stream=body)
        request.url = url  # Request() copies the URL into a plain one, losing the target
        start = time.monotonic()
        try:
            response = await self._get().send(request, stream=True)
        except httpx.ConnectTimeout as error:
            raise UpstreamError("connect-timeout", True, error) from error
        except httpx.ConnectError as error:
            raise UpstreamError("connect", True, error) from error
        except httpx.PoolTimeout as error:
            raise UpstreamError("pool-timeout", True, error) from error
        except httpx.TimeoutException as error:
            raise UpstreamError("timeout", False, error) from error
        except httpx.HTTPError as error:
            raise UpstreamError("error", False, error) from error
        return response, time.monotonic() - start

    @staticmethod
    async def relay(
        response: httpx.Response, body: RequestBody, receive: Receive, send: Send
    ) -> bool:
        """Stream the response to the client as it arrives; close it in any case.

        While the response streams, a client disconnect (read from `receive` once the
        request body is complete) stops it.

        Returns:
            False when the upstream failed mid-body: the client's response is then left
            incomplete, so that the server closes the connection and the client sees a
            truncated response rather than a short one that looks complete.
        """
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": forwarded_response_headers(response.headers.raw),
                }
            )
            async with anyio.create_task_group() as group:
                if body.complete:

                    async def watch() -> None:
                        while (await receive())["type"] != "http.disconnect":
                            pass
                        group.cancel_scope.cancel()

                    group.start_soon(watch)
                try:
                    async for chunk in response.aiter_raw():
                        if chunk:
                            await send(
                                {"type": "http.response.body", "body": chunk, "more_body": True}
                            )
                except httpx.HTTPError as error:
                    logger.warning("upstream %s failed mid-response: %r", response.url, error)
                    group.cancel_scope.cancel()
                    return False
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()
            return True
        finally:
            await response.aclose()


# --- WebSocket --------------------------------------------------------------------------------


async def _connect_socket(address: str, port: int) -> socket.socket:
    """A connected non-blocking TCP socket to `address` (an IP address or a DNS name)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(address, port, type=socket.SOCK_STREAM)
    error: OSError = OSError(f"{address}:{port} resolves to no address")
    for family, kind, proto, _, target in infos:
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, target)
        except OSError as failure:
            sock.close()
            error = failure
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise error


def _split_host(host: str) -> tuple[str, int | None]:
    """`host[:port]` (`[v6]:port`) of a Host header into its name and port."""
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[1:end], host[end + 1 :]
        return name, int(rest[1:]) if rest[1:].isdigit() else None
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, int(port)
    return host, None


def _websocket_uri(target: bytes, host: bytes) -> WebSocketURI:
    """The URI websockets builds the request line and Host header from, as received.

    websockets writes the request line from the URI's path and query: the raw path and query
    go there unparsed (a parsed URI would lose a `;params` segment and lower-case the host).
    Bytes outside ASCII, which websockets would encode as UTF-8, are percent-encoded.
    """
    from websockets.uri import WebSocketURI  # noqa: PLC0415 (an optional extra)

    path, _, query = target.partition(b"?")
    name, port = _split_host(host.decode("latin-1"))
    return WebSocketURI(
        secure=False,
        host=name,
        port=port if port is not None else 80,
        path=quote(path, safe=bytes(range(0x21, 0x7F))),
        query=quote(query, safe=bytes(range(0x21, 0x7F))),
    )


def _exact_request(uri: WebSocketURI) -> type[ClientConnection]:
    """A ClientConnection whose handshake request has `uri`'s path and Host, byte for byte.

    websockets' `connect(create_connection=...)` hook: the Sans-I/O protocol it is given
    writes the handshake request from its `uri`, replaced here before the handshake starts.
    """
    from websockets.asyncio.client import ClientConnection  # noqa: PLC0415

    class _ExactRequest(ClientConnection):
        def __init__(self, protocol: Any, **options: Any) -> None:
            protocol.uri = uri
            super().__init__(protocol, **options)

    return _ExactRequest


async def open_websocket(
    endpoint: Endpoint,
    scope: Scope,
    *,
    trusted_proxies: _headers.TrustedProxies,
    connect_timeout: float,
    read_timeout: float,
    subprotocols: Sequence[str] = (),
) -> tuple[ClientConnection, float]:
    """Open the WebSocket to `endpoint` for the client's handshake in `scope`.

    The TCP connection is opened first, within `connect_timeout` (a failure there sent
    nothing: retryable); the handshake then has `read_timeout` to complete. The request
    target is the raw path and query received; the headers are the client's end-to-end
    ones with X-Forwarded-* set (`forwarded_request_headers`), without the handshake fields
    websockets generates (key, version, extensions) and without a User-Agent of its own;
    the client's subprotocols are offered in its order. Redirects are not followed.

    Returns:
        The open connection and the seconds the handshake took.

    Raises:
        ImportError: websockets is not installed.
        UpstreamRefusedError: the endpoint answered with another status than 101.
        UpstreamError: it could not be reached or the handshake failed.
    """
    from websockets.asyncio.client import connect  # noqa: PLC0415 (an optional extra)
    from websockets.exceptions import InvalidStatus, WebSocketException  # noqa: PLC0415
    from websockets.typing import Subprotocol  # noqa: PLC0415

    headers = forwarded_request_headers(scope, endpoint, trusted_proxies)
    host = next(value for name, value in headers if name.lower() == b"host")
    # websockets writes header values as ISO-8859-1: the bytes go as received.
    additional = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in headers
        if name.lower() != b"host" and name.lower() not in _WEBSOCKET_HANDSHAKE
    ]
    start = time.monotonic()
    try:
        sock = await asyncio.wait_for(
            _connect_socket(endpoint.address, endpoint.port), connect_timeout
        )
    except (asyncio.TimeoutError, TimeoutError) as error:
        raise UpstreamError("connect-timeout", True, error) from error
    except OSError as error:
        raise UpstreamError("connect", True, error) from error
    try:
        connection = await connect(
            f"ws://{endpoint.key}/",  # replaced by the exact request (`_exact_request`)
            sock=sock,
            create_connection=_exact_request(_websocket_uri(request_target(scope), host)),
            subprotocols=[Subprotocol(name) for name in subprotocols] or None,
            additional_headers=additional,
            user_agent_header=None,
            compression=None,
            open_timeout=read_timeout,
            ping_interval=None,  # ping and pong are answered on each side, not relayed
            ping_timeout=None,
            max_size=MAX_WEBSOCKET_MESSAGE,
        )
    except (asyncio.TimeoutError, TimeoutError) as error:
        sock.close()
        raise UpstreamError("timeout", False, error) from error
    except ValueError as error:
        sock.close()
        # websockets refuses to follow a redirect on a socket it was given: the redirect
        # is the endpoint's answer, for the client.
        if isinstance(error.__cause__, InvalidStatus):
            raise _refused(error.__cause__) from error
        raise UpstreamError("error", False, error) from error
    except InvalidStatus as error:
        sock.close()
        raise _refused(error) from error
    except (WebSocketException, OSError) as error:
        sock.close()
        raise UpstreamError("error", False, error) from error
    except BaseException:
        sock.close()
        raise
    return connection, time.monotonic() - start


def _refused(error: Any) -> UpstreamRefusedError:
    response = error.response
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response.headers.raw_items()]
    drop = {b"content-length"}
    headers = [(n, v) for n, v in forwarded_response_headers(raw) if n not in drop]
    return UpstreamRefusedError(response.status_code, headers, bytes(response.body or b""), error)


def accepted_headers(connection: ClientConnection) -> list[tuple[bytes, bytes]]:
    """The endpoint's 101 response fields for the client's: end-to-end ones only.

    The handshake fields (accept, extensions, the subprotocol, which goes separately) are
    each hop's own; `Date` and `Server` are the ASGI server's.
    """
    response = connection.response
    if response is None:
        return []
    raw = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response.headers.raw_items()]
    drop = _WEBSOCKET_HANDSHAKE | {b"date", b"server", b"content-length"}
    return [(n, v) for n, v in forwarded_response_headers(raw) if n not in drop]


async def relay_websocket(
    connection: ClientConnection, accept: Message, receive: Receive, send: Send
) -> None:
    """Accept the client with `accept`, then relay messages both ways until a close.

    Text stays text and binary stays binary. A close from either side is relayed to the
    other with its code and reason (`_headers.websocket_close_code`: an endpoint that
    vanished closes the client with 1011; a client that vanished closes the endpoint with
    1001). Ping and pong are answered on each side by the server and by websockets.
    """
    from websockets.exceptions import ConnectionClosed  # noqa: PLC0415

    client_gone = False

    async def downstream() -> None:
        try:
            while True:
                data = await connection.recv()
                if isinstance(data, str):
                    await send({"type": "websocket.send", "text": data})
                else:
                    await send({"type": "websocket.send", "bytes": data})
        except ConnectionClosed as closed:
            if client_gone:
                return
            received = closed.rcvd
            code = _headers.websocket_close_code(
                None if received is None else int(received.code), fallback=1011
            )
            reason = "" if received is None else received.reason
            with contextlib.suppress(OSError):  # the client went away meanwhile
                await send({"type": "websocket.close", "code": code, "reason": reason})
        except OSError:
            return  # the client went away: its disconnect message says how

    try:
        await send(accept)
    except BaseException:
        connection.transport.abort()
        raise
    task = asyncio.ensure_future(downstream())
    try:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                data: str | bytes | None = message.get("bytes")
                if data is None:
                    data = message.get("text") or ""
                # The endpoint closed: `downstream` tells the client.
                with contextlib.suppress(ConnectionClosed):
                    await connection.send(data)
            elif kind == "websocket.disconnect":
                client_gone = True
                code = _headers.websocket_close_code(message.get("code"), fallback=1001)
                await connection.close(code, str(message.get("reason") or ""))
                break
        await task
    except BaseException:
        connection.transport.abort()
        raise
    finally:
        task.cancel()
