"""`RouteTable.explain()`: every candidate for a request, and why it won or lost.

A candidate that matches the path but not the rest of the request (a method, header or
query parameter condition) says which condition failed. Of the candidates that match
entirely, the chosen one ranks first; each other one says why: for Ingress rules the
longest path, then Exact over Prefix; for Gateway API rules the step of the spec's
precedence list that decided (HTTPRoute: "Exact" path match, "Prefix" path match with
largest number of characters, method match, largest number of header matches, largest
number of query param matches, then the oldest route, `{namespace}/{name}` order and rule
order; GRPCRoute: characters of the service, of the method, header matches).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs

from ingresslib.routing._conditions import GET, RequestView, compile_conditions
from ingresslib.routing._match import Route, RouteMatch
from ingresslib.rules._hosts import normalize_host
from ingresslib.rules._model import HeaderMatch, Match, QueryParamMatch, Rule, RuleSet, Source

__all__ = ["Candidate", "Explanation", "explain"]


@attrs.frozen
class Candidate:
    """One rule path of the claiming host, with its verdict.

    Attributes:
        route: the compiled rule path.
        matches: whether its path matches the request path on its own.
        verdict: "chosen", or why it lost.
    """

    route: Route
    matches: bool
    verdict: str

    def __str__(self) -> str:
        r = self.route
        shown = r.http_path.path or '""'
        if not _is_gateway(r.rule):
            source = f"{r.source.namespace}/{r.source.name} {r.field}"
            return (
                f"{shown} {r.http_path.path_type} ({r.matcher}) -> {r.result.backend.describe()}"
                f" [{source}]: {self.verdict}"
            )
        # Gateway API rules: the conditions besides the path, every weighted backend, and
        # the route kind (HTTPRoute or GRPCRoute).
        conditions = "".join(f" {c}" for c in describe_conditions(r.match))
        return (
            f"{shown} {r.match.path.path_type}{conditions} ({r.matcher}) -> "
            f"{_describe_backends(r.rule)} [{r.source} {r.field}]: {self.verdict}"
        )


@attrs.frozen
class Explanation:
    """A readable account of one routing decision (`str()` renders it).

    Attributes:
        host: the host as given.
        path: the path as given.
        normalized_host: the host as compared.
        host_decision: which virtual host claimed the request and why.
        candidates: every rule path of that host (identical-claim losers included).
        result: what `match()` returns for this request (with `request`'s method,
            headers and query).
        method: the method the conditions of rules were shown.
        headers: the header fields they were shown, as (name, value) pairs.
        query: the raw query string they were shown.
    """

    host: str | None
    path: str
    normalized_host: str
    host_decision: str
    candidates: tuple[Candidate, ...]
    result: RouteMatch | None
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    query: str = ""

    def __str__(self) -> str:
        lines = [
            f"request: host={self.host!r} path={self.path!r}{self._rest_of_request()}",
            f"host: {self.host_decision}",
        ]
        if self.candidates:
            lines.append("candidates:")
            lines.extend(f"  {candidate}" for candidate in self.candidates)
        lines.append(f"result: {_describe_result(self.result)}")
        return "\n".join(lines)

    def _rest_of_request(self) -> str:
        parts = [] if self.method == "GET" else [f" method={self.method}"]
        parts.extend(f" {name}: {value}" for name, value in self.headers)
        if self.query:
            parts.append(f" query={self.query!r}")
        return "".join(parts)


def _describe_result(result: RouteMatch | None) -> str:
    if result is None:
        return "no route (404)"
    origin = ""
    source = result.source
    if source is not None and source.kind != "Controller":
        origin = f" from {source.kind} {source.namespace}/{source.name}"
        if result.rule is not None and _is_gateway(result.rule):
            origin = f"{origin} {result.rule.field}"
    how = {
        "path": f"path {result.path!r} ({result.path_type})",
        "host-default": "the default backend of an Ingress with rules for this host",
        "default": "the catch-all default backend",
        "controller-default": "the controller's default backend",
    }[result.matched_by]
    backend = result.backend.describe()
    if result.rule is not None and _is_gateway(result.rule):
        backend = _describe_backends(result.rule)
    return f"{backend} by {how}{origin}"


def prefix_matches(rule_path: str, request_path: str) -> bool:
    """Element-wise prefix match, read straight from the API docs (for explain and tests)."""
    if not request_path.startswith("/"):
        return False
    rule = rule_path.rstrip("/").split("/")[1:]
    request = request_path.split("/")[1:]
    while request and request[-1] == "":
        request.pop()
    return request[: len(rule)] == rule


def _matches(route: Route, path: str) -> bool:
    compiled = route.compiled
    if compiled.kind == "exact":
        return path == compiled.key
    if compiled.kind == "prefix":
        return prefix_matches(compiled.key, path)
    return bool(compiled.matches is not None and compiled.matches(path))


class _Table(Protocol):
    """What explain reads of a RouteTable (which imports this module)."""

    def match(self, host: str | None, path: str) -> RouteMatch | None: ...

    @property
    def catch_all(self) -> RouteMatch | None: ...

    def virtual_host(self, host: str | None) -> Any: ...

    @property
    def rule_set(self) -> RuleSet: ...


def explain(
    table: _Table,
    host: str | None,
    path: str,
    *,
    method: str = "GET",
    headers: Sequence[tuple[str, str]] = (),
    query: str = "",
) -> Explanation:
    """Build the Explanation of routing `host` and `path`.

    `method`, `headers` and `query` are what rules with conditions besides the path see
    (by default a GET without headers or query, as `RouteTable.match` shows them).
    """
    fields = tuple(headers)
    plain = method == "GET" and not fields and not query
    request = GET if plain else RequestView(method, fields, query)
    shown: dict[str, Any] = {"method": method, "headers": fields, "query": query}
    name = normalize_host(host)
    request_path = path or "/"
    # The table's own host choice (one rule: `RouteTable.virtual_host`), described.
    vhost = table.virtual_host(host)
    gateway = table.rule_set.wildcards == "many"  # Gateway API rules (hostnames, no defaults)
    if vhost is None:
        result = table.catch_all
        if gateway:
            decision = f"no route hostname covers {name!r}"
        else:
            decision = f"no rule claims {name!r}; the catch-all default backend decides"
        return Explanation(host, path, name, decision, (), result, **shown)
    if vhost.conditional:
        result = vhost.match_request(request_path, request) or vhost.default
    else:
        result = vhost.match(request_path) or vhost.default
    decision = _host_decision(vhost.host, name, table.rule_set, gateway)
    candidates = []
    winner = next((route for route in vhost.routes if route.result is result), None)
    literal_won = (
        result is not None
        and result.matched_by == "path"
        and winner is not None
        and winner.compiled.kind != "pattern"
    )
    for route in vhost.routes:
        matches = _matches(route, request_path)
        failed = failed_conditions(route.match, request) if matches else ()
        if route.result is result:
            verdict = "chosen"
        elif not matches:
            verdict = "does not match"
        elif failed:
            verdict = f"the path matches, but {'; '.join(failed)}"
        elif route.compiled.kind == "pattern" and literal_won:
            verdict = "matches, but literal paths rank before pattern paths"
        elif winner is not None and _is_gateway(route.rule) and _is_gateway(winner.rule):
            verdict = f"matches, but loses by precedence: {precedence_step(winner, route)}"
        elif (
            result is not None
            and result.path_type == "Exact"
            and route.compiled.kind != "exact"
            and route.compiled.length == len(result.path or "")
        ):
            verdict = "matches, but an Exact path of the same length wins"
        else:
            verdict = "matches, but a longer path wins"
        candidates.append(Candidate(route, matches, verdict))
    for conflict in vhost.conflicts:
        w, loser = conflict.winner, conflict.loser
        if _is_gateway(w.rule) and _is_gateway(loser.rule):
            verdict = (
                f"never used: the identical claim of {w.source} {w.field} wins: "
                f"{precedence_step(w, loser)}"
            )
        else:
            verdict = (
                f"never used: the identical claim of the older {w.source.kind} "
                f"{w.source.namespace}/{w.source.name} wins"
            )
        candidates.append(Candidate(loser, _matches(loser, request_path), verdict))
    return Explanation(host, path, name, decision, tuple(candidates), result, **shown)


def _host_decision(rule_host: str, name: str, rule_set: RuleSet, gateway: bool) -> str:
    if gateway:
        # A Gateway API rule claims the intersection of its route's hostnames with its
        # listener's; the most specific one covering the request host takes it.
        if rule_host == name:
            return (
                f"{name!r} is a rule host (a route hostname, intersected with the "
                "listener's: an exact hostname wins over wildcards)"
            )
        if rule_host.startswith("*."):
            return (
                f"no route hostname names {name!r}; the wildcard {rule_host!r} covers it "
                "(one or more labels; the most specific wildcard wins)"
            )
        return f"no route hostname names or covers {name!r}; routes without hostnames take it"
    if rule_host == name:
        return f"{name!r} is a rule host (an exact host wins over wildcards)"
    if rule_host.startswith("*."):
        labels = "one label" if rule_set.wildcards == "one" else "a suffix match"
        return f"no rule names {name!r}; the wildcard {rule_host!r} covers it ({labels})"
    return f"no rule names or covers {name!r}; rules without a host take it"


_GATEWAY_KINDS = frozenset({"HTTPRoute", "GRPCRoute"})


def _is_gateway(rule: Rule) -> bool:
    return rule.source.kind in _GATEWAY_KINDS


def describe_conditions(match: Match) -> tuple[str, ...]:
    """The conditions of a match besides its path, as `explain` and the CLI show them.

    `method=POST`, `header x-env=canary` (`~=` for a RegularExpression), `query v=2`.
    """
    shown = [] if match.method is None else [f"method={match.method}"]
    shown.extend(f"header {_condition(h)}" for h in match.headers)
    shown.extend(f"query {_condition(q)}" for q in match.query)
    return tuple(shown)


def _condition(condition: HeaderMatch | QueryParamMatch) -> str:
    operator = "~=" if condition.type == "RegularExpression" else "="
    return f"{condition.name}{operator}{condition.value}"


def failed_conditions(match: Match, request: RequestView) -> tuple[str, ...]:
    """What of a match's method, header and query conditions `request` does not meet.

    Each condition is tested with the router's own predicate (`compile_conditions`).
    """
    path = match.path
    failed = []
    if match.method is not None and not _holds(Match(path, method=match.method), request):
        failed.append(f"the method must be {match.method} (not {request.method})")
    failed.extend(
        f"header {_condition(header)} does not hold ({_seen(request.header(header.name))})"
        for header in match.headers
        if not _holds(Match(path, headers=(header,)), request)
    )
    failed.extend(
        f"query parameter {_condition(param)} does not hold "
        f"({_seen(request.query_param(param.name))})"
        for param in match.query
        if not _holds(Match(path, query=(param,)), request)
    )
    return tuple(failed)


def _holds(match: Match, request: RequestView) -> bool:
    condition = compile_conditions(match)
    return condition is None or condition(request)


def _seen(value: str | None) -> str:
    return "absent" if value is None else f"the request has {value!r}"


def _describe_backends(rule: Rule) -> str:
    if not rule.backends:
        return "(no backend)"
    shown = []
    for share in rule.backends:
        backend = share.backend
        text = backend.describe()
        if backend.namespace and backend.namespace != rule.source.namespace:
            text = f"{backend.namespace}/{text}"
        if len(rule.backends) > 1:
            text = f"{text} weight={share.weight}"
        if share.invalid is not None:
            text = f"{text} (invalid)"
        shown.append(text)
    return ", ".join(shown)


def precedence_step(winner: Route, loser: Route) -> str:
    """The step of the Gateway API precedence list by which `winner` ranks before `loser`.

    Both match the request. The rules' precedence keys (`Rule.precedence`, made by the
    Gateway API front-end) are the route kind's ranks, then the route order (age, then
    `{namespace}/{name}`), then the rule and match index: the first element that differs
    names the step.
    """
    w, lo = winner.rule, loser.rule
    wk, lk = w.precedence, lo.precedence
    ranks = len(wk) - 3
    generic = "the chosen rule ranks first"
    if w.source.kind != lo.source.kind or len(wk) != len(lk) or ranks < 0:
        return generic
    steps = _HTTP_STEPS if w.source.kind == "HTTPRoute" else _GRPC_STEPS
    for index, (mine, theirs) in enumerate(zip(wk, lk, strict=True)):
        if mine == theirs:
            continue
        if not mine < theirs:
            return generic
        if index < ranks:
            return steps[index](winner, loser) if index < len(steps) else generic
        if index == ranks:
            return _route_order(w.source, lo.source)
        if index == ranks + 1:
            return f"an earlier rule of the same route wins ({w.field})"
        return f"an earlier match of the same rule wins ({w.field})"
    return generic


def _route_order(winner: Source, loser: Source) -> str:
    if winner.created != loser.created:
        if loser.created is None:
            return (
                f"the oldest route wins: {winner} has a creationTimestamp, and a route "
                "without one counts as newest"
            )
        created = winner.created.isoformat() if winner.created else "?"
        return f"the oldest route wins ({winner}, created {created})"
    return (
        f"{winner.namespace}/{winner.name} comes before {loser.namespace}/{loser.name} "
        "({namespace}/{name} order)"
    )


def _path_type(winner: Route, loser: Route) -> str:
    mine, theirs = winner.match.path.path_type, loser.match.path.path_type
    article = "an" if (mine or "").startswith("E") else "a"
    return f"{article} {mine} path match ranks before a {theirs} one"


def _longer_path(winner: Route, loser: Route) -> str:
    w, lo = winner.match.path.value, loser.match.path.value
    return f"the longer path {w!r} wins ({len(w)} characters over {len(lo)})"


def _method(winner: Route, _: Route) -> str:
    return f"a method match ({winner.match.method}) ranks before none"


def _headers(winner: Route, loser: Route) -> str:
    return f"more header matches win ({len(winner.match.headers)} over {len(loser.match.headers)})"


def _query(winner: Route, loser: Route) -> str:
    return (
        "more query parameter matches win "
        f"({len(winner.match.query)} over {len(loser.match.query)})"
    )


def _grpc_exact(_: Route, __: Route) -> str:
    return "a match of both service and method ranks first"


def _grpc_service(_: Route, __: Route) -> str:
    return "the match with more characters of the service wins"


def _grpc_method(_: Route, __: Route) -> str:
    return "the match with more characters of the method wins"


_Step = Callable[[Route, Route], str]
# HTTPRouteRule: "precedence must be given to the match having: "Exact" path match.
# "Prefix" path match with largest number of characters. Method match. Largest number of
# header matches. Largest number of query param matches."
_HTTP_STEPS: Sequence[_Step] = (_path_type, _longer_path, _method, _headers, _query)
# GRPCRouteRule: "Characters in a matching service. Characters in a matching method.
# Header matches."
_GRPC_STEPS: Sequence[_Step] = (_grpc_exact, _grpc_service, _grpc_method, _headers)
