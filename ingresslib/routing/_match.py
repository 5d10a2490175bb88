"""What a routing decision is made of: RouteMatch, the compiled Route, Conflict."""

from __future__ import annotations

from typing import Any

import attrs

from ingresslib.plugins._path_matchers import CompiledPath
from ingresslib.resources._networking import (
    HTTPIngressPath,
    Ingress,
    IngressBackend,
    IngressServiceBackend,
    ServiceBackendPort,
    TypedLocalObjectReference,
)
from ingresslib.rules._backend import Backend
from ingresslib.rules._construct import direct_constructor
from ingresslib.rules._model import Match, Rule, RuleKind, Source, WeightedBackend

__all__ = [
    "Conflict",
    "MatchedBy",
    "Route",
    "RouteMatch",
    "RouteTableError",
    "ingress_view",
    "result_of",
]

#: Why a match was made: the kind of the deciding rule (see `ingresslib.rules.RuleKind`).
MatchedBy = RuleKind


class RouteTableError(ValueError):
    """A table that cannot be built (e.g. a path matcher missing or a path it rejects)."""


@attrs.frozen
class RouteMatch:
    """The routing decision for one request.

    Attributes:
        backend: where the request goes, as an Ingress backend (for rules of other APIs:
            the Ingress form of their first backend; see `backends` for all of them).
        ingress: the Ingress the decision came from (None for the controller's default and
            for rules of other APIs).
        host: the rule host that claimed the request ("" for rules without a host);
            None when no rule host claimed it (a catch-all default backend).
        path: the rule path that matched; None for a default backend.
        path_type: the rule's path type; None for a default backend.
        matched_by: "path", "host-default" (the Ingress default backend of the claiming
            host), "default" (the catch-all Ingress default backend) or
            "controller-default" (the table's `default_backend`).
        matcher: the path matcher that decided ("exact", "prefix", "regex", ...), or None.
        rule: the IR rule that decided: its provenance (`rule.source`), filters and
            weighted backends, whatever API it came from.
    """

    backend: IngressBackend
    ingress: Ingress | None = attrs.field(repr=lambda i: repr(i.ref) if i else "None")
    host: str | None
    path: str | None
    path_type: str | None
    matched_by: MatchedBy = "path"
    matcher: str | None = None
    rule: Rule | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def source(self) -> Source | None:
        """Where the deciding rule comes from (kind, namespace/name, creation time)."""
        return None if self.rule is None else self.rule.source

    @property
    def backends(self) -> tuple[WeightedBackend, ...]:
        """Every backend of the deciding rule, with weights."""
        return () if self.rule is None else self.rule.backends


@attrs.frozen
class Route:
    """One compiled rule match, as the table keeps it (also the losers, for lint/explain).

    Attributes:
        rule: the IR rule.
        match: the rule's match this route compiled.
        host: the rule host ("" for none; `*.foo.com` for a wildcard).
        matcher: the matcher name that compiled it.
        compiled: the compiled path.
        result: the RouteMatch returned when it wins.
    """

    rule: Rule = attrs.field(repr=lambda r: repr(str(r.source)))
    match: Match
    host: str
    matcher: str
    compiled: CompiledPath
    result: RouteMatch

    @property
    def field(self) -> str:
        """The field path of the rule inside its resource."""
        return self.rule.field

    @property
    def source(self) -> Source:
        """Where the rule comes from."""
        return self.rule.source

    @property
    def ingress(self) -> Ingress:
        """The Ingress of an Ingress rule.

        Raises:
            TypeError: the rule comes from another API (see `source`).
        """
        resource = self.rule.source.resource
        if not isinstance(resource, Ingress):
            raise TypeError(f"{self.rule.source} is not an Ingress")
        return resource

    @property
    def http_path(self) -> HTTPIngressPath:
        """The rule path in Ingress form (`path`, `pathType`, `backend`)."""
        return HTTPIngressPath(
            path=self.match.path.value,
            path_type=self.match.path.path_type,
            backend=self.result.backend,
        )

    @property
    def claim(self) -> tuple[Any, ...]:
        """What two routes must share to be identical claims."""
        match = self.match
        conditions = (match.method, match.headers, match.query)
        if self.compiled.kind in ("exact", "prefix"):
            return (self.compiled.kind, self.compiled.key, conditions)
        return (self.compiled.kind, self.matcher, self.compiled.key, conditions)


@attrs.frozen
class Conflict:
    """An identical claim (host + path + conditions): `winner` is used, `loser` never is."""

    winner: Route
    loser: Route


def ingress_view(backend: Backend) -> IngressBackend:
    """The Ingress form of an IR backend (its own, for Ingress rules)."""
    if isinstance(backend.origin, IngressBackend):
        return backend.origin
    if backend.kind == "Service" and not backend.group:
        port = ServiceBackendPort(name=backend.port_name or "", number=backend.port or 0)
        return IngressBackend(service=IngressServiceBackend(backend.name, port))
    return IngressBackend(
        resource=TypedLocalObjectReference(backend.kind, backend.name, backend.group or None)
    )


def result_of(
    rule: Rule,
    host: str | None,
    path: str | None = None,
    path_type: str | None = None,
    matcher: str | None = None,
) -> RouteMatch:
    """The RouteMatch a rule (a path of it, or its fallback) returns for `host`."""
    resource = rule.source.resource
    backend = rule.backends[0].backend if rule.backends else Backend("", "", kind="")
    origin = backend.origin  # PERF: `ingress_view`'s first case, inlined
    return _new_route_match(
        origin if isinstance(origin, IngressBackend) else ingress_view(backend),
        resource if isinstance(resource, Ingress) else None,
        host,
        path,
        path_type,
        rule.kind,
        matcher,
        rule,
    )


# PERF: one RouteMatch per route of a table (10,000 for 10,000 paths); attrs' frozen
# __init__ of its eight fields cost ~0.9 µs, this ~0.45 µs (ingresslib.rules._construct).
_new_route_match = direct_constructor(RouteMatch)
