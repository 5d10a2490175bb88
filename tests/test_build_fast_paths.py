"""The build-time shortcuts (PERF) against plain references, under Hypothesis.

- `direct_constructor` makes the same objects as the attrs classes' own `__init__`;
- the Ingress front-end, which shares Match and backend tuples within an Ingress and makes
  its objects with direct constructors, gives rules equal to the plain construction;
- a virtual host keeps most routes as their RouteMatch and makes the Routes (and their
  CompiledPaths) when asked: `routes()`, `conflicts()` and `len()` equal an eager build that
  makes a Route for every rule match and decides identical claims by `Route.claim`;
- `IngressFrontEnd.rules_by_host` (what `with_changes` rebuilds the touched hosts from)
  groups the rules of `rule_set()` by host;
- `decide()` with its memos (per policy, the last policy's kept with it; the Host memo)
  decides repeated requests as a table that has seen none.
"""

from __future__ import annotations

import datetime
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ingresslib
from ingresslib.ingress import IngressFrontEnd, IngressOptions, backend_of, ingress_rules
from ingresslib.plugins import get_path_matcher
from ingresslib.resources import Ingress, PathType, age_key
from ingresslib.routing import Conflict, DecisionPolicy, Request, Route, RouteMatch, RouteTable
from ingresslib.routing._match import result_of
from ingresslib.routing._table import _trie_node
from ingresslib.rules import (
    Backend,
    HeaderMatch,
    HTTPSRedirect,
    Match,
    PathMatch,
    Rule,
    RuleSet,
    Source,
    WeightedBackend,
)
from ingresslib.rules._construct import direct_constructor

# --- direct_constructor ------------------------------------------------------------------

texts = st.text(max_size=5)
maybe_texts = st.none() | texts
ints = st.integers(min_value=0, max_value=70_000)
sources = st.builds(
    Source,
    texts,
    texts,
    texts,
    st.none() | st.datetimes(timezones=st.just(datetime.timezone.utc)),
    st.none() | texts,
)
path_matches = st.builds(PathMatch, texts, texts, maybe_texts)
matches = st.builds(Match, path_matches, maybe_texts)
backends = st.builds(Backend, texts, texts, st.none() | ints, maybe_texts, texts, texts, st.none())
weighted = st.builds(WeightedBackend, backends, ints, maybe_texts)
rules = st.builds(
    Rule,
    sources,
    texts,
    st.tuples(texts),
    st.lists(matches, max_size=2).map(tuple),
    st.lists(weighted, max_size=2).map(tuple),
    st.just(()) | st.just((HTTPSRedirect(frozenset({"a.com"})),)),
    st.tuples(ints, ints),
    st.sampled_from(["path", "host-default", "default", "controller-default"]),
)

CLASSES: dict[type[Any], st.SearchStrategy[Any]] = {
    Source: sources,
    PathMatch: path_matches,
    Match: matches,
    Backend: backends,
    WeightedBackend: weighted,
    Rule: rules,
}


def _values(instance: Any) -> tuple[Any, ...]:
    return tuple(getattr(instance, field.name) for field in attrs.fields(type(instance)))


@pytest.mark.parametrize("cls", list(CLASSES), ids=lambda cls: cls.__name__)
@given(data=st.data())
def test_direct_constructor_makes_what_the_attrs_init_makes(cls: type[Any], data: Any) -> None:
    made = data.draw(CLASSES[cls])
    values = _values(made)
    direct = direct_constructor(cls)(*values)
    assert type(direct) is cls
    assert direct == made
    assert hash(direct) == hash(made)
    assert repr(direct) == repr(made)
    # Every field, also those that equality leaves out (Source.resource, Backend.origin).
    assert all(a is b for a, b in zip(_values(direct), values, strict=True))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        direct.__setattr__(attrs.fields(cls)[0].name, None)


@given(data=st.data())
def test_direct_route_match_equals_the_attrs_one(data: Any) -> None:
    rule = data.draw(rules)
    host, path, path_type, matcher = data.draw(st.tuples(texts, maybe_texts, maybe_texts, texts))
    made = result_of(rule, host, path, path_type, matcher)
    resource = rule.source.resource
    expected = RouteMatch(
        backend=made.backend,
        ingress=resource if isinstance(resource, Ingress) else None,
        host=host,
        path=path,
        path_type=path_type,
        matched_by=rule.kind,
        matcher=matcher,
        rule=rule,
    )
    assert made == expected
    assert made.rule is rule


def test_direct_constructor_refuses_what_it_would_skip() -> None:
    @attrs.define(slots=False)
    class NotSlotted:
        value: int

    for cls in (HeaderMatch, DecisionPolicy, NotSlotted):  # converter; validator, cached hash
        with pytest.raises(TypeError):
            direct_constructor(cls)


# --- the Ingress front-end -----------------------------------------------------------------

# Few paths and backends, so that paths of one Ingress repeat them (what the front-end shares).
PATHS = ("/", "/a", "/a/", "/b/c")
SERVICE_BACKENDS = (
    {"service": {"name": "s1", "port": {"number": 80}}},
    {"service": {"name": "s1", "port": {"number": 81}}},
    {"service": {"name": "s1", "port": {"name": "http"}}},
    {"service": {"name": "s2", "port": {"number": 80}}},
)
RESOURCE_BACKEND = {"resource": {"apiGroup": "k8s.example.com", "kind": "Bucket", "name": "b"}}


@st.composite
def ingress_manifests(draw: st.DrawFn) -> dict[str, Any]:
    http_paths = st.builds(
        lambda path, path_type, backend: {"path": path, "pathType": path_type, "backend": backend},
        st.sampled_from(PATHS),
        st.sampled_from(PathType.ALL),
        st.sampled_from((*SERVICE_BACKENDS, RESOURCE_BACKEND)),
    )
    rule_list = draw(
        st.lists(
            st.builds(
                lambda host, paths: {"host": host, "http": {"paths": paths}},
                st.sampled_from(("a.com", "b.com", "*.c.com")),
                st.lists(http_paths, min_size=1, max_size=6),
            ),
            min_size=1,
            max_size=3,
        )
    )
    annotations = draw(st.sampled_from(({}, {"ingresslib.dev/path-matcher": "exact"})))
    created = draw(st.sampled_from(({}, {"creationTimestamp": "2024-01-02T03:04:05Z"})))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "ns", "annotations": annotations, **created},
        "spec": {"rules": rule_list},
    }


def plain_ingress_rules(ingress: Ingress, options: IngressOptions) -> tuple[Rule, ...]:
    """The front-end's rules as the obvious code makes them: fresh objects, attrs' __init__."""
    meta = ingress.metadata
    source = Source("Ingress", meta.namespace, meta.name, meta.creation_timestamp, ingress)
    special = meta.annotations.get("ingresslib.dev/path-matcher", options.implementation_specific)
    matchers = {PathType.EXACT: "exact", PathType.PREFIX: "prefix"}
    found = []
    for i, rule in enumerate(ingress.spec.rules):
        assert rule.http is not None
        for j, http_path in enumerate(rule.http.paths):
            matcher = matchers.get(http_path.path_type or "", special)
            found.append(
                Rule(
                    source=source,
                    field=f"spec.rules[{i}].http.paths[{j}]",
                    hostnames=(rule.host.lower(),),
                    matches=(Match(PathMatch(matcher, http_path.path, http_path.path_type)),),
                    backends=(WeightedBackend(backend_of(http_path.backend, meta.namespace)),),
                    precedence=(*age_key(ingress), i, j),
                )
            )
    return tuple(found)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(manifest=ingress_manifests(), special=st.sampled_from(("prefix", "string-prefix")))
def test_ingress_rules_equal_the_plain_construction(manifest: dict[str, Any], special: str) -> None:
    (ingress,) = ingresslib.load_manifests([manifest]).ingresses
    options = IngressOptions(implementation_specific=special)
    got = ingress_rules(ingress, options)
    want = plain_ingress_rules(ingress, options)
    assert got == want
    paths = [p for rule in ingress.spec.rules if rule.http for p in rule.http.paths]
    for rule, expected, http_path in zip(got, want, paths, strict=True):
        assert rule.field == expected.field
        assert rule.source.resource is ingress
        # Shared or not, each rule's backend is its own path's backend by value.
        assert rule.backends[0].backend.origin == http_path.backend


# --- lazy Routes -------------------------------------------------------------------------

MATCHERS = ("exact", "prefix", "string-prefix")
RULE_PATHS = ("", "/", "/a", "/a/", "/a/b", "/ab")


@st.composite
def rule_sets(draw: st.DrawFn) -> list[Rule]:
    found = []
    for index in range(draw(st.integers(min_value=0, max_value=10))):
        rule_matches = tuple(
            Match(PathMatch(draw(st.sampled_from(MATCHERS)), draw(st.sampled_from(RULE_PATHS))))
            for _ in range(draw(st.integers(min_value=1, max_value=3)))
        )
        found.append(
            Rule(
                source=Source("Test", "ns", f"r{index}"),
                field=f"rules[{index}]",
                hostnames=draw(
                    st.lists(st.sampled_from(("a.com", "*.b.com")), max_size=2, unique=True).map(
                        tuple
                    )
                ),
                matches=rule_matches,
                backends=(WeightedBackend(Backend(f"b{index}", "ns", 80)),),
                precedence=(draw(st.integers(0, 3)), index),
            )
        )
    return found


def eager_routes(rules: list[Rule]) -> tuple[list[Route], list[Conflict]]:
    """Every route that can win and every identical claim, host by host, made eagerly."""
    by_host: dict[str, list[Rule]] = {}
    for rule in rules:
        for host in rule.hostnames or ("",):
            by_host.setdefault(host, []).append(rule)
    order = sorted(by_host, key=lambda h: (h == "", h.startswith("*."), h))  # virtual_hosts()
    routes, conflicts = [], []
    for host in order:
        winners: dict[Any, Route] = {}
        for rule in sorted(by_host[host], key=lambda r: r.precedence):
            for match in rule.matches:
                path = match.path
                route = Route(
                    rule=rule,
                    match=match,
                    host=host,
                    matcher=path.matcher,
                    compiled=get_path_matcher(path.matcher).compile(path.value),
                    result=result_of(rule, host, path.value, path.path_type, path.matcher),
                )
                if route.claim in winners:
                    conflicts.append(Conflict(winner=winners[route.claim], loser=route))
                else:
                    winners[route.claim] = route
                    routes.append(route)
    return routes, conflicts


def _same_route(got: Route, want: Route) -> bool:
    return got == want and got.rule is want.rule and got.result.rule is want.rule


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(rule_list=rule_sets(), ask_conflicts_first=st.booleans())
def test_lazy_routes_equal_eager_routes(rule_list: list[Rule], ask_conflicts_first: bool) -> None:
    table = RouteTable.from_rules(RuleSet(tuple(rule_list)))
    want_routes, want_conflicts = eager_routes(rule_list)
    assert len(table) == len(want_routes)
    if ask_conflicts_first:  # conflicts() makes the routes it names first
        conflicts = list(table.conflicts())
        routes = list(table.routes())
    else:
        routes = list(table.routes())
        conflicts = list(table.conflicts())
    assert len(routes) == len(want_routes)
    assert all(_same_route(g, w) for g, w in zip(routes, want_routes, strict=True))
    assert len(conflicts) == len(want_conflicts)
    for got, want in zip(conflicts, want_conflicts, strict=True):
        assert _same_route(got.winner, want.winner)
        assert _same_route(got.loser, want.loser)
        # The winner of a conflict is the very route that `routes()` lists.
        assert any(got.winner is route for route in routes)
    # Made once: asking again gives the same objects.
    assert all(a is b for a, b in zip(routes, table.routes(), strict=True))
    # A winner's result is the object matching returns (explain compares by identity).
    for vhost in table.virtual_hosts():
        for route in vhost.routes:
            kind, key = route.compiled.kind, route.compiled.key
            if kind == "exact":
                assert vhost.exact[key] is route.result
            elif kind == "prefix":
                assert _trie_node(vhost.top, key, {}).route is route.result
            else:
                assert route in vhost.literal


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    manifests=st.lists(ingress_manifests(), min_size=1, max_size=4),
    wanted=st.sets(st.sampled_from(("a.com", "b.com", "*.c.com", "d.com"))),
)
def test_rules_by_host_groups_the_rule_set(
    manifests: list[dict[str, Any]], wanted: set[str]
) -> None:
    for index, manifest in enumerate(manifests):
        manifest["metadata"]["name"] = f"web{index}"
    ingresses = ingresslib.load_manifests(manifests).ingresses
    frontend = IngressFrontEnd.build(ingresses, [], IngressOptions())
    expected: dict[str, list[Rule]] = {}
    for rule in frontend.rule_set().rules:
        if rule.hostnames[0] in wanted:
            expected.setdefault(rule.hostnames[0], []).append(rule)
    got = frontend.rules_by_host(wanted)
    assert got.keys() == expected.keys()
    for host, rules_of_host in got.items():
        assert all(a is b for a, b in zip(rules_of_host, expected[host], strict=True))


# --- the memos of decide() -------------------------------------------------------------------

MEMO_RESOURCES = ingresslib.load_manifests(
    [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "shop", "namespace": "shop"},
            "spec": {
                "tls": [{"hosts": ["shop.example.com"], "secretName": "tls"}],
                "defaultBackend": {"service": {"name": "fallback", "port": {"number": 80}}},
                "rules": [
                    {
                        "host": host,
                        "http": {
                            "paths": [
                                {"path": "/", "pathType": "Prefix", "backend": SERVICE_BACKENDS[0]},
                                {"path": "/a", "pathType": "Exact", "backend": SERVICE_BACKENDS[3]},
                            ]
                        },
                    }
                    for host in ("shop.example.com", "*.foo.com")
                ],
            },
        }
    ]
)
MEMO_HOSTS = (None, "shop.example.com", "SHOP.example.com:8080", "a.foo.com", "x.y.foo.com", "a b")
MEMO_PATHS = ("/", "/a", "/a/", "/%61", "/a/..", "/..", "/b%2Fc", "http://a.foo.com/a", "*")
MEMO_POLICIES = (
    DecisionPolicy(),
    DecisionPolicy(),  # equal to the first, another object
    DecisionPolicy(paths="raw"),
    DecisionPolicy(paths="decode", https_redirect=False),
    DecisionPolicy(https_port=8443),
)
memo_calls = st.tuples(
    st.sampled_from(range(3)),  # which (Host, path) of the pool: repeats are the point
    st.sampled_from(("http", "https")),
    st.sampled_from(("", "q=1")),
    st.sampled_from((None, 8443)),
    st.booleans(),  # a second Host field
    st.sampled_from(range(len(MEMO_POLICIES))),
)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pool=st.lists(
        st.tuples(st.sampled_from(MEMO_HOSTS), st.sampled_from(MEMO_PATHS)), min_size=3, max_size=3
    ),
    calls=st.lists(memo_calls, min_size=1, max_size=16),
)
def test_decide_with_its_memos_equals_a_fresh_table(
    pool: list[tuple[str | None, str]], calls: list[tuple[int, str, str, int | None, bool, int]]
) -> None:
    """Repeated requests (the memos hit) decide as a table that has never seen one."""
    table = RouteTable.build(MEMO_RESOURCES)
    for index, scheme, query, port, duplicate, policy_index in calls:
        host, path = pool[index]
        headers = (("Host", "a"), ("host", "b")) if duplicate else ()
        request = Request(
            scheme=scheme, host=host, path=path, query=query, port=port, headers=headers
        )
        policy = MEMO_POLICIES[policy_index]
        got = table.decide(request, policy)
        want = RouteTable.build(MEMO_RESOURCES).decide(request, policy)
        assert got == want, (request, policy)
