"""The HTTP/1.1 client of `ingresslib.asgi.HTTPForwarder`, on httpx.

This module imports httpx and anyio at import time: `ingresslib.asgi` imports it lazily, only
when an `HTTPForwarder` is created, so that the middleware itself needs no third-party package.
Nothing here is public API.
"""

from __future__ import annotations

import http.cookiejar
import logging
import math
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import anyio
import httpx

from ingresslib.asgi._upstream import (
    ClientDisconnectedError,
    UpstreamError,
    forwarded_request_headers,
    forwarded_response_headers,
    request_target,
)
from ingresslib.proxy import TrustedProxies, edit_headers
from ingresslib.rules import HeaderChanges, Timeouts

if TYPE_CHECKING:
    from ingresslib.asgi._types import Message, Receive, Scope, Send
    from ingresslib.endpoints import Endpoint

__all__ = ["RequestBody", "UpstreamClient", "send_copy"]

logger = logging.getLogger("ingresslib.asgi")
_NOBODY = TrustedProxies()


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

    async def read_all(self) -> bytes:
        """Read the whole body into memory (it stays replayable): for mirrored requests."""
        chunks = [self._first]
        while self._more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnectedError
            self._more = bool(message.get("more_body", False))
            chunks.append(message.get("body", b""))
        self._first = b"".join(chunks)
        self.complete = True
        return self._first

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
        trusted_proxies: TrustedProxies = _NOBODY,
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
                # TLS to endpoints (backend-protocol: HTTPS) is not verified, as nginx's
                # `proxy_ssl_verify off` (its default): pods present cluster-internal names.
                verify=False,
                cookies=_no_cookies(),
            )
        return self._client

    async def aclose(self) -> None:
        """Close the pooled connections; the next request opens a new client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def open(
        self,
        endpoint: Endpoint,
        scope: Scope,
        body: RequestBody,
        changes: HeaderChanges | None = None,
        timeout: float | None = None,
        *,
        limits: Timeouts | None = None,
        scheme: str = "http",
    ) -> tuple[httpx.Response, float]:
        """Send the request to `endpoint` and wait for its response headers.

        Returns:
            The response (its body not read yet) and the seconds until its headers.

        Raises:
            UpstreamError: the endpoint did not answer.
            ClientDisconnectedError: the client went away while its body was being sent.

        Args:
            endpoint: where the request goes.
            scope: the client's request.
            body: its body.
            changes: the decided request header edits (`RequestHeaderModifier`).
            timeout: the whole exchange's limit in seconds (`HTTPRouteTimeouts.
                backendRequest`), or None for the client's own timeouts.
            limits: the rule's connect, read and send timeouts (nginx
                `proxy_connect_timeout`...), each None for the client's own.
            scheme: "https" for TLS to the endpoint (`backend-protocol: HTTPS`).
        """
        headers = forwarded_request_headers(scope, endpoint, self.trusted_proxies)
        if changes is not None:
            headers = edit_headers(headers, changes)
        if not body.empty and not any(n.lower() == b"content-length" for n, _ in headers):
            headers.append((b"transfer-encoding", b"chunked"))
        url = _TargetURL(f"{scheme}://{endpoint.key}/", request_target(scope))
        # `stream=` rather than `content=`: httpx then adds no header of its own (no
        # Accept, User-Agent, Accept-Encoding, Connection): the client's headers go as sent.
        request = httpx.Request(scope["method"], url, headers=headers, stream=body)
        request.url = url  # Request() copies the URL into a plain one, losing the target
        if timeout is not None:
            # "0s" (math.inf): "SHOULD disable the timeout completely".
            limit = None if timeout == math.inf else timeout
            request.extensions["timeout"] = httpx.Timeout(limit).as_dict()
        if limits is not None and (
            limits.connect is not None or limits.read is not None or limits.send is not None
        ):
            own = request.extensions.get("timeout") or self._get().timeout.as_dict()
            request.extensions["timeout"] = {
                **own,
                **({} if limits.connect is None else {"connect": limits.connect}),
                **({} if limits.read is None else {"read": limits.read}),
                **({} if limits.send is None else {"write": limits.send}),
            }
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
        response: httpx.Response,
        body: RequestBody,
        receive: Receive,
        send: Send,
        changes: HeaderChanges | None = None,
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
                    "headers": forwarded_response_headers(response.headers.raw)
                    if changes is None
                    else edit_headers(forwarded_response_headers(response.headers.raw), changes),
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


async def send_copy(
    client: UpstreamClient,
    endpoint: Endpoint,
    scope: Scope,
    body: bytes,
    changes: HeaderChanges | None,
) -> None:
    """Send a mirror's copy of a request; read and drop its response."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    copy = RequestBody(receive)
    try:
        await copy.prime()
        response, _ = await client.open(endpoint, scope, copy, changes)
    except (UpstreamError, ClientDisconnectedError) as error:
        logger.info("mirror %s failed: %s", endpoint, error)
        return
    try:
        await response.aread()
    except httpx.HTTPError as error:
        logger.info("mirror %s failed mid-response: %r", endpoint, error)
    finally:
        await response.aclose()
