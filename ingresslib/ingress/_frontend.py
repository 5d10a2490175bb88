"""Ingress -> route IR: class selection, rules, precedence, default backends, TLS redirects.

The first front-end. Everything Ingress-specific about routing is decided here, once, and
written into rules (`ingresslib.rules`); the table that compiles them knows nothing of
Ingress:

- class selection (`select_ingresses`);
- one rule per `spec.rules[i].http.paths[j]`, whose precedence key is the Ingress's age
  ("the oldest creationTimestamp wins, then namespace/name", `ingresslib.resources.age_key`)
  and then the rule and path order inside it; the table ranks longer paths first and Exact
  before Prefix of the same length, as the API docs require;
- the path matcher of each path: Exact and Prefix as the API defines them;
  ImplementationSpecific "is up to the IngressClass": the `ingresslib.dev/path-matcher`
  annotation, else the table's `implementation_specific` choice;
- the fallbacks: per claimed host, "the spec.defaultBackend of an Ingress that defines
  rules for that host (the oldest such Ingress that has one)", else the controller's
  default backend; for requests no host claims, "the spec.defaultBackend of the oldest
  Ingress that has one", else the controller's;
- the annotations, by the annotation plugins (`ingresslib.ingress.annotations`: the
  ingress-nginx set, then third parties' `ingresslib.plugins.register_annotation_plugin`):
  their filters on every rule of the Ingress, the problems they find, and the Ingresses
  they refuse (not routed at all, as ingress-nginx refuses them); the HTTPS redirect of
  the TLS hosts is one of them (`ssl-redirect`, on by default).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Set

import attrs

from ingresslib.ingress.annotations import (
    BUILTIN_PLUGINS,
    SSL_REDIRECT_ANNOTATION,
    Annotated,
    annotate,
    apply_host_plugins,
)
from ingresslib.plugins._annotations import (
    AnnotationContext,
    AnnotationPlugin,
    AnnotationProblem,
    HostWidePlugin,
    ObjectRef,
    annotation_plugins,
)
from ingresslib.resources._meta import age_key
from ingresslib.resources._networking import (
    Ingress,
    IngressBackend,
    IngressClass,
    PathType,
)
from ingresslib.rules._backend import Backend
from ingresslib.rules._construct import direct_constructor
from ingresslib.rules._model import (
    Filter,
    Match,
    PathMatch,
    Rule,
    RuleKind,
    RuleSet,
    Source,
    WeightedBackend,
)

__all__ = [
    "PATH_MATCHER_ANNOTATION",
    "SSL_REDIRECT_ANNOTATION",
    "IngressFrontEnd",
    "IngressKey",
    "IngressOptions",
    "backend_of",
    "ingress_rules",
    "select_ingresses",
]

#: Per-Ingress choice of the ImplementationSpecific path matcher (e.g. "regex").
PATH_MATCHER_ANNOTATION = "ingresslib.dev/path-matcher"

#: (namespace, name) of an Ingress.
IngressKey = tuple[str, str]

_CONTROLLER = Source(kind="Controller", namespace="", name="")


@attrs.frozen
class IngressOptions:
    """How a table selects and reads Ingresses (the options of `RouteTable.build`).

    Attributes:
        controller: keep Ingresses whose class names an IngressClass with this controller.
        ingress_class: or keep Ingresses of this class name.
        watch_without_class: also keep Ingresses that name no class.
        default_backend: the controller's own fallback backend.
        implementation_specific: the path matcher of ImplementationSpecific paths.
    """

    controller: str | None = None
    ingress_class: str | None = None
    watch_without_class: bool = False
    default_backend: IngressBackend | None = None
    implementation_specific: str = "prefix"


def key_of(ingress: Ingress) -> IngressKey:
    """(namespace, name)."""
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


def backend_of(backend: IngressBackend, namespace: str) -> Backend:
    """The IR form of an Ingress backend in `namespace` ("" for the controller's)."""
    service = backend.service
    if service is not None:
        port = service.port
        if port.name:
            return _new_backend(service.name, namespace, None, port.name, "Service", "", backend)
        return _new_backend(service.name, namespace, port.number, None, "Service", "", backend)
    resource = backend.resource
    if resource is not None:
        group = resource.api_group or ""
        return _new_backend(resource.name, namespace, None, None, resource.kind, group, backend)
    return _new_backend("", namespace, None, None, "", "", backend)


# PERF: the IR objects of Ingress paths are made by the ten thousand; these skip attrs'
# frozen __init__ (ingresslib.rules._construct). Arguments: every field, in field order.
_new_backend = direct_constructor(Backend)
_new_weighted = direct_constructor(WeightedBackend)
_new_path = direct_constructor(PathMatch)
_new_match = direct_constructor(Match)
_new_rule = direct_constructor(Rule)


@functools.lru_cache(maxsize=4096)
def _path_fields(rule_index: int, count: int) -> tuple[str, ...]:
    """The field paths of the `count` paths of `spec.rules[rule_index]`.

    PERF: every Ingress has a `spec.rules[0].http.paths[0]`: one string per field path,
    shared by the rules of all Ingresses (~80 bytes and an f-string per rule saved), and
    one cache lookup per rule of an Ingress, not per path.
    """
    return tuple(f"spec.rules[{rule_index}].http.paths[{j}]" for j in range(count))


def _source(ingress: Ingress) -> Source:
    meta = ingress.metadata
    return Source("Ingress", meta.namespace, meta.name, meta.creation_timestamp, ingress)


def _plugins() -> tuple[AnnotationPlugin, ...]:
    """The built-in plugins, then the registered ones, in phase order (a stable sort)."""
    builtin = {plugin.name for plugin in BUILTIN_PLUGINS}
    extra = tuple(plugin for plugin in annotation_plugins() if plugin.name not in builtin)
    return tuple(sorted((*BUILTIN_PLUGINS, *extra), key=lambda plugin: plugin.phase))


def _implementation_specific(ingress: Ingress, options: IngressOptions) -> str:
    # "ImplementationSpecific: Interpretation of the Path matching is up to the IngressClass."
    return ingress.metadata.annotations.get(
        PATH_MATCHER_ANNOTATION, options.implementation_specific
    )


def ingress_rules(
    ingress: Ingress, options: IngressOptions, context: AnnotationContext | None = None
) -> tuple[Rule, ...]:
    """The path rules of one Ingress, in `spec.rules[i].http.paths[j]` order.

    Its annotations are read by every plugin (with the Secrets and Services of
    `context`); an Ingress the plugins refuse has no rules.
    """
    annotated = annotate(ingress, context or AnnotationContext(), _plugins())
    if annotated.rejected is not None:
        return ()
    return _ingress_rules(ingress, options, _source(ingress), annotated.filters)


def _ingress_rules(
    ingress: Ingress, options: IngressOptions, source: Source, filters: tuple[Filter, ...]
) -> tuple[Rule, ...]:
    namespace = ingress.metadata.namespace
    age = age_key(ingress)
    implementation_specific = _implementation_specific(ingress, options)
    # PERF: the paths of one Ingress that have the same path and type share one `matches`
    # tuple (one Match, one PathMatch), and those that name the same Service port share
    # one `backends` tuple (one WeightedBackend, one Backend): value objects, equal
    # whether shared or not, and many paths of an Ingress name the same Service. Keyed by
    # the path and the Service name alone (no key tuple per path); a hit is checked.
    shared_matches: dict[str, tuple[Match, ...]] = {}
    shared_backends: dict[str, tuple[WeightedBackend, ...]] = {}
    rules: list[Rule] = []
    append = rules.append
    for rule_index, rule in enumerate(ingress.spec.rules):
        http = rule.http
        if http is None:
            continue
        hostnames = (rule.host.lower(),)
        paths = http.paths
        fields = _path_fields(rule_index, len(paths))
        precedence = (*age, rule_index)  # and the path index
        for path_index, http_path in enumerate(paths):
            path_type = http_path.path_type
            value = http_path.path
            matches = shared_matches.get(value)
            if matches is None or matches[0].path.path_type != path_type:
                # The path matcher: Exact and Prefix as the API defines them, any other
                # type by the Ingress's (or the table's) ImplementationSpecific choice.
                if path_type == PathType.PREFIX:
                    matcher = "prefix"
                elif path_type == PathType.EXACT:
                    matcher = "exact"
                else:
                    matcher = implementation_specific
                path = _new_path(matcher, value, path_type)
                matches = shared_matches[value] = (_new_match(path, None, (), ()),)
            backend = http_path.backend
            service = backend.service
            backends: tuple[WeightedBackend, ...]
            if service is None:
                backends = (_new_weighted(backend_of(backend, namespace), 1, None, ()),)
            else:
                hit = shared_backends.get(service.name)
                if hit is not None and hit[0].backend.origin.service.port == service.port:
                    backends = hit
                else:
                    target = backend_of(backend, namespace)
                    backends = shared_backends[service.name] = (_new_weighted(target, 1, None, ()),)
            append(
                _new_rule(
                    source,
                    fields[path_index],
                    hostnames,
                    matches,
                    backends,
                    filters,
                    (*precedence, path_index),
                    "path",
                )
            )
    return tuple(rules)


def _default_rule(
    ingress: Ingress, kind: RuleKind, source: Source, filters: tuple[Filter, ...]
) -> Rule:
    backend = ingress.spec.default_backend
    assert backend is not None
    return Rule(
        source=source,
        field="spec.defaultBackend",
        hostnames=(),
        matches=(),
        backends=(WeightedBackend(backend_of(backend, ingress.metadata.namespace)),),
        filters=filters,
        precedence=age_key(ingress),
        kind=kind,
    )


# (the Ingress, its path rules, its rule hosts, its host-default rule, its catch-all rule,
# what the annotation plugins made of it)
_Compiled = tuple[
    Ingress, tuple[Rule, ...], tuple[str, ...], "Rule | None", "Rule | None", Annotated
]


def _compile(
    ingress: Ingress,
    options: IngressOptions,
    context: AnnotationContext,
    plugins: tuple[AnnotationPlugin, ...],
) -> _Compiled:
    annotated = annotate(ingress, context, plugins)
    if annotated.rejected is not None:
        # ingress-nginx drops an Ingress whose annotations it refuses: it claims no host.
        return (ingress, (), (), None, None, annotated)
    hosts = tuple(dict.fromkeys(rule.host.lower() for rule in ingress.spec.rules))
    # PERF: one Source and one filter tuple per Ingress, shared by all of its rules.
    source = _source(ingress)
    filters = annotated.filters
    rules = _ingress_rules(ingress, options, source, filters)
    if ingress.spec.default_backend is None:
        return (ingress, rules, hosts, None, None, annotated)
    return (
        ingress,
        rules,
        hosts,
        _default_rule(ingress, "host-default", source, filters),
        _default_rule(ingress, "default", source, filters),
        annotated,
    )


def _with_aliases(
    rules: list[Rule],
    host_defaults: dict[str, Rule | None],
    aliases: Mapping[str, tuple[str, ...]],
) -> tuple[list[Rule], dict[str, Rule | None]]:
    """The rules and host defaults with each alias serving what its host serves."""
    extra = [
        attrs.evolve(rule, hostnames=(alias,))
        for rule in rules
        for alias in aliases.get(rule.hostnames[0], ())
    ]
    defaults = dict(host_defaults)
    for host, names in aliases.items():
        for alias in names:
            defaults.setdefault(alias, host_defaults.get(host))
    return [*rules, *extra], defaults


def _controller_rule(backend: IngressBackend) -> Rule:
    return Rule(
        source=_CONTROLLER,
        field="",
        hostnames=(),
        matches=(),
        backends=(WeightedBackend(backend_of(backend, "")),),
        kind="controller-default",
    )


@attrs.frozen(eq=False)
class IngressFrontEnd:
    """The Ingress side of one table: its Ingresses, classes and the rules made of them.

    Immutable; `with_changes` derives the next one, recompiling only the changed Ingresses.

    Attributes:
        options: how Ingresses are selected and read.
        classes: every IngressClass known.
        selected: the Ingresses the classes select, oldest first.
        ignored: the Ingresses no class selects.
        context: the Secrets and Services the annotation plugins may read.
        plugins: the annotation plugins, in phase order.
    """

    options: IngressOptions
    classes: tuple[IngressClass, ...]
    selected: tuple[Ingress, ...]
    ignored: tuple[Ingress, ...]
    context: AnnotationContext
    plugins: tuple[AnnotationPlugin, ...]
    # Per Ingress: its path rules, and its default backend as a host default and as the
    # catch-all (None without one). PERF: compiled once per Ingress object, so that a
    # changed Ingress recompiles alone.
    _compiled: Mapping[IngressKey, _Compiled]
    _controller_default: Rule | None

    @classmethod
    def build(
        cls,
        ingresses: Iterable[Ingress],
        classes: Iterable[IngressClass],
        options: IngressOptions,
        previous: IngressFrontEnd | None = None,
        *,
        context: AnnotationContext | None = None,
        changed: Set[ObjectRef] = frozenset(),
    ) -> IngressFrontEnd:
        """Select and compile Ingresses (reusing `previous`'s rules of unchanged objects).

        Args:
            ingresses: the Ingresses.
            classes: the IngressClasses.
            options: how Ingresses are selected and read.
            previous: the front-end this one follows, whose compiled Ingresses are kept
                when the Ingress and every object its annotations read are unchanged.
            context: the Secrets and Services for the annotation plugins (default:
                `previous`'s, else none).
            changed: the objects of `context` that changed since `previous`.
        """
        classes = tuple(classes)
        if context is None:
            context = AnnotationContext() if previous is None else previous.context
        plugins = _plugins() if previous is None else previous.plugins
        selected, ignored = select_ingresses(
            ingresses,
            classes,
            controller=options.controller,
            ingress_class=options.ingress_class,
            watch_without_class=options.watch_without_class,
        )
        selected.sort(key=age_key)
        known = {} if previous is None else previous._compiled
        compiled: dict[IngressKey, _Compiled] = {}
        for ingress in selected:
            key = key_of(ingress)
            cached = known.get(key)
            compiled[key] = (
                cached
                if cached is not None
                and cached[0] is ingress
                and (not changed or changed.isdisjoint(cached[5].reads))
                else _compile(ingress, options, context, plugins)
            )
        default = options.default_backend
        return cls(
            options=options,
            classes=classes,
            selected=tuple(selected),
            ignored=tuple(ignored),
            context=context,
            plugins=plugins,
            compiled=compiled,
            controller_default=None if default is None else _controller_rule(default),
        )

    def with_changes(
        self,
        upserted: Iterable[object],
        deleted: Iterable[object | IngressKey],
    ) -> tuple[IngressFrontEnd, set[str] | None]:
        """The next front-end and the rule hosts it changed (None: every host changed).

        Args:
            upserted: new or changed resources (Ingresses, IngressClasses; Secrets and
                Services, which recompile the Ingresses whose annotations read them).
            deleted: removed resources, or `(namespace, name)` keys of removed Ingresses.
        """
        upserted = list(upserted)
        deleted = list(deleted)
        context, changed = self.context.changed(upserted, deleted)
        ingresses: dict[IngressKey, Ingress] = {key_of(i): i for i in self.ignored}
        ingresses.update((key_of(i), i) for i in self.selected)
        classes = {c.name: c for c in self.classes}
        dirty: set[str] = set()
        classes_changed = False

        def touch(ingress: Ingress | None) -> None:
            if ingress is not None:
                dirty.update(rule.host.lower() for rule in ingress.spec.rules)

        for item in deleted:
            if isinstance(item, IngressClass):
                classes_changed |= classes.pop(item.name, None) is not None
                continue
            key = key_of(item) if isinstance(item, Ingress) else item
            if isinstance(key, tuple):
                touch(ingresses.pop(key, None))
        for item in upserted:
            if isinstance(item, IngressClass):
                classes[item.name] = item
                classes_changed = True
            elif isinstance(item, Ingress):
                touch(ingresses.get(key_of(item)))
                touch(item)
                ingresses[key_of(item)] = item
        if changed:
            for ingress in self.selected:
                if not changed.isdisjoint(self._compiled[key_of(ingress)][5].reads):
                    touch(ingress)
        following = type(self).build(
            ingresses.values(),
            classes.values(),
            self.options,
            previous=self,
            context=context,
            changed=changed,
        )
        if classes_changed:
            return following, None
        for front in (self, following):
            aliases = front.server_aliases()
            if aliases and (
                not dirty.isdisjoint(aliases)
                or any(not dirty.isdisjoint(names) for names in aliases.values())
            ):
                # A host with aliases changed (or an alias did): its aliases' virtual
                # hosts are rebuilt with it, as the whole table.
                return following, None
        return following, dirty

    def rules(self) -> Iterator[Rule]:
        """Every path rule, oldest Ingress first."""
        for ingress in self.selected:
            yield from self._compiled[key_of(ingress)][1]

    def rules_by_host(self, hosts: Set[str]) -> dict[str, list[Rule]]:
        """The path rules of each of `hosts` (those that have some), oldest Ingress first.

        The same rules as `rule_set().rules` grouped by host, found without looking at the
        rules of the Ingresses that have none of `hosts`.
        """
        found: dict[str, list[Rule]] = {}
        for ingress in self.selected:  # oldest first
            _, path_rules, ingress_hosts, _, _, _ = self._compiled[key_of(ingress)]
            if hosts.isdisjoint(ingress_hosts):
                continue
            for rule in path_rules:
                (host,) = rule.hostnames  # an Ingress rule claims its rule's host alone
                if host in hosts:
                    rules = found.get(host)
                    if rules is None:
                        rules = found[host] = []
                    rules.append(rule)
        if self._host_wide:
            for host, rules in found.items():
                found[host] = apply_host_plugins(host, rules, self.plugins)
        return found

    def server_aliases(self) -> dict[str, tuple[str, ...]]:
        """Host -> its aliases (`server-alias`): the oldest Ingress with aliases for it wins.

        controller.go: `if len(servers[host].Aliases) == 0 { servers[host].Aliases =
        anns.Aliases }`; then an alias that is the host itself or another server's name
        is dropped ("if _, ok := servers[alias]; ok { continue }").
        """
        found: dict[str, tuple[str, ...]] = {}
        for ingress in self.selected:  # oldest first
            _, _, hosts, _, _, annotated = self._compiled[key_of(ingress)]
            if not annotated.server_aliases:
                continue
            for host in hosts:
                if host and host not in found:
                    found[host] = annotated.server_aliases
        if not found:
            return found
        servers = {host for entry in self._compiled.values() for host in entry[2]}
        return {
            host: kept
            for host, names in found.items()
            if (kept := tuple(a for a in names if a != host and a not in servers))
        }

    @property
    def _host_wide(self) -> bool:
        return any(isinstance(plugin, HostWidePlugin) for plugin in self.plugins)

    def annotation_problems(self) -> Iterator[tuple[Ingress, AnnotationProblem]]:
        """Every problem the annotation plugins found, oldest Ingress first."""
        for ingress in self.selected:
            for problem in self._compiled[key_of(ingress)][5].problems:
                yield ingress, problem

    def refused(self) -> Iterator[tuple[Ingress, str]]:
        """The Ingresses the annotation plugins refused (not routed), with why."""
        for ingress in self.selected:
            rejected = self._compiled[key_of(ingress)][5].rejected
            if rejected is not None:
                yield ingress, rejected

    def rule_set(self) -> RuleSet:
        """The rules and fallbacks of the selected Ingresses."""
        rules: list[Rule] = []
        # Every rule host, with or without paths, is a virtual host of its own.
        host_defaults: dict[str, Rule | None] = {}
        catch_all: Rule | None = None
        for ingress in self.selected:  # oldest first
            _, path_rules, hosts, host_default, default, _ = self._compiled[key_of(ingress)]
            rules.extend(path_rules)
            if catch_all is None:
                catch_all = default
            for host in hosts:
                if host_defaults.get(host) is None:
                    host_defaults[host] = host_default
        if self._host_wide:
            # A host-wide plugin (ingress-nginx's use-regex) sees every rule of a host.
            by_host: dict[str, list[Rule]] = {}
            for rule in rules:
                by_host.setdefault(rule.hostnames[0], []).append(rule)
            rules = [
                rule
                for host, host_rules in by_host.items()
                for rule in apply_host_plugins(host, host_rules, self.plugins)
            ]
        aliases = self.server_aliases()
        if aliases:
            rules, host_defaults = _with_aliases(rules, host_defaults, aliases)
        fallback = self._controller_default
        if fallback is not None:
            for host, found in host_defaults.items():
                if found is None:
                    host_defaults[host] = fallback
        return RuleSet(
            rules=tuple(rules),
            host_defaults=host_defaults,
            catch_all=catch_all or fallback,
        )
