"""The filters of the route IR: what a rule does to a request it routes, in order.

Every front-end compiles its API's filters into these (Gateway API `HTTPRouteFilter`s,
ingress-nginx annotations); `decide()` applies them and puts the result in the Decision,
so executors run what was decided and interpret no API. Each class says what the
Gateway API spec (`apis/v1/httproute_types.go`, v1.6) says of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import attrs

from ingresslib.rules._backend import Backend

__all__ = [
    "CORS",
    "HeaderChanges",
    "Mirror",
    "PathModifier",
    "Redirect",
    "RequestHeaders",
    "Respond",
    "ResponseHeaders",
    "Rewrite",
    "Timeouts",
    "replace_prefix",
]


def _lower_all(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(name.lower() for name in names)


@attrs.frozen
class HeaderChanges:
    """Header edits: set, then add, then remove (Gateway API `HTTPHeaderFilter`).

    "Set overwrites the request with the given header (name, value) before the action";
    "Add adds the given header(s) (name, value) to the request before the action. It
    appends to any existing values associated with the header name"; "Remove the given
    header(s) from the HTTP request before the action ... the header names are
    case-insensitive".

    Attributes:
        set: (name, value) pairs that replace every field of that name.
        add: (name, value) pairs appended to the fields of that name (joined with ","
            to an existing one, as the spec's example shows: `my-header: foo,bar,baz`).
        remove: lower-case names of fields to drop.
    """

    set: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = attrs.field(default=(), converter=_lower_all)

    def apply(self, headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """The header fields after these changes (names keep the case they had)."""
        result = list(headers)
        for name, value in self.set:
            lower = name.lower()
            result = [(n, v) for n, v in result if n.lower() != lower]
            result.append((name, value))
        for name, value in self.add:
            lower = name.lower()
            for index, (n, v) in enumerate(result):
                if n.lower() == lower:
                    result[index] = (n, f"{v},{value}")
                    break
            else:
                result.append((name, value))
        if self.remove:
            removed = set(self.remove)
            result = [(n, v) for n, v in result if n.lower() not in removed]
        return result

    def then(self, later: HeaderChanges) -> HeaderChanges:
        """These changes followed by `later`'s (as one edit)."""
        return HeaderChanges(
            set=self.set + later.set, add=self.add + later.add, remove=self.remove + later.remove
        )


@attrs.frozen
class RequestHeaders:
    """Edit the request headers sent upstream (`RequestHeaderModifier`)."""

    changes: HeaderChanges


@attrs.frozen
class ResponseHeaders:
    """Edit the response headers sent to the client (`ResponseHeaderModifier`)."""

    changes: HeaderChanges


PathModifierType = Literal["ReplaceFullPath", "ReplacePrefixMatch"]


@attrs.frozen
class PathModifier:
    """A path rewrite or redirect path (`HTTPPathModifier`).

    Attributes:
        type: "ReplaceFullPath" ("the full path will be replaced by the specified value")
            or "ReplacePrefixMatch" ("any prefix path matches will be replaced by the
            substitution value").
        value: the replacement.
    """

    type: PathModifierType
    value: str

    def apply(self, path: str, matched_prefix: str | None) -> str:
        """The modified path of a request `path` whose rule matched `matched_prefix`."""
        if self.type == "ReplaceFullPath":
            return self.value
        return replace_prefix(path, matched_prefix or "/", self.value)


def replace_prefix(path: str, prefix: str, replacement: str) -> str:
    """Replace the element-wise `prefix` of `path` by `replacement`.

    The spec's table (`HTTPPathModifier.ReplacePrefixMatch`), every row of which the
    tests check:

        Request Path | Prefix Match | Replace Prefix | Modified Path
        /foo/bar     | /foo         | /xyz           | /xyz/bar
        /foo/bar     | /foo         | /xyz/          | /xyz/bar
        /foo/bar     | /foo/        | /xyz           | /xyz/bar
        /foo/bar     | /foo/        | /xyz/          | /xyz/bar
        /foo         | /foo         | /xyz           | /xyz
        /foo/        | /foo         | /xyz           | /xyz/
        /foo/bar     | /foo         | <empty string> | /bar
        /foo/        | /foo         | <empty string> | /
        /foo         | /foo         | <empty string> | /
        /foo/        | /foo         | /              | /
        /foo         | /foo         | /              | /
    """
    # "When specified, a trailing `/` is ignored": the prefix covers whole elements.
    base = prefix.rstrip("/")
    rest = path[len(base) :] if path.startswith(base) else path
    # `rest` is "", "/" or "/more"; the replacement loses its trailing slash so that
    # joining never doubles it.
    head = replacement.rstrip("/")
    result = head + rest
    if not result.startswith("/"):
        result = "/" + result
    return result


@attrs.frozen
class Redirect:
    """Answer with a redirect (`HTTPRequestRedirectFilter`).

    Attributes:
        scheme: "the scheme to be used in the value of the `Location` header ... When
            empty, the scheme of the request is used."
        hostname: "the hostname to be used in the value of the `Location` header ...
            When empty, the hostname in the `Host` header of the request is used."
        port: the Location's port (None: derived as the spec says, see `decide`).
        path: how the path changes (None: "the request path is used as-is").
        status: the status (302 by default).
    """

    scheme: str | None = None
    hostname: str | None = None
    port: int | None = None
    path: PathModifier | None = None
    status: int = 302


@attrs.frozen
class Rewrite:
    """Change the request forwarded upstream (`HTTPURLRewriteFilter`).

    Attributes:
        hostname: "the value to be used to replace the Host header value during
            forwarding" (None: unchanged).
        path: the path rewrite (None: unchanged).
    """

    hostname: str | None = None
    path: PathModifier | None = None


@attrs.frozen
class Mirror:
    """Send a copy of the request to another backend; its response is ignored.

    `HTTPRequestMirrorFilter`: "Requests are sent to the specified destination, but
    responses from that destination are ignored." "Only one of Fraction or Percent may be
    specified. If neither field is specified, 100% of requests will be mirrored."

    Attributes:
        backend: where the copies go.
        fraction: the share of requests mirrored, as (numerator, denominator).
        invalid: None, or why the mirror cannot be served (no copy is sent).
    """

    backend: Backend
    fraction: tuple[int, int] = (100, 100)
    invalid: str | None = None


@attrs.frozen
class CORS:
    """Answer CORS preflights and add CORS headers (`HTTPCORSFilter`, Extended).

    Attributes:
        allow_origins: the origins allowed (`*` or scheme://host[:port], with a leading
            wildcard label allowed in the host).
        allow_credentials: whether credentials are allowed.
        allow_methods: the methods allowed (`*` for any).
        allow_headers: the request headers allowed (`*` for any).
        expose_headers: the response headers exposed.
        max_age: how long a preflight may be cached, in seconds (the spec's default: 5).
    """

    allow_origins: tuple[str, ...] = ()
    allow_credentials: bool = False
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int = 5


@attrs.frozen
class Timeouts:
    """How long a request may take (`HTTPRouteTimeouts`, Extended), in seconds.

    Attributes:
        request: "the maximum duration for a gateway to respond to an HTTP request"
            (None: the executor's own; `math.inf`: none at all, Gateway API "0s").
        backend_request: "a timeout for an individual request from the gateway to a
            backend" (None: the executor's own; `math.inf`: none at all).
        connect: seconds to open a connection to an endpoint (nginx
            `proxy_connect_timeout`; None: the executor's own).
        read: seconds between two reads from the endpoint (`proxy_read_timeout`).
        send: seconds between two writes to the endpoint (`proxy_send_timeout`; the
            aiohttp executor has no such limit and ignores it).
    """

    request: float | None = None
    backend_request: float | None = None
    connect: float | None = None
    read: float | None = None
    send: float | None = None


@attrs.frozen
class Respond:
    """Answer with a status and no body (a filter that cannot be applied).

    Gateway API: "If a reference to a custom filter type cannot be resolved, the filter
    MUST NOT be skipped. Instead, requests that would have been processed by that filter
    MUST receive a HTTP error response."

    Attributes:
        status: the status to answer.
        reason: why, for logs.
    """

    status: int = 500
    reason: str = ""
