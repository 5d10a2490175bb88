"""RouteTable.match against a plain reference router (`ingresslib.testing.reference_match`).

- random Ingress sets and requests: `RouteTable.match` and the reference must agree on
  every answer (backend, Ingress, how, rule path and type, and the claiming host);
- `with_changes` must answer as `RouteTable.build` of the resulting set does;
- every row of the Kubernetes documentation's pathType examples table;
- the upstream ingress-controller-conformance path and host rule features;
- hostile requests never raise.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ingresslib
from ingresslib import Ingress, IngressBackend, RouteMatch, RouteTable
from ingresslib.testing import (
    Outcome,
    outcome_of,
    reference_match,
    reference_vhost,
    service_backend,
)
from tests.support import conformance_dir

Manifest = dict[str, Any]

# --- random Ingress sets --------------------------------------------------------------------

# A small pool of everything, so that identical claims, prefix relations, wildcard and
# exact hosts for the same request, and equal timestamps are all frequent.
SEGMENTS = ("a", "b", "ab")
RULE_HOSTS = ("", "foo.com", "bar.foo.com", "*.foo.com", "*.bar.foo.com", "a.com")
TIMESTAMPS = (None, "2023-06-01T12:00:00Z", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z")
KEYS = tuple((namespace, name) for namespace in ("a", "b") for name in ("x", "y", "z"))
PATH_TYPES = ("Exact", "Prefix", "ImplementationSpecific")


def _controller_default() -> IngressBackend:
    backend = {"service": {"name": "controller-default", "port": {"number": 80}}}
    manifest = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "controller"},
        "spec": {"defaultBackend": backend},
    }
    found = ingresslib.load_manifests(manifest).ingresses[0].spec.default_backend
    assert found is not None
    return found


CONTROLLER_DEFAULT = _controller_default()

rule_paths = st.builds(
    lambda segments, slash: "/" + "/".join(segments) + ("/" if slash and segments else ""),
    st.lists(st.sampled_from(SEGMENTS), max_size=3),
    st.booleans(),
)
# ImplementationSpecific paths may be empty or hold '//' (the apiserver allows both).
implementation_specific_paths = rule_paths | st.sampled_from(["", "//", "/a//", "//a", "/a//b"])


def ingress_manifest(
    key: tuple[str, str],
    created: str | None,
    rules: list[tuple[str, list[tuple[str, str]] | None]],
    default_backend: bool,
    version: int = 0,
) -> Manifest:
    """An Ingress whose backends name where they come from: `<ns>-<name>-v<n>-r<i>-p<j>`."""
    namespace, name = key
    tag = f"{namespace}-{name}-v{version}"
    metadata: Manifest = {"name": name, "namespace": namespace}
    if created is not None:
        metadata["creationTimestamp"] = created
    spec: Manifest = {}
    if default_backend:
        spec["defaultBackend"] = service_backend(f"{tag}-default")
    spec_rules = []
    for rule_index, (host, paths) in enumerate(rules):
        rule: Manifest = {"host": host} if host else {}
        if paths is not None:
            rule["http"] = {
                "paths": [
                    {"path": path, "pathType": path_type}
                    | {"backend": service_backend(f"{tag}-r{rule_index}-p{path_index}")}
                    for path_index, (path_type, path) in enumerate(paths)
                ]
            }
        spec_rules.append(rule)
    if spec_rules:
        spec["rules"] = spec_rules
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": spec,
    }


@st.composite
def http_paths(draw: st.DrawFn) -> tuple[str, str]:
    path_type = draw(st.sampled_from(PATH_TYPES))
    strategy = implementation_specific_paths if path_type == PATH_TYPES[2] else rule_paths
    return path_type, draw(strategy)


rules = st.tuples(
    st.sampled_from(RULE_HOSTS),
    # None: a rule with a host and no `http` (it still claims the host).
    st.none() | st.lists(http_paths(), min_size=1, max_size=3),
)


@st.composite
def ingress_for(draw: st.DrawFn, key: tuple[str, str], version: int = 0) -> Manifest:
    created = draw(st.sampled_from(TIMESTAMPS))
    ingress_rules = draw(st.lists(rules, max_size=3))
    # The apiserver wants rules or a defaultBackend.
    default_backend = draw(st.booleans()) or not ingress_rules
    return ingress_manifest(key, created, ingress_rules, default_backend, version)


@st.composite
def ingress_sets(draw: st.DrawFn, min_size: int = 1) -> list[Manifest]:
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=min_size, max_size=6, unique=True))
    return [draw(ingress_for(key)) for key in keys]


# --- random requests ----------------------------------------------------------------------

REQUEST_HOSTS = (
    None,
    "",
    "foo.com",
    "bar.foo.com",
    "x.foo.com",
    "x.bar.foo.com",
    "a.bar.foo.com",
    "baz.x.foo.com",
    "a.com",
    "b.com",
    "com",
    "*.foo.com",
    ".foo.com",
    "[::1]",
    "127.0.0.1",
)
REQUEST_SEGMENTS = ("a", "b", "ab", "abc", "A", "")


@st.composite
def request_hosts(draw: st.DrawFn) -> str | None:
    host = draw(st.sampled_from(REQUEST_HOSTS))
    if not host:
        return host
    if draw(st.booleans()):
        host = draw(st.sampled_from([host.upper(), host.title(), host]))
    if draw(st.booleans()):
        host += "."
    if draw(st.booleans()):
        host += draw(st.sampled_from([":80", ":8080", ":"]))
    return host


request_paths = (
    st.builds(
        lambda segments, slash: "/" + "/".join(segments) + ("/" if slash else ""),
        st.lists(st.sampled_from(REQUEST_SEGMENTS), max_size=4),
        st.booleans(),
    )
    | st.sampled_from(["", "/", "//", "///", "a", "a/b", "*", "/a//", "//a"])
).map(lambda path: path.replace("///", "//", 1) if path.startswith("///") else path)
requests = st.tuples(request_hosts(), request_paths)


def derived_requests(ingresses: list[Ingress]) -> list[tuple[str | None, str]]:
    """Requests aimed at the table's own rules: each rule path and its near misses."""
    found: list[tuple[str | None, str]] = []
    for ingress in ingresses:
        for rule in ingress.spec.rules:
            host = rule.host.replace("*", "w")
            for http_path in rule.http.paths if rule.http is not None else ():
                path = http_path.path or "/"
                found += [
                    (host, path),
                    (host, path.rstrip("/") or "/"),
                    (host, path + "/"),
                    (host, path.rstrip("/") + "/a"),
                    (host, path + "b"),
                ]
    return found


# --- comparing ------------------------------------------------------------------------------


def check(
    table: RouteTable,
    ingresses: list[Ingress],
    host: str | None,
    path: str,
    default_backend: IngressBackend | None,
) -> None:
    got = table.match(host, path)
    expected = reference_match(ingresses, host, path, default_backend)
    context = f"request host={host!r} path={path!r}"
    assert outcome_of(got) == expected, context
    if got is not None:
        assert got.host == expected_host(ingresses, host, expected), context


def expected_host(ingresses: list[Ingress], host: str | None, expected: Outcome | None) -> Any:
    """RouteMatch.host: the claiming rule host, None for the catch-all without a vhost."""
    return reference_vhost(ingresses, host) if expected is not None else None


REFERENCE_SETTINGS = settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@REFERENCE_SETTINGS
@given(
    manifests=ingress_sets(),
    drawn=st.lists(requests, min_size=8, max_size=8),
    with_controller_default=st.booleans(),
)
def test_match_agrees_with_the_reference(
    manifests: list[Manifest],
    drawn: list[tuple[str | None, str]],
    with_controller_default: bool,
) -> None:
    resources = ingresslib.load_manifests(manifests)
    ingresses = list(resources.ingresses)
    default_backend = CONTROLLER_DEFAULT if with_controller_default else None
    table = RouteTable.build(resources, default_backend=default_backend)
    for host, path in drawn + derived_requests(ingresses):
        check(table, ingresses, host, path, default_backend)


CHANGE_SETTINGS = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@CHANGE_SETTINGS
@given(
    data=st.data(),
    initial_manifests=ingress_sets(min_size=0),
    rounds=st.integers(min_value=1, max_value=3),
    with_controller_default=st.booleans(),
)
def test_with_changes_equals_a_fresh_build(
    data: st.DataObject,
    initial_manifests: list[Manifest],
    rounds: int,
    with_controller_default: bool,
) -> None:
    default_backend = CONTROLLER_DEFAULT if with_controller_default else None
    initial = list(ingresslib.load_manifests(initial_manifests).ingresses)
    current = {(i.metadata.namespace, i.metadata.name): i for i in initial}
    table = RouteTable.build(initial, default_backend=default_backend)
    # Several rounds: later rounds reuse virtual hosts that earlier rounds already reused.
    for version in range(1, rounds + 1):
        upserted_manifests: list[Manifest] = []
        deleted: list[object] = []
        after = dict(current)
        for key in KEYS:
            if key in current:
                choices = ["keep", "delete-key", "delete-object", "replace"]
            else:
                choices = ["absent", "add", "delete-missing"]
            action = data.draw(st.sampled_from(choices), label=f"round {version} {key}")
            if action in ("replace", "add"):
                upserted_manifests.append(data.draw(ingress_for(key, version)))
            elif action in ("delete-key", "delete-missing"):
                deleted.append(key)
                after.pop(key, None)
            elif action == "delete-object":
                deleted.append(after.pop(key))
        upserted = list(ingresslib.load_manifests(upserted_manifests).ingresses)
        for ingress in upserted:
            after[(ingress.metadata.namespace, ingress.metadata.name)] = ingress
        table = table.with_changes(upserted=upserted, deleted=deleted)
        current = after
        ingresses = list(current.values())
        fresh = RouteTable.build(ingresses, default_backend=default_backend)
        drawn = data.draw(st.lists(requests, min_size=6, max_size=6), label="requests")
        for host, path in drawn + derived_requests(ingresses):
            got, want = table.match(host, path), fresh.match(host, path)
            assert outcome_of(got) == outcome_of(want), (version, host, path)
            assert _host(got) == _host(want), (version, host, path)
            check(table, ingresses, host, path, default_backend)


def _host(match: RouteMatch | None) -> str | None:
    return None if match is None else match.host


# --- the Kubernetes documentation's pathType examples -----------------------------------------


def single_ingress(
    paths: list[tuple[str, str, str]],
    *,
    host: str = "",
    default_backend: str | None = None,
    name: str = "example",
    namespace: str = "default",
    created: str | None = None,
) -> Manifest:
    """One Ingress with one rule; `paths` are (pathType, path, backend service name)."""
    rule: Manifest = {
        "http": {
            "paths": [
                {"path": path, "pathType": path_type, "backend": service_backend(backend)}
                for path_type, path, backend in paths
            ]
        }
    }
    if host:
        rule["host"] = host
    spec: Manifest = {"rules": [rule]}
    if default_backend is not None:
        spec["defaultBackend"] = service_backend(default_backend)
    metadata: Manifest = {"name": name, "namespace": namespace}
    if created is not None:
        metadata["creationTimestamp"] = created
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": spec,
    }


def route(
    manifests: list[Manifest], host: str | None, path: str, default_backend: Any = None
) -> RouteMatch | None:
    """Match through RouteTable, and check the reference agrees on the way."""
    ingresses = list(ingresslib.load_manifests(manifests).ingresses)
    table = RouteTable.build(ingresses, default_backend=default_backend)
    check(table, ingresses, host, path, default_backend)
    return table.match(host, path)


def served_by(match: RouteMatch | None) -> str | None:
    if match is None:
        return None
    assert match.backend.service is not None
    return match.backend.service.name


P, E, IS = "Prefix", "Exact", "ImplementationSpecific"

# (paths as (pathType, path, backend), request path, expected backend or None); one case per
# request path of each row of https://kubernetes.io/docs/concepts/services-networking/ingress/
# "Examples" table, plus the combinations the brief names.
DOCS_EXAMPLES = [
    ([(P, "/", "root")], "/", "root"),
    ([(P, "/", "root")], "/foo", "root"),
    ([(P, "/", "root")], "/foo/bar/", "root"),
    ([(P, "/", "root")], "//", "root"),
    ([(P, "/", "root")], "", "root"),
    ([(E, "/foo", "foo")], "/foo", "foo"),
    ([(E, "/foo", "foo")], "/bar", None),
    ([(E, "/foo", "foo")], "/foo/", None),
    ([(E, "/foo/", "foo")], "/foo", None),
    ([(P, "/foo", "foo")], "/foo", "foo"),
    ([(P, "/foo", "foo")], "/foo/", "foo"),
    ([(P, "/foo/", "foo")], "/foo", "foo"),
    ([(P, "/foo/", "foo")], "/foo/", "foo"),
    ([(P, "/aaa/bb", "bb")], "/aaa/bbb", None),
    ([(P, "/aaa/bbb", "bbb")], "/aaa/bbb", "bbb"),
    ([(P, "/aaa/bbb/", "bbb")], "/aaa/bbb", "bbb"),
    ([(P, "/aaa/bbb", "bbb")], "/aaa/bbb/", "bbb"),
    ([(P, "/aaa/bbb", "bbb")], "/aaa/bbb/ccc", "bbb"),
    ([(P, "/aaa/bbb", "bbb")], "/aaa/bbbxyz", None),
    ([(P, "/", "root"), (P, "/aaa", "aaa")], "/aaa/ccc", "aaa"),
    ([(P, "/aaa", "aaa"), (P, "/", "root")], "/aaa/ccc", "aaa"),
    ([(P, "/", "root"), (P, "/aaa", "aaa"), (P, "/aaa/bbb", "bbb")], "/aaa/bbb", "bbb"),
    ([(P, "/", "root"), (P, "/aaa", "aaa"), (P, "/aaa/bbb", "bbb")], "/ccc", "root"),
    ([(P, "/aaa", "aaa"), (P, "/", "root")], "/ccc", "root"),
    ([(P, "/aaa", "aaa")], "/ccc", None),
    ([(P, "/", "root"), (E, "/aaa", "exact")], "/aaa", "exact"),
    ([(P, "/", "root"), (E, "/aaa", "exact")], "/aaa/", "root"),
    ([(P, "/foo", "prefix"), (E, "/foo", "exact")], "/foo", "exact"),
    ([(E, "/foo", "exact"), (P, "/foo", "prefix")], "/foo", "exact"),
    ([(P, "/foo", "prefix"), (E, "/foo", "exact")], "/foo/", "prefix"),
]


@pytest.mark.parametrize(("paths", "request_path", "expected"), DOCS_EXAMPLES)
def test_kubernetes_docs_path_type_examples(
    paths: list[tuple[str, str, str]], request_path: str, expected: str | None
) -> None:
    match = route([single_ingress(paths)], "example.com", request_path)
    assert served_by(match) == expected
    if match is not None:
        assert match.matched_by == "path"
        assert (match.path_type, match.path, served_by(match)) in paths


def test_docs_no_match_uses_the_default_backend() -> None:
    # "Prefix | /aaa | /ccc | No, uses default backend"
    manifest = single_ingress([(P, "/aaa", "aaa")], default_backend="fallback")
    match = route([manifest], "example.com", "/ccc")
    assert served_by(match) == "fallback"
    assert match is not None
    assert match.matched_by == "host-default"
    assert (match.path, match.path_type) == (None, None)


# --- identical claims, defaults ----------------------------------------------------------------


def test_identical_claims_go_to_the_oldest_ingress() -> None:
    old = single_ingress([(P, "/a", "old")], name="z", created="2020-01-01T00:00:00Z")
    new = single_ingress([(P, "/a/", "new")], name="a", created="2024-01-01T00:00:00Z")
    undated = single_ingress([(P, "/a", "undated")], name="0")
    for order in ([old, new, undated], [undated, new, old]):
        assert served_by(route(order, None, "/a/b")) == "old"
    assert served_by(route([new, undated], None, "/a")) == "new"


def test_identical_claims_with_equal_age_go_by_namespace_then_name() -> None:
    same = "2024-01-01T00:00:00Z"
    manifests = [
        single_ingress([(E, "/a", "b-a")], namespace="b", name="a", created=same),
        single_ingress([(E, "/a", "a-z")], namespace="a", name="z", created=same),
        single_ingress([(E, "/a", "a-y")], namespace="a", name="y", created=same),
    ]
    assert served_by(route(manifests, None, "/a")) == "a-y"
    undated = [single_ingress([(E, "/a", n)], namespace="a", name=n) for n in ("q", "p")]
    assert served_by(route(undated, None, "/a")) == "p"


def test_prefix_and_implementation_specific_are_the_same_claim() -> None:
    manifests = [
        single_ingress([(IS, "/a/", "newer")], name="n", created="2024-01-02T00:00:00Z"),
        single_ingress([(P, "/a", "older")], name="o", created="2024-01-01T00:00:00Z"),
    ]
    assert served_by(route(manifests, None, "/a/b")) == "older"
    within = [single_ingress([(P, "/a", "first"), (IS, "/a", "second")])]
    assert served_by(route(within, None, "/a")) == "first"
    empty = [single_ingress([(IS, "", "everything")])]
    assert served_by(route(empty, None, "/x/y")) == "everything"


def test_default_backends() -> None:
    controller = CONTROLLER_DEFAULT
    day = "2024-01-0{}T00:00:00Z".format
    manifests = [
        single_ingress(
            [(E, "/a", "a")],
            host="foo.com",
            default_backend="foo-default",
            name="foo",
            created=day(2),
        ),
        single_ingress([(E, "/b", "b")], host="bar.com", name="bar", created=day(1)),
        single_ingress(
            [(E, "/c", "c")],
            host="baz.com",
            default_backend="baz-default",
            name="baz",
            created=day(3),
        ),
    ]
    # A host with rules and a defaultBackend in its Ingress: that one.
    match = route(manifests, "FOO.com:443", "/x", controller)
    assert (served_by(match), getattr(match, "matched_by", None)) == ("foo-default", "host-default")
    # A host with rules but no defaultBackend among its Ingresses: the controller's.
    match = route(manifests, "bar.com", "/x", controller)
    assert (served_by(match), getattr(match, "matched_by", None)) == (
        "controller-default",
        "controller-default",
    )
    assert route(manifests, "bar.com", "/x") is None
    # No host claims the request: the oldest Ingress with a defaultBackend (foo, not baz).
    match = route(manifests, "other.com", "/a", controller)
    assert (served_by(match), getattr(match, "matched_by", None)) == ("foo-default", "default")
    assert match is not None
    assert match.host is None


# --- the upstream ingress-controller-conformance features -----------------------------------

# features/path_rules.feature (plus `mixed /foo/` and `trailing-slash /foo/`, which follow
# from the spec: only the Prefix path matches `/foo/`; the Exact `/foo/` matches itself).
PATH_RULES = [
    ("exact-path-rules", "/foo", "foo-exact"),
    ("exact-path-rules", "/foo/", None),
    ("exact-path-rules", "/FOO", None),
    ("exact-path-rules", "/bar", None),
    ("prefix-path-rules", "/foo", "foo-prefix"),
    ("prefix-path-rules", "/foo/", "foo-prefix"),
    ("prefix-path-rules", "/FOO", None),
    ("prefix-path-rules", "/aaa/bbb", "aaa-slash-bbb-prefix"),
    ("prefix-path-rules", "/aaa/bbb/ccc", "aaa-slash-bbb-prefix"),
    ("prefix-path-rules", "/aaa/bbbxyz", "aaa-prefix"),
    ("prefix-path-rules", "/aaa/ccc", "aaa-prefix"),
    ("prefix-path-rules", "/aaaccc", None),
    ("mixed-path-rules", "/foo", "foo-exact"),
    ("mixed-path-rules", "/foo/", "foo-prefix"),
    ("trailing-slash-path-rules", "/aaa/bbb", "aaa-slash-bbb-slash-prefix"),
    ("trailing-slash-path-rules", "/aaa/bbb/", "aaa-slash-bbb-slash-prefix"),
    ("trailing-slash-path-rules", "/foo", None),
    ("trailing-slash-path-rules", "/foo/", "foo-slash-exact"),
]

# features/host_rules.feature
HOST_RULES = [
    ("foo.bar.com", "/", "foo-bar-com"),
    ("subdomain.bar.com", "/", None),
    ("bar.foo.com", "/", "wildcard-foo-com"),
    ("baz.bar.foo.com", "/", None),
    ("foo.com", "/", None),
]


def conformance_table(file_name: str) -> tuple[RouteTable, list[Ingress], set[str]]:
    manifests = conformance_dir("ingress-controller-conformance", "manifests")
    ingresses = list(ingresslib.load_manifests(manifests / file_name).ingresses)
    names = {
        http_path.backend.service.name
        for ingress in ingresses
        for rule in ingress.spec.rules
        for http_path in (rule.http.paths if rule.http is not None else ())
        if http_path.backend.service is not None
    }
    return RouteTable.build(ingresses), ingresses, names


@pytest.mark.parametrize(
    ("file_name", "cases"), [("path_rules.yaml", PATH_RULES), ("host_rules.yaml", HOST_RULES)]
)
def test_upstream_conformance_features(
    file_name: str, cases: list[tuple[str, str, str | None]]
) -> None:
    table, ingresses, names = conformance_table(file_name)
    assert {expected for _, _, expected in cases} - {None} <= names
    for host, path, expected in cases:
        match = table.match(host, path)
        assert served_by(match) == expected, (host, path)
        check(table, ingresses, host, path, None)
        # The Host header may carry a port and any case.
        assert served_by(table.match(host.upper() + ":8080", path)) == expected, (host, path)


# --- hostile requests ----------------------------------------------------------------------

HOSTILE_HOSTS = [
    None, "", " ", "FOO.COM", "foo.com:8080", "foo.com.", "FOO.com.:80", "foo.com..",
    "[::1]:8080", "[::1]", "[::1", "[", "]", "[]:80", ":", ":80", "foo.com:", ".", "..",
    "*", "*.", "*.foo.com", ".foo.com", "a..foo.com", "x" * 100_000, "a." * 50_000 + "foo.com",
    "é.foo.com", "ÉXAMPLE.FOO.COM", "İ.foo.com", "foo.com\x00", "\x00", " foo.com ",
    "foo.com/evil", "\ud800.foo.com", "bar.foo.com:99999999999999999999",
]  # fmt: skip
HOSTILE_PATHS = [
    "", "/", "//", "///", "/a//b", "/" + "a" * 100_000, "/a" * 50_000, "/" * 100_000,
    "/%2F", "/a%2Fb", "%2F", "/..", "/../a", "/a/../b", "/./", "..", ".", "\x00", "/\x00",
    "/a\x00b", "/é", "/日本語/", "/\ud800", "*", "?", "#", "a/b", " ", "/a?b=c", "/a#b",
    "\\a", "/a\\b", "/A", "/\n",
]  # fmt: skip


def hostile_tables() -> list[tuple[list[Manifest], IngressBackend | None]]:
    rich = [
        single_ingress(
            [(E, "/a", "exact-a"), (P, "/", "root"), (P, "/a/b/", "ab")],
            host="foo.com",
            default_backend="foo-default",
            name="foo",
        ),
        single_ingress([(IS, "", "wild-all"), (P, "/a", "wild-a")], host="*.foo.com", name="wild"),
        single_ingress(
            [(IS, "/a//", "any-a"), (E, "/", "any-root")],
            name="any",
            default_backend="catch-all",
            created="2024-01-01T00:00:00Z",
        ),
    ]
    only_default = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "only-default"},
            "spec": {"defaultBackend": service_backend("only-default")},
        }
    ]
    return [(rich, None), (rich, CONTROLLER_DEFAULT), (only_default, None), ([], None)]


@pytest.mark.parametrize("index", range(len(hostile_tables())))
def test_hostile_requests_never_raise_and_agree(index: int) -> None:
    manifests, default_backend = hostile_tables()[index]
    ingresses = list(ingresslib.load_manifests(manifests).ingresses) if manifests else []
    table = RouteTable.build(ingresses, default_backend=default_backend)
    for host in HOSTILE_HOSTS:
        for path in HOSTILE_PATHS:
            match = table.match(host, path)
            assert match is None or isinstance(match, RouteMatch)
            check(table, ingresses, host, path, default_backend)


def test_hostile_request_examples() -> None:
    manifests, _ = hostile_tables()[0]
    ingresses = list(ingresslib.load_manifests(manifests).ingresses)
    table = RouteTable.build(ingresses)
    assert served_by(table.match("[::1]:8080", "/a")) == "any-a"
    assert served_by(table.match("FOO.com.:8080", "/a")) == "exact-a"
    assert served_by(table.match("x.foo.com", "/a%2Fb")) == "wild-all"
    assert served_by(table.match("x.foo.com", "/a/%2F")) == "wild-a"
    assert served_by(table.match("foo.com", "/a/b/../c")) == "ab"
    assert served_by(table.match("foo.com", "/" + "a" * 100_000)) == "root"
    assert served_by(table.match("foo.com", "a")) == "foo-default"
    assert served_by(table.match("a.x.foo.com", "/b")) == "catch-all"
