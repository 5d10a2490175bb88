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
5. the rule's filters in order (`ingresslib.routing._apply`): the HTTPS redirect of TLS
   hosts (308), redirects, URL rewrites, header edits, mirrors, CORS, timeouts;
6. the answer: `forward` to the rule's weighted backends with the upstream path, or
   `respond` 500 when the rule has no backend at all.

Decisions that depend only on the scheme, port, Host and path are kept in a bounded memo
of the table (`Decision.reusable`), so a repeated request costs a dict lookup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

import attrs

from ingresslib.proxy._hosts import validate_host
from ingresslib.proxy._paths import BadRequest, normalize_path, split_target
from ingresslib.routing._apply import apply_filters
from ingresslib.routing._conditions import GET, RequestView
from ingresslib.routing._decision import (
    DEFAULT_POLICY,
    Action,
    Decision,
    DecisionPolicy,
    Headers,
    Request,
)
from ingresslib.routing._match import RouteMatch
from ingresslib.rules._construct import direct_constructor

__all__ = [
    "DEFAULT_POLICY",
    "Action",
    "Decision",
    "DecisionPolicy",
    "Request",
    "decide",
]

_MEMO_SIZE = 4096
_MEMO_POLICIES = 64  # policies with a memo in one table (executors keep one each)
_HOST_KEY_MAX = 270  # a 253-character name, a port and brackets
_MEMO_KEY_MAX = 512  # Host and path together, in characters: longer ones are never kept


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


_NOT_FOUND = Decision("respond", 404, reusable=True)
# PERF: a Decision per request whose decision is not in the memo; attrs' frozen __init__ of
# its fields (by keyword) cost more than the rest of such a decision's bookkeeping.
_new_decision = direct_constructor(Decision)
# A 404 of a conditional host: another request for the same Host and path may be routed.
_NOT_FOUND_HERE = Decision("respond", 404)


def _bad_request(reason: str) -> Decision:
    return Decision("respond", 400, reason=reason, reusable=True)


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
    decision: Decision
    if type(found) is _Routed:
        # A conditional host: Host and path were validated, normalised and looked up
        # before; only the conditions are evaluated for this request.
        decision = _conditional(found, request, query, policy)
    elif type(found) is _Matched:
        # The rule is known; its filters decide for this request.
        decision = _finish(found.match, request, GET, found.name, found.path, query, policy, True)
    elif found is None or (query and found.action == "redirect"):
        # A redirect's Location carries the query: one from the memo would carry another's.
        result = _decide(table, request, host, path, query=query, policy=policy)
        if type(result) is _Routed:
            decision = _conditional(result, request, query, policy)
            keep = True
        elif type(result) is _Matched:
            decision = _finish(
                result.match, request, GET, result.name, result.path, query, policy, True
            )
            keep = True
            if decision.reusable:
                result = decision  # the memo keeps the decision itself
        else:
            decision = result  # type: ignore[assignment]  # by the type test
            keep = decision.reusable
        if keep and len(path) + len(host or "") <= _MEMO_KEY_MAX:
            if len(cache) >= _MEMO_SIZE:
                cache.clear()  # PERF: cheaper than LRU bookkeeping on every hit
            cache[key] = result
    else:
        decision = found
    if authority is not None and decision.authority is None:
        # The target's authority is the Host sent upstream, unless a URLRewrite filter
        # decided another one.
        return attrs.evolve(decision, authority=authority)
    return decision


def _memo_of(table: _Table, policy: DecisionPolicy) -> dict[Any, Any]:
    """The decision memo of `policy` in `table`, which becomes the last one used."""
    memos: dict[DecisionPolicy, dict[Any, Any]] = table._decision_cache
    cache = memos.get(policy)
    if cache is None:
        if len(memos) >= _MEMO_POLICIES:
            memos.clear()
        cache = memos.setdefault(policy, {})
    # One item assigned at once: a thread reads a policy and its own memo, never another's.
    table._decision_last[0] = (policy, cache)
    return cache


class _Routed(NamedTuple):
    """The memo entry of a conditional host: what the request's Host and path decided.

    The conditions (method, headers, query) differ from request to request; the host's
    validation, the path's normalisation and the virtual host do not.
    """

    name: str
    path: str
    vhost: _VirtualHost
    # id(RouteMatch) -> its Decision, for rules without filters (a pure function of the
    # match, the path and the host).
    decisions: dict[int, Decision]


class _Matched(NamedTuple):
    """The memo entry of a rule with filters whose decision is the request's own.

    A filter that reads the request's headers, client or method (a `Step`: CORS, source
    ranges, basic auth...) makes the decision non-reusable, but the Host, the path and the
    rule they lead to are the same for the next such request: only the filters run again.
    """

    name: str
    path: str
    match: RouteMatch


def _conditional(routed: _Routed, request: Request, query: str, policy: DecisionPolicy) -> Decision:
    vhost = routed.vhost
    view = _view(request, query)
    match = vhost.match_request(routed.path, view) or vhost.default
    if match is None:
        return _NOT_FOUND_HERE
    rule = match.rule
    if rule is not None and rule.filters:
        return _finish(match, request, view, routed.name, routed.path, query, policy, False)
    decisions = routed.decisions
    decision = decisions.get(id(match))
    if decision is None:
        decision = decisions[id(match)] = _finish(
            match, request, view, routed.name, routed.path, query, policy, False
        )
    return decision


def _host_fields(headers: Headers) -> int:
    # PERF: the pairs executors pass are a list or a tuple: a C-level type test first (the
    # Mapping ABC test costs more than the loop).
    if type(headers) is list or type(headers) is tuple:
        count = 0
        for name, _ in headers:
            if len(name) == 4 and name.lower() == "host":
                count += 1
        return count
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
) -> Decision | _Routed | _Matched:
    """Steps 1-4 (or 1-6 for a rule without filters, on a host without conditional rules)."""
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
    if vhost is None:
        match = table.catch_all
    elif vhost.conditional:
        return _Routed(name, path, vhost, {})
    else:
        match = vhost.match(path) or vhost.default
    if match is None:
        return _NOT_FOUND
    rule = match.rule
    if rule is not None and rule.filters:
        return _Matched(name, path, match)
    return _finish(match, request, GET, name, path, query, policy, True)


def _finish(  # noqa: PLR0917 -- private, called from two places with every argument
    match: RouteMatch,
    request: Request,
    view: RequestView,
    name: str,
    path: str,
    query: str,
    policy: DecisionPolicy,
    reusable: bool,
) -> Decision:
    """Steps 5 and 6: the rule's filters and the answer."""
    rule = match.rule
    if rule is not None and rule.filters:
        return apply_filters(
            match,
            rule.filters,
            request,
            _view(request, query) if view is GET else view,
            name=name,
            path=path,
            query=query,
            policy=policy,
            reusable=reusable,
        )
    # PERF: the rule's backends, read once (not RouteMatch.backends, a property call).
    backends = () if rule is None else rule.backends
    if not backends:
        return Decision("respond", 500, match=match, path=path, host=name, reusable=reusable)
    # PERF: every field given, in field order (ingresslib.rules._construct).
    return _new_decision(
        "forward",
        None,
        None,
        backends,
        match,
        path,
        name,
        None,
        None,
        reusable,
        None,
        None,
        (),
        None,
        (),
    )


def _view(request: Request, query: str) -> RequestView:
    return RequestView(request.method, _pairs(request.headers), query)


def _pairs(headers: Headers) -> Sequence[tuple[str, str]]:
    if type(headers) is list or type(headers) is tuple:  # PERF: see `_host_fields`
        return headers
    return tuple(headers.items()) if isinstance(headers, Mapping) else headers
