"""The HTTP/1.1 client side of `ingresslib.asgi.HTTPForwarder`, built on httpx.

This module imports httpx and anyio at import time: `ingresslib.asgi` imports it lazily, only
when an `HTTPForwarder` is created, so that the middleware itself needs no third-party package.
Nothing here is public API.
"""

from __future__ import annotations

import http.cookiejar
import logging
import time
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

import anyio
import httpx

from ingresslib import _headers
from ingresslib.endpoints import Endpoint

if TYPE_CHECKING:
    from ingresslib.asgi import Receive, Scope, Send

__all__ = [
    "HOP_BY_HOP",
    "ClientDisconnectedError",
    "RequestBody",
    "UpstreamClient",
    "UpstreamError",
    "forwarded_request_headers",
    "forwarded_response_headers",
    "request_target",
]

logger = logging.getLogger("ingresslib.asgi")

#: `ingresslib._headers.HOP_BY_HOP` and `REQUEST_ONLY` as the bytes ASGI headers use.
HOP_BY_HOP = frozenset(name.encode("ascii") for name in _headers.HOP_BY_HOP)
_REQUEST_ONLY = frozenset(name.encode("ascii") for name in _headers.REQUEST_ONLY)

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


class ClientDisconnectedError(Exception):
    """The client went away while its request body was being forwarded."""


def _connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[bytes]:
    return _headers.connection_tokens(headers, b"connection")


def forwarded_request_headers(scope: Scope, endpoint: Endpoint) -> list[tuple[bytes, bytes]]:
    """The headers sent upstream: hop-by-hop removed, Host kept, X-Forwarded-* set.

    Args:
        scope: the ASGI http scope of the client's request.
        endpoint: the endpoint the request goes to (its `address:port` becomes the Host
            when the client sent none, e.g. HTTP/1.0).

    Returns:
        The header list, names lower case as ASGI gives them.
    """
    raw: list[tuple[bytes, bytes]] = scope["headers"]
    drop = HOP_BY_HOP | _REQUEST_ONLY | _connection_tokens(raw)
    headers: list[tuple[bytes, bytes]] = []
    forwarded_for: list[bytes] = []
    host: bytes | None = None
    for name, value in raw:
        lower = name.lower()
        if lower == b"x-forwarded-for":
            forwarded_for.append(value.strip())
        elif lower not in drop:
            if lower == b"host" and host is None:
                host = value
            headers.append((lower, value))
    if host is None:
        host = endpoint.key.encode("latin-1")
        headers.insert(0, (b"host", host))
    client = scope.get("client")
    if client:
        forwarded_for.append(str(client[0]).encode("latin-1"))
    if forwarded_for:
        headers.append((b"x-forwarded-for", b", ".join(v for v in forwarded_for if v)))
    headers.append((b"x-forwarded-proto", str(scope.get("scheme") or "http").encode("latin-1")))
    headers.append((b"x-forwarded-host", host))
    return headers


def forwarded_response_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The upstream response headers sent to the client: hop-by-hop removed."""
    raw = list(raw)
    drop = HOP_BY_HOP | _connection_tokens(raw)
    return [(name.lower(), value) for name, value in raw if name.lower() not in drop]


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
    ) -> None:
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
        headers = forwarded_request_headers(scope, endpoint)
        if not body.empty and not any(n == b"content-length" for n, _ in headers):
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
