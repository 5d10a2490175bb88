"""`explain()` of Gateway API tables: failed conditions and the precedence step that decided.

Each case builds two candidates that both hold for the request and differ in one step of
the spec's precedence list (HTTPRouteRule: "precedence must be given to the match having:
"Exact" path match. "Prefix" path match with largest number of characters. Method match.
Largest number of header matches. Largest number of query param matches." Then "The oldest
Route based on creation timestamp. The Route appearing first in alphabetical order by
"{namespace}/{name}"", then rule and match order); the loser's verdict must name that step,
and the explanation's result must be what `decide()` routes.
"""

from __future__ import annotations

import pytest

import ingresslib
from ingresslib import Request, RouteTable
from ingresslib.routing import Explanation, ScopedRouteTable

_GATEWAY = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ours}
spec: {controllerName: example.com/gateway}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
"""


def _route(name: str, rules: str, *, namespace: str = "apps", created: str | None = None) -> str:
    stamp = f", creationTimestamp: {created!r}" if created else ""
    return f"""---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {namespace}{stamp}}}
spec:
  parentRefs: [{{name: gw, namespace: infra}}]
  hostnames: [shop.test]
  rules:
{rules}"""


def _table(*routes: str) -> ScopedRouteTable:
    resources = ingresslib.load_manifests(_GATEWAY + "".join(routes))
    table = RouteTable.build(resources, gateway="infra/gw")
    assert isinstance(table, ScopedRouteTable)
    return table


def _verdicts(explanation: Explanation) -> dict[str, str]:
    """source and field of each candidate -> its verdict."""
    return {f"{c.route.source} {c.route.field}": c.verdict for c in explanation.candidates}


def _rule(match: str, backend: str) -> str:
    return f"  - matches: [{match}]\n    backendRefs: [{{name: {backend}, port: 80}}]\n"


_PREFIX_A = "{path: {type: PathPrefix, value: /a}}"


@pytest.mark.parametrize(
    ("winner", "loser", "step"),
    [
        (
            "{path: {type: Exact, value: /a/b}}",
            "{path: {type: PathPrefix, value: /a/b}}",
            "an Exact path match ranks before a PathPrefix one",
        ),
        (
            "{path: {type: PathPrefix, value: /a/b}}",
            _PREFIX_A,
            "the longer path '/a/b' wins (4 characters over 2)",
        ),
        (
            "{path: {type: PathPrefix, value: /a}, method: GET}",
            "{path: {type: PathPrefix, value: /a}, headers: [{name: x, value: '1'}]}",
            "a method match (GET) ranks before none",
        ),
        (
            "{path: {type: PathPrefix, value: /a}, headers: [{name: x, value: '1'}]}",
            "{path: {type: PathPrefix, value: /a}, queryParams: [{name: q, value: '1'}]}",
            "more header matches win (1 over 0)",
        ),
        (
            "{path: {type: PathPrefix, value: /a}, queryParams: [{name: q, value: '1'}]}",
            _PREFIX_A,
            "more query parameter matches win (1 over 0)",
        ),
    ],
)
def test_a_losing_match_names_the_precedence_step(winner: str, loser: str, step: str) -> None:
    # The loser is the older route: age comes after every match step.
    table = _table(
        _route("loser", _rule(loser, "lose"), created="2020-01-01T00:00:00Z"),
        _route("winner", _rule(winner, "win"), created="2024-01-01T00:00:00Z"),
    )
    explanation = table.explain("shop.test", "/a/b", headers=[("X", "1")], query="q=1")
    verdicts = _verdicts(explanation)
    assert verdicts["HTTPRoute apps/winner spec.rules[0].matches[0]"] == "chosen"
    assert verdicts["HTTPRoute apps/loser spec.rules[0].matches[0]"] == (
        f"matches, but loses by precedence: {step}"
    )
    decision = table.decide(
        Request(host="shop.test", path="/a/b", headers=[("X", "1")], query="q=1")
    )
    assert explanation.result is not None
    assert decision.match is not None
    assert decision.match.rule is explanation.result.rule
    assert decision.backends[0].backend.name == "win"


_HEADER_X = "{path: {type: PathPrefix, value: /a}, headers: [{name: x, value: '1'}]}"
_HEADER_Y = "{path: {type: PathPrefix, value: /a}, headers: [{name: y, value: '1'}]}"
_BOTH = [("x", "1"), ("y", "1")]


def test_equal_matches_go_by_age_then_name_then_rule_and_match_order() -> None:
    # Two matches that hold, equal on every match step (one header each, other names):
    # the route order decides, then rule order, then match order.
    table = _table(
        _route("new", _rule(_HEADER_X, "new"), created="2024-01-01T00:00:00Z"),
        _route("old", _rule(_HEADER_Y, "old"), created="2020-01-01T00:00:00Z"),
    )
    verdicts = _verdicts(table.explain("shop.test", "/a", headers=_BOTH))
    assert verdicts["HTTPRoute apps/old spec.rules[0].matches[0]"] == "chosen"
    assert verdicts["HTTPRoute apps/new spec.rules[0].matches[0]"] == (
        "matches, but loses by precedence: the oldest route wins "
        "(HTTPRoute apps/old, created 2020-01-01T00:00:00+00:00)"
    )
    stamped = _table(
        _route("stamped", _rule(_HEADER_X, "s"), created="2024-01-01T00:00:00Z"),
        _route("fresh", _rule(_HEADER_Y, "f")),
    )
    verdicts = _verdicts(stamped.explain("shop.test", "/a", headers=_BOTH))
    assert (
        "a route without one counts as newest"
        in verdicts["HTTPRoute apps/fresh spec.rules[0].matches[0]"]
    )
    named = _table(_route("b", _rule(_HEADER_X, "b")), _route("a", _rule(_HEADER_Y, "a")))
    verdicts = _verdicts(named.explain("shop.test", "/a", headers=_BOTH))
    assert verdicts["HTTPRoute apps/a spec.rules[0].matches[0]"] == "chosen"
    assert verdicts["HTTPRoute apps/b spec.rules[0].matches[0]"] == (
        "matches, but loses by precedence: apps/a comes before apps/b ({namespace}/{name} order)"
    )
    rules = _table(_route("r", _rule(_HEADER_X, "first") + _rule(_HEADER_Y, "second")))
    verdicts = _verdicts(rules.explain("shop.test", "/a", headers=_BOTH))
    assert verdicts["HTTPRoute apps/r spec.rules[1].matches[0]"] == (
        "matches, but loses by precedence: an earlier rule of the same route wins "
        "(spec.rules[0].matches[0])"
    )
    matches = _table(
        _route(
            "m",
            f"  - matches: [{_HEADER_X}, {_HEADER_Y}]\n    backendRefs: [{{name: m, port: 80}}]\n",
        )
    )
    verdicts = _verdicts(matches.explain("shop.test", "/a", headers=_BOTH))
    assert verdicts["HTTPRoute apps/m spec.rules[0].matches[1]"] == (
        "matches, but loses by precedence: an earlier match of the same rule wins "
        "(spec.rules[0].matches[0])"
    )


def test_a_candidate_whose_path_matches_names_each_condition_that_fails() -> None:
    conditional = (
        "{path: {type: Exact, value: /a}, method: POST, "
        "headers: [{name: X-Env, value: canary}, {name: x-id, type: RegularExpression, "
        "value: '[0-9]+'}], queryParams: [{name: v, value: '2'}]}"
    )
    table = _table(_route("r", _rule(conditional, "canary") + _rule(_PREFIX_A, "stable")))
    explanation = table.explain("shop.test", "/a", headers=[("x-env", "blue"), ("X-Id", "7")])
    verdicts = _verdicts(explanation)
    assert verdicts["HTTPRoute apps/r spec.rules[0].matches[0]"] == (
        "the path matches, but the method must be POST (not GET); header x-env=canary does "
        "not hold (the request has 'blue'); query parameter v=2 does not hold (absent)"
    )
    assert verdicts["HTTPRoute apps/r spec.rules[1].matches[0]"] == "chosen"
    text = str(explanation)
    assert "/a Exact method=POST header x-env=canary header x-id~=[0-9]+ query v=2" in text
    assert "request: host='shop.test' path='/a' x-env: blue X-Id: 7" in text
    # Given everything, the conditional rule wins: an Exact path ranks first.
    routed = table.explain(
        "shop.test",
        "/a",
        method="POST",
        headers=[("x-env", "canary"), ("x-id", "42")],
        query="v=2",
    )
    assert _verdicts(routed)["HTTPRoute apps/r spec.rules[0].matches[0]"] == "chosen"
    assert routed.result is not None
    assert routed.result.backends[0].backend.name == "canary"


def test_an_identical_claim_names_the_step_that_made_it_lose() -> None:
    table = _table(
        _route("new", _rule(_PREFIX_A, "new"), created="2024-01-01T00:00:00Z"),
        _route("old", _rule(_PREFIX_A, "old"), created="2020-01-01T00:00:00Z"),
    )
    verdicts = _verdicts(table.explain("shop.test", "/a"))
    assert verdicts["HTTPRoute apps/new spec.rules[0].matches[0]"] == (
        "never used: the identical claim of HTTPRoute apps/old spec.rules[0].matches[0] wins: "
        "the oldest route wins (HTTPRoute apps/old, created 2020-01-01T00:00:00+00:00)"
    )


def test_grpc_candidates_name_the_grpcroute_steps() -> None:
    grpc = """---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: g, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - matches: [{method: {service: echo.Echo, method: Ping}}]
    backendRefs: [{name: ping, port: 9000}]
  - matches: [{method: {service: echo.Echo}}]
    backendRefs: [{name: echo, port: 9000}]
  - matches: [{method: {service: echo.Echo}, headers: [{name: x, value: '1'}]}]
    backendRefs: [{name: echo-x, port: 9000}]
"""
    table = _table(grpc)
    verdicts = _verdicts(table.explain("grpc.test", "/echo.Echo/Ping", headers=[("x", "1")]))
    assert verdicts["GRPCRoute apps/g spec.rules[0].matches[0]"] == "chosen"
    assert verdicts["GRPCRoute apps/g spec.rules[1].matches[0]"] == (
        "matches, but loses by precedence: a match of both service and method ranks first"
    )
    verdicts = _verdicts(table.explain("grpc.test", "/echo.Echo/Other", headers=[("x", "1")]))
    assert verdicts["GRPCRoute apps/g spec.rules[2].matches[0]"] == "chosen"
    assert verdicts["GRPCRoute apps/g spec.rules[1].matches[0]"] == (
        "matches, but loses by precedence: more header matches win (1 over 0)"
    )
    assert verdicts["GRPCRoute apps/g spec.rules[0].matches[0]"] == "does not match"


def test_the_host_decision_speaks_of_route_hostnames() -> None:
    wildcard = _route("w", _rule(_PREFIX_A, "w")).replace("[shop.test]", '["*.test"]')
    table = _table(wildcard)
    text = str(table.explain("a.b.test", "/a"))
    assert "the wildcard '*.test' covers it (one or more labels" in text
    assert "[HTTPRoute apps/w spec.rules[0].matches[0]]: chosen" in text
    # No Service w among the resources: the share is invalid (answered 500).
    assert "result: w:80 (invalid) by path '/a' (PathPrefix) from HTTPRoute apps/w" in text
    none = str(table.explain("other.example", "/a"))
    assert "no route hostname covers 'other.example'" in none
    assert "result: no route (404)" in none
