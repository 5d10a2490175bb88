"""What the aiohttp proxy's HTTP and WebSocket paths share: headers, the URL, the errors.

The forwarding header rules are `ingresslib.proxy`'s (docs/proxy.md), given the fields of an
aiohttp request; the fields are latin-1 str, one character per byte, for
`ingresslib.aiohttp._bytes.exact_header_bytes`. Nothing here is public API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from ingresslib.aiohttp._bytes import latin1_fields, latin1_headers
from ingresslib.aiohttp._middleware import DECISION_KEY, response_of
from ingresslib.endpoints import Endpoint
from ingresslib.proxy import (
    FailureKind,
    TrustedProxies,
    connection_tokens,
    edit_headers,
    failure_response,
    forward_request_headers,
    forward_response_headers,
)
from ingresslib.rules import HeaderChanges

__all__ = [
    "UpstreamError",
    "arrival_port",
    "connection_tokens_of",
    "decode_fields",
    "endpoint_url",
    "forwarded_request_headers",
    "forwarded_response_headers",
]

_NOBODY = TrustedProxies()


def connection_tokens_of(headers: Iterable[tuple[str, str]]) -> set[str]:
    """The options of the Connection fields among `headers` (lower case)."""
    return connection_tokens(headers, "connection")


def decode_fields(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """Header fields as str: aiohttp's parser gives bytes; latin-1 keeps each byte as one."""
    return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in raw]


def arrival_port(request: web.BaseRequest) -> int | None:
    """The port of the listening socket the request arrived on (None: not a TCP socket)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, tuple) and len(sockname) >= 2 and isinstance(sockname[1], int):
        return sockname[1]
    return None


def forwarded_request_headers(
    request: web.Request,
    endpoint: Endpoint,
    trusted_proxies: TrustedProxies = _NOBODY,
    changes: HeaderChanges | None = None,
) -> list[tuple[str, str]]:
    """The headers sent upstream for `request`, for aiohttp's client.

    `ingresslib.proxy.forward_request_headers`, the rules both proxies share (docs/proxy.md),
    on `request.raw_headers` with the peer (`request.remote`), the scheme, the port of the
    listening socket and the endpoint's `address:port` as the Host when the client sent
    none. The fields are latin-1 str, one character per byte: send them inside
    `exact_header_bytes()` for the bytes received to be the bytes sent. `changes`: the
    decided header edits (`RequestHeaderModifier`), applied last.
    """
    decision = request.get(DECISION_KEY)
    # An absolute-form target's authority is the Host (RFC 9112 §3.2.2), as decided.
    authority = None if decision is None else decision.authority
    fields = forward_request_headers(
        request.raw_headers,
        peer=request.remote,
        scheme="https" if request.secure else "http",
        trusted=trusted_proxies,
        fallback_host=endpoint.key.encode("latin-1"),
        port=arrival_port(request),
        host=None if authority is None else authority.encode("latin-1"),
    )
    return latin1_fields(fields if changes is None else edit_headers(fields, changes))


def forwarded_response_headers(
    raw: Iterable[tuple[bytes, bytes]], changes: HeaderChanges | None = None
) -> CIMultiDict[str]:
    """The upstream response headers sent to the client (latin-1 str, one per byte).

    `ingresslib.proxy.forward_response_headers` with `server_owned=False`: aiohttp writes a
    Date and a Server only when the response has none, so the endpoint's pass, once each.
    `changes`: the decided edits (`ResponseHeaderModifier`, CORS fields), applied last.
    """
    fields = forward_response_headers(raw, server_owned=False)
    return latin1_headers(fields if changes is None else edit_headers(fields, changes))


class UpstreamError(Exception):
    """An attempt at one endpoint that failed before its response headers arrived.

    Attributes:
        kind: what failed ("connect", "connect-timeout", "timeout", "error").
        retryable: True when nothing was sent, so that another endpoint may be tried.
    """

    def __init__(self, kind: FailureKind, retryable: bool, cause: BaseException) -> None:
        super().__init__(f"{kind}: {cause!r}")
        self.kind: FailureKind = kind
        self.retryable = retryable

    @property
    def status(self) -> int:
        """The status the client gets when this is the last failure."""
        return failure_response(self.kind).status

    @classmethod
    def of(cls, error: aiohttp.ClientError | asyncio.TimeoutError) -> UpstreamError:
        """What a failure of the client means to the client and to the retry.

        Retryable when the connection never opened (nothing was sent).
        """
        if isinstance(error, aiohttp.ConnectionTimeoutError):
            return cls("connect-timeout", True, error)
        if isinstance(error, aiohttp.ClientConnectorError):
            return cls("connect", True, error)
        if isinstance(error, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
            return cls("timeout", False, error)
        return cls("error", False, error)

    @staticmethod
    def answer(failure: UpstreamError | None) -> web.Response:
        """The client's answer when no attempt succeeded (None: no endpoint to try)."""
        return response_of(failure_response(None if failure is None else failure.kind))


def endpoint_url(request: web.Request, endpoint: Endpoint, scheme: str = "http") -> URL:
    """The URL of `request` at `endpoint`: the decided path, the query as received."""
    host = f"[{endpoint.address}]" if ":" in endpoint.address else endpoint.address
    raw_path, _, query = request.raw_path.partition("?")
    decision = request.get(DECISION_KEY)
    # The path the router saw (normalised), in origin form even for an absolute-form target.
    path = raw_path if decision is None else decision.path
    # encoded=True: the path goes byte for byte (no dot-segment removal, `%2F` kept).
    return URL.build(
        scheme=scheme,
        host=host,
        port=endpoint.port,
        path=path,
        query_string=query,
        encoded=True,
    )
