"""RouteTable: Ingresses compiled into an immutable host/path matcher.

Structure (built once per snapshot, never mutated after):

- hosts: a dict of exact hosts, a dict of wildcard hosts keyed by their parent domain
  (`*.foo.com` -> `foo.com`), and the virtual host of rules without a host;
- per virtual host: a dict for Exact paths, a segment trie (dict children) for Prefix
  paths, a list of other literal matchers ranked by length, and a list of pattern
  matchers (regex) consulted only when no literal path matched; and its default backend.

A match costs one or two dict lookups for the host and one dict lookup per request path
segment, whatever the number of Exact and Prefix rules. ImplementationSpecific paths of
the `string-prefix` and pattern (`regex`) matchers are tried one after another, so their
cost grows with their number on the host.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ingresslib.plugins._path_matchers import (
    CompiledPath,
    PathMatcherError,
    get_path_matcher,
)
from ingresslib.resources._networking import (
    HTTPIngressPath,
    Ingress,
    IngressBackend,
    IngressClass,
    PathType,
)
from ingresslib.routing._hosts import normalize_host, wildcard_parent

if TYPE_CHECKING:
    from ingresslib.routing._explain import Explanation

__all__ = [
    "PATH_MATCHER_ANNOTATION",
    "Conflict",
    "Route",
    "RouteMatch",
    "RouteTable",
    "RouteTableError",
]

#: Per-Ingress choice of the ImplementationSpecific path matcher (e.g. "regex").
PATH_MATCHER_ANNOTATION = "ingresslib.dev/path-matcher"

MatchedBy = Literal["path", "host-default", "default", "controller-default"]
IngressKey = tuple[str, str]
_FAR_FUTURE = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)
_HOST_CACHE_SIZE = 4096
_HOST_CACHE_KEY_MAX = 270  # a 253-character name, a port and brackets
_UNSEEN: Any = object()


class RouteTableError(ValueError):
    """A table that cannot be built (e.g. a path matcher missing or a path it rejects)."""


@attrs.frozen
class RouteMatch:
    """The routing decision for one request.

    Attributes:
        backend: where the request goes.
        ingress: the Ingress the decision came from (None for the controller's default).
        host: the rule host that claimed the request ("" for rules without a host);
            None when no rule host claimed it (a catch-all default backend).
        path: the rule path that matched; None for a default backend.
        path_type: the rule's pathType; None for a default backend.
        matched_by: "path", "host-default" (the Ingress default backend of the claiming
            host), "default" (the catch-all Ingress default backend) or
            "controller-default" (the table's `default_backend`).
        matcher: the path matcher that decided ("exact", "prefix", "regex", ...), or None.
    """

    backend: IngressBackend
    ingress: Ingress | None = attrs.field(repr=lambda i: repr(i.ref) if i else "None")
    host: str | None
    path: str | None
    path_type: str | None
    matched_by: MatchedBy = "path"
    matcher: str | None = None


@attrs.frozen
class Route:
    """One compiled rule path, as the table keeps it (also the losers, for lint/explain).

    Attributes:
        ingress: where it comes from.
        rule_index: `spec.rules[i]`.
        path_index: `spec.rules[i].http.paths[j]`.
        host: the rule host ("" for none; `*.foo.com` for a wildcard).
        http_path: the rule path as written.
        matcher: the matcher name that compiled it.
        compiled: the compiled path.
        result: the RouteMatch returned when it wins.
    """

    ingress: Ingress = attrs.field(repr=lambda i: repr(i.ref))
    rule_index: int
    path_index: int
    host: str
    http_path: HTTPIngressPath
    matcher: str
    compiled: CompiledPath
    result: RouteMatch

    @property
    def field(self) -> str:
        """The apiserver field path of this rule path."""
        return f"spec.rules[{self.rule_index}].http.paths[{self.path_index}]"

    @property
    def claim(self) -> tuple[str, ...]:
        """What two routes must share to be identical claims."""
        if self.compiled.kind in ("exact", "prefix"):
            return (self.compiled.kind, self.compiled.key)
        return (self.compiled.kind, self.matcher, self.compiled.key)


@attrs.frozen
class Conflict:
    """An identical claim (host + path + type): `winner` is used, `loser` never is."""

    winner: Route
    loser: Route


class _Node:
    """A node of the Prefix segment trie."""

    __slots__ = ("children", "length", "route")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.route: RouteMatch | None = None
        self.length = 0  # the compiled length of `route`, to rank it against others


@attrs.frozen
class _VirtualHost:
    """Everything one host (exact, wildcard, or "no host") routes."""

    host: str
    exact: Mapping[str, RouteMatch]
    # The trie hangs below the key "": `path.split("/")` starts with "" for absolute paths.
    top: _Node
    literal: tuple[Route, ...]
    patterns: tuple[Route, ...]
    default: RouteMatch | None
    routes: tuple[Route, ...]
    conflicts: tuple[Conflict, ...]
    ingresses: tuple[Ingress, ...]

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


def _age_key(ingress: Ingress) -> tuple[datetime.datetime, str, str]:
    # "the oldest creationTimestamp wins, then namespace/name order"; an Ingress without a
    # timestamp (fresh from a file) counts as newer than any that has one.
    created = ingress.metadata.creation_timestamp or _FAR_FUTURE
    return (created, ingress.metadata.namespace, ingress.metadata.name)


def _key(ingress: Ingress) -> IngressKey:
    return (ingress.metadata.namespace, ingress.metadata.name)


def select_ingresses(
    ingresses: Iterable[Ingress],
    classes: Iterable[IngressClass],
    *,
    controller: str | None,
    ingress_class: str | None,
    watch_without_class: bool,
) -> tuple[list[Ingress], list[Ingress]]:
    """Split Ingresses into (ours, not ours) by class, as DESIGN.md states."""
    ingresses = list(ingresses)
    if controller is None and ingress_class is None:
        return ingresses, []
    classes = list(classes)
    if controller is not None:
        ours = {c.name for c in classes if c.spec.controller == controller}
        if ingress_class is not None:
            ours &= {ingress_class}
    else:
        ours = {ingress_class} if ingress_class is not None else set()
    # "When a single IngressClass resource has this annotation set to true, new Ingress
    # resources without a class specified will be assigned this default class."
    default_is_ours = any(c.is_default and c.name in ours for c in classes)
    selected: list[Ingress] = []
    ignored: list[Ingress] = []
    for ingress in ingresses:
        name = ingress.class_name
        mine = name in ours if name is not None else (default_is_ours or watch_without_class)
        (selected if mine else ignored).append(ingress)
    return selected, ignored


@attrs.frozen
class _Options:
    controller: str | None
    ingress_class: str | None
    watch_without_class: bool
    default_backend: IngressBackend | None
    implementation_specific: str


@attrs.frozen(eq=False)
class RouteTable:
    """An immutable snapshot of the routing state; `match()` is safe from any thread.

    Build it with `RouteTable.build(resources, ...)`; derive a changed one with
    `with_changes(...)`. A table never changes after it is built, so a server swaps the
    reference to a new table atomically and readers never see a half-built one.
    """

    _exact_hosts: Mapping[str, _VirtualHost]
    _wildcard_hosts: Mapping[str, _VirtualHost]
    _any_host: _VirtualHost | None
    _catch_all: RouteMatch | None
    _ingresses: Mapping[IngressKey, Ingress]
    _classes: tuple[IngressClass, ...]
    _ignored: tuple[Ingress, ...]
    _options: _Options
    # Raw Host value -> virtual host (None: the catch-all); a memo of `_find_vhost`,
    # which is a pure function of this immutable table.
    _host_cache: dict[str, _VirtualHost | None] = attrs.field(factory=dict, init=False, repr=False)

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
    ) -> RouteTable:
        """Compile the Ingresses among `resources` into a table.

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

        Raises:
            RouteTableError: a path matcher is missing (e.g. "regex" without the `re2`
                extra) or rejects a path: at build time, never at request time.
        """
        options = _Options(
            controller=controller,
            ingress_class=ingress_class,
            watch_without_class=watch_without_class,
            default_backend=default_backend,
            implementation_specific=implementation_specific,
        )
        resources = list(resources)
        ingresses = [r for r in resources if isinstance(r, Ingress)]
        classes = tuple(r for r in resources if isinstance(r, IngressClass))
        return cls._compile(ingresses, classes, options)

    @classmethod
    def _compile(
        cls,
        ingresses: Iterable[Ingress],
        classes: tuple[IngressClass, ...],
        options: _Options,
        previous: RouteTable | None = None,
        dirty_hosts: set[str] | None = None,
    ) -> RouteTable:
        selected, ignored = select_ingresses(
            ingresses,
            classes,
            controller=options.controller,
            ingress_class=options.ingress_class,
            watch_without_class=options.watch_without_class,
        )
        selected.sort(key=_age_key)
        by_host: dict[str, list[tuple[Ingress, int]]] = {}
        for ingress in selected:
            for index, rule in enumerate(ingress.spec.rules):
                by_host.setdefault(rule.host.lower(), []).append((ingress, index))
        exact: dict[str, _VirtualHost] = {}
        wildcard: dict[str, _VirtualHost] = {}
        any_host: _VirtualHost | None = None
        for host, entries in by_host.items():
            vhost = None
            if previous is not None and dirty_hosts is not None and host not in dirty_hosts:
                vhost = previous._vhost(host)
            if vhost is None:
                vhost = _build_vhost(host, entries, options)
            if not host:
                any_host = vhost
            elif host.startswith("*."):
                wildcard[host[2:]] = vhost
            else:
                exact[host] = vhost
        # The catch-all: "the spec.defaultBackend of the oldest Ingress that has one".
        catch_all = _default_match(selected, None, "default", options)
        return cls(
            exact_hosts=exact,
            wildcard_hosts=wildcard,
            any_host=any_host,
            catch_all=catch_all,
            ingresses={_key(i): i for i in selected},
            classes=classes,
            ignored=tuple(ignored),
            options=options,
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
            upserted: new or changed resources (Ingresses, IngressClasses).
            deleted: removed resources, or `(namespace, name)` keys of removed Ingresses.
        """
        ingresses: dict[IngressKey, Ingress] = {_key(i): i for i in self._ignored}
        ingresses.update(self._ingresses)
        classes = {c.name: c for c in self._classes}
        dirty: set[str] = set()
        classes_changed = False

        def touch(ingress: Ingress | None) -> None:
            if ingress is not None:
                dirty.update(rule.host.lower() for rule in ingress.spec.rules)

        for item in deleted:
            if isinstance(item, IngressClass):
                classes_changed |= classes.pop(item.name, None) is not None
                continue
            key = _key(item) if isinstance(item, Ingress) else item
            if isinstance(key, tuple):
                touch(ingresses.pop(key, None))
        for item in upserted:
            if isinstance(item, IngressClass):
                classes[item.name] = item
                classes_changed = True
            elif isinstance(item, Ingress):
                touch(ingresses.get(_key(item)))
                touch(item)
                ingresses[_key(item)] = item
        return type(self)._compile(
            ingresses.values(),
            tuple(classes.values()),
            self._options,
            previous=None if classes_changed else self,
            dirty_hosts=dirty,
        )

    # --- matching -----------------------------------------------------------------------

    def match(self, host: str | None, path: str) -> RouteMatch | None:
        """Route a request.

        Args:
            host: the Host header (or `:authority`) as received, or None.
            path: the request path as received, without the query string.

        Returns:
            The decision, or None when nothing routes the request (answer 404).
        """
        # PERF: a Host header that is already lower-case and port-less hits the first
        # lookup; only other forms pay for normalisation.
        vhost = self._exact_hosts.get(host)  # type: ignore[arg-type]  # None simply misses
        if vhost is None:
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
            if vhost is None:
                return self._catch_all
        return vhost.match(path or "/") or vhost.default

    def _find_vhost(self, host: str | None) -> _VirtualHost | None:
        name = normalize_host(host)
        vhost = self._exact_hosts.get(name)
        if vhost is not None:
            return vhost
        parent = wildcard_parent(name)
        if parent is not None:
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
    def ingresses(self) -> tuple[Ingress, ...]:
        """The Ingresses this table uses, oldest first."""
        return tuple(sorted(self._ingresses.values(), key=_age_key))

    @property
    def ignored_ingresses(self) -> tuple[Ingress, ...]:
        """The Ingresses that no class selected."""
        return self._ignored

    @property
    def default_backend(self) -> IngressBackend | None:
        """The controller's default backend the table was built with."""
        return self._options.default_backend

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

    def explain(self, host: str | None, path: str) -> Explanation:
        """Account for every candidate considered for a request and why it won or lost."""
        from ingresslib.routing._explain import explain  # noqa: PLC0415 -- explain imports this module

        return explain(self, host, path)

    def __len__(self) -> int:
        """The number of routes that can win."""
        return sum(len(v.routes) for v in self.virtual_hosts())


def _matcher_for(http_path: HTTPIngressPath, ingress: Ingress, options: _Options) -> str:
    if http_path.path_type == PathType.EXACT:
        return "exact"
    if http_path.path_type == PathType.PREFIX:
        return "prefix"
    # "ImplementationSpecific: Interpretation of the Path matching is up to the IngressClass."
    return ingress.metadata.annotations.get(
        PATH_MATCHER_ANNOTATION, options.implementation_specific
    )


def _default_match(
    ingresses: Iterable[Ingress], host: str | None, matched_by: MatchedBy, options: _Options
) -> RouteMatch | None:
    """The default backend of the oldest of `ingresses` that has one, else the controller's."""
    for ingress in ingresses:  # oldest first
        if ingress.spec.default_backend is not None:
            return RouteMatch(ingress.spec.default_backend, ingress, host, None, None, matched_by)
    if options.default_backend is not None:
        return RouteMatch(options.default_backend, None, host, None, None, "controller-default")
    return None


def _build_vhost(host: str, entries: list[tuple[Ingress, int]], options: _Options) -> _VirtualHost:
    exact: dict[str, RouteMatch] = {}
    top = _Node()
    literal: list[Route] = []
    patterns: list[Route] = []
    winners: dict[tuple[str, ...], Route] = {}
    conflicts: list[Conflict] = []
    routes: list[Route] = []
    ingresses: list[Ingress] = []
    for ingress, rule_index in entries:  # oldest first: the first claim wins
        if not ingresses or ingresses[-1] is not ingress:
            ingresses.append(ingress)
        rule = ingress.spec.rules[rule_index]
        if rule.http is None:
            continue
        for path_index, http_path in enumerate(rule.http.paths):
            name = _matcher_for(http_path, ingress, options)
            try:
                compiled = get_path_matcher(name).compile(http_path.path)
            except PathMatcherError as error:
                raise RouteTableError(
                    f"Ingress {ingress.metadata.namespace}/{ingress.metadata.name}: "
                    f"spec.rules[{rule_index}].http.paths[{path_index}]: {error}"
                ) from None
            route = Route(
                ingress=ingress,
                rule_index=rule_index,
                path_index=path_index,
                host=host,
                http_path=http_path,
                matcher=name,
                compiled=compiled,
                result=RouteMatch(
                    backend=http_path.backend,
                    ingress=ingress,
                    host=host,
                    path=http_path.path,
                    path_type=http_path.path_type,
                    matched_by="path",
                    matcher=name,
                ),
            )
            winner = winners.get(route.claim)
            if winner is not None:
                conflicts.append(Conflict(winner=winner, loser=route))
                continue
            winners[route.claim] = route
            routes.append(route)
            if compiled.kind == "exact":
                exact[compiled.key] = route.result
            elif compiled.kind == "prefix":
                node = top
                # "/" is the node below the key "", "/a/b" the nodes "", "a", "b".
                for segment in ("",) if compiled.key == "/" else compiled.key.split("/"):
                    # PERF: create a node only when it is missing (setdefault would build
                    # a throw-away node per segment).
                    child = node.children.get(segment)
                    if child is None:
                        child = node.children[segment] = _Node()
                    node = child
                node.route = route.result
                node.length = compiled.length
            elif compiled.kind == "literal":
                literal.append(route)
            else:
                patterns.append(route)
    # Regex and other pattern paths: longest pattern first, then the oldest Ingress.
    patterns.sort(key=lambda r: -r.compiled.length)
    # "the spec.defaultBackend of an Ingress that defines rules for that host (the oldest
    # such Ingress that has one), else ... the controller's default_backend".
    default = _default_match(ingresses, host, "host-default", options)
    return _VirtualHost(
        host=host,
        exact=exact,
        top=top,
        literal=tuple(literal),
        patterns=tuple(patterns),
        default=default,
        routes=tuple(routes),
        conflicts=tuple(conflicts),
        ingresses=tuple(ingresses),
    )
