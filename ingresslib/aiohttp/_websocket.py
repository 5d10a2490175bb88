"""The WebSocket path of the aiohttp proxy: the handshake with an endpoint, then the relay.

Nothing here is public API.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import http
from collections.abc import Iterable
from types import SimpleNamespace

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, MultiMapping

from ingresslib.aiohttp._bytes import exact_header_bytes
from ingresslib.aiohttp._upstream import (
    UpstreamError,
    connection_tokens_of,
    endpoint_url,
    forwarded_request_headers,
)
from ingresslib.endpoints import Endpoint
from ingresslib.proxy import HOP_BY_HOP, WEBSOCKET_HANDSHAKE, TrustedProxies, websocket_close_code

__all__ = [
    "WebSocketRefusedError",
    "handshake_trace",
    "open_websocket",
    "refusal_response",
    "relay_websocket",
    "subprotocols",
]

#: RFC 6455 §7.4.1: 1011, "a server is terminating the connection because it encountered an
#: unexpected condition": here, the endpoint vanished without a Close frame.
_UPSTREAM_FAILED = 1011
#: 1001, "an endpoint is "going away"": the client vanished without a Close frame.
_CLIENT_GONE = 1001


class WebSocketRefusedError(Exception):
    """The endpoint answered a WebSocket handshake with another status than 101."""

    def __init__(self, status: int, headers: Iterable[tuple[str, str]]) -> None:
        super().__init__(f"the endpoint answered {status}")
        self.status = status
        self.headers = list(headers)


# The 101 response of the handshake under way in this task, caught by the session's trace
# (`ClientSession.ws_connect` keeps the response to itself).
_HANDSHAKE: contextvars.ContextVar[list[CIMultiDictProxy[str]] | None] = contextvars.ContextVar(
    "ingresslib.aiohttp.handshake", default=None
)


async def _on_request_end(
    _session: aiohttp.ClientSession,
    _context: SimpleNamespace,
    params: aiohttp.TraceRequestEndParams,
) -> None:
    holder = _HANDSHAKE.get()
    if holder is not None and params.response.status == 101:
        holder.append(params.response.headers)


async def _on_request_redirect(
    _session: aiohttp.ClientSession,
    _context: SimpleNamespace,
    params: aiohttp.TraceRequestRedirectParams,
) -> None:
    # `ws_connect` follows redirects (it offers no allow_redirects=False); a proxy must not:
    # the redirect is the endpoint's answer, for the client. (HTTP requests are sent with
    # allow_redirects=False and never get here.)
    response = params.response
    refused = WebSocketRefusedError(response.status, _refusal_headers(response.headers))
    response.close()
    raise refused


def _refusal_headers(headers: MultiMapping[str] | None) -> list[tuple[str, str]]:
    """An endpoint's response fields, sent with a body of ours: end-to-end ones only."""
    items = [] if headers is None else list(headers.items())
    drop = (
        HOP_BY_HOP
        | connection_tokens_of(items)
        | {"content-length", "content-type", "content-encoding"}
    )
    return [(n, v) for n, v in items if n.lower() not in drop]


def _accepted_headers(headers: CIMultiDictProxy[str] | None) -> list[tuple[str, str]]:
    """The endpoint's 101 fields for the client's: end-to-end ones (not the handshake's)."""
    if headers is None:
        return []
    items = list(headers.items())
    drop = (
        HOP_BY_HOP
        | WEBSOCKET_HANDSHAKE
        | connection_tokens_of(items)
        | {"date", "server", "content-length", "content-type"}
    )
    return [(n, v) for n, v in items if n.lower() not in drop]


def subprotocols(request: web.Request) -> list[str]:
    """The subprotocols the client offers, in its order (every Sec-WebSocket-Protocol)."""
    offered: list[str] = []
    for value in request.headers.getall("Sec-WebSocket-Protocol", ()):
        offered.extend(name.strip() for name in value.split(",") if name.strip())
    return offered


def handshake_trace() -> aiohttp.TraceConfig:
    """The trace a session needs for `open_websocket`: the 101 kept, redirects refused."""
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_on_request_end)
    trace.on_request_redirect.append(_on_request_redirect)
    return trace


async def open_websocket(
    session: aiohttp.ClientSession,
    request: web.Request,
    endpoint: Endpoint,
    protocols: list[str],
    trusted_proxies: TrustedProxies,
) -> tuple[aiohttp.ClientWebSocketResponse[bool], list[tuple[str, str]]]:
    """Open the WebSocket to `endpoint` for the client's handshake in `request`.

    The session must trace handshakes (`handshake_trace()`). Returns the connection and the
    endpoint's end-to-end 101 fields for the client's.

    Raises:
        WebSocketRefusedError: the endpoint answered with another status than 101.
        UpstreamError: it could not be reached or the handshake failed.
    """
    headers = forwarded_request_headers(request, endpoint, trusted_proxies)
    # Key, version and extensions are generated by ws_connect for this hop; the
    # subprotocols go as its `protocols` argument.
    for name in WEBSOCKET_HANDSHAKE:
        headers.popall(name, None)
    handshake: list[CIMultiDictProxy[str]] = []
    token = _HANDSHAKE.set(handshake)
    try:
        with exact_header_bytes():
            upstream = await session.ws_connect(
                endpoint_url(request, endpoint),
                protocols=protocols,
                headers=headers,
                autoclose=False,  # a close is relayed with its code before it is answered
                autoping=True,
            )
    except aiohttp.WSServerHandshakeError as error:
        if error.status == 101:  # a 101 that is not a valid WebSocket answer
            raise UpstreamError("error", False, error) from error
        raise WebSocketRefusedError(error.status, _refusal_headers(error.headers)) from error
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise UpstreamError.of(error) from error
    finally:
        _HANDSHAKE.reset(token)
    return upstream, _accepted_headers(handshake[0] if handshake else None)


async def relay_websocket(
    request: web.Request,
    upstream: aiohttp.ClientWebSocketResponse[bool],
    accepted: list[tuple[str, str]],
) -> web.WebSocketResponse:
    """Accept the client and relay messages both ways until either side closes.

    A Close is relayed with its code and reason before it is answered: the side that
    closed gets its own code back. Pings are answered by aiohttp on each side.
    """
    client = web.WebSocketResponse(
        protocols=(upstream.protocol,) if upstream.protocol else (),
        autoclose=False,
        autoping=True,
    )
    for name, value in accepted:
        client.headers.add(name, value)
    try:
        await client.prepare(request)
    except BaseException:
        await upstream.close(code=_CLIENT_GONE)
        raise

    task = asyncio.ensure_future(_downstream(upstream, client))
    try:
        while True:
            message = await client.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                with contextlib.suppress(ConnectionResetError):
                    await upstream.send_str(message.data)
            elif message.type is aiohttp.WSMsgType.BINARY:
                with contextlib.suppress(ConnectionResetError):
                    await upstream.send_bytes(message.data)
            elif message.type is aiohttp.WSMsgType.CLOSE:
                code = websocket_close_code(message.data, fallback=_CLIENT_GONE)
                reason = (message.extra or "").encode()
                await upstream.close(code=code, message=reason)
                await client.close(code=code, message=reason)
                break
            elif message.type is aiohttp.WSMsgType.CLOSING:
                break  # the endpoint closed first: `downstream` relays it
            else:  # CLOSED or ERROR: the client vanished or broke the protocol
                code = websocket_close_code(client.close_code, fallback=_CLIENT_GONE)
                await upstream.close(code=code)
                break
        await task
    finally:
        task.cancel()
    return client


def refusal_response(refusal: WebSocketRefusedError) -> web.Response:
    """The endpoint's refusal of a handshake, with its end-to-end fields and a body of ours.

    `ws_connect` releases the refused response before its body can be read.
    """
    status = refusal.status
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Refused"
    response = web.Response(status=status, headers=CIMultiDict(refusal.headers))
    if status not in (204, 304):
        response.content_type = "text/plain"
        response.charset = "utf-8"
        response.text = f"{status} {phrase}\n"
    return response


async def _downstream(
    upstream: aiohttp.ClientWebSocketResponse[bool], client: web.WebSocketResponse
) -> None:
    """Relay the endpoint's messages to the client until a close (relayed with its code)."""
    try:
        while True:
            message = await upstream.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                await client.send_str(message.data)
            elif message.type is aiohttp.WSMsgType.BINARY:
                await client.send_bytes(message.data)
            elif message.type is aiohttp.WSMsgType.CLOSE:
                code = websocket_close_code(message.data, fallback=1011)
                reason = (message.extra or "").encode()
                await client.close(code=code, message=reason)
                await upstream.close(code=code, message=reason)
                return
            elif message.type is aiohttp.WSMsgType.CLOSING:
                return  # the client closed first: the other side relays it
            else:  # CLOSED or ERROR: the endpoint vanished or broke the protocol
                code = websocket_close_code(upstream.close_code, fallback=_UPSTREAM_FAILED)
                await client.close(code=code)
                return
    except ConnectionResetError:
        return  # the client went away: the other side sees it
