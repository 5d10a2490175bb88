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
from typing import Any, Protocol

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

__all__ = [
    "DEFAULT_POLICY",
    "Action",
    "Decision",
    "DecisionPolicy",
    "Request",
    "decide",
]

_MEMO_SIZE = 4096
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
    def catch_all(self) -> RouteMatch | None: ...

    def virtual_host(self, host: str | None) -> _VirtualHost | None: ...


_NOT_FOUND = Decision("respond", 404, reusable=True)


def _bad_request(reason: str) -> Decision:
    return Decision("respond", 400, reason=reason, reusable=True)


def decide(table: _Table, request: Request, policy: DecisionPolicy = DEFAULT_POLICY) -> Decision:
    """The Decision for one request (see the module docstring for the steps)."""
    host = request.host
    path = request.path
    query = request.query
    authority = None
    if not path.startswith("/"):
        try:
            authority, path, target_query = split_target(path)
        except BadRequest as error:
            return _bad_request(error.reason)
        query = query or target_query
        if authority is not None:
            host = authority
    headers = request.headers
    if headers and _host_fields(headers) > 1:
        return _bad_request("duplicate Host header")
    # PERF: the memo first; only the conditions of conditional rules need the rest.
    key = (request.scheme, request.port, host, path, policy)
    cache: dict[Any, Decision] = table._decision_cache
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
    name = ""
    if host is not None:
        try:
            name = validate_host(host)
        except BadRequest as error:
            return _bad_request(error.reason)
    try:
        path = normalize_path(raw_path, policy.paths)
    except BadRequest as error:
        return _bad_request(error.reason)
    vhost = table.virtual_host(name)
    reusable = True
    view = GET
    if vhost is None:
        match = table.catch_all
    elif vhost.conditional:
        view = _view(request, query)
        match = vhost.match_request(path, view) or vhost.default
        reusable = False
    else:
        match = vhost.match(path) or vhost.default
    if match is None:
        return _NOT_FOUND if reusable else Decision("respond", 404)
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
    backends = match.backends
    if not backends:
        return Decision("respond", 500, match=match, path=path, host=name, reusable=reusable)
    return Decision(
        "forward", None, backends=backends, match=match, path=path, host=name, reusable=reusable
    )


def _view(request: Request, query: str) -> RequestView:
    return RequestView(request.method, _pairs(request.headers), query)


def _pairs(headers: Headers) -> Sequence[tuple[str, str]]:
    return tuple(headers.items()) if isinstance(headers, Mapping) else headers
