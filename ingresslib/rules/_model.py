"""The route IR: what every front-end (Ingress, Gateway API) compiles its API into.

The core speaks one language. A front-end turns its resources into `Rule`s; `RouteTable`
compiles rules into its host index and path tries and never asks which API a rule came
from. A rule says:

- where it comes from (`Source`: kind, namespace/name, field path, creation time);
- the hostnames it claims (`""`: every host; `*.foo.com`: a wildcard);
- its `Match`es: a path (a named path matcher: `exact`, `prefix`, or a plugin such as
  `regex`), and optionally a method, headers and query parameters, all of which must hold;
- its filters, in order (`HTTPSRedirect` today; the Gateway API and annotation filters
  join them);
- its backends with weights (`WeightedBackend`);
- a precedence key: among rules that claim the same path of the same host, the smallest
  key wins. The front-end computes it from its own API's rules (Ingress: oldest Ingress,
  then namespace/name; Gateway API: the spec's ordered list), so the table needs no
  knowledge of either.

A front-end also gives the fallbacks (`RuleSet.host_defaults`, `RuleSet.catch_all`): what a
claimed host answers when no rule path matches, and what a request no host claims gets.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Literal

import attrs

from ingresslib.rules._filters import (
    CORS,
    Mirror,
    Redirect,
    RequestHeaders,
    Respond,
    ResponseHeaders,
    Rewrite,
    Timeouts,
)
from ingresslib.rules._hosts import WildcardLabels
from ingresslib.rules._steps import Policy, Step
from ingresslib.rules._weighted import WeightedBackend

__all__ = [
    "Filter",
    "HTTPSRedirect",
    "HeaderMatch",
    "Match",
    "PathMatch",
    "QueryParamMatch",
    "Rule",
    "RuleKind",
    "RuleSet",
    "Scope",
    "Source",
    "StringMatchType",
    "WeightedBackend",
]

#: How a header or query parameter value is compared.
StringMatchType = Literal["Exact", "RegularExpression"]

#: "path": a rule that matched the request path; "host-default": what a claimed host answers
#: when none of its paths matches (Ingress: a default backend); "default": the catch-all of
#: requests whose host no rule claims; "controller-default": the controller's own fallback.
RuleKind = Literal["path", "host-default", "default", "controller-default"]


@attrs.frozen
class Source:
    """Where a rule comes from.

    Attributes:
        kind: the resource kind ("Ingress", "HTTPRoute", ...; "Controller" for the
            controller's own default backend).
        namespace: the resource's namespace ("" when cluster-scoped or for the controller).
        name: the resource's name.
        created: its `metadata.creationTimestamp` (None: never stored by an apiserver).
        resource: the resource object itself (None for the controller).
    """

    kind: str
    namespace: str
    name: str
    created: datetime.datetime | None = None
    resource: Any = attrs.field(default=None, eq=False, repr=False)

    def __str__(self) -> str:
        if self.namespace:
            return f"{self.kind} {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}" if self.name else self.kind


@attrs.frozen
class PathMatch:
    """The path part of a match.

    Attributes:
        matcher: the path matcher's name: "exact", "prefix", or a registered plugin
            ("string-prefix", "regex", ...; `ingresslib.plugins.get_path_matcher`).
        value: the path as the rule writes it.
        path_type: the API's own name for the kind of path ("Exact", "Prefix",
            "ImplementationSpecific", "RegularExpression", "PathPrefix"...), for display.
    """

    matcher: str
    value: str
    path_type: str | None = None


def _lower(name: str) -> str:
    return name.lower()


@attrs.frozen
class HeaderMatch:
    """A header condition: one field of the request must have this value.

    Header names compare case-insensitively (RFC 9110 §5.1: "Field names are
    case-insensitive"), so `name` is kept lower-case.

    Attributes:
        name: the field name, lower case.
        value: the value (or the pattern, for "RegularExpression").
        type: "Exact" or "RegularExpression".
    """

    name: str = attrs.field(converter=_lower)
    value: str
    type: StringMatchType = "Exact"


@attrs.frozen
class QueryParamMatch:
    """A query parameter condition (names compare exactly, case-sensitively).

    Attributes:
        name: the parameter name.
        value: the value (or the pattern, for "RegularExpression").
        type: "Exact" or "RegularExpression".
    """

    name: str
    value: str
    type: StringMatchType = "Exact"


@attrs.frozen
class Match:
    """Conditions of a rule that must all hold for a request.

    Attributes:
        path: the path condition.
        method: the request method it needs (None: any).
        headers: header conditions, all of which must hold.
        query: query parameter conditions, all of which must hold.
    """

    path: PathMatch
    method: str | None = None
    headers: tuple[HeaderMatch, ...] = ()
    query: tuple[QueryParamMatch, ...] = ()

    @property
    def conditional(self) -> bool:
        """Whether the match needs more of the request than its path."""
        return self.method is not None or bool(self.headers) or bool(self.query)


@attrs.frozen
class HTTPSRedirect:
    """Redirect plain-HTTP requests for these hosts to `https://` (Ingress TLS hosts).

    ingress-nginx: "By default the controller redirects (308) to HTTPS if TLS is enabled
    for that ingress" (the `ssl-redirect` annotation, default "true").

    Attributes:
        hosts: the TLS hosts, normalised (`*.foo.com` covers one label, as Ingress does).
        status: the redirect status.
        preserve_trailing_slash: keep a "/" that ends the request target; ingress-nginx
            drops it unless `preserve-trailing-slash` is set (lua_ingress.lua: "do not
            append a trailing slash on redirects unless enabled by annotations").
        force: redirect plain-HTTP requests for every host of the rule, TLS or not
            (`force-ssl-redirect`).
    """

    hosts: frozenset[str]
    status: int = 308
    preserve_trailing_slash: bool = True
    force: bool = False


#: Every filter a rule can carry, applied in order by `decide()`.
Filter = (
    HTTPSRedirect
    | Redirect
    | Rewrite
    | RequestHeaders
    | ResponseHeaders
    | Mirror
    | CORS
    | Timeouts
    | Respond
    | Step
    | Policy
)


@attrs.frozen
class Rule:
    """One route rule of the IR.

    Attributes:
        source: where it comes from.
        field: the field path of the rule inside its resource (e.g.
            "spec.rules[0].http.paths[1]").
        hostnames: the hosts it claims, normalised ("" claims every host).
        matches: the conditions, any one of which routes a request here (empty for
            fallbacks: host defaults and the catch-all).
        filters: applied in order to a request it routes.
        backends: where the request goes, with weights.
        precedence: among rules claiming the same path, the smallest key wins.
        kind: what the rule is for (see `RuleKind`).
    """

    source: Source
    field: str
    hostnames: tuple[str, ...]
    matches: tuple[Match, ...]
    backends: tuple[WeightedBackend, ...]
    filters: tuple[Filter, ...] = ()
    precedence: tuple[Any, ...] = ()
    kind: RuleKind = "path"


@attrs.frozen
class RuleSet:
    """What a front-end hands to `RouteTable`: rules and fallbacks.

    Attributes:
        rules: every path rule, in any order (precedence decides).
        host_defaults: every claimed host, with the rule it answers with when no path
            matches (None: 404). A host named here is claimed even without path rules.
        catch_all: the rule for requests whose host no rule claims (None: 404).
        wildcards: how many labels a `*.` hostname covers: "one" (Ingress) or "many"
            (Gateway API).
    """

    rules: tuple[Rule, ...]
    host_defaults: Mapping[str, Rule | None] = attrs.field(factory=dict)
    catch_all: Rule | None = None
    wildcards: WildcardLabels = "one"


@attrs.frozen
class Scope:
    """Rules that only requests of one listener see (a Gateway API listener).

    Gateway API: "requests SHOULD match at most one Listener. For example, if Listeners
    are defined for "foo.example.com" and "*.example.com", a request to
    "foo.example.com" SHOULD only be routed using routes attached to the
    "foo.example.com" Listener (and not the "*.example.com" Listener)."

    Attributes:
        name: the listener's name (for display).
        port: the port requests arrive on.
        protocol: "HTTP" or "HTTPS".
        hostname: the listener's hostname, normalised ("" for none: every host).
        rules: the rules of the routes attached to it.
        source: where the listener comes from (its Gateway).
        field: its field path in the Gateway (`spec.listeners[0]`).
    """

    name: str
    port: int
    protocol: str
    hostname: str
    rules: RuleSet
    source: Source | None = None
    field: str = ""
