"""What the ASGI forwarder's two clients share: the forwarded headers, the target, the errors.

No third-party package: the HTTP client (`ingresslib.asgi._http`, httpx) and the WebSocket
client (`ingresslib.asgi._websocket`, websockets) both build on it. Nothing here is public API.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

from ingresslib.proxy import TrustedProxies, forward_request_headers, forward_response_headers

if TYPE_CHECKING:
    from ingresslib.asgi._types import Scope
    from ingresslib.endpoints import Endpoint

__all__ = [
    "ClientDisconnectedError",
    "ErrorKind",
    "UpstreamError",
    "UpstreamRefusedError",
    "forwarded_request_headers",
    "forwarded_response_headers",
    "request_target",
]

_NOBODY = TrustedProxies()

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
    scope: Scope, endpoint: Endpoint, trusted_proxies: TrustedProxies = _NOBODY
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
    return forward_request_headers(
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
        (name.lower(), value) for name, value in forward_response_headers(raw, server_owned=True)
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
