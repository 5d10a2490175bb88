"""Annotation plugins: how an Ingress's annotations become the filters of its rules.

An Ingress says little about what happens to a request; controllers add their meaning in
annotations (`nginx.ingress.kubernetes.io/rewrite-target`, `.../auth-url`...). ingresslib
gives each annotation family to an `AnnotationPlugin`: it reads its annotations from one
Ingress and contributes filters (the IR's own, `Step`s, `Policy`s), the objects it read
(Secrets, Services) and problems. The Ingress front-end (`ingresslib.ingress`) runs every
plugin, in phase order, on every Ingress it routes; a plugin that needs every Ingress of
a host (ingress-nginx's `use-regex` is host-wide) also gives `host_rules`.

Nothing is silently ignored: a plugin claims a `prefix`, and an annotation under a claimed
prefix that no plugin reads is reported (`AnnotationProblem`, "not implemented"). What a
problem does to the Ingress is the plugin's answer, as in ingress-nginx (internal/ingress/
annotations/annotations.go, `Extractor.Extract`): an invalid value is ignored (the
default applies) with a warning, a location that cannot be configured safely answers 503
(`Contribution.denied`: "location denied"), and a value that is refused outright drops the
Ingress (`Contribution.rejected`: "ingress contains invalid annotation value").

Third parties register plugins with `register_annotation_plugin()` or through the entry
point group `ingresslib.annotations` (an `AnnotationPlugin` instance or class), as path
matchers are registered (`ingresslib.plugins.register_path_matcher`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from typing import Literal, Protocol, runtime_checkable

import attrs

from ingresslib.resources._core import Secret, Service
from ingresslib.resources._networking import Ingress
from ingresslib.rules._model import Filter, Rule

__all__ = [
    "ANNOTATIONS_ENTRY_POINT_GROUP",
    "NOTHING",
    "PHASE_ACCESS",
    "PHASE_CONTENT",
    "PHASE_PREACCESS",
    "PHASE_REWRITE",
    "PHASE_REWRITE_LUA",
    "PHASE_SERVER_REWRITE",
    "AnnotationContext",
    "AnnotationPlugin",
    "AnnotationPluginError",
    "AnnotationProblem",
    "Contribution",
    "HostWidePlugin",
    "ObjectRef",
    "annotation_field",
    "annotation_plugins",
    "register_annotation_plugin",
]

#: The entry-point group third-party annotation plugins register under.
ANNOTATIONS_ENTRY_POINT_GROUP = "ingresslib.annotations"

# The order in which filters apply is nginx's order of request phases (the ingress-nginx
# template puts each annotation's directives in one of them): a plugin of an earlier phase
# answers before one of a later phase is asked.
#: server-level rewrites: the HTTPS redirect, app-root, from-to-www.
PHASE_SERVER_REWRITE = 10
#: location rewrites (the rewrite module, in the template's order): the CORS preflight,
#: redirects, rewrite-target.
PHASE_REWRITE = 20
#: the end of the rewrite phase (`rewrite_by_lua`): ingress-nginx's HTTPS redirect.
PHASE_REWRITE_LUA = 25
#: limit_req, limit_conn.
PHASE_PREACCESS = 30
#: allow/deny, auth_basic, auth_request.
PHASE_ACCESS = 40
#: the proxy: backends, timeouts, body size, error pages.
PHASE_CONTENT = 50

#: (kind, namespace, name) of an object a plugin read.
ObjectRef = tuple[str, str, str]

Severity = Literal["error", "warning"]


def annotation_field(annotation: str) -> str:
    """The field path of an annotation: `metadata.annotations[<annotation>]`."""
    return f"metadata.annotations[{annotation}]"


class AnnotationPluginError(ValueError):
    """A plugin that cannot be registered or loaded."""


@attrs.frozen
class AnnotationProblem:
    """Something wrong with one annotation of one Ingress.

    Attributes:
        annotation: the annotation's full name.
        reason: what is wrong and what ingresslib does about it.
        severity: "error" (the value is refused: the location answers 503 or the
            Ingress is dropped) or "warning" (ignored or not implemented: the rest
            is served).
    """

    annotation: str
    reason: str
    severity: Severity = "error"

    @property
    def field(self) -> str:
        """`metadata.annotations[<annotation>]`."""
        return annotation_field(self.annotation)


@attrs.frozen
class AnnotationContext:
    """What plugins may read besides the Ingress: the Secrets and Services known.

    Attributes:
        secrets: (namespace, name) -> Secret.
        services: (namespace, name) -> Service.
    """

    secrets: Mapping[tuple[str, str], Secret] = attrs.field(factory=dict)
    services: Mapping[tuple[str, str], Service] = attrs.field(factory=dict)

    @classmethod
    def of(cls, resources: Iterable[object]) -> AnnotationContext:
        """The Secrets and Services among `resources`."""
        secrets: dict[tuple[str, str], Secret] = {}
        services: dict[tuple[str, str], Service] = {}
        for resource in resources:
            if isinstance(resource, Secret):
                secrets[(resource.metadata.namespace, resource.metadata.name)] = resource
            elif isinstance(resource, Service):
                services[(resource.metadata.namespace, resource.metadata.name)] = resource
        return cls(secrets=secrets, services=services)

    def changed(
        self, upserted: Iterable[object], deleted: Iterable[object]
    ) -> tuple[AnnotationContext, set[ObjectRef]]:
        """The context after these changes, and the objects that changed.

        Args:
            upserted: new or changed objects (kinds other than Secret and Service are
                left out).
            deleted: removed objects, or their `("Secret" | "Service", namespace, name)`.
        """
        secrets = dict(self.secrets)
        services = dict(self.services)
        touched: set[ObjectRef] = set()
        for item in deleted:
            if isinstance(item, (Secret, Service)):
                ref: ObjectRef = (item.kind, item.metadata.namespace, item.metadata.name)
            elif isinstance(item, tuple) and len(item) == 3 and item[0] in ("Secret", "Service"):
                ref = (str(item[0]), str(item[1]), str(item[2]))
            else:
                continue
            (secrets if ref[0] == "Secret" else services).pop((ref[1], ref[2]), None)
            touched.add(ref)
        for item in upserted:
            if isinstance(item, Secret):
                secrets[(item.metadata.namespace, item.metadata.name)] = item
            elif isinstance(item, Service):
                services[(item.metadata.namespace, item.metadata.name)] = item
            else:
                continue
            touched.add((item.kind, item.metadata.namespace, item.metadata.name))
        if not touched:
            return self, touched
        return AnnotationContext(secrets=secrets, services=services), touched


@attrs.frozen
class Contribution:
    """What one plugin makes of one Ingress's annotations.

    Attributes:
        filters: filters for every rule of the Ingress, in order (after those of
            plugins of earlier phases).
        reads: the objects read (a change of one of them recompiles the Ingress).
        problems: what is wrong with the annotations.
        denied: why every location of the Ingress answers 503, or None.
        rejected: why the Ingress is not routed at all, or None.
        server_aliases: more names of the Ingress's hosts (ingress-nginx's
            `server-alias`): each serves what its host serves.
    """

    filters: tuple[Filter, ...] = ()
    reads: frozenset[ObjectRef] = frozenset()
    problems: tuple[AnnotationProblem, ...] = ()
    denied: str | None = None
    rejected: str | None = None
    server_aliases: tuple[str, ...] = ()


#: The Contribution of a plugin whose annotations an Ingress does not use.
NOTHING = Contribution()


@runtime_checkable
class AnnotationPlugin(Protocol):
    """What an annotation plugin provides.

    Attributes:
        name: a unique name ("nginx.ingress.kubernetes.io/rewrite").
        prefix: the annotation prefix it belongs to ("nginx.ingress.kubernetes.io/"):
            every annotation under a prefix that no plugin of it reads is reported.
        annotations: the full names of the annotations it reads.
        phase: when its filters apply (`PHASE_*`); plugins of one phase apply in
            registration order.
        by_default: whether it acts on Ingresses that use none of its annotations
            (ingress-nginx's `ssl-redirect` is on by default); others are not asked.
    """

    @property
    def name(self) -> str: ...
    @property
    def prefix(self) -> str: ...
    @property
    def annotations(self) -> frozenset[str]: ...
    @property
    def phase(self) -> int: ...
    @property
    def by_default(self) -> bool: ...

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """What the Ingress's annotations of this plugin mean (`NOTHING` when unused)."""
        ...


@runtime_checkable
class HostWidePlugin(Protocol):
    """A plugin whose annotations change the rules of every Ingress of a host."""

    def host_rules(self, host: str, rules: Sequence[Rule]) -> Sequence[Rule]:
        """The rules of `host` (every Ingress's, in precedence order), changed or not."""
        ...


_registry: dict[str, AnnotationPlugin] = {}
_entry_points_loaded = False
_lock = threading.Lock()


def register_annotation_plugin(plugin: AnnotationPlugin, *, replace: bool = False) -> None:
    """Make `plugin` run on every Ingress (after the built-in ones of its phase).

    The built-in plugins (`ingresslib.ingress.annotations`) are not in this registry:
    the Ingress front-end runs them first, and a registered plugin never changes what
    a built-in annotation means.

    Args:
        plugin: the plugin.
        replace: replace a registered plugin of the same name.

    Raises:
        AnnotationPluginError: not a plugin, or the name is taken.
    """
    if not isinstance(plugin, AnnotationPlugin):
        raise AnnotationPluginError(
            f"{plugin!r} is not an AnnotationPlugin "
            "(needs .name, .prefix, .annotations, .phase, .by_default and .contribute)"
        )
    with _lock:
        if plugin.name in _registry and not replace:
            raise AnnotationPluginError(f"an annotation plugin named {plugin.name!r} is registered")
        _registry[plugin.name] = plugin


def _load_entry_points() -> None:
    global _entry_points_loaded  # noqa: PLW0603 -- a once-only cache of installed plugins
    with _lock:
        if _entry_points_loaded:
            return
        for entry_point in metadata.entry_points(group=ANNOTATIONS_ENTRY_POINT_GROUP):
            try:
                loaded = entry_point.load()
                plugin = loaded() if isinstance(loaded, type) else loaded
            except Exception as error:
                raise AnnotationPluginError(
                    f"cannot load annotation plugin {entry_point.name!r} from "
                    f"{entry_point.value}: {error}"
                ) from error
            if not isinstance(plugin, AnnotationPlugin):
                raise AnnotationPluginError(
                    f"entry point {entry_point.name!r} in {ANNOTATIONS_ENTRY_POINT_GROUP} "
                    "does not give an AnnotationPlugin"
                )
            _registry.setdefault(plugin.name, plugin)
        _entry_points_loaded = True


def annotation_plugins() -> tuple[AnnotationPlugin, ...]:
    """Every registered (third-party) plugin, in phase order, then registration order."""
    _load_entry_points()
    with _lock:
        plugins = list(_registry.values())
    return tuple(sorted(plugins, key=lambda plugin: plugin.phase))
