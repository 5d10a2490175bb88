"""`decide()`: the whole pure decision for one request — Request in, Decision out.

In order, for every executor alike (ASGI, aiohttp, `ingresslib serve`):

1. the request target: an absolute-form target's authority replaces the Host header
   (RFC 9112 §3.2.2: "When an origin server receives a request with an absolute-form of
   request-target, the origin server MUST ignore the received Host header field (if any)
   and instead use the host information of the request-target"), and the request is
   forwarded in origin form;
2. the Host: more than one Host field, or an invalid one, is answered 400 (RFC 9112 §3.2:
   "A server MUST respond with a 400 (Bad Request) status code to any HTTP/1.1 request
   message that ... contains more than one Host header field line or a Host header field
   with an invalid field value"), validated as nginx's `ngx_http_validate_host` does;
3. the path, normalised by the policy (`ingresslib.proxy.normalize_path`): the router and
   the upstream see the same path; a path that cannot be normalised is answered 400;
4. the virtual host and the rule (`RouteTable`), with the conditions of conditional rules;
   nothing routes the request: 404;
5. the rule's filters in order (today: the HTTPS redirect of TLS hosts: 308);
6. the answer: `forward` to the rule's weighted backends with the upstream path, or
   `respond` 500 when the rule has no backend at all.

Decisions that depend only on the scheme, port, Host and path are kept in a bounded memo
of the table (`Decision.reusable`), so a repeated request costs a dict lookup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple, Protocol

import attrs

from ingresslib.proxy._hosts import validate_host
from ingresslib.proxy._paths import BadRequest, PathPolicy, normalize_path, split_target
from ingresslib.routing._conditions import RequestView
from ingresslib.routing._match import RouteMatch
from ingresslib.rules._construct import direct_constructor
from ingresslib.rules._hosts import host_covers
from ingresslib.rules._model import HTTPSRedirect, WeightedBackend

__all__ = [
    "DEFAULT_POLICY",
    "Action",
    "Decision",
    "DecisionPolicy",
    "Request",
    "decide",
]

#: What an executor does with a request.
Action = Literal["forward", "redirect", "respond"]

_MEMO_SIZE = 4096  # decisions per policy
_MEMO_POLICIES = 64  # policies with a memo in one table (executors keep one each)
_MEMO_KEY_MAX = 512  # Host and path together, in characters: longer ones are never kept
_HOST_KEY_MAX = 270  # a 253-character name, a port and brackets


Headers = Sequence[tuple[str, str]] | Mapping[str, str]


class _VirtualHost(Protocol):
    @property
    def conditional(self) -> bool: ...
    @property
    def default(self) -> RouteMatch | None: ...

    def match(self, path: str) -> RouteMatch | None: ...

    def match_request(self, path: str, request: RequestView) -> RouteMatch | None: ...


class _Table(Protocol):
    """What decide reads of a RouteTable (which imports this module)."""

    @property
    def _decision_cache(self) -> dict[Any, Any]: ...
    @property
    def _decision_last(self) -> list[Any]: ...
    @property
    def _valid_hosts(self) -> dict[Any, Any]: ...

    @property
    def catch_all(self) -> RouteMatch | None: ...

    def virtual_host(self, host: str | None) -> _VirtualHost | None: ...


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


_NOT_FOUND = Decision("respond", 404, reusable=True)

# PERF: a Decision per request whose decision is not in the memo; attrs' frozen __init__ of
# its ten fields (by keyword) cost more than the rest of such a decision's bookkeeping.
# Arguments: every field, in field order (ingresslib.rules._construct).
_new_decision = direct_constructor(Decision)


def _bad_request(reason: str) -> Decision:
    return _new_decision("respond", 400, None, (), None, "/", "", None, reason, True)


def decide(table: _Table, request: Request, policy: DecisionPolicy = DEFAULT_POLICY) -> Decision:
    """The whole decision for one request: forward, redirect or respond.

    Host validation, path normalisation (by `policy.paths`), the virtual host, the rule
    (with its conditions), the rule's filters and the answer: every executor runs what
    this returns and decides nothing by itself (the module docstring of
    `ingresslib.routing._decide` documents each step). `RouteTable.decide` is this
    function.

    Args:
        table: the RouteTable.
        request: the request as received.
        policy: how to decide (path normalisation, HTTPS redirects); executors keep one
            for their lifetime.
    """
    # PERF: one unpacking, not a descriptor call per field read.
    _, scheme, host, path, query, headers, port, _, _ = request
    authority = None
    # PERF: not `path.startswith("/")`, whose argument parsing costs more than the rest of
    # a memo hit's bookkeeping.
    if not path or path[0] != "/":
        try:
            authority, path, target_query = split_target(path)
        except BadRequest as error:
            return _bad_request(error.reason)
        query = query or target_query
        if authority is not None:
            host = authority
    if headers and _host_fields(headers) > 1:
        return _bad_request("duplicate Host header")
    # PERF: the memo first; only the conditions of conditional rules need the rest. Each
    # policy has its own memo, and the last one used is kept with its policy, so that a
    # hit does not hash the policy (DecisionPolicy's hash is a Python call).
    last = table._decision_last[0]
    cache = last[1] if last is not None and last[0] is policy else _memo_of(table, policy)
    key = (scheme, port, host, path)
    found = cache.get(key)
    # A redirect's Location carries the query: one from the memo would carry another's.
    if found is None or (query and found.action == "redirect"):
        found = _decide(table, request, host, path, query=query, policy=policy)
        if found.reusable and len(path) + len(host or "") <= _MEMO_KEY_MAX:
            if len(cache) >= _MEMO_SIZE:
                cache.clear()  # PERF: cheaper than LRU bookkeeping on every hit
            cache[key] = found
    if authority is not None:
        return attrs.evolve(found, authority=authority)
    return found


def _memo_of(table: _Table, policy: DecisionPolicy) -> dict[Any, Decision]:
    """The decision memo of `policy` in `table`, which becomes the last one used."""
    memos: dict[DecisionPolicy, dict[Any, Decision]] = table._decision_cache
    cache = memos.get(policy)
    if cache is None:
        if len(memos) >= _MEMO_POLICIES:
            memos.clear()
        cache = memos.setdefault(policy, {})
    # One item assigned at once: a thread reads a policy and its own memo, never another's.
    table._decision_last[0] = (policy, cache)
    return cache


def _host_fields(headers: Headers) -> int:
    items = headers.keys() if isinstance(headers, Mapping) else (name for name, _ in headers)
    return sum(1 for name in items if name.lower() == "host")


def _decide(
    table: _Table,
    request: Request,
    host: str | None,
    raw_path: str,
    *,
    query: str,
    policy: DecisionPolicy,
) -> Decision:
    # PERF: Host values repeat; each valid one is validated and looked up once per table
    # (a pure function of the value and the table; bounded in entries and key size, as the
    # vhost memo of `RouteTable.virtual_host` is).
    hosts = table._valid_hosts
    known = hosts.get(host)
    name: str
    vhost: _VirtualHost | None
    if known is not None:
        name, vhost = known
    else:
        name = ""
        if host is not None:
            try:
                name = validate_host(host)
            except BadRequest as error:
                return _bad_request(error.reason)
        vhost = table.virtual_host(name)
        if host is None or len(host) <= _HOST_KEY_MAX:
            if len(hosts) >= _MEMO_SIZE:
                hosts.clear()
            hosts[host] = (name, vhost)
    try:
        path = normalize_path(raw_path, policy.paths)
    except BadRequest as error:
        return _bad_request(error.reason)
    reusable = True
    if vhost is None:
        match = table.catch_all
    elif vhost.conditional:
        view = RequestView(request.method, _pairs(request.headers), query)
        match = vhost.match_request(path, view) or vhost.default
        reusable = False
    else:
        match = vhost.match(path) or vhost.default
    if match is None:
        return (
            _NOT_FOUND
            if reusable
            else _new_decision("respond", 404, None, (), None, "/", "", None, None, False)
        )
    rule = match.rule
    filters = () if rule is None else rule.filters
    for step in filters:
        if (
            isinstance(step, HTTPSRedirect)
            and policy.https_redirect
            and request.scheme == "http"
            and name
            and any(host_covers(tls_host, name) for tls_host in step.hosts)
        ):
            # ingress-nginx: `return 308 https://$redirect_host$request_uri;`, with the
            # HTTPS port when it is not 443. The host is the validated, normalised one:
            # never a Host value the client made up.
            port = "" if policy.https_port == 443 else f":{policy.https_port}"
            target = f"https://{name}{port}{path}"
            # The Location carries the query: such a redirect is this request's only.
            location = f"{target}?{query}" if query else target
            return _new_decision(
                "redirect",
                step.status,
                location,
                (),
                match,
                path,
                name,
                None,
                None,
                reusable and not query,
            )
    backends = () if rule is None else rule.backends  # PERF: `match.backends`, inlined
    if not backends:
        return _new_decision("respond", 500, None, (), match, path, name, None, None, reusable)
    return _new_decision("forward", None, None, backends, match, path, name, None, None, reusable)


def _pairs(headers: Headers) -> Sequence[tuple[str, str]]:
    return tuple(headers.items()) if isinstance(headers, Mapping) else headers
