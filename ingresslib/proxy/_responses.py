"""The answers every executor gives by itself: canned responses, in bytes (no IO).

A `Canned` response is a status, a body and header fields, the same for the ASGI middleware,
the aiohttp middleware and proxy, and `ingresslib serve`: the short plain-text bodies
("404 Not Found"), a redirect's `Location`, a 429's `Retry-After` and `RateLimit` fields,
and the answers to upstream failures (502, 503, 504).
"""

from __future__ import annotations

import http
from typing import Literal, NamedTuple, Protocol

from ingresslib.proxy._plan import edit_headers
from ingresslib.rules._filters import HeaderChanges

__all__ = [
    "BAD_GATEWAY",
    "GATEWAY_TIMEOUT",
    "INVALID_BACKEND",
    "NOT_FOUND",
    "NO_ENDPOINT",
    "TOO_MANY",
    "UNAVAILABLE",
    "Canned",
    "FailureKind",
    "canned",
    "decision_response",
    "failure_response",
    "unresolved",
]

#: How a request to an endpoint failed before its response started: "connect" (refused,
#: unreachable, reset while connecting), "connect-timeout", "timeout" (no response in time),
#: "pool-timeout" (no free connection in time), "error" (anything else).
FailureKind = Literal["connect", "connect-timeout", "timeout", "pool-timeout", "error"]


class Canned(NamedTuple):
    """A whole response: status, body and header fields (lower-case names, bytes)."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]

    def with_headers(self, *extra: tuple[bytes, bytes]) -> Canned:
        """The same response with more header fields."""
        return Canned(self.status, self.body, self.headers + extra)


def canned(status: int, text: str | None = None) -> Canned:
    """`<status> <text>` and a newline, as text/plain (`text`: the reason phrase if None)."""
    if text is None:
        try:
            text = http.HTTPStatus(status).phrase
        except ValueError:
            text = "Error"
    body = f"{status} {text}\n".encode()
    return Canned(
        status,
        body,
        (
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ),
    )


# PERF: the fixed answers are built once, at import.
NOT_FOUND = canned(404)
UNAVAILABLE = canned(503)
NO_ENDPOINT = canned(503, "Service Unavailable: no-available-endpoint")
#: A request whose backend share cannot be served (Gateway API: an invalid backendRef's
#: share of the requests "MUST receive a 500 status code"; every weight 0).
INVALID_BACKEND = canned(500)
BAD_GATEWAY = canned(502)
GATEWAY_TIMEOUT = canned(504)
#: A refused rate-limit decision (with `ingresslib.ratelimit.RefusalHeaders`' fields).
TOO_MANY = canned(429)
_REDIRECT_BODIES = {status: canned(status) for status in (301, 302, 303, 307, 308)}
_BY_STATUS: dict[int, Canned] = {404: NOT_FOUND}
_UNRESOLVED: dict[str, Canned] = {}


class _Answered(Protocol):
    """What `decision_response` reads of an `ingresslib.Decision`.

    Routing imports this package, so the type is named by its shape.
    """

    @property
    def action(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def location(self) -> str | None: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def response_headers(self) -> HeaderChanges | None: ...


def decision_response(decision: _Answered) -> Canned:
    """The response of a "respond" or "redirect" `ingresslib.Decision`.

    With the rule's response header edits (`ResponseHeaderModifier`, a CORS preflight's
    `Access-Control-*` fields) applied.
    """
    response = _decision_response(decision)
    changes = decision.response_headers
    if changes is None:
        return response
    return Canned(response.status, response.body, tuple(edit_headers(response.headers, changes)))


def _decision_response(decision: _Answered) -> Canned:
    status = decision.status or 500
    if decision.action == "redirect":
        base = _REDIRECT_BODIES.get(status) or canned(status)
        location = (decision.location or "/").encode("latin-1", "replace")
        return base.with_headers((b"location", location))
    if decision.reason is not None and status == 400:
        return canned(400, f"Bad Request: {decision.reason}")
    found = _BY_STATUS.get(status)
    if found is None:
        found = _BY_STATUS[status] = canned(status)
    return found


def unresolved(reason: str) -> Canned:
    """503 naming why a backend has no endpoint (the reason code, never the Service)."""
    found = _UNRESOLVED.get(reason)
    if found is None:
        found = _UNRESOLVED[reason] = canned(503, f"Service Unavailable: {reason}")
    return found


def failure_response(kind: FailureKind | None) -> Canned:
    """The answer after the last endpoint attempt failed (None: no endpoint to try).

    ingress-nginx's answers: a connect or read timeout is 504 (`proxy_connect_timeout`,
    `proxy_read_timeout`), any other failure of the upstream 502, no upstream 503.
    """
    if kind is None:
        return NO_ENDPOINT
    if kind in ("connect-timeout", "timeout"):
        return GATEWAY_TIMEOUT
    if kind == "pool-timeout":
        return UNAVAILABLE
    return BAD_GATEWAY
