"""Gateway API routing rules that the upstream conformance suite does not reach, from the spec
(`apis/v1/httproute_types.go`, v1.6.1): hostname precedence across routes, matches and
their precedence, route order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import ingresslib
from ingresslib import Request
from ingresslib.gatewayapi import attach
from ingresslib.resources import Gateway, GRPCRoute, HTTPRoute

GROUP = "gateway.networking.k8s.io"


def _gateway(*listeners: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Gateway",
        "metadata": {"name": "gw", "namespace": "ns"},
        "spec": {
            "gatewayClassName": "c",
            "listeners": list(listeners)
            or [
                {
                    "name": "http",
                    "port": 80,
                    "protocol": "HTTP",
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                }
            ],
        },
    }


def _route(
    name: str,
    rules: Sequence[dict[str, Any]],
    *,
    hostnames: Sequence[str] = (),
    namespace: str = "ns",
    created: str | None = None,
    section: str | None = None,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    parent: dict[str, Any] = {"name": "gw", "namespace": "ns"}
    if section is not None:
        parent["sectionName"] = section
    if created is not None:
        metadata["creationTimestamp"] = created
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "HTTPRoute",
        "metadata": metadata,
        "spec": {
            "parentRefs": [parent],
            "hostnames": list(hostnames),
            "rules": list(rules),
        },
    }


def _to(service: str, *matches: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {"backendRefs": [{"name": service, "port": 80}]}
    if matches:
        rule["matches"] = list(matches)
    return rule


def _prefix(value: str, **more: Any) -> dict[str, Any]:
    return {"path": {"type": "PathPrefix", "value": value}, **more}


def _table(*documents: dict[str, Any]) -> ingresslib.RouteTable:
    if not any(d["kind"] == "Gateway" for d in documents):
        documents = (_gateway(), *documents)
    return ingresslib.RouteTable.build(ingresslib.load_manifests(list(documents)), gateway="ns/gw")


def _served_by(table: ingresslib.RouteTable, host: str, path: str, **request: Any) -> str | int:
    decision = table.decide(Request(host=host, path=path, **request))
    if decision.action != "forward":
        assert decision.status is not None
        return decision.status
    return decision.backends[0].backend.name


# --- hostname precedence across routes --------------------------------------------------------

# "In the event that multiple HTTPRoutes specify intersecting hostnames (e.g. overlapping
# wildcard matching and exact matching hostnames), precedence must be given to rules from
# the HTTPRoute with the largest number of: Characters in a matching non-wildcard hostname.
# Characters in a matching hostname." Precedence ranks the rules that match the request: a
# rule of a less specific hostname still serves what the more specific ones do not match.
HOSTS = (
    _route("exact", [_to("exact", _prefix("/a"))], hostnames=["foo.example.com"]),
    _route("wide", [_to("wide", _prefix("/b"))], hostnames=["*.example.com"]),
    _route("narrow", [_to("narrow", _prefix("/b"))], hostnames=["*.bar.example.com"]),
    _route("any", [_to("any", _prefix("/c"))]),
)


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("foo.example.com", "/a", "exact"),
        ("foo.example.com", "/b", "wide"),
        ("foo.example.com", "/c", "any"),
        ("foo.example.com", "/d", 404),
        ("x.bar.example.com", "/b", "narrow"),
        ("x.bar.example.com", "/c", "any"),
        ("x.bar.example.com", "/a", 404),
        ("x.example.com", "/b", "wide"),
        ("x.example.com", "/a", 404),
        ("example.com", "/b", 404),
        ("example.com", "/c", "any"),
        ("192.0.2.1", "/c", "any"),
        ("192.0.2.1", "/b", 404),
        ("FOO.example.com.:8080", "/b", "wide"),
    ],
)
def test_a_less_specific_hostname_serves_what_the_more_specific_do_not(
    host: str, path: str, expected: str | int
) -> None:
    table = _table(*HOSTS)
    assert _served_by(table, host, path) == expected
    match = table.match(host, path)
    assert (404 if match is None else match.backend.describe().partition(":")[0]) == expected
    # explain() accounts for the same answer, the fallback included.
    assert isinstance(table, ingresslib.routing.ScopedRouteTable)
    explained = table.explain(host, path).result
    assert (404 if explained is None else explained.backend.describe().partition(":")[0]) == (
        expected
    )


def test_the_most_specific_hostname_wins_whatever_the_path_length() -> None:
    # The exact host's "/" outranks the wildcard's longer "/b/c": hostname first.
    table = _table(
        _route("exact", [_to("exact", _prefix("/"))], hostnames=["foo.example.com"]),
        _route("wide", [_to("wide", _prefix("/b/c"))], hostnames=["*.example.com"]),
    )
    assert _served_by(table, "foo.example.com", "/b/c") == "exact"
    assert _served_by(table, "bar.example.com", "/b/c") == "wide"


def test_fallback_follows_conditions_and_listener_isolation() -> None:
    # The exact host's rule needs a header: without it, the wildcard's rule serves.
    table = _table(
        _route(
            "exact",
            [_to("exact", _prefix("/", headers=[{"name": "x-canary", "value": "1"}]))],
            hostnames=["foo.example.com"],
        ),
        _route("wide", [_to("wide", _prefix("/"))], hostnames=["*.example.com"]),
    )
    assert _served_by(table, "foo.example.com", "/", headers=[("X-Canary", "1")]) == "exact"
    assert _served_by(table, "foo.example.com", "/") == "wide"
    # Listeners stay isolated: a request for the exact listener never reaches the routes
    # attached to the wildcard listener only.
    listener = {"port": 80, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "All"}}}
    isolated = _table(
        _gateway(
            {"name": "exact", "hostname": "foo.example.com", **listener},
            {"name": "wide", "hostname": "*.example.com", **listener},
        ),
        _route("exact", [_to("exact", _prefix("/a"))], section="exact"),
        _route("wide", [_to("wide", _prefix("/b"))], section="wide"),
    )
    assert _served_by(isolated, "foo.example.com", "/b") == 404
    assert _served_by(isolated, "bar.example.com", "/b") == "wide"


# --- matches -------------------------------------------------------------------------------------


def _header(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def test_only_the_first_of_equivalent_header_names_is_matched() -> None:
    # HTTPHeaderMatch: "If multiple entries specify equivalent header names, only the first
    # entry with an equivalent name MUST be considered for a match. Subsequent entries with
    # an equivalent header name MUST be ignored. Due to the case-insensitivity of header
    # names, "foo" and "Foo" are considered equivalent."
    table = _table(
        _route(
            "r",
            [
                _to(
                    "first",
                    _prefix("/", headers=[_header("version", "one"), _header("Version", "two")]),
                ),
                _to("other", _prefix("/", headers=[_header("version", "two")])),
            ],
        )
    )
    assert _served_by(table, "a.example", "/", headers=[("Version", "one")]) == "first"
    assert _served_by(table, "a.example", "/", headers=[("Version", "two")]) == "other"


def test_equivalent_query_param_names_are_refused_as_the_apiserver_does() -> None:
    # HTTPQueryParamMatch: "If multiple entries specify equivalent query param names, only
    # the first entry with an equivalent name MUST be considered for a match." Query param
    # names are case-sensitive and `queryParams` is a list-map keyed by name, so the
    # apiserver refuses two entries of one name before any route sees them.
    query = [{"name": "animal", "value": "whale"}, {"name": "animal", "value": "dolphin"}]
    with pytest.raises(ingresslib.ManifestError, match=r"queryParams\[1\]: Duplicate value"):
        _table(_route("r", [_to("first", _prefix("/", queryParams=query))]))


def test_equivalent_header_names_count_once_in_precedence() -> None:
    # "Largest number of header matches": a match whose two entries are one header counts
    # one, so the match with two distinct headers outranks it.
    table = _table(
        _route(
            "r",
            [
                _to("repeated", _prefix("/", headers=[_header("a", "1"), _header("A", "1")])),
                _to("distinct", _prefix("/", headers=[_header("a", "1"), _header("b", "1")])),
            ],
        )
    )
    assert _served_by(table, "a.example", "/", headers=[("a", "1"), ("b", "1")]) == "distinct"


def test_grpc_headers_follow_the_same_rule() -> None:
    # GRPCHeaderMatch: "If multiple entries specify equivalent header names, only the first
    # entry with an equivalent name MUST be considered for a match."
    route = _route("g", [])
    route["kind"] = "GRPCRoute"
    route["spec"]["rules"] = [
        {
            "matches": [{"headers": [_header("version", "one"), _header("VERSION", "two")]}],
            "backendRefs": [{"name": "grpc", "port": 80}],
        }
    ]
    table = _table(route)
    headers = [("content-type", "application/grpc"), ("version", "one")]
    assert _served_by(table, "a.example", "/svc/M", method="POST", headers=headers) == "grpc"


# --- the order of routes -------------------------------------------------------------------------


@pytest.mark.parametrize("created", [None, "2024-01-01T00:00:00Z"])
def test_ties_across_routes_go_to_the_first_namespace_slash_name(created: str | None) -> None:
    # "If ties still exist across multiple Routes, matching precedence MUST be determined
    # in order of the following criteria, continuing on ties: The oldest Route based on
    # creation timestamp. The Route appearing first in alphabetical order by
    # "{namespace}/{name}"." "team-a/r" sorts before "team/r" ("-" before "/").
    table = _table(
        _route("r", [_to("team", _prefix("/x"))], namespace="team", created=created),
        _route("r", [_to("team-a", _prefix("/x"))], namespace="team-a", created=created),
    )
    assert _served_by(table, "a.example", "/x") == "team-a"


def test_the_oldest_route_wins_a_tie() -> None:
    table = _table(
        _route("a", [_to("newer", _prefix("/x"))], created="2024-06-01T00:00:00Z"),
        _route("b", [_to("older", _prefix("/x"))], created="2024-01-01T00:00:00Z"),
    )
    assert _served_by(table, "a.example", "/x") == "older"


# --- HTTPRoute and GRPCRoute on one listener ------------------------------------------------------


def _grpc(
    name: str, *, hostnames: Sequence[str] = (), created: str | None = None
) -> dict[str, Any]:
    route = _route(name, [_to(name)], hostnames=hostnames, created=created)
    route["kind"] = "GRPCRoute"
    return route


@pytest.mark.parametrize(
    ("http_created", "grpc_created", "winner"),
    [
        ("2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z", "web"),
        ("2024-06-01T00:00:00Z", "2024-01-01T00:00:00Z", "rpc"),
        # A tie in age: "{namespace}/{name}" order ("ns/rpc" < "ns/web").
        ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "rpc"),
    ],
)
def test_an_httproute_and_a_grpcroute_sharing_a_hostname_the_older_is_accepted(
    http_created: str, grpc_created: str, winner: str
) -> None:
    # GRPCRouteSpec.hostnames: "If a Route (A) of type HTTPRoute or GRPCRoute is attached to
    # a Listener and that listener already has another Route (B) of the other type attached
    # and the intersection of the hostnames of A and B is non-empty, then the
    # implementation MUST accept exactly one of these two routes, determined by the
    # following criteria, in order: The oldest Route based on creation timestamp. The
    # Route appearing first in alphabetical order by "{namespace}/{name}". The rejected
    # Route MUST raise an 'Accepted' condition with a status of 'False'".
    documents = [
        _gateway(),
        _route("web", [_to("web")], hostnames=["*.example.com"], created=http_created),
        _grpc("rpc", hostnames=["a.example.com"], created=grpc_created),
        _grpc("elsewhere", hostnames=["other.example.net"], created=grpc_created),
    ]
    table = _table(*documents)
    grpc = {"method": "POST", "headers": [("content-type", "application/grpc")]}
    assert _served_by(table, "a.example.com", "/svc/M", **grpc) == winner
    assert _served_by(table, "a.example.com", "/index.html") == winner
    # The whole route is rejected on that listener, not only the shared hostname; a route
    # whose hostnames intersect no route of the other kind is accepted.
    assert _served_by(table, "b.example.com", "/index.html") == ("web" if winner == "web" else 404)
    assert _served_by(table, "other.example.net", "/svc/M", **grpc) == "elsewhere"
    resources = ingresslib.load_manifests(documents)
    attachment = attach(
        next(r for r in resources if isinstance(r, Gateway)),
        routes=[r for r in resources if isinstance(r, HTTPRoute | GRPCRoute)],
    )
    verdicts = {p.route.metadata.name: (p.accepted, p.reason) for p in attachment.parents}
    loser = "rpc" if winner == "web" else "web"
    assert verdicts[winner] == (True, "Accepted")
    assert verdicts[loser] == (False, "NotAllowedByListeners")
    assert verdicts["elsewhere"] == (True, "Accepted")
    assert attachment.attached_routes("http") == 2
