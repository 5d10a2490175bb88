"""Running the annotation plugins over an Ingress, and over the Ingresses of a host.

Every plugin whose annotations an Ingress uses (or that acts `by_default`) contributes, in
phase order; then every annotation under a claimed prefix that no plugin reads is
reported, by the policy of DESIGN.md ("An annotation we do not implement is never
silently ignored"):

- a snippet (ingress-nginx risk "Critical": `configuration-snippet`, `server-snippet`,
  `auth-snippet`, `stream-snippet`, `modsecurity-snippet`) is refused and the Ingress is
  not routed, as ingress-nginx does by default (`annotations-risk-level: High`: "risky
  annotations" make `Extractor.Extract` fail): annotations are data, never
  configuration text (CVE-2021-25742, CVE-2025-1974);
- an unimplemented annotation that restricts access (authentication, source ranges, the
  WAF) makes every location of the Ingress answer 503, as ingress-nginx answers for a
  location whose annotation it cannot apply ("location denied": `return 503;`);
- any other unimplemented annotation is a warning, and the rest is served.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from ingresslib.ingress.annotations._catalogue import CATALOGUE
from ingresslib.ingress.annotations._values import NGINX_PREFIX
from ingresslib.plugins._annotations import (
    AnnotationContext,
    AnnotationPlugin,
    AnnotationProblem,
    HostWidePlugin,
    ObjectRef,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._filters import Respond
from ingresslib.rules._model import Filter, Rule

__all__ = ["Annotated", "annotate", "apply_host_plugins"]


@attrs.frozen
class Annotated:
    """What the plugins made of one Ingress.

    Attributes:
        filters: the filters of each of its rules, in phase order.
        reads: the objects the plugins read (Secrets, Services).
        problems: every problem found, in plugin order.
        rejected: why the Ingress is not routed, or None.
        server_aliases: the other names of the Ingress's hosts (`server-alias`).
    """

    filters: tuple[Filter, ...] = ()
    reads: frozenset[ObjectRef] = frozenset()
    problems: tuple[AnnotationProblem, ...] = ()
    rejected: str | None = None
    server_aliases: tuple[str, ...] = ()


_PLAIN = Annotated()


def annotate(
    ingress: Ingress, context: AnnotationContext, plugins: Sequence[AnnotationPlugin]
) -> Annotated:
    """Run `plugins` (in phase order) over one Ingress."""
    annotations = ingress.metadata.annotations
    filters: list[Filter] = []
    reads: set[ObjectRef] = set()
    problems: list[AnnotationProblem] = []
    denied: str | None = None
    rejected: str | None = None
    aliases: tuple[str, ...] = ()
    known: set[str] = set()
    prefixes: set[str] = set()
    for plugin in plugins:
        names = plugin.annotations
        known |= names
        prefixes.add(plugin.prefix)
        # PERF: most Ingresses use few annotations: a plugin whose annotations are absent
        # is asked only when its defaults do something (ssl-redirect).
        if not plugin.by_default and names.isdisjoint(annotations):
            continue
        contribution = plugin.contribute(ingress, context)
        filters.extend(contribution.filters)
        reads |= contribution.reads
        problems.extend(contribution.problems)
        denied = denied or contribution.denied
        rejected = rejected or contribution.rejected
        aliases = aliases or contribution.server_aliases
    for name in annotations:
        if name in known:
            continue
        prefix = next((p for p in prefixes if name.startswith(p)), None)
        if prefix is None:
            continue
        problem, effect = _unread(name, prefix)
        problems.append(problem)
        if effect == "rejected":
            rejected = rejected or problem.reason
        elif effect == "denied":
            denied = denied or problem.reason
    if not (filters or reads or problems or rejected or denied or aliases):
        return _PLAIN
    if denied is not None:
        # ingress-nginx's template: `{{ if not (isLocationAllowed $location) }}
        # # Location denied. Reason: {{ $location.Denied | quote }} return 503;`.
        filters = [Respond(503, f"location denied: {denied}")]
    return Annotated(tuple(filters), frozenset(reads), tuple(problems), rejected, aliases)


def _unread(name: str, prefix: str) -> tuple[AnnotationProblem, str]:
    """The problem of an annotation no plugin reads, and its effect.

    The effect: "rejected", "denied" or "warned".
    """
    if prefix != NGINX_PREFIX:
        return AnnotationProblem(name, "no plugin reads this annotation", "warning"), "warned"
    info = CATALOGUE.get(name[len(prefix) :])
    if info is None:
        return (
            AnnotationProblem(name, "not an annotation of ingress-nginx v1.15.1", "warning"),
            "warned",
        )
    if info.risk == "Critical":
        return (
            AnnotationProblem(
                name,
                "refused: snippet annotations are nginx configuration text, never accepted "
                "(the Ingress is not routed, as with ingress-nginx's default "
                "annotations-risk-level)",
            ),
            "rejected",
        )
    if info.restricts_access:
        return (
            AnnotationProblem(
                name,
                "not implemented, and it restricts access: every path of the Ingress "
                "answers 503 (fails closed)",
            ),
            "denied",
        )
    return AnnotationProblem(name, "not implemented: ignored", "warning"), "warned"


def apply_host_plugins(
    host: str, rules: list[Rule], plugins: Sequence[AnnotationPlugin]
) -> list[Rule]:
    """The rules of one host after the host-wide plugins (`HostWidePlugin`)."""
    for plugin in plugins:
        if isinstance(plugin, HostWidePlugin):
            rules = list(plugin.host_rules(host, rules))
    return rules
