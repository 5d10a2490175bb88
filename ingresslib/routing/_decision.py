"""The values of `decide()` (pinned: DESIGN.md): Request and DecisionPolicy in, Decision out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, NamedTuple

import attrs

from ingresslib.proxy._paths import PathPolicy
from ingresslib.routing._match import RouteMatch
from ingresslib.rules._filters import HeaderChanges, Mirror, Timeouts
from ingresslib.rules._model import WeightedBackend
from ingresslib.rules._steps import Policy

__all__ = [
    "DEFAULT_POLICY",
    "Action",
    "Decision",
    "DecisionPolicy",
    "Headers",
    "Request",
]

#: Header fields: (name, value) pairs as received, or a mapping.
Headers = Sequence[tuple[str, str]] | Mapping[str, str]

#: What an executor does with a request.
Action = Literal["forward", "redirect", "respond"]


# PERF: a NamedTuple, not an attrs class: executors build one per request, and a frozen
# attrs instance of nine fields costs ~1 µs to make, a NamedTuple ~0.35 µs. Its fields
# cannot be reassigned (hashable only when `headers` is a tuple); compare Requests with
# each other only.
class Request(NamedTuple):
    """One request, as an executor received it (pinned: DESIGN.md).

    Attributes:
        method: the request method ("GET").
        scheme: "http" or "https".
        host: the Host header as received (None when absent).
        path: the request path as received (percent-encoded, without the query); an
            absolute-form target (`http://host/x`) is accepted too.
        query: the raw query string, without "?".
        headers: (name, value) pairs as received, or a mapping.
        port: the port the request arrived on (None: 80 for http, 443 for https).
        client: the client address, for source ranges and rate-limit keys.
        sni: the TLS server name, for https.
    """

    method: str = "GET"
    scheme: str = "http"
    host: str | None = None
    path: str = "/"
    query: str = ""
    headers: Headers = ()
    port: int | None = None
    client: str | None = None
    sni: str | None = None


@attrs.frozen(cache_hash=True)
class DecisionPolicy:
    """How an executor wants requests decided (fixed per executor, not per request).

    Attributes:
        paths: the path normalisation policy: "keep" (the default: encoded slashes stay
            data), "reject" (400 on `%2F`/`%5C`), "decode" (unescape them, then
            normalise), or "raw" (wave 1: no normalisation at all).
        https_redirect: apply the HTTPS redirect of TLS hosts (False: serve them over
            plain HTTP too, e.g. without a TLS listener).
        https_port: the port of the redirect target (443 is left out of the URL).
    """

    paths: PathPolicy = "keep"
    https_redirect: bool = True
    https_port: int = attrs.field(default=443)

    @https_port.validator
    def _check_port(self, _: object, value: int) -> None:
        if not 0 < value < 65536:
            raise ValueError(f"https_port must be a TCP port, not {value}")


#: The default: normalisation "keep", HTTPS redirects on, port 443.
DEFAULT_POLICY = DecisionPolicy()


@attrs.frozen
class Decision:
    """What to do with one request (pinned: DESIGN.md).

    Attributes:
        action: "forward", "redirect" or "respond".
        status: the status of a redirect or response (308, 400, 404, 500...); None for
            "forward".
        location: the absolute URL of a redirect.
        backends: for "forward": the rule's weighted backends, in rule order.
        match: the routing result (None when nothing routed the request).
        path: the path sent upstream (normalised as the router saw it), without query.
        host: the request host, validated and normalised ("" when none was sent).
        authority: the Host to send upstream instead of the client's (the authority of
            an absolute-form target), or None to send the client's.
        reason: why a request is refused (400), for logs and the response body.
        reusable: whether the decision depends on nothing but the scheme, port, Host and
            path of the request (executors may keep it for the next such request).
        request_headers: the edits of the request headers sent upstream (after the
            forwarding rules of `ingresslib.proxy`), or None.
        response_headers: the edits of the response headers sent to the client
            (a redirect's and a canned response's too), or None.
        mirrors: where copies of the request go (their responses are ignored).
        timeouts: the rule's timeouts, or None for the executor's own.
        policies: what the executor runs before forwarding (rate limits, external
            auth: `ingresslib.rules.Policy`), in the rule's filter order. An executor
            that cannot run a policy that `restricts_access` answers 503.
    """

    action: Action
    status: int | None = None
    location: str | None = None
    backends: tuple[WeightedBackend, ...] = ()
    match: RouteMatch | None = None
    path: str = "/"
    host: str = ""
    authority: str | None = None
    reason: str | None = None
    reusable: bool = False
    request_headers: HeaderChanges | None = None
    response_headers: HeaderChanges | None = None
    mirrors: tuple[Mirror, ...] = ()
    timeouts: Timeouts | None = None
    policies: tuple[Policy, ...] = ()
