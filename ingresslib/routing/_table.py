"""RouteTable: route rules (the IR) compiled into an immutable host/path matcher.

Structure (built once per snapshot, never mutated after):

- hosts: a dict of exact hosts, a dict of wildcard hosts keyed by their parent domain
  (`*.foo.com` -> `foo.com`), and the virtual host of rules without a host;
- per virtual host: a dict for exact paths, a segment trie (dict children) for prefix
  paths, a list of other literal matchers ranked by length, and a list of pattern
  matchers (regex) consulted only when no literal path matched; and its fallback.

A match costs one or two dict lookups for the host and one dict lookup per request path
segment, whatever the number of exact and prefix rules. `string-prefix` and pattern
(`regex`) paths are tried one after another, so their cost grows with their number.

Rules with conditions besides the path (method, headers, query parameters) make their
virtual host *conditional*: each leaf then keeps every rule that claims its path, in
precedence order, and the first whose conditions hold wins; when none holds, shorter paths
are tried. A virtual host without such rules keeps one winner per leaf (the fast path).

The table knows no API: `RouteTable.build` asks the Ingress front-end
(`ingresslib.ingress`) for rules; `RouteTable.from_rules` takes rules from any front-end.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from ingresslib.gatewayapi._frontend import GatewayFrontEnd
from ingresslib.ingress._frontend import (
    PATH_MATCHER_ANNOTATION,
    IngressFrontEnd,
    IngressKey,
    IngressOptions,
)
from ingresslib.plugins._annotations import AnnotationContext
from ingresslib.plugins._path_matchers import CompiledPath, PathMatcherError, get_path_matcher
from ingresslib.proxy._paths import BadRequest, split_target
from ingresslib.resources._errors import ManifestProblem
from ingresslib.resources._networking import Ingress, IngressBackend, IngressClass
from ingresslib.routing._conditions import (
    GET,
    Candidate,
    Condition,
    RequestView,
    compile_conditions,
    first,
)
from ingresslib.routing._decide import decide
from ingresslib.routing._decision import DEFAULT_POLICY, Decision, DecisionPolicy, Request
from ingresslib.routing._explain import Explanation, explain
from ingresslib.routing._match import (
    Conflict,
    MatchedBy,
    Route,
    RouteMatch,
    RouteTableError,
    result_of,
)
from ingresslib.rules._hosts import is_ip_literal, normalize_host, wildcard_keys
from ingresslib.rules._model import Match, Rule, RuleSet, Scope

__all__ = [
    "PATH_MATCHER_ANNOTATION",
    "Conflict",
    "MatchedBy",
    "Route",
    "RouteMatch",
    "RouteTable",
    "RouteTableError",
    "ScopedRouteTable",
]

_HOST_CACHE_SIZE = 4096
_HOST_CACHE_KEY_MAX = 270  # a 253-character name, a port and brackets
_UNSEEN: Any = object()


class _Node:
    """A node of the prefix segment trie.

    PERF: no `__init__` (`_new_node`; `_trie_node` sets the fields inline): a Python call
    less per segment of every rule path.
    """

    __slots__ = ("candidates", "children", "length", "route")

    # A leaf shares the one empty `_LEAF` (`_trie_node` gives a node its own dict when it
    # gets a child): a dict less per rule path.
    children: dict[str, _Node]
    route: RouteMatch | None
    length: int  # the compiled length of `route`, to rank it against others
    # Conditional hosts: every route of this node, in precedence order.
    candidates: list[Candidate] | None


#: The children of every leaf node: never written to (`_trie_node` replaces it).
_LEAF: dict[str, _Node] = {}


def _new_node() -> _Node:
    node = _Node()
    node.children = _LEAF
    node.route = None
    node.length = 0
    node.candidates = None
    return node


#: What a virtual host keeps of each route that can win, in precedence order, until
#: `routes` is asked for: the route itself, or (PERF) just its RouteMatch when the route
#: is the only match of its rule and its matcher is the built-in "exact" or "prefix" (the
#: Route and its CompiledPath are then made on demand, identical to the eager ones).
_Entry = Route | RouteMatch
#: An identical claim that lost: (rule, match, route or None, as in `_Entry`).
_Loser = tuple[Rule, Match, Route | None]

# Making the Routes of a host once, whichever thread asks first.
_MATERIALISE = threading.Lock()


class _VirtualHost:
    """Everything one host (exact, wildcard, or "no host") routes."""

    __slots__ = (
        "_conflicts",
        "_entries",
        "_losers",
        "_routes",
        "conditional",
        "conditions",
        "default",
        "exact",
        "exact_candidates",
        "host",
        "literal",
        "patterns",
        "top",
    )

    def __init__(
        self,
        *,
        host: str,
        exact: Mapping[str, RouteMatch],
        top: _Node,
        literal: tuple[Route, ...],
        patterns: tuple[Route, ...],
        default: RouteMatch | None,
        entries: Sequence[_Entry],
        losers: Sequence[_Loser],
        conditional: bool = False,
        exact_candidates: Mapping[str, Sequence[Candidate]] | None = None,
        conditions: Mapping[int, Condition | None] | None = None,
    ) -> None:
        self.host = host
        self.exact = exact
        # The trie hangs below the key "": `path.split("/")` starts with "" for absolute
        # paths.
        self.top = top
        self.literal = literal
        self.patterns = patterns
        self.default = default
        # Conditional hosts only: exact path -> candidates; route -> its conditions.
        self.conditional = conditional
        self.exact_candidates: Mapping[str, Sequence[Candidate]] = exact_candidates or {}
        self.conditions: Mapping[int, Condition | None] = conditions or {}
        self._entries = entries
        self._losers = losers
        self._routes: tuple[Route, ...] | None = None
        self._conflicts: tuple[Conflict, ...] | None = None

    def __len__(self) -> int:
        """The number of routes that can win (without making them)."""
        return len(self._entries)

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every route that can win, in precedence order."""
        routes = self._routes
        if routes is None:
            with _MATERIALISE:
                routes = self._routes
                if routes is None:
                    routes = self._routes = tuple(
                        entry if isinstance(entry, Route) else _lazy_route(entry, self.host)
                        for entry in self._entries
                    )
        return routes

    @property
    def conflicts(self) -> tuple[Conflict, ...]:
        """Every identical claim of this host: the route that wins and the one that loses."""
        conflicts = self._conflicts
        if conflicts is None:
            winners = {route.claim: route for route in self.routes}
            with _MATERIALISE:
                conflicts = self._conflicts
                if conflicts is None:
                    found = []
                    for rule, match, route in self._losers:
                        loser = route if route is not None else _make_route(rule, match, self.host)
                        found.append(Conflict(winner=winners[loser.claim], loser=loser))
                    conflicts = self._conflicts = tuple(found)
        return conflicts

    def match(self, path: str) -> RouteMatch | None:
        # "Exact: Matches the URL path exactly and with case sensitivity." An exact hit is
        # as long as the request path, so no other literal path can be longer.
        found = self.exact.get(path)
        if found is not None:
            return found
        # "Prefix: Matches based on a URL path prefix split by '/'. Matching is done on a
        # path element by element basis."
        node: _Node | None = self.top
        best: _Node | None = None
        # PERF: one dict lookup per segment; deeper nodes are longer paths.
        for segment in path.split("/"):
            node = node.children.get(segment)  # type: ignore[union-attr]  # loop breaks on None
            if node is None:
                break
            if node.route is not None:
                best = node
        found = None if best is None else best.route
        if self.literal:
            found = self._best_literal(path, best)
        if found is None and self.patterns:
            for route in self.patterns:
                if route.compiled.matches(path):  # type: ignore[misc]  # patterns carry matches
                    return route.result
        return found

    def _best_literal(self, path: str, node: _Node | None) -> RouteMatch | None:
        # "precedence will be given first to the longest matching path"; on a tie the
        # Prefix path (already found) stays ahead.
        best = None if node is None else node.route
        best_length = -1 if node is None else node.length
        for route in self.literal:
            if route.compiled.length > best_length and route.compiled.matches(path):  # type: ignore[misc]  # literal routes carry matches
                best, best_length = route.result, route.compiled.length
        return best

    def match_request(self, path: str, request: RequestView) -> RouteMatch | None:
        """Route a path and the rest of a request (the general path of conditional hosts)."""
        if not self.conditional:
            return self.match(path)
        found = self.exact_candidates.get(path)
        if found is not None:
            result = first(found, request)
            if result is not None:
                return result
        # Every matching prefix node and literal route, longest first; on equal length a
        # prefix path before a literal one, as in `match`.
        nodes: list[_Node] = []
        node: _Node | None = self.top
        # PERF: one dict lookup per segment, as in `match`; deeper nodes are longer paths.
        for segment in path.split("/"):
            node = node.children.get(segment)  # type: ignore[union-attr]  # loop breaks on None
            if node is None:
                break
            if node.candidates:
                nodes.append(node)
        if not self.literal:
            # PERF: without literal routes the nodes are already in order (deepest last):
            # no ranking list, no sort.
            for node in reversed(nodes):
                result = first(node.candidates, request)  # type: ignore[arg-type]  # kept only when set
                if result is not None:
                    return result
        else:
            ranked: list[tuple[int, int, Sequence[Candidate]]] = [
                (n.length, 1, n.candidates)  # type: ignore[misc]  # kept only when set
                for n in nodes
            ]
            ranked.extend(
                (route.compiled.length, 0, self._single(route))
                for route in self.literal
                if route.compiled.matches(path)  # type: ignore[misc]  # literal routes carry matches
            )
            ranked.sort(key=lambda item: (item[0], item[1]), reverse=True)
            for _, _, candidates in ranked:
                result = first(candidates, request)
                if result is not None:
                    return result
        for route in self.patterns:
            if route.compiled.matches(path):  # type: ignore[misc]  # patterns carry matches
                result = first(self._single(route), request)
                if result is not None:
                    return result
        return None

    def _single(self, route: Route) -> Sequence[Candidate]:
        return ((self.conditions.get(id(route)), route.result),)


class _ConditionalVirtualHost(_VirtualHost):
    """A virtual host with conditional rules (method, headers, query parameters)."""

    __slots__ = ()

    def match(self, path: str) -> RouteMatch | None:
        """`match_request` for a GET without headers or query (what `RouteTable.match` sees)."""
        return self.match_request(path, GET)


def _compile_path(rule: Rule, match: Match) -> CompiledPath:
    try:
        return get_path_matcher(match.path.matcher).compile(match.path.value)
    except PathMatcherError as error:
        raise RouteTableError(f"{rule.source}: {rule.field}: {error}") from None


def _make_route(rule: Rule, match: Match, host: str) -> Route:
    path = match.path
    return Route(
        rule=rule,
        match=match,
        host=host,
        matcher=path.matcher,
        compiled=_compile_path(rule, match),
        result=result_of(rule, host, path.value, path.path_type, path.matcher),
    )


def _lazy_route(result: RouteMatch, host: str) -> Route:
    """The Route of an entry kept as its RouteMatch (see `_Entry`)."""
    rule = result.rule
    assert rule is not None  # a route's result always carries its rule
    match = rule.matches[0]
    return Route(
        rule=rule,
        match=match,
        host=host,
        matcher=match.path.matcher,
        compiled=_compile_path(rule, match),
        result=result,
    )


def _is_conditional(rules: Sequence[Rule]) -> bool:
    for rule in rules:
        for match in rule.matches:
            # PERF: `Match.conditional`, inlined (a property call per rule of the table).
            if match.method is not None or match.headers or match.query:
                return True
    return False


def _build_vhost(  # noqa: PLR0915 -- one loop over the rules, the index kinds inline (PERF)
    host: str, rules: Sequence[Rule], default: Rule | None
) -> _VirtualHost:
    """Compile the rules of one host (given in precedence order: the first claim wins)."""
    # PERF: a host without conditional rules (every Ingress host) keeps one winner per leaf
    # and builds no candidate lists at all.
    if _is_conditional(rules):
        return _build_conditional_vhost(host, rules, default)
    exact: dict[str, RouteMatch] = {}
    top = _new_node()
    segments: dict[str, str] = {}
    literal: list[Route] = []
    patterns: list[Route] = []
    # Identical claims: an exact path already in `exact`, a prefix node that has a route,
    # or (for other matchers) the claim of a route in `winners`.
    winners: dict[tuple[Any, ...], Route] = {}
    entries: list[_Entry] = []
    losers: list[_Loser] = []
    for rule in rules:
        matches = rule.matches
        only = len(matches) == 1
        for match in matches:
            path = match.path
            matcher = path.matcher
            # PERF: the built-in "exact" and "prefix" matchers are fixed (no plugin may take
            # their names), so their compiled key and length are computed here (as their
            # `compile` does), and the Route and CompiledPath of such a path are made only
            # when asked for (`routes`).
            if matcher == "prefix":
                key = path.value.rstrip("/") or "/"  # normalize_prefix, inlined
                node = _trie_node(top, key, segments)
                if node.route is not None:
                    losers.append((rule, match, None))
                    continue
                result = result_of(rule, host, path.value, path.path_type, matcher)
                node.route = result
                node.length = len(key)
            elif matcher == "exact":
                key = path.value or "/"
                if key in exact:
                    losers.append((rule, match, None))
                    continue
                result = exact[key] = result_of(rule, host, path.value, path.path_type, matcher)
            else:
                route = _make_route(rule, match, host)
                compiled = route.compiled
                kind, key = compiled.kind, compiled.key
                if kind == "exact":
                    lost = key in exact
                    if not lost:
                        exact[key] = route.result
                elif kind == "prefix":
                    node = _trie_node(top, key, segments)
                    lost = node.route is not None
                    if not lost:
                        node.route = route.result
                        node.length = compiled.length
                else:
                    claim = route.claim
                    lost = claim in winners
                    if not lost:
                        winners[claim] = route
                        (literal if kind == "literal" else patterns).append(route)
                if lost:
                    losers.append((rule, match, route))
                else:
                    entries.append(route)
                continue
            if only:
                entries.append(result)
            else:
                entries.append(
                    Route(rule, match, host, matcher, _compile_path(rule, match), result)
                )
    # Regex and other pattern paths: longest pattern first, then precedence (stable sort).
    patterns.sort(key=lambda r: -r.compiled.length)
    return _VirtualHost(
        host=host,
        exact=exact,
        top=top,
        literal=tuple(literal),
        patterns=tuple(patterns),
        default=None if default is None else result_of(default, host),
        entries=entries,
        losers=losers,
    )


def _build_conditional_vhost(
    host: str, rules: Sequence[Rule], default: Rule | None
) -> _VirtualHost:
    """`_build_vhost` for a host with conditional rules: candidate lists per leaf."""
    exact_candidates: dict[str, list[Candidate]] = {}
    top = _new_node()
    segments: dict[str, str] = {}
    literal: list[Route] = []
    patterns: list[Route] = []
    winners: dict[tuple[Any, ...], Route] = {}
    routes: list[Route] = []
    losers: list[_Loser] = []
    conditions: dict[int, Condition | None] = {}
    for rule in rules:
        for match in rule.matches:
            route = _make_route(rule, match, host)
            claim = route.claim
            if claim in winners:
                losers.append((rule, match, route))
                continue
            winners[claim] = route
            routes.append(route)
            compiled = route.compiled
            kind = compiled.kind
            condition = compile_conditions(match)
            if condition is not None:
                conditions[id(route)] = condition
            candidate: Candidate = (condition, route.result)
            if kind == "exact":
                exact_candidates.setdefault(compiled.key, []).append(candidate)
            elif kind == "prefix":
                node = _trie_node(top, compiled.key, segments)
                if node.candidates is None:
                    node.candidates = []
                    node.length = compiled.length
                node.candidates.append(candidate)
            elif kind == "literal":
                literal.append(route)
            else:
                patterns.append(route)
    patterns.sort(key=lambda r: -r.compiled.length)
    return _ConditionalVirtualHost(
        host=host,
        exact={},
        top=top,
        literal=tuple(literal),
        patterns=tuple(patterns),
        default=None if default is None else result_of(default, host),
        entries=routes,
        losers=losers,
        conditional=True,
        exact_candidates=exact_candidates,
        conditions=conditions,
    )


def _trie_node(top: _Node, key: str, segments: dict[str, str]) -> _Node:
    """The node of a prefix key, created with its parents where missing.

    `segments` holds the segment strings of the host's trie so far: a segment that recurs
    ("v1", "api") is kept once (PERF: memory; a local dict, as sys.intern's global one
    costs more to grow and to leave).
    """
    node = top
    # "/" is the node below the key "", "/a/b" the nodes "", "a", "b".
    for segment in ("",) if key == "/" else key.split("/"):
        children = node.children
        # PERF: create a node only when it is missing (setdefault would build a throw-away
        # node per segment); `_new_node` inlined (a call per node).
        child = children.get(segment)
        if child is None:
            if children is _LEAF:
                children = node.children = {}
            child = _Node()
            child.children = _LEAF
            child.route = None
            child.length = 0
            child.candidates = None
            children[segments.setdefault(segment, segment)] = child
        node = child
    return node


@attrs.frozen(eq=False)
class RouteTable:
    """An immutable snapshot of the routing state; `match()` is safe from any thread.

    Build it with `RouteTable.build(resources, ...)` (Ingress) or
    `RouteTable.from_rules(rule_set)` (rules of any front-end); derive a changed one with
    `with_changes(...)`. A table never changes after it is built, so a server swaps the
    reference to a new table atomically and readers never see a half-built one.
    """

    _exact_hosts: Mapping[str, _VirtualHost]
    _wildcard_hosts: Mapping[str, _VirtualHost]
    _any_host: _VirtualHost | None
    _catch_all: RouteMatch | None
    _frontend: IngressFrontEnd | None
    _rule_set: RuleSet
    # Raw Host value -> virtual host (None: the catch-all); a memo of `_find_vhost`,
    # which is a pure function of this immutable table.
    _host_cache: dict[str, _VirtualHost | None] = attrs.field(factory=dict, init=False, repr=False)
    # The memos of `decide` (ingresslib.routing._decide), one per policy, bounded there;
    # and (policy, its memo) of the last call, in a one-item list.
    _decision_cache: dict[Any, Any] = attrs.field(factory=dict, init=False, repr=False)
    _decision_last: list[Any] = attrs.field(factory=lambda: [None], init=False, repr=False)
    # Host value as received (None: none) -> the host validated and normalised, and its
    # virtual host: the Host memo of `decide`.
    _valid_hosts: dict[str | None, tuple[str, _VirtualHost | None]] = attrs.field(
        factory=dict, init=False, repr=False
    )

    # --- building ---------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        resources: Iterable[object],
        *,
        controller: str | None = None,
        ingress_class: str | None = None,
        watch_without_class: bool = False,
        default_backend: IngressBackend | None = None,
        implementation_specific: str = "prefix",
        gateway: str | None = None,
    ) -> RouteTable:
        """Compile the Ingresses among `resources` (or the routes of a Gateway) into a table.

        Args:
            resources: any iterable of resources (a `ResourceSet`, a list...); Ingresses
                and IngressClasses are used, other kinds are ignored.
            controller: keep Ingresses whose class names an IngressClass with this
                `spec.controller` (e.g. "example.com/ingress-controller").
            ingress_class: or keep Ingresses of this class name.
            watch_without_class: also keep Ingresses that name no class.
            default_backend: the controller's own fallback backend.
            implementation_specific: the path matcher for `ImplementationSpecific` paths
                of Ingresses without the `ingresslib.dev/path-matcher` annotation.
            gateway: None for Ingress routing; "namespace/name" for the routes attached
                to that Gateway (Gateway API: HTTPRoutes and GRPCRoutes; with a
                `controller`, only if the Gateway's class names it).

        Raises:
            RouteTableError: a path matcher is missing (e.g. "regex" without the `re2`
                extra) or rejects a path: at build time, never at request time.
            GatewayNotFoundError: `gateway` names no Gateway of the resources.
        """
        if gateway is not None:
            front = GatewayFrontEnd.build(resources, gateway, controller=controller)
            return ScopedRouteTable.from_scopes(front.scopes, gateway=front)
        options = IngressOptions(
            controller=controller,
            ingress_class=ingress_class,
            watch_without_class=watch_without_class,
            default_backend=default_backend,
            implementation_specific=implementation_specific,
        )
        resources = list(resources)
        frontend = IngressFrontEnd.build(
            (r for r in resources if isinstance(r, Ingress)),
            (r for r in resources if isinstance(r, IngressClass)),
            options,
            context=AnnotationContext.of(resources),
        )
        return cls._compile(frontend.rule_set(), frontend)

    @classmethod
    def from_rules(cls, rule_set: RuleSet) -> RouteTable:
        """Compile the rules of any front-end into a table.

        Raises:
            RouteTableError: a path matcher is missing or rejects a path, or a condition
                is not a valid regular expression.
        """
        return cls._compile(rule_set, None)

    @classmethod
    def _compile(
        cls,
        rule_set: RuleSet,
        frontend: IngressFrontEnd | None,
        previous: RouteTable | None = None,
        dirty_hosts: set[str] | None = None,
    ) -> RouteTable:
        by_host: dict[str, list[Rule]] = {host: [] for host in rule_set.host_defaults}
        reused: dict[str, _VirtualHost] = {}
        if previous is not None and dirty_hosts is not None and frontend is not None:
            # The hosts no change touched keep their virtual host; PERF: the front-end
            # gives the rules of the others alone (Ingress by Ingress), so that a change
            # costs the hosts it touches, not a pass over every rule of the table.
            for host in by_host:
                if host not in dirty_hosts:
                    vhost = previous._vhost(host)
                    if vhost is not None:
                        reused[host] = vhost
            by_host.update(frontend.rules_by_host(by_host.keys() - reused.keys()))
        else:
            for rule in rule_set.rules:
                for host in rule.hostnames or ("",):
                    rules = by_host.get(host)
                    if rules is None:
                        rules = by_host[host] = []
                    rules.append(rule)
        exact: dict[str, _VirtualHost] = {}
        wildcard: dict[str, _VirtualHost] = {}
        any_host: _VirtualHost | None = None
        for host, rules in by_host.items():
            vhost = reused.get(host)
            if vhost is None:
                # PERF: timsort is linear on rules already in precedence order.
                rules.sort(key=_PRECEDENCE)
                vhost = _build_vhost(host, rules, rule_set.host_defaults.get(host))
            if not host:
                any_host = vhost
            elif host.startswith("*."):
                wildcard[host[2:]] = vhost
            else:
                exact[host] = vhost
        catch_all = rule_set.catch_all
        return cls(
            exact_hosts=exact,
            wildcard_hosts=wildcard,
            any_host=any_host,
            catch_all=None if catch_all is None else result_of(catch_all, None),
            frontend=frontend,
            rule_set=rule_set,
        )

    def with_changes(
        self,
        *,
        upserted: Iterable[object] = (),
        deleted: Iterable[object | IngressKey] = (),
    ) -> RouteTable:
        """Return a new table with Ingresses added, replaced or removed.

        Only the virtual hosts the changed Ingresses touch (before or after) are rebuilt;
        the others are shared with this table. Changing an IngressClass rebuilds all.

        Args:
            upserted: new or changed resources (Ingresses, IngressClasses; Secrets and
                Services, which the annotations of Ingresses may read).
            deleted: removed resources, or `(namespace, name)` keys of removed Ingresses.

        Raises:
            TypeError: the table was built `from_rules` (it has no Ingresses to change).
        """
        if self._frontend is None:
            raise TypeError("a table built from rules is rebuilt with RouteTable.from_rules")
        frontend, dirty = self._frontend.with_changes(upserted, deleted)
        return type(self)._compile(
            frontend.rule_set(),
            frontend,
            previous=None if dirty is None else self,
            dirty_hosts=dirty,
        )

    @property
    def annotation_problems(self) -> tuple[ManifestProblem, ...]:
        """What the annotation plugins found wrong with the Ingresses, oldest first.

        Each names the Ingress and the annotation as the field
        (`metadata.annotations[nginx.ingress.kubernetes.io/limit-rps]`); its reason says
        what ingresslib does (the value ignored, the paths answering 503, the Ingress not
        routed) and starts with "error:" or "warning:".
        """
        if self._frontend is None:
            return ()
        return tuple(
            ManifestProblem(
                source="",
                reason=f"{problem.severity}: {problem.reason}",
                field=problem.field,
                kind="Ingress",
                namespace=ingress.metadata.namespace,
                name=ingress.metadata.name,
            )
            for ingress, problem in self._frontend.annotation_problems()
        )

    @property
    def refused_ingresses(self) -> tuple[tuple[Ingress, str], ...]:
        """The Ingresses the annotation plugins refused, with why: they are not routed.

        ingress-nginx drops an Ingress whose annotations it refuses (a snippet, a value
        its validator rejects); so does ingresslib, and says so here.
        """
        return () if self._frontend is None else tuple(self._frontend.refused())

    # --- matching -----------------------------------------------------------------------

    def match(self, host: str | None, path: str) -> RouteMatch | None:
        """Route a request.

        Args:
            host: the Host header (or `:authority`) as received, or None.
            path: the request path as received, without the query string. Rules with
                conditions besides the path see a GET without headers or query.

        Returns:
            The decision, or None when nothing routes the request (answer 404).
        """
        # PERF: `virtual_host` inlined (a method call is ~8 % of a match); an exact,
        # already lower-case and port-less Host hits the first lookup.
        vhost = self._exact_hosts.get(host)  # type: ignore[arg-type]  # None simply misses
        if vhost is None:
            vhost = self.virtual_host(host)
            if vhost is None:
                return self._catch_all
        # PERF: no test of `vhost.conditional` here: a conditional host's `match` is its
        # `match_request` for a GET without headers (`_ConditionalVirtualHost`).
        return vhost.match(path or "/") or vhost.default

    # PERF: the function itself, not a method that calls it (a Python call less per request).
    decide = decide

    def virtual_host(self, host: str | None) -> _VirtualHost | None:
        """The virtual host that claims a Host header value (None: no rule host claims it)."""
        # PERF: a Host header that is already lower-case and port-less hits the first
        # lookup; only other forms pay for normalisation.
        vhost = self._exact_hosts.get(host)  # type: ignore[arg-type]  # None simply misses
        if vhost is not None:
            return vhost
        # PERF: Host headers repeat; remember how each raw form normalised, so
        # "Shop.Example.com:443" costs one more dict lookup, not a normalisation.
        cache = self._host_cache
        vhost = cache.get(host, _UNSEEN)  # type: ignore[arg-type]  # None is a valid key
        if vhost is _UNSEEN:
            vhost = self._find_vhost(host)
            # Bounded in entries and in key size: a flood of random or huge Host
            # values cannot grow it (a DNS name has at most 253 characters).
            if host is None or len(host) <= _HOST_CACHE_KEY_MAX:
                if len(cache) >= _HOST_CACHE_SIZE:
                    cache.clear()
                cache[host] = vhost  # type: ignore[index]  # None is a valid key
        return vhost

    def _find_vhost(self, host: str | None) -> _VirtualHost | None:
        name = normalize_host(host)
        # A Host that is an IP address matches only rules without hostnames (DESIGN.md).
        if is_ip_literal(name):
            return self._any_host
        vhost = self._exact_hosts.get(name)
        if vhost is not None:
            return vhost
        if self._wildcard_hosts:
            # Exact hosts, then wildcards from the most specific, then rules without a
            # host: "Exact matches MUST be processed before wildcard matches, and
            # wildcard matches MUST be processed before fallback (empty Hostname value)
            # matches" (Gateway API; Ingress wildcards cover one label only).
            for parent in wildcard_keys(name, self._rule_set.wildcards):
                vhost = self._wildcard_hosts.get(parent)
                if vhost is not None:
                    return vhost
        return self._any_host

    def _vhost(self, rule_host: str) -> _VirtualHost | None:
        if not rule_host:
            return self._any_host
        if rule_host.startswith("*."):
            return self._wildcard_hosts.get(rule_host[2:])
        return self._exact_hosts.get(rule_host)

    # --- introspection --------------------------------------------------------------------

    @property
    def rule_set(self) -> RuleSet:
        """The rules this table was compiled from."""
        return self._rule_set

    @property
    def ingresses(self) -> tuple[Ingress, ...]:
        """The Ingresses this table uses, oldest first."""
        return () if self._frontend is None else self._frontend.selected

    @property
    def ignored_ingresses(self) -> tuple[Ingress, ...]:
        """The Ingresses that no class selected."""
        return () if self._frontend is None else self._frontend.ignored

    @property
    def default_backend(self) -> IngressBackend | None:
        """The controller's default backend the table was built with."""
        return None if self._frontend is None else self._frontend.options.default_backend

    def virtual_hosts(self) -> Iterator[_VirtualHost]:
        """Every virtual host: exact hosts, wildcard hosts, then the one without a host."""
        yield from (self._exact_hosts[h] for h in sorted(self._exact_hosts))
        yield from (self._wildcard_hosts[h] for h in sorted(self._wildcard_hosts))
        if self._any_host is not None:
            yield self._any_host

    def routes(self) -> Iterator[Route]:
        """Every route that can win (identical-claim losers excluded), host by host."""
        for vhost in self.virtual_hosts():
            yield from vhost.routes

    def conflicts(self) -> Iterator[Conflict]:
        """Every identical claim: who wins and who loses."""
        for vhost in self.virtual_hosts():
            yield from vhost.conflicts

    @property
    def catch_all(self) -> RouteMatch | None:
        """What a request whose host no rule claims gets (None: 404)."""
        return self._catch_all

    def explain(
        self,
        host: str | None,
        path: str,
        *,
        method: str = "GET",
        headers: Sequence[tuple[str, str]] = (),
        query: str = "",
    ) -> Explanation:
        """Account for every candidate considered for a request and why it won or lost.

        `method`, `headers` and `query` are what rules with conditions besides the path
        see (by default a GET without headers or query, as in `match`).
        """
        return explain(self, host, path, method=method, headers=headers, query=query)

    def __len__(self) -> int:
        """The number of routes that can win."""
        # PERF: counted without making the Routes (`ingresslib serve` reports it per table).
        return sum(len(v) for v in self.virtual_hosts())


#: The sort key of rules (PERF: attrgetter, not a Python function called per rule).
_PRECEDENCE = operator.attrgetter("precedence")


_WELL_KNOWN_PORTS = {"http": 80, "https": 443}


@attrs.frozen
class _ListenerIndex:
    """The scopes (listeners) of one port, by hostname: exact, wildcard, none."""

    exact: Mapping[str, tuple[Scope, RouteTable]]
    wildcard: Mapping[str, tuple[Scope, RouteTable]]
    fallback: tuple[Scope, RouteTable] | None

    def find(self, name: str) -> tuple[Scope, RouteTable] | None:
        """The listener a normalised host reaches (None: no listener takes it).

        "Exact matches MUST be processed before wildcard matches, and wildcard matches
        MUST be processed before fallback (empty Hostname value) matches"; "the higher the
        number of dots in the hostname to the right of the wildcard character, the higher
        the precedence"; an IP address reaches only a listener without a hostname.
        """
        if name and (self.exact or self.wildcard) and not is_ip_literal(name):
            found = self.exact.get(name)
            if found is not None:
                return found
            if self.wildcard:
                for parent in wildcard_keys(name, "many"):
                    found = self.wildcard.get(parent)
                    if found is not None:
                        return found
        return self.fallback


@attrs.frozen
class _HostFallbacks:
    """The less specific hostnames of a listener's rules, for what the most specific misses.

    Gateway API (`HTTPRouteSpec.hostnames`): "In the event that multiple HTTPRoutes specify
    intersecting hostnames (e.g. overlapping wildcard matching and exact matching
    hostnames), precedence must be given to rules from the HTTPRoute with the largest
    number of: Characters in a matching non-wildcard hostname. Characters in a matching
    hostname. If ties exist across multiple Routes, the matching precedence rules for
    HTTPRouteMatches takes over." Precedence orders the rules that match a request: when no
    rule of `foo.example.com` matches it, the rules of `*.example.com`, then those without
    hostname, still may (a virtual host of its own per hostname, as Ingress has, would
    answer 404).

    Attributes:
        hostnames: every hostname the listener's rules claim ("" for none).
        layers: for each hostname that covers another one, a table of its rules alone
            (the most specific hostname of a request is the listener table's own choice).
    """

    hostnames: frozenset[str]
    layers: Mapping[str, RouteTable]

    @classmethod
    def build(cls, rules: Sequence[Rule]) -> _HostFallbacks:
        by_host: dict[str, list[Rule]] = {}
        for rule in rules:
            for hostname in rule.hostnames or ("",):
                by_host.setdefault(hostname, []).append(rule)
        hostnames = frozenset(by_host)
        covering: set[str] = set()
        for hostname in hostnames:
            # PERF: the wildcards that cover a hostname are those of its parent domains,
            # a few dict lookups each (not a comparison of every pair).
            base = hostname[2:] if hostname.startswith("*.") else hostname
            covering.update(
                f"*.{parent}"
                for parent in wildcard_keys(base, "many")
                if f"*.{parent}" in hostnames
            )
        if "" in hostnames and len(hostnames) > 1:
            covering.add("")
        layers = {
            hostname: RouteTable.from_rules(
                RuleSet(
                    # Each rule here claims this hostname only, so that its table has one
                    # virtual host: the rule's other hostnames are other layers'.
                    rules=tuple(attrs.evolve(r, hostnames=(hostname,)) for r in by_host[hostname]),
                    wildcards="many",
                )
            )
            for hostname in covering
        }
        return cls(hostnames=hostnames, layers=layers)

    def after_first(self, name: str) -> Iterator[RouteTable]:
        """The tables of the hostnames covering `name` (normalised), most specific first.

        The most specific one is left out: the listener table routes by that one.
        """
        if not self.layers:
            return
        candidates: list[str] = []
        if name and not is_ip_literal(name):
            candidates.append(name)
            candidates.extend(f"*.{parent}" for parent in wildcard_keys(name, "many"))
        candidates.append("")
        first = True
        for hostname in candidates:
            if hostname not in self.hostnames:
                continue
            if first:
                first = False
                continue
            yield self.layers[hostname]


_NO_FALLBACKS = _HostFallbacks(frozenset(), {})


def _unmatched(decision: Decision) -> bool:
    """Whether no rule routed the request (and nothing else answered it)."""
    return decision.match is None and decision.status == 404


_EMPTY_RULES = RuleSet(rules=(), wildcards="many")


@attrs.frozen(eq=False)
class ScopedRouteTable(RouteTable):
    """A table of listeners (Gateway API): each request sees one listener's rules only.

    Gateway API: "requests SHOULD match at most one Listener"; the listener is chosen by
    the port the request arrived on (`Request.port`; 80 for http and 443 for https when
    it is None), then by its Host, the most specific hostname first. `match(host, path)`
    routes as a request on the first port of 80, 443, or the lowest port.
    """

    _scopes: tuple[Scope, ...] = attrs.field(default=(), kw_only=True)
    _ports: Mapping[int, _ListenerIndex] = attrs.field(factory=dict, kw_only=True)
    _gateway: Any = attrs.field(default=None, kw_only=True)
    _empty: RouteTable | None = attrs.field(default=None, kw_only=True)
    # id(scope) -> its hostname fallbacks (scopes are kept alive by `_scopes`).
    _fallbacks: Mapping[int, _HostFallbacks] = attrs.field(factory=dict, kw_only=True)
    # (port, raw Host) -> the listener it reaches; a memo of `_ListenerIndex.find`.
    _listener_cache: dict[tuple[int, str | None], Any] = attrs.field(
        factory=dict, init=False, repr=False
    )

    @classmethod
    def from_scopes(cls, scopes: Iterable[Scope], *, gateway: Any = None) -> ScopedRouteTable:
        """Compile listener scopes into a table.

        Raises:
            RouteTableError: a path matcher is missing or rejects a path.
        """
        scopes = tuple(scopes)
        grouped: dict[int, list[Scope]] = {}
        for scope in scopes:
            grouped.setdefault(scope.port, []).append(scope)
        ports = {}
        for port, members in grouped.items():
            exact: dict[str, tuple[Scope, RouteTable]] = {}
            wildcard: dict[str, tuple[Scope, RouteTable]] = {}
            fallback = None
            for scope in members:
                entry = (scope, RouteTable.from_rules(scope.rules))
                if not scope.hostname:
                    fallback = entry
                elif scope.hostname.startswith("*."):
                    wildcard[scope.hostname[2:]] = entry
                else:
                    exact[scope.hostname] = entry
            ports[port] = _ListenerIndex(exact, wildcard, fallback)
        fallbacks = {id(scope): _HostFallbacks.build(scope.rules.rules) for scope in scopes}
        rules = RuleSet(
            rules=tuple(rule for scope in scopes for rule in scope.rules.rules), wildcards="many"
        )
        return cls(
            exact_hosts={},
            wildcard_hosts={},
            any_host=None,
            catch_all=None,
            frontend=None,
            rule_set=rules,
            scopes=scopes,
            ports=ports,
            gateway=gateway,
            empty=RouteTable.from_rules(_EMPTY_RULES),
            fallbacks={k: v for k, v in fallbacks.items() if v.layers},
        )

    @property
    def scopes(self) -> tuple[Scope, ...]:
        """The listeners, in the Gateway's order."""
        return self._scopes

    @property
    def gateway(self) -> Any:
        """The Gateway API front-end this table was built by (None for `from_scopes`)."""
        return self._gateway

    def _default_port(self) -> int | None:
        for port in (80, 443):
            if port in self._ports:
                return port
        return min(self._ports, default=None)

    def scope_table(
        self, host: str | None, port: int | None = None
    ) -> tuple[Scope, RouteTable] | None:
        """The listener a request for `host` on `port` reaches, with its table."""
        index = self._ports.get(self._default_port() if port is None else port)  # type: ignore[arg-type]  # None simply misses
        return None if index is None else index.find(normalize_host(host))

    def match(self, host: str | None, path: str) -> RouteMatch | None:
        """Route a request as one arriving on the default port (see the class docstring)."""
        found = self.scope_table(host)
        if found is None:
            return None
        scope, table = found
        result = table.match(host, path)
        if result is None:
            for layer in self._fallbacks.get(id(scope), _NO_FALLBACKS).after_first(
                normalize_host(host)
            ):
                result = layer.match(host, path)
                if result is not None:
                    break
        return result

    def decide(self, request: Request, policy: DecisionPolicy = DEFAULT_POLICY) -> Decision:
        """The decision for one request: its listener's table decides."""
        host = request.host
        if not request.path.startswith("/"):
            try:
                authority = split_target(request.path)[0]
            except BadRequest:
                authority = None
            if authority is not None:
                host = authority
        port = request.port or _WELL_KNOWN_PORTS.get(request.scheme, 80)
        index = self._ports.get(port)
        # PERF: Host values repeat; remember which listener each (port, Host) reaches.
        cache = self._listener_cache
        found = cache.get((port, host), _UNSEEN)
        if found is _UNSEEN:
            found = None if index is None else index.find(normalize_host(host))
            if host is None or len(host) <= _HOST_CACHE_KEY_MAX:
                if len(cache) >= _HOST_CACHE_SIZE:
                    cache.clear()
                cache[(port, host)] = found
        if found is None:
            # No listener takes the request: 404, after the checks every request gets
            # (a bad Host or path is still a 400).
            return decide(self._empty, request, policy)  # type: ignore[arg-type]  # always built
        scope: Scope = found[0]
        table: RouteTable = found[1]
        if request.scheme == "https" and request.sni and index is not None:
            # A request whose Host reaches another listener than its TLS server name did:
            # 421 (RFC 9110 §15.5.20: "the request was directed at a server that is
            # unable or unwilling to produce an authoritative response for the target
            # URI"; Gateway API HTTPRouteHTTPSListenerDetectMisdirectedRequests).
            by_sni = index.find(normalize_host(request.sni))
            if by_sni is not None and by_sni[0] is not scope:
                return Decision("respond", 421, reason="misdirected request")
        decision = decide(table, request, policy)  # PERF: no method hop
        if _unmatched(decision):
            # No rule of the most specific hostname routes it: those of the less specific
            # hostnames may (see `_HostFallbacks`).
            for layer in self._fallbacks.get(id(scope), _NO_FALLBACKS).after_first(
                normalize_host(host)
            ):
                decision = layer.decide(request, policy)
                if not _unmatched(decision):
                    break
        return decision

    def virtual_host(self, host: str | None) -> _VirtualHost | None:
        """The virtual host of `host` in the default port's listener."""
        found = self.scope_table(host)
        return None if found is None else found[1].virtual_host(host)

    def virtual_hosts(self) -> Iterator[_VirtualHost]:
        """Every virtual host of every listener."""
        for index in self._ports.values():
            entries = [*index.exact.values(), *index.wildcard.values()]
            if index.fallback is not None:
                entries.append(index.fallback)
            for _, table in entries:
                yield from table.virtual_hosts()

    def explain(
        self,
        host: str | None,
        path: str,
        *,
        port: int | None = None,
        method: str = "GET",
        headers: Sequence[tuple[str, str]] = (),
        query: str = "",
    ) -> Explanation:
        """Account for the listener a request reaches and every candidate rule in it."""
        chosen = self._default_port() if port is None else port
        found = self.scope_table(host, chosen)
        name = normalize_host(host)
        if found is None:
            listeners = sorted(s.name for s in self._scopes if s.port == chosen)
            return Explanation(
                host,
                path,
                name,
                f"no listener of port {chosen} takes {name!r} (listeners: "
                f"{', '.join(listeners) or 'none'}): 404",
                (),
                None,
                method=method,
                headers=tuple(headers),
                query=query,
            )
        scope, table = found
        inner = explain(table, host, path, method=method, headers=headers, query=query)
        hostname = f"hostname {scope.hostname!r}" if scope.hostname else "no hostname"
        listener = (
            f"listener {scope.name!r} (port {scope.port}, {hostname}) takes {name!r}, the "
            "most specific listener hostname first; only its routes are considered. "
        )
        if inner.result is None:
            # As `decide` and `match` do: the rules of less specific hostnames (see
            # `_HostFallbacks`) when none of the most specific one's matches.
            for layer in self._fallbacks.get(id(scope), _NO_FALLBACKS).after_first(name):
                fallback = explain(layer, host, path, method=method, headers=headers, query=query)
                if fallback.result is not None:
                    passed = (
                        f"no rule of the most specific route hostname matched; "
                        f"{fallback.host_decision}"
                    )
                    return attrs.evolve(fallback, host_decision=listener + passed)
        return attrs.evolve(inner, host_decision=listener + inner.host_decision)
