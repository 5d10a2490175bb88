"""The WebSocket client of `ingresslib.asgi.HTTPForwarder`, on websockets.

The `websockets` library is imported at the first WebSocket handshake only. Nothing here is
public API.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ingresslib.asgi._upstream import (
    UpstreamError,
    UpstreamRefusedError,
    forwarded_request_headers,
    forwarded_response_headers,
    request_target,
)
from ingresslib.proxy import WEBSOCKET_HANDSHAKE, TrustedProxies, websocket_close_code

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection
    from websockets.uri import WebSocketURI

    from ingresslib.asgi._types import Message, Receive, Scope, Send
    from ingresslib.endpoints import Endpoint

__all__ = [
    "MAX_WEBSOCKET_MESSAGE",
    "accepted_headers",
    "open_websocket",
    "relay_websocket",
]

_WEBSOCKET_HANDSHAKE = frozenset(name.encode("ascii") for name in WEBSOCKET_HANDSHAKE)
#: The largest WebSocket message taken from an endpoint (aiohttp's default, as the Gateway).
MAX_WEBSOCKET_MESSAGE = 4 * 1024 * 1024


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
    trusted_proxies: TrustedProxies,
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
    other with its code and reason (`websocket_close_code`: an endpoint that
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
            code = websocket_close_code(
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
                code = websocket_close_code(message.get("code"), fallback=1001)
                await connection.close(code, str(message.get("reason") or ""))
                break
        await task
    except BaseException:
        connection.transport.abort()
        raise
    finally:
        task.cancel()
