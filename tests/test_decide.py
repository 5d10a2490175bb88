"""RouteTable.decide(): the whole decision for one request, against a plain reference.

The reference composes the separately tested pieces the slow, obvious way: a request is
400 when its Host or path cannot be validated / normalised (`ingresslib.proxy`), else it is
routed by `ingresslib.testing.reference_match` on the normalised host and path; the
router's choice must equal the reference's on the normalised path.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ingresslib
from ingresslib import Decision, DecisionPolicy, Request, RouteTable, testing
from ingresslib.proxy import BadRequest, normalize_path, validate_host
from ingresslib.rules import (
    Backend,
    HeaderMatch,
    Match,
    PathMatch,
    QueryParamMatch,
    Rule,
    RuleSet,
    Source,
    WeightedBackend,
)
from ingresslib.testing import Outcome, reference_match
from tests.test_routing_reference import CONTROLLER_DEFAULT, ingress_sets, request_hosts


def ingress(
    name: str,
    paths: list[tuple[str, str, str]],
    *,
    host: str = "shop.example.com",
    tls: list[str] | None = None,
    created: str | None = None,
    annotations: dict[str, str] | None = None,
    secret: str = "shop-tls",
) -> dict[str, Any]:
    return testing.ingress(
        name,
        [testing.ingress_rule(host, *paths)],
        namespace="shop",
        tls=[testing.ingress_tls(secret, *tls)] if tls else (),
        created=created,
        annotations=annotations,
    )


def table_of(*docs: dict[str, Any], **options: Any) -> RouteTable:
    return RouteTable.build(ingresslib.load_manifests(list(docs)), **options)


def served_by(decision: Decision) -> str | None:
    if decision.action != "forward":
        return None
    return decision.backends[0].backend.describe()


ADMIN = table_of(
    ingress(
        "public",
        [("/public/admin", "Exact", "deny"), ("/public", "Prefix", "public")],
    )
)


# --- the attacks of issue 11, decided ----------------------------------------------------------


def test_an_encoded_unreserved_character_reaches_the_exact_rule() -> None:
    # nginx routes /public/%61dmin to `location = /public/admin`; wave 1 sent it to the
    # Prefix backend, which decoded it and served its admin page.
    decision = ADMIN.decide(Request(host="shop.example.com", path="/public/%61dmin"))
    assert (decision.action, served_by(decision), decision.path) == (
        "forward",
        "deny:80",
        "/public/admin",
    )


@pytest.mark.parametrize(
    "path",
    ["/public/..%2Finternal", "/public/..%2finternal", "/public/%2e%2e%2Finternal", "/a/%2F.."],
)
def test_a_dot_segment_joined_to_an_encoded_slash_is_400(path: str) -> None:
    for policy in ("keep", "reject", "decode"):
        decision = ADMIN.decide(
            Request(host="shop.example.com", path=path), DecisionPolicy(paths=policy)
        )
        assert (decision.action, decision.status) == ("respond", 400), (path, policy)


def test_nul_is_400() -> None:
    decision = ADMIN.decide(Request(host="shop.example.com", path="/public/admin%00"))
    assert (decision.action, decision.status) == ("respond", 400)
    assert decision.reason


def test_dot_segments_are_resolved_before_routing() -> None:
    decision = ADMIN.decide(Request(host="shop.example.com", path="/x/%2e%2e/public//admin"))
    assert (served_by(decision), decision.path) == ("deny:80", "/public/admin")


def test_raw_policy_keeps_wave_one_behaviour() -> None:
    decision = ADMIN.decide(
        Request(host="shop.example.com", path="/public/%61dmin"), DecisionPolicy(paths="raw")
    )
    assert (served_by(decision), decision.path) == ("public:80", "/public/%61dmin")


def test_an_absolute_form_target_is_routed_by_its_authority_in_origin_form() -> None:
    table = table_of(
        ingress("a", [("/", "Prefix", "shop")]),
        ingress("b", [("/", "Prefix", "other")], host="other.example.com"),
    )
    decision = table.decide(
        Request(host="shop.example.com", path="http://Other.Example.com/x", query="q=1")
    )
    assert (served_by(decision), decision.path, decision.authority, decision.host) == (
        "other:80",
        "/x",
        "Other.Example.com",
        "other.example.com",
    )


@pytest.mark.parametrize(
    "host", ["", " ", "a..example.com", "shop.example.com/", "a b", "\x7f", "2130706433/.foo.com"]
)
def test_invalid_hosts_are_400(host: str) -> None:
    decision = ADMIN.decide(Request(host=host, path="/public"))
    assert (decision.action, decision.status) == ("respond", 400), host


def test_two_host_fields_are_400() -> None:
    headers = [("Host", "shop.example.com"), ("host", "evil.example.com")]
    decision = ADMIN.decide(Request(host="shop.example.com", path="/public", headers=headers))
    assert (decision.action, decision.status) == ("respond", 400)


TLS = table_of(ingress("web", [("/", "Prefix", "web")], host="*.foo.com", tls=["*.foo.com"]))


def test_the_redirect_location_is_built_from_the_normalised_host() -> None:
    decision = TLS.decide(Request(host="WWW.Foo.com.:80", path="/a/../b", query="x=1"))
    assert (decision.action, decision.status, decision.location) == (
        "redirect",
        308,
        "https://www.foo.com/b?x=1",
    )
    # The open redirect of wave 1: `Host: 2130706433/.foo.com` is not a host at all.
    assert TLS.decide(Request(host="2130706433/.foo.com", path="/")).status == 400


def test_a_redirect_from_the_memo_carries_its_own_query() -> None:
    first = TLS.decide(Request(host="a.foo.com", path="/p"))
    second = TLS.decide(Request(host="a.foo.com", path="/p", query="n=2"))
    third = TLS.decide(Request(host="a.foo.com", path="/p", query="n=3"))
    assert (first.location, second.location, third.location) == (
        "https://a.foo.com/p",
        "https://a.foo.com/p?n=2",
        "https://a.foo.com/p?n=3",
    )
    assert first.reusable
    assert not second.reusable


def test_https_port_and_https_are_honoured() -> None:
    policy = DecisionPolicy(https_port=8443)
    # ingress-nginx drops the "/" that ends the target (preserve-trailing-slash is off).
    assert TLS.decide(Request(host="a.foo.com"), policy).location == "https://a.foo.com:8443"
    forwarded = TLS.decide(Request(scheme="https", host="a.foo.com"), policy)
    assert served_by(forwarded) == "web:80"
    off = TLS.decide(Request(host="a.foo.com"), DecisionPolicy(https_redirect=False))
    assert served_by(off) == "web:80"
    with pytest.raises(ValueError, match="https_port"):
        DecisionPolicy(https_port=0)


def test_ssl_redirect_false_keeps_plain_http() -> None:
    table = table_of(
        ingress(
            "web",
            [("/", "Prefix", "web")],
            tls=["shop.example.com"],
            annotations={"nginx.ingress.kubernetes.io/ssl-redirect": "false"},
        )
    )
    assert table.decide(Request(host="shop.example.com")).action == "forward"


def test_no_route_is_404_and_the_memo_returns_the_same_decision() -> None:
    first = ADMIN.decide(Request(host="nowhere.example.com", path="/"))
    again = ADMIN.decide(Request(host="nowhere.example.com", path="/"))
    assert (first.action, first.status) == ("respond", 404)
    assert again is first


def test_weighted_backends_carry_names_namespaces_and_ports() -> None:
    decision = ADMIN.decide(Request(host="shop.example.com", path="/public/x"))
    (share,) = decision.backends
    assert (share.weight, share.backend.name, share.backend.namespace, share.backend.port) == (
        1,
        "public",
        "shop",
        80,
    )
    assert share.invalid is None
    assert decision.match is not None
    assert decision.match.source is not None
    assert (decision.match.source.kind, decision.match.source.name) == ("Ingress", "public")


def test_router_and_certificates_agree_on_the_oldest_of_two_ingresses() -> None:
    # Issue 11: one Ingress without a creationTimestamp, one with: the router counted the
    # first as newest, the CertificateStore as oldest, so each served another Ingress.
    from ingresslib.tls import CertificateStore
    from tests.certificates import CA

    authority = CA()
    secrets = []
    for name in ("old-tls", "new-tls"):
        chain, key = authority.leaf("shop.example.com")
        secrets.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {"name": name, "namespace": "shop"},
                "data": {"tls.crt": _b64(chain), "tls.key": _b64(key)},
            }
        )
    old = ingress(
        "old",
        [("/", "Prefix", "old")],
        tls=["shop.example.com"],
        created="2024-01-01T00:00:00Z",
        secret="old-tls",
    )
    new = ingress("new", [("/", "Prefix", "new")], tls=["shop.example.com"], secret="new-tls")
    resources = ingresslib.load_manifests([new, old, *secrets])
    table = RouteTable.build(resources)
    store = CertificateStore.build(resources)
    decision = table.decide(Request(scheme="https", host="shop.example.com"))
    certificate = store.select("shop.example.com")
    assert served_by(decision) == "old:80"
    assert certificate is not None
    assert certificate.name == "shop/old-tls"


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


# --- Hypothesis: decide() against the reference ------------------------------------------------

ENCODED_SEGMENTS = ("a", "b", "ab", "%61", "%2e", "%2E%2e", ".", "..", "", "%2F", "%00", "%zz")

request_paths = st.builds(
    lambda segments, slash: "/" + "/".join(segments) + ("/" if slash else ""),
    st.lists(st.sampled_from(ENCODED_SEGMENTS), max_size=5),
    st.booleans(),
)


def reference_decision(
    ingresses: list[ingresslib.Ingress], host: str | None, path: str
) -> tuple[str, Outcome | None]:
    """("400", None), ("404", None) or ("forward", outcome)."""
    try:
        name = "" if host is None else validate_host(host)
        normalised = normalize_path(path)
    except BadRequest:
        return ("400", None)
    outcome = reference_match(ingresses, name, normalised, CONTROLLER_DEFAULT)
    return ("404", None) if outcome is None else ("forward", outcome)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    manifests=ingress_sets(),
    drawn=st.lists(st.tuples(request_hosts(), request_paths), min_size=8, max_size=8),
)
def test_decide_agrees_with_the_reference(
    manifests: list[dict[str, Any]], drawn: list[tuple[str | None, str]]
) -> None:
    resources = ingresslib.load_manifests(manifests)
    ingresses = list(resources.ingresses)
    table = RouteTable.build(resources, default_backend=CONTROLLER_DEFAULT)
    for host, path in drawn:
        decision = table.decide(Request(host=host, path=path))
        kind, outcome = reference_decision(ingresses, host, path)
        context = f"host={host!r} path={path!r}"
        if kind == "forward":
            assert decision.action == "forward", context
            assert decision.match is not None, context
            assert decision.match.backend.describe() == outcome.backend, context  # type: ignore[union-attr]
            assert decision.match.matched_by == outcome.matched_by, context  # type: ignore[union-attr]
            assert decision.path == normalize_path(path), context
        else:
            assert (decision.action, str(decision.status)) == ("respond", kind), context


# --- conditional rules (method, headers, query): the general path of the table -----------------

HOSTS = ("", "a.com")
PATHS = ("/", "/a", "/a/b", "/ab")
HEADERS = (("x-env", "blue"), ("x-env", "green"), ("x-team", "a"))
QUERIES = (("v", "1"), ("v", "2"))


@st.composite
def conditional_rules(draw: st.DrawFn) -> list[Rule]:
    rules = []
    for index in range(draw(st.integers(min_value=1, max_value=8))):
        matches = [
            Match(
                PathMatch(draw(st.sampled_from(("exact", "prefix"))), draw(st.sampled_from(PATHS))),
                method=draw(st.none() | st.sampled_from(("GET", "POST"))),
                headers=tuple(
                    HeaderMatch(n, v)
                    for n, v in draw(
                        st.lists(st.sampled_from(HEADERS), max_size=2, unique_by=lambda h: h[0])
                    )
                ),
                query=tuple(
                    QueryParamMatch(n, v)
                    for n, v in draw(st.lists(st.sampled_from(QUERIES), max_size=1))
                ),
            )
            for _ in range(draw(st.integers(min_value=1, max_value=2)))
        ]
        rules.append(
            Rule(
                source=Source("Test", "ns", f"r{index}"),
                field=f"rules[{index}]",
                hostnames=(draw(st.sampled_from(HOSTS)),),
                matches=tuple(matches),
                backends=(WeightedBackend(Backend(f"b{index}", "ns", 80)),),
                precedence=(draw(st.integers(0, 3)), index),
            )
        )
    return rules


def _holds(match: Match, method: str, headers: dict[str, str], query: dict[str, str]) -> bool:
    if match.method is not None and match.method != method:
        return False
    if any(headers.get(h.name) != h.value for h in match.headers):
        return False
    return all(query.get(q.name) == q.value for q in match.query)


def _path_holds(match: Match, path: str) -> bool:
    rule = match.path.value
    if match.path.matcher == "exact":
        return path == rule
    elements = path.split("/")[1:]
    while elements and elements[-1] == "":
        elements.pop()
    wanted = rule.rstrip("/").split("/")[1:]
    return elements[: len(wanted)] == wanted


def reference_conditional(
    rules: list[Rule],
    *,
    host: str,
    path: str,
    method: str,
    headers: dict[str, str],
    query: dict[str, str],
) -> str | None:
    """The obvious reading: exact paths first, then the longest prefix; on one path, the
    rule with the smallest precedence whose conditions hold; identical claims: the first."""
    vhost = host if any(host in r.hostnames for r in rules) else ""
    candidates = []
    seen: set[Any] = set()
    for rule in sorted(rules, key=lambda r: r.precedence):
        if vhost not in rule.hostnames:
            continue
        for match in rule.matches:
            key = (
                match.path.matcher,
                match.path.value.rstrip("/") or "/"
                if match.path.matcher == "prefix"
                else match.path.value,
                match.method,
                match.headers,
                match.query,
            )
            if key in seen:
                continue  # an identical claim: the first one wins, this one is never used
            seen.add(key)
            if _path_holds(match, path) and _holds(match, method, headers, query):
                length = (
                    len(match.path.value.rstrip("/") or "/")
                    if match.path.matcher == "prefix"
                    else len(match.path.value)
                )
                tier = 0 if match.path.matcher == "exact" else 1
                candidates.append(((tier, -length, rule.precedence), rule.backends[0].backend.name))
    return min(candidates)[1] if candidates else None


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rules=conditional_rules(),
    requests=st.lists(
        st.tuples(
            st.sampled_from(("a.com", "b.com")),
            st.sampled_from(("/", "/a", "/a/", "/a/b", "/a/b/c", "/ab", "/b")),
            st.sampled_from(("GET", "POST")),
            st.lists(st.sampled_from(HEADERS), max_size=2, unique_by=lambda h: h[0]),
            st.lists(st.sampled_from(QUERIES), max_size=1),
        ),
        min_size=6,
        max_size=6,
    ),
)
def test_conditional_rules_agree_with_the_reference(rules: list[Rule], requests: list[Any]) -> None:
    table = RouteTable.from_rules(RuleSet(tuple(rules)))
    for host, path, method, headers, query in requests:
        decision = table.decide(
            Request(
                method=method,
                host=host,
                path=path,
                headers=[(n.title(), v) for n, v in headers],
                query="&".join(f"{n}={v}" for n, v in query),
            )
        )
        expected = reference_conditional(
            rules, host=host, path=path, method=method, headers=dict(headers), query=dict(query)
        )
        context = f"{method} {host}{path} {headers} {query}"
        if expected is None:
            assert (decision.action, decision.status) == ("respond", 404), context
        else:
            assert served_by(decision) == f"{expected}:80", context
        vhost = host if any(host in r.hostnames for r in rules) else ""
        conditional = any(m.conditional for r in rules if vhost in r.hostnames for m in r.matches)
        # Only a decision that depends on nothing but the scheme, Host and path is reusable.
        assert decision.reusable is not conditional, context


def test_match_sees_a_get_without_headers_on_conditional_hosts() -> None:
    rules = (
        Rule(
            Source("Test", "ns", "header"),
            "r0",
            ("",),
            (Match(PathMatch("prefix", "/"), headers=(HeaderMatch("X-Env", "blue"),)),),
            (WeightedBackend(Backend("blue", "ns", 80)),),
            precedence=(0,),
        ),
        Rule(
            Source("Test", "ns", "plain"),
            "r1",
            ("",),
            (Match(PathMatch("prefix", "/")),),
            (WeightedBackend(Backend("plain", "ns", 80)),),
            precedence=(1,),
        ),
    )
    table = RouteTable.from_rules(RuleSet(rules))
    match = table.match("any.host", "/x")
    assert match is not None
    assert match.backend.describe() == "plain:80"
    blue = table.decide(Request(host="any.host", path="/x", headers={"x-env": "blue"}))
    assert served_by(blue) == "blue:80"
    with pytest.raises(TypeError):
        table.with_changes()
