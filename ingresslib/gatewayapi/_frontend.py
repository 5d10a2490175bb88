"""Gateway API -> route IR: the routes attached to one Gateway, compiled into scopes.

One `Scope` per accepted listener (its port, protocol and hostname), holding one IR rule
per route match: `RouteTable` picks the listener by port and Host (the most specific
hostname first), then routes among that listener's rules only ("requests SHOULD match at
most one Listener"). The quotes are the Gateway API spec (`apis/v1/*_types.go`, v1.6).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import attrs

from ingresslib.gatewayapi._attachment import (
    AttachedListener,
    GatewayAttachment,
    ParentAttachment,
    Route,
    attach,
    resolve_backend,
    route_order,
)
from ingresslib.plugins._path_matchers import PathMatcherError, get_path_matcher
from ingresslib.resources._core import Namespace, Secret, Service
from ingresslib.resources._gateway import (
    BackendObjectReference,
    Gateway,
    GatewayClass,
    GRPCBackendRef,
    GRPCHeaderMatch,
    GRPCRoute,
    GRPCRouteFilter,
    GRPCRouteMatch,
    GRPCRouteRule,
    HTTPBackendRef,
    HTTPHeader,
    HTTPHeaderFilter,
    HTTPHeaderMatch,
    HTTPPathModifier,
    HTTPQueryParamMatch,
    HTTPRoute,
    HTTPRouteFilter,
    HTTPRouteMatch,
    HTTPRouteRule,
    HTTPRouteTimeouts,
    ReferenceGrant,
)
from ingresslib.rules._backend import Backend
from ingresslib.rules._filters import (
    CORS,
    HeaderChanges,
    Mirror,
    PathModifier,
    Redirect,
    RequestHeaders,
    Respond,
    ResponseHeaders,
    Rewrite,
    Timeouts,
)
from ingresslib.rules._model import (
    Filter,
    HeaderMatch,
    Match,
    PathMatch,
    QueryParamMatch,
    Rule,
    RuleSet,
    Scope,
    Source,
    WeightedBackend,
)
from ingresslib.rules._patterns import PatternError, compile_pattern

__all__ = [
    "FULL_REGEX_MATCHER",
    "GatewayFrontEnd",
    "GatewayNotFoundError",
    "parse_duration",
    "rule_problems",
    "select_gateway",
]

#: The path matcher of `RegularExpression` paths: RE2, the whole path, case-sensitive
#: ("The precedence of RegularExpression path matches are implementation-specific").
FULL_REGEX_MATCHER = "full-regex"

_PATH_MATCHERS = {"Exact": "exact", "PathPrefix": "prefix", "RegularExpression": FULL_REGEX_MATCHER}
# Exact paths rank before prefixes of the same length, and both before patterns.
_PATH_RANK = {"Exact": 0, "PathPrefix": 1, "RegularExpression": 2}

_DURATION = re.compile(r"([0-9]{1,5})(h|ms|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class GatewayNotFoundError(LookupError):
    """`RouteTable.build(gateway="ns/name")` names no Gateway of the resources."""


def parse_duration(value: str) -> float:
    """Seconds of a Gateway API Duration (GEP-2257: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`).

    Raises:
        ValueError: not a Duration.
    """
    parts = _DURATION.findall(value)
    if not value or "".join(n + u for n, u in parts) != value:
        raise ValueError(f"not a Gateway API duration: {value!r}")
    return sum(int(number) * _UNITS[unit] for number, unit in parts)


def select_gateway(gateways: Iterable[Gateway], key: str) -> Gateway:
    """The Gateway a `namespace/name` key names.

    Raises:
        GatewayNotFoundError: no Gateway has that key.
    """
    namespace, sep, name = key.partition("/")
    if not sep:
        namespace, name = "default", key
    for gateway in gateways:
        if gateway.metadata.namespace == namespace and gateway.metadata.name == name:
            return gateway
    raise GatewayNotFoundError(f"no Gateway {namespace}/{name} among the resources")


@attrs.frozen
class _Context:
    services: dict[tuple[str, str], Service]
    grants: tuple[ReferenceGrant, ...]


@attrs.frozen
class GatewayFrontEnd:
    """The routes of one Gateway, compiled.

    Attributes:
        attachment: which routes attach where, and what did not (status reads it).
        scopes: one scope per accepted listener, in spec order.
        served: whether the Gateway is ours (its class names our controller, or no
            controller was given); a Gateway that is not serves nothing.
    """

    attachment: GatewayAttachment
    scopes: tuple[Scope, ...]
    served: bool

    @classmethod
    def build(
        cls, resources: Iterable[object], gateway: str, *, controller: str | None = None
    ) -> GatewayFrontEnd:
        """Compile the routes of the Gateway `namespace/name` among `resources`.

        Raises:
            GatewayNotFoundError: no such Gateway.
        """
        items = list(resources)
        target = select_gateway((r for r in items if isinstance(r, Gateway)), gateway)
        attachment = attach(
            target,
            gateway_classes=(r for r in items if isinstance(r, GatewayClass)),
            routes=(r for r in items if isinstance(r, HTTPRoute | GRPCRoute)),
            namespaces=(r for r in items if isinstance(r, Namespace)),
            secrets=(r for r in items if isinstance(r, Secret)),
            reference_grants=(r for r in items if isinstance(r, ReferenceGrant)),
        )
        gateway_class = attachment.gateway_class
        # "With gateway="ns/name" and controller=None, that Gateway is served whatever its
        # class; with a controller, only if its GatewayClass names that controller."
        served = controller is None or (
            gateway_class is not None and gateway_class.spec.controller_name == controller
        )
        context = _Context(
            services={
                (r.metadata.namespace, r.metadata.name): r for r in items if isinstance(r, Service)
            },
            grants=tuple(r for r in items if isinstance(r, ReferenceGrant)),
        )
        scopes = _scopes(attachment, context) if served else ()
        return cls(attachment=attachment, scopes=scopes, served=served)


def _scopes(attachment: GatewayAttachment, context: _Context) -> tuple[Scope, ...]:
    by_listener: dict[str, list[Rule]] = {s.name: [] for s in attachment.listeners if s.accepted}
    seen: set[tuple[str, int, int, int]] = set()
    for parent in attachment.parents:
        if not parent.accepted:
            continue
        for attached in parent.listeners:
            rules = by_listener.get(attached.listener.name)
            if rules is not None:
                rules.extend(_route_rules(parent, attached, context, seen))
    source = Source(
        "Gateway",
        attachment.gateway.metadata.namespace,
        attachment.gateway.metadata.name,
        attachment.gateway.metadata.creation_timestamp,
        attachment.gateway,
    )
    return tuple(
        Scope(
            name=state.name,
            port=state.listener.port,
            protocol=state.listener.protocol,
            hostname=state.hostname,
            rules=RuleSet(rules=tuple(by_listener[state.name]), wildcards="many"),
            source=source,
            field=state.field,
        )
        for state in attachment.listeners
        if state.accepted
    )


def _route_rules(
    parent: ParentAttachment,
    attached: AttachedListener,
    context: _Context,
    seen: set[tuple[str, int, int, int]],
) -> Iterable[Rule]:
    route = parent.route
    meta = route.metadata
    source = Source(route.kind, meta.namespace, meta.name, meta.creation_timestamp, route)
    age = route_order(route)
    rules: Sequence[HTTPRouteRule | GRPCRouteRule] = route.spec.rules
    dropped = dict(rule_problems(route))
    for rule_index, spec_rule in enumerate(rules):
        if rule_index in dropped:
            # "Drop Rule(s): implementations will drop the invalid Route Rule(s) until they
            # are fully valid again" (the status says PartiallyInvalid, "Dropped Rule").
            continue
        filters = _filters(route, spec_rule, context)
        backends = _backends(route, spec_rule.backend_refs, context)
        matches: Sequence[Any] = spec_rule.matches or (None,)
        for match_index, spec_match in enumerate(matches):
            key = (
                f"{route.kind}/{meta.namespace}/{meta.name}",
                id(attached.listener),
                rule_index,
                match_index,
            )
            if key in seen:
                continue
            seen.add(key)
            if isinstance(route, HTTPRoute):
                match, rank = _http_match(spec_match)
            else:
                match, rank = _grpc_match(spec_match)
            yield Rule(
                source=source,
                field=f"spec.rules[{rule_index}].matches[{match_index}]"
                if spec_rule.matches
                else f"spec.rules[{rule_index}]",
                hostnames=attached.hostnames,
                matches=(match,),
                backends=backends,
                filters=filters,
                precedence=(*rank, age, rule_index, match_index),
            )


def rule_problems(route: Route) -> tuple[tuple[int, str], ...]:
    """The rules of a route that cannot be served, with why: (rule index, message).

    A rule is refused when one of its matches cannot be compiled: a `RegularExpression`
    path, header, query parameter or gRPC method that is not a valid RE2 pattern (the CRDs
    do not check them). Routing drops such rules and serves the others; status reports
    them (`PartiallyInvalid`, or `Accepted: False` when every rule is refused), with the
    reason `UnsupportedValue`.
    """
    problems = []
    rules: Sequence[HTTPRouteRule | GRPCRouteRule] = route.spec.rules
    for rule_index, spec_rule in enumerate(rules):
        matches: Sequence[Any] = spec_rule.matches or (None,)
        for match_index, spec_match in enumerate(matches):
            if isinstance(route, HTTPRoute):
                match, _ = _http_match(spec_match)
            else:
                match, _ = _grpc_match(spec_match)
            problem = _match_problem(match)
            if problem is not None:
                problems.append(
                    (rule_index, f"spec.rules[{rule_index}].matches[{match_index}]: {problem}")
                )
                break
    return tuple(problems)


def _match_problem(match: Match) -> str | None:
    try:
        get_path_matcher(match.path.matcher).compile(match.path.value)
    except PathMatcherError as error:
        return str(error)
    conditions: list[HeaderMatch | QueryParamMatch] = [*match.headers, *match.query]
    for condition in conditions:
        if condition.type == "RegularExpression":
            try:
                compile_pattern(condition.value)
            except PatternError as error:
                return f"{condition.name}: {error}"
    return None


_Named = TypeVar("_Named", HTTPHeaderMatch, HTTPQueryParamMatch, GRPCHeaderMatch)


def _first_of_each_name(entries: Sequence[_Named], *, fold_case: bool) -> tuple[_Named, ...]:
    """The entries of a match, each name once: its first entry.

    HTTPHeaderMatch (and GRPCHeaderMatch): "If multiple entries specify equivalent header
    names, only the first entry with an equivalent name MUST be considered for a match.
    Subsequent entries with an equivalent header name MUST be ignored. Due to the
    case-insensitivity of header names, "foo" and "Foo" are considered equivalent."
    HTTPQueryParamMatch: "If multiple entries specify equivalent query param names, only
    the first entry with an equivalent name MUST be considered for a match" (names compare
    exactly: "This must be an exact string match").
    """
    seen: set[str] = set()
    kept = []
    for entry in entries:
        key = entry.name.lower() if fold_case else entry.name
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return tuple(kept)


def _http_match(spec: HTTPRouteMatch) -> tuple[Match, tuple[Any, ...]]:
    """An HTTPRouteMatch in IR form, and its rank in the spec's precedence list.

    "precedence must be given to the match having: "Exact" path match. "Prefix" path
    match with largest number of characters. Method match. Largest number of header
    matches. Largest number of query param matches."
    """
    path = spec.path
    headers = _first_of_each_name(spec.headers, fold_case=True)
    query = _first_of_each_name(spec.query_params, fold_case=False)
    match = Match(
        path=PathMatch(_PATH_MATCHERS.get(path.type, "prefix"), path.value, path.type),
        method=spec.method,
        headers=tuple(HeaderMatch(h.name, h.value, h.type) for h in headers),  # type: ignore[arg-type]  # validated: Exact or RegularExpression
        query=tuple(QueryParamMatch(q.name, q.value, q.type) for q in query),  # type: ignore[arg-type]  # validated: Exact or RegularExpression
    )
    rank = (
        _PATH_RANK.get(path.type, 1),
        -len(path.value),
        0 if spec.method else 1,
        -len(headers),
        -len(query),
    )
    return match, rank


def _grpc_match(spec: GRPCRouteMatch | None) -> tuple[Match, tuple[Any, ...]]:
    """A GRPCRouteMatch as a path match on `/service/method`, and its precedence rank.

    "Precedence MUST be given to the rule with the largest number of: Characters in a
    matching non-wildcard hostname. Characters in a matching hostname. Characters in a
    matching service. Characters in a matching method. Header matches." "If no matches
    are specified, the implementation MUST match every gRPC request."
    """
    if spec is None:
        return Match(PathMatch("prefix", "/", "GRPC")), (1, 0, 0, 0)
    headers = tuple(
        HeaderMatch(h.name, h.value, h.type)  # type: ignore[arg-type]  # validated: Exact or RegularExpression
        for h in _first_of_each_name(spec.headers, fold_case=True)
    )
    method = spec.method
    service_name = "" if method is None else method.service or ""
    method_name = "" if method is None else method.method or ""
    if method is None:
        path = PathMatch("prefix", "/", "GRPC")
    elif method.type == "RegularExpression":
        pattern = f"/{service_name or '[^/]+'}/{method_name or '[^/]+'}"
        path = PathMatch(FULL_REGEX_MATCHER, pattern, "GRPC RegularExpression")
    elif service_name and method_name:
        path = PathMatch("exact", f"/{service_name}/{method_name}", "GRPC Exact")
    elif service_name:
        path = PathMatch("prefix", f"/{service_name}", "GRPC Exact")
    else:
        path = PathMatch(FULL_REGEX_MATCHER, f"/[^/]+/{re.escape(method_name)}", "GRPC Exact")
    rank = (
        0 if path.matcher == "exact" else 1,
        -len(service_name),
        -len(method_name),
        -len(headers),
    )
    return Match(path, headers=headers), rank


def _header_changes(spec: HTTPHeaderFilter) -> HeaderChanges:
    return HeaderChanges(
        set=_first_of_each_header(spec.set),
        add=_first_of_each_header(spec.add),
        remove=spec.remove,
    )


def _first_of_each_header(headers: Sequence[HTTPHeader]) -> tuple[tuple[str, str], ...]:
    """(name, value) of each header name's first entry.

    HTTPHeader: "If multiple entries specify equivalent header names, the first entry with
    an equivalent name MUST be considered for a match. Subsequent entries with an
    equivalent header name MUST be ignored. Due to the case-insensitivity of header names,
    "foo" and "Foo" are considered equivalent."
    """
    seen: set[str] = set()
    kept = []
    for header in headers:
        if header.name.lower() not in seen:
            seen.add(header.name.lower())
            kept.append((header.name, header.value))
    return tuple(kept)


def _path_modifier(spec: HTTPPathModifier | None) -> PathModifier | None:
    if spec is None:
        return None
    if spec.type == "ReplaceFullPath":
        return PathModifier("ReplaceFullPath", spec.replace_full_path or "")
    return PathModifier("ReplacePrefixMatch", spec.replace_prefix_match or "")


def _filters(
    route: Route, rule: HTTPRouteRule | GRPCRouteRule, context: _Context
) -> tuple[Filter, ...]:
    compiled: list[Filter] = [_filter(route, f, context) for f in rule.filters]
    timeouts = getattr(rule, "timeouts", None)
    if isinstance(timeouts, HTTPRouteTimeouts):
        compiled.append(_timeouts(timeouts))
    return tuple(compiled)


def _timeouts(spec: HTTPRouteTimeouts) -> Timeouts:
    return Timeouts(request=_timeout(spec.request), backend_request=_timeout(spec.backend_request))


def _timeout(duration: str | None) -> float | None:
    """Seconds of a timeout: None when not set (the executor's own), `math.inf` for "0s".

    "Setting a timeout to the zero duration (e.g. "0s") SHOULD disable the timeout
    completely. Implementations that cannot completely disable the timeout MUST instead
    interpret the zero duration as the longest possible value to which the timeout can be
    set." A disabled timeout is no limit at all, never the executor's default.
    """
    if duration is None:
        return None
    return parse_duration(duration) or math.inf


def _filter(route: Route, spec: HTTPRouteFilter | GRPCRouteFilter, context: _Context) -> Filter:
    if spec.type == "RequestHeaderModifier" and spec.request_header_modifier is not None:
        return RequestHeaders(_header_changes(spec.request_header_modifier))
    if spec.type == "ResponseHeaderModifier" and spec.response_header_modifier is not None:
        return ResponseHeaders(_header_changes(spec.response_header_modifier))
    if spec.type == "RequestMirror" and spec.request_mirror is not None:
        mirror = spec.request_mirror
        if mirror.fraction is not None:
            fraction = (mirror.fraction.numerator, mirror.fraction.denominator)
        elif mirror.percent is not None:
            fraction = (mirror.percent, 100)
        else:
            fraction = (100, 100)
        backend, invalid = _backend(route, mirror.backend_ref, context)
        return Mirror(backend, fraction, invalid)
    if isinstance(spec, HTTPRouteFilter):
        if spec.type == "RequestRedirect" and spec.request_redirect is not None:
            redirect = spec.request_redirect
            return Redirect(
                scheme=redirect.scheme,
                hostname=redirect.hostname,
                port=redirect.port,
                path=_path_modifier(redirect.path),
                status=redirect.status_code,
            )
        if spec.type == "URLRewrite" and spec.url_rewrite is not None:
            rewrite = spec.url_rewrite
            return Rewrite(hostname=rewrite.hostname, path=_path_modifier(rewrite.path))
        if spec.type == "CORS" and spec.cors is not None:
            cors = spec.cors
            return CORS(
                allow_origins=cors.allow_origins,
                allow_credentials=bool(cors.allow_credentials),
                allow_methods=cors.allow_methods,
                allow_headers=cors.allow_headers,
                expose_headers=cors.expose_headers,
                max_age=cors.max_age,
            )
    # "If a reference to a custom filter type cannot be resolved, the filter MUST NOT be
    # skipped. Instead, requests that would have been processed by that filter MUST
    # receive a HTTP error response."
    return Respond(500, f"unsupported filter {spec.type}")


def _backend(
    route: Route, ref: BackendObjectReference, context: _Context
) -> tuple[Backend, str | None]:
    resolution = resolve_backend(
        ref, route.kind, route.metadata.namespace, context.services, context.grants
    )
    backend = Backend(
        name=ref.name,
        namespace=resolution.namespace,
        port=ref.port,
        kind=ref.kind,
        group=ref.group,
        origin=ref,
    )
    return backend, (resolution.message if resolution.reason else None)


def _backends(
    route: Route, refs: Sequence[HTTPBackendRef | GRPCBackendRef], context: _Context
) -> tuple[WeightedBackend, ...]:
    shares = []
    for ref in refs:
        backend, invalid = _backend(route, ref, context)
        extra: list[RequestHeaders | ResponseHeaders] = []
        for spec in ref.filters:
            step = _filter(route, spec, context)
            if isinstance(step, RequestHeaders | ResponseHeaders):
                extra.append(step)
            elif invalid is None:
                # "Filters defined at this level should be executed if and only if the
                # request is being forwarded to the backend defined here" (Support:
                # Implementation-specific). ingresslib runs the header modifiers per share;
                # any other filter here "MUST NOT be skipped. Instead, requests that would
                # have been processed by that filter MUST receive a HTTP error response":
                # the share is answered 500.
                invalid = f"the {spec.type} filter is not supported on a backendRef"
        shares.append(WeightedBackend(backend, ref.weight, invalid, tuple(extra)))
    return tuple(shares)
