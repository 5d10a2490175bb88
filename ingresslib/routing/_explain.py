"""`RouteTable.explain()`: every candidate for a request, and why it won or lost."""

from __future__ import annotations

from typing import Any, Protocol

import attrs

from ingresslib.routing._match import Route, RouteMatch
from ingresslib.rules._hosts import normalize_host
from ingresslib.rules._model import RuleSet

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
        source = f"{r.source.namespace}/{r.source.name} {r.field}"
        shown = r.http_path.path or '""'
        return (
            f"{shown} {r.http_path.path_type} ({r.matcher}) -> {r.result.backend.describe()}"
            f" [{source}]: {self.verdict}"
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
        result: what `match()` returns for this request.
    """

    host: str | None
    path: str
    normalized_host: str
    host_decision: str
    candidates: tuple[Candidate, ...]
    result: RouteMatch | None

    def __str__(self) -> str:
        lines = [
            f"request: host={self.host!r} path={self.path!r}",
            f"host: {self.host_decision}",
        ]
        if self.candidates:
            lines.append("candidates:")
            lines.extend(f"  {candidate}" for candidate in self.candidates)
        lines.append(f"result: {_describe_result(self.result)}")
        return "\n".join(lines)


def _describe_result(result: RouteMatch | None) -> str:
    if result is None:
        return "no route (404)"
    origin = ""
    source = result.source
    if source is not None and source.kind != "Controller":
        origin = f" from {source.kind} {source.namespace}/{source.name}"
    how = {
        "path": f"path {result.path!r} ({result.path_type})",
        "host-default": "the default backend of an Ingress with rules for this host",
        "default": "the catch-all default backend",
        "controller-default": "the controller's default backend",
    }[result.matched_by]
    return f"{result.backend.describe()} by {how}{origin}"


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

    def virtual_host(self, host: str | None) -> Any: ...

    @property
    def rule_set(self) -> RuleSet: ...


def explain(table: _Table, host: str | None, path: str) -> Explanation:
    """Build the Explanation of `table.match(host, path)`."""
    result = table.match(host, path)
    name = normalize_host(host)
    request_path = path or "/"
    # The table's own host choice (one rule: `RouteTable.virtual_host`), described.
    vhost = table.virtual_host(host)
    if vhost is None:
        decision = f"no rule claims {name!r}; the catch-all default backend decides"
        return Explanation(host, path, name, decision, (), result)
    if vhost.host == name:
        decision = f"{name!r} is a rule host (an exact host wins over wildcards)"
    elif vhost.host.startswith("*."):
        labels = "one label" if table.rule_set.wildcards == "one" else "a suffix match"
        decision = f"no rule names {name!r}; the wildcard {vhost.host!r} covers it ({labels})"
    else:
        decision = f"no rule names or covers {name!r}; rules without a host take it"
    candidates = []
    literal_won = (
        result is not None
        and result.matched_by == "path"
        and any(
            route.result is result and route.compiled.kind != "pattern" for route in vhost.routes
        )
    )
    for route in vhost.routes:
        matches = _matches(route, request_path)
        if route.result is result:
            verdict = "chosen"
        elif not matches:
            verdict = "does not match"
        elif route.compiled.kind == "pattern" and literal_won:
            verdict = "matches, but literal paths rank before pattern paths"
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
        w = conflict.winner.source
        candidates.append(
            Candidate(
                conflict.loser,
                _matches(conflict.loser, request_path),
                f"never used: the identical claim of the older {w.kind} "
                f"{w.namespace}/{w.name} wins",
            )
        )
    return Explanation(host, path, name, decision, tuple(candidates), result)
