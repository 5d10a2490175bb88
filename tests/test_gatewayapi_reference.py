"""The compiled Gateway API table against a plain reference of the spec's precedence list.

The reference reads the HTTPRoutes directly, with no index: it keeps every match of every
route whose hostnames cover the request host (or that has none) that holds for the
request, and sorts them by the route's most specific covering hostname (exact, then the
longest wildcard, then none: `HTTPRouteSpec.hostnames`), then by the list of
`HTTPRouteRule.matches` ("Exact" path, longest prefix, method, most headers, most query
params, oldest route, namespace/name, rule order).
"""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import ingresslib
from ingresslib import Request, RouteTable

_HOSTNAMES = ["a.example.com", "*.example.com", "*.a.example.com", "b.example.com"]
_REQUEST_HOSTS = ["a.example.com", "b.example.com", "x.a.example.com", "c.example.com", "other.org"]
_PATHS = ["/", "/a", "/a/", "/a/b", "/ab"]
_REQUEST_PATHS = ["/", "/a", "/a/", "/a/b", "/a/b/c", "/ab", "/b"]
_HEADERS = [("x-v", "1"), ("x-w", "2")]
_QUERY = [("q", "1")]
_TIMES = [datetime.datetime(2024, 1, day, tzinfo=datetime.timezone.utc) for day in (1, 2)]

_match = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Exact", "PathPrefix"]),
        "value": st.sampled_from(_PATHS),
        "method": st.sampled_from([None, "GET", "POST"]),
        "headers": st.lists(st.sampled_from(_HEADERS), unique=True, max_size=2),
        "query": st.lists(st.sampled_from(_QUERY), unique=True, max_size=1),
    }
)
_rule = st.lists(_match, min_size=1, max_size=2)
_route = st.fixed_dictionaries(
    {
        "hostnames": st.lists(st.sampled_from(_HOSTNAMES), unique=True, max_size=2),
        "rules": st.lists(_rule, min_size=1, max_size=3),
        "created": st.sampled_from(_TIMES),
        "namespace": st.sampled_from(["infra"]),
    }
)
_request = st.fixed_dictionaries(
    {
        "host": st.sampled_from(_REQUEST_HOSTS),
        "path": st.sampled_from(_REQUEST_PATHS),
        "method": st.sampled_from(["GET", "POST"]),
        "headers": st.lists(st.sampled_from(_HEADERS), unique=True, max_size=2),
        "query": st.lists(st.sampled_from(_QUERY), unique=True, max_size=1),
    }
)


def _manifests(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "infra"},
            "spec": {
                "gatewayClassName": "any",
                "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
            },
        }
    ]
    for index, route in enumerate(routes):
        rules = []
        for rule_index, matches in enumerate(route["rules"]):
            rules.append(
                {
                    "matches": [
                        {
                            "path": {"type": m["type"], "value": m["value"]},
                            **({"method": m["method"]} if m["method"] else {}),
                            **(
                                {"headers": [{"name": n, "value": v} for n, v in m["headers"]]}
                                if m["headers"]
                                else {}
                            ),
                            **(
                                {"queryParams": [{"name": n, "value": v} for n, v in m["query"]]}
                                if m["query"]
                                else {}
                            ),
                        }
                        for m in matches
                    ],
                    "backendRefs": [{"name": f"r{index}-{rule_index}", "port": 80}],
                }
            )
        docs.append(
            {
                "apiVersion": "gateway.networking.k8s.io/v1",
                "kind": "HTTPRoute",
                "metadata": {
                    "name": f"route-{index}",
                    "namespace": route["namespace"],
                    "creationTimestamp": route["created"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
                "spec": {
                    "parentRefs": [{"name": "gw"}],
                    **({"hostnames": route["hostnames"]} if route["hostnames"] else {}),
                    "rules": rules,
                },
            }
        )
    return docs


def _covers(hostname: str, host: str) -> bool:
    if hostname.startswith("*."):
        return host.endswith(hostname[1:])
    return hostname == host


def _specificity(hostname: str) -> tuple[int, int]:
    # Exact hostnames before wildcards; longer before shorter.
    return (0 if not hostname.startswith("*") else 1, -len(hostname))


def _path_holds(kind: str, value: str, path: str) -> bool:
    if kind == "Exact":
        return path == value
    prefix = value.rstrip("/")
    return path == prefix or path.startswith(prefix + "/") or prefix == ""


def _reference(routes: list[dict[str, Any]], request: dict[str, Any]) -> str | None:
    host = request["host"]
    candidates = []
    for index, route in enumerate(routes):
        if route["hostnames"]:
            covering = [h for h in route["hostnames"] if _covers(h, host)]
            if not covering:
                continue
            # "precedence must be given to rules from the HTTPRoute with the largest number
            # of: Characters in a matching non-wildcard hostname. Characters in a matching
            # hostname."
            hostname_rank = min(_specificity(h) for h in covering)
        else:
            hostname_rank = (2, 0)  # no hostname: after every hostname that matches
        for rule_index, matches in enumerate(route["rules"]):
            for match_index, m in enumerate(matches):
                holds = (
                    _path_holds(m["type"], m["value"], request["path"])
                    and (m["method"] is None or m["method"] == request["method"])
                    and all(h in request["headers"] for h in m["headers"])
                    and all(q in request["query"] for q in m["query"])
                )
                if holds:
                    key = (
                        hostname_rank,
                        0 if m["type"] == "Exact" else 1,
                        -len(m["value"]),
                        0 if m["method"] else 1,
                        -len(m["headers"]),
                        -len(m["query"]),
                        route["created"],
                        f"{route['namespace']}/route-{index}",
                        rule_index,
                        match_index,
                    )
                    candidates.append((key, f"r{index}-{rule_index}"))
    if not candidates:
        return None
    return min(candidates)[1]


@settings(max_examples=300, deadline=None)
@given(st.lists(_route, min_size=1, max_size=4), st.lists(_request, min_size=1, max_size=5))
def test_table_equals_reference(
    routes: list[dict[str, Any]], requests: list[dict[str, Any]]
) -> None:
    resources = ingresslib.load_manifests(_manifests(routes))
    table = RouteTable.build(resources, gateway="infra/gw")
    for request in requests:
        decision = table.decide(
            Request(
                method=request["method"],
                host=request["host"],
                path=request["path"],
                query="&".join(f"{n}={v}" for n, v in request["query"]),
                headers=tuple(request["headers"]),
            )
        )
        got = decision.backends[0].backend.name if decision.action == "forward" else None
        assert got == _reference(routes, request), (request, decision.status)
