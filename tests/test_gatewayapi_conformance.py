"""The upstream Gateway API conformance tests (v1.6.1), request by request, through `decide()`.

Every manifest of ../shared/conformance/gateway-api/ is loaded with base/manifests.yaml, as
the suite applies them, and every request its Go test (`conformance/tests/<name>.go` of
sigs.k8s.io/gateway-api at v1.6.1) makes becomes one case here: the Gateway it reaches, the
Host, path, method, headers and query it sends, and what must come of it, stated in our own
words. How the suite reads a response (`conformance/utils/http`):

- a request with no Host of its own reaches the Gateway by its address (an IP, with the
  port unless it is 80 for http or 443 for https): it matches only listeners and routes
  without hostnames;
- an expected Backend (and Namespace) means the request was forwarded to that Service;
  the echo backend then reports the path, Host and headers it received, which must be the
  request's own unless the test expects others (so every forwarded case here also checks
  the upstream path, Host and request headers);
- an expected RedirectRequest is the Location's scheme, host, port and path; a part it
  leaves empty is the request's scheme and path, and "80/443 or no port";
- any other status is the status of the response.

(`Decision.path` and `authority` are what the backend sees; the header expectations apply
`Decision.request_headers` to the request's headers.)
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest
import yaml

import ingresslib
from ingresslib import Decision, Request
from ingresslib.rules import HeaderChanges, RequestHeaders, ResponseHeaders, WeightedBackend
from tests.support import conformance_dir

#: The class name the suite substitutes for "{GATEWAY_CLASS_NAME}", and its controller.
GATEWAY_CLASS = "ingresslib-conformance"
CONTROLLER = "ingresslib.dev/conformance"
#: The address the suite reaches every Gateway by (TEST-NET-1).
GATEWAY_ADDRESS = "192.0.2.10"
#: `confsuite.InfrastructureNamespace`: the namespace of the Gateways, routes and backends.
INFRA = "gateway-conformance-infra"

_WELL_KNOWN = {"http": 80, "https": 443}

# What the suite adds to the manifests before a test: the GatewayClass it names, and the
# certificate its HTTPS listeners refer to (the suite creates it as a self-signed Secret).
_SUITE_DOCUMENTS: list[dict[str, Any]] = [
    {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "GatewayClass",
        "metadata": {"name": GATEWAY_CLASS},
        "spec": {"controllerName": CONTROLLER},
    },
    {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "tls-validity-checks-certificate", "namespace": INFRA},
        "type": "kubernetes.io/tls",
        "stringData": {"tls.crt": "not checked here", "tls.key": "not checked here"},
    },
]


def manifest_text(names: Sequence[str], inline: str = "") -> str:
    """The YAML of base/manifests.yaml, the named test manifests and `inline` documents, as
    the suite applies them."""
    root = conformance_dir("gateway-api")
    parts = [(root / "base" / "manifests.yaml").read_text(encoding="utf-8")]
    parts.extend((root / name).read_text(encoding="utf-8") for name in names)
    parts.append(yaml.safe_dump_all(_SUITE_DOCUMENTS))
    if inline:
        parts.append(inline)
    return "\n---\n".join(parts).replace("{GATEWAY_CLASS_NAME}", GATEWAY_CLASS)


@functools.cache
def gateway_table(manifests: tuple[str, ...], inline: str, gateway: str) -> ingresslib.RouteTable:
    """The table of one Gateway of the infra namespace, built from the test's manifests."""
    resources = ingresslib.load_manifests(manifest_text(manifests, inline), unknown_kinds="ignore")
    return ingresslib.RouteTable.build(
        resources, controller=CONTROLLER, gateway=f"{INFRA}/{gateway}"
    )


@attrs.frozen
class Location:
    """An expected redirect target, as the suite reads a Location (None: the suite's default).

    scheme None: the request's; host None: the request's Host (the spec: "When empty, the
    hostname in the `Host` header of the request is used"); port None: no port in the URL
    (the spec: implementations "SHOULD NOT add the port number" for http on 80 and https on
    443); path None: the request's path.
    """

    scheme: str | None = None
    host: str | None = None
    port: int | None = None
    path: str | None = None


@attrs.frozen
class MirrorTo:
    """A backend a copy of the request must go to, and the share of requests copied."""

    name: str
    namespace: str = INFRA
    percent: float = 100.0
    port: int = 8080


def _alternatives(values: Mapping[str, str | tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
    return {name: (v,) if isinstance(v, str) else v for name, v in values.items()}


@attrs.frozen
class Case:
    """One request of an upstream test and what must come of it.

    Attributes:
        test: the upstream test's ShortName.
        manifests: the shared manifests it applies (besides base/manifests.yaml).
        inline: YAML of the test's own manifests, when they are not in the shared folder
            (stated here in our own words).
        gateway: the Gateway (in the infra namespace) it sends the request to.
        path: the request path, with "?query" when it has one.
        host: the Host header (None: the Gateway's address, with a non-default port).
        method, headers, scheme, port, sni: the rest of the request.
        status: 200 (forwarded), a redirect status, or the status of the response (500:
            answered 500, or forwarded only to shares that cannot be served, which the
            executor answers 500).
        answered: the gateway answers by itself (a CORS preflight) with one of `statuses`
            (or `status`).
        backend: the Service it is forwarded to (in `namespace`, on `backend_port`).
        weights: for weighted rules: every (Service, weight) share, in rule order.
        location: for redirects: the expected Location.
        upstream_path: the path the backend sees (None: the request's).
        upstream_host: the Host the backend sees (None: the request's, unchanged).
        upstream_headers: headers the backend must see with these values (None: the
            request's own, unchanged); absent_headers: headers it must not see.
        share_header: a header each share sets to its own Service name (backendRef filters).
        response_headers: headers the client must see (a tuple: any of these values);
            absent_response_headers: headers it must not see; ignore_whitespace: compare
            values without spaces (the suite's IgnoreWhitespace).
        backend_response_headers: what the backend answers with (before the gateway edits).
        mirrors: where copies of the request go, with their share.
        timeouts: the rule's (request, backendRequest) timeouts in seconds.
    """

    test: str
    manifests: tuple[str, ...]
    gateway: str
    path: str
    inline: str = ""
    host: str | None = None
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    scheme: str = "http"
    port: int = 80
    sni: str | None = None
    status: int = 200
    answered: bool = False
    statuses: tuple[int, ...] = ()
    backend: str | None = None
    namespace: str = INFRA
    backend_port: int | None = 8080
    weights: tuple[tuple[str, int], ...] | None = None
    location: Location | None = None
    upstream_path: str | None = None
    upstream_host: str | None = None
    upstream_headers: Mapping[str, str] | None = None
    absent_headers: tuple[str, ...] = ()
    share_header: str | None = None
    response_headers: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=dict, converter=_alternatives
    )
    absent_response_headers: tuple[str, ...] = ()
    ignore_whitespace: bool = False
    backend_response_headers: tuple[tuple[str, str], ...] = ()
    mirrors: tuple[MirrorTo, ...] | None = None
    timeouts: tuple[float | None, float | None] | None = None
    number: int = 0

    @property
    def host_header(self) -> str:
        """The Host the suite sends: the test's, or the Gateway's address."""
        if self.host is not None:
            return self.host
        if _WELL_KNOWN[self.scheme] == self.port:
            return GATEWAY_ADDRESS
        return f"{GATEWAY_ADDRESS}:{self.port}"

    @property
    def request_path(self) -> str:
        return self.path.partition("?")[0]

    def request(self) -> Request:
        path, _, query = self.path.partition("?")
        return Request(
            method=self.method,
            scheme=self.scheme,
            host=self.host_header,
            path=path,
            query=query,
            headers=self.headers,
            port=self.port,
            sni=self.sni,
        )

    def decide(self) -> Decision:
        """The decision of the Gateway's table for this request."""
        return gateway_table(self.manifests, self.inline, self.gateway).decide(self.request())

    @property
    def id(self) -> str:
        headers = f" {self.headers}" if self.headers else ""
        target = f"{self.method} {self.host_header}{self.path}{headers}"
        return f"{self.test}-{self.number:02d}-{self.gateway}-{target}"


_COUNTERS: dict[str, Iterator[int]] = {}


def suite(
    test: str, *manifests: str, gateway: str = "same-namespace", **common: Any
) -> Callable[..., Case]:
    """A maker of the cases of one upstream test (numbered in the order of the Go test,
    across every maker of the same test)."""
    counter = _COUNTERS.setdefault(test, itertools.count())

    def case(path: str, **expected: Any) -> Case:
        fields = {"gateway": gateway, **common, **expected}
        return Case(test, manifests, path=path, number=next(counter), **fields)

    return case


def _headers(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Fields by lower-case name, repeated ones joined with "," (as the suite compares them)."""
    joined: dict[str, list[str]] = {}
    for name, value in pairs:
        joined.setdefault(name.lower(), []).append(value)
    return {name: ",".join(values) for name, values in joined.items()}


def _edited(
    pairs: Sequence[tuple[str, str]], *edits: HeaderChanges | None
) -> list[tuple[str, str]]:
    for changes in edits:
        if changes is not None:
            pairs = changes.apply(pairs)
    return list(pairs)


def _share_changes(share: WeightedBackend, kind: type[Any]) -> list[HeaderChanges]:
    return [step.changes for step in share.filters if isinstance(step, kind)]


def _check_response_headers(case: Case, pairs: Sequence[tuple[str, str]]) -> None:
    response = _headers(pairs)

    def squeeze(value: str) -> str:
        return value.replace(" ", "") if case.ignore_whitespace else value

    for name, values in case.response_headers.items():
        got = response.get(name.lower())
        assert got is not None, (name, response)
        assert squeeze(got) in {squeeze(v) for v in values}, (name, response)
    for name in case.absent_response_headers:
        assert name.lower() not in response, (name, response)


def _check_redirect(case: Case, decision: Decision, want: Location) -> None:
    assert (decision.action, decision.status) == ("redirect", case.status), decision
    assert decision.location is not None
    url = urlsplit(decision.location)
    assert url.scheme == (want.scheme or case.scheme), decision.location
    assert url.hostname == (want.host or urlsplit(f"//{case.host_header}").hostname)
    assert url.port == want.port, decision.location
    assert url.path == (want.path or case.request_path), decision.location


def check(case: Case, decision: Decision) -> None:
    """Assert that `decision` is what the upstream test expects of `case`."""
    if case.location is not None:
        _check_redirect(case, decision, case.location)
        return
    if case.answered:
        assert decision.action == "respond", decision
        assert decision.status in (case.statuses or (case.status,)), decision
        _check_response_headers(case, _edited((), decision.response_headers))
        return
    if case.status == 500 and decision.action == "forward":
        # Every share is one the executor answers 500 for.
        assert decision.backends, decision
        assert all(s.invalid for s in decision.backends), decision
        return
    if case.status != 200:
        assert (decision.action, decision.status) == ("respond", case.status), decision
        return
    assert (decision.action, decision.status) == ("forward", None), decision
    shares = tuple((b.backend.name, b.weight) for b in decision.backends)
    if case.weights is not None:
        assert shares == case.weights
    else:
        assert [name for name, _ in shares] == [case.backend]
    for share in decision.backends:
        assert share.invalid is None, share
        assert (share.backend.namespace, share.backend.port) == (case.namespace, case.backend_port)
    # The backend sees the request's path, Host and headers unless the test expects others
    # (the rule's header edits, then those of the share it goes to).
    assert decision.path == (case.upstream_path or case.request_path)
    assert decision.authority == case.upstream_host
    expected = _headers(case.headers) if case.upstream_headers is None else case.upstream_headers
    for share in decision.backends:
        edits = (decision.request_headers, *_share_changes(share, RequestHeaders))
        upstream = _headers(_edited(case.headers, *edits))
        for name, value in expected.items():
            assert upstream.get(name.lower()) == value, (name, upstream)
        for name in case.absent_headers:
            assert name.lower() not in upstream, (name, upstream)
        if case.share_header is not None:
            assert upstream.get(case.share_header.lower()) == share.backend.name, upstream
        edits = (decision.response_headers, *_share_changes(share, ResponseHeaders))
        _check_response_headers(case, _edited(case.backend_response_headers, *edits))
    if case.mirrors is not None:
        mirrors = tuple(
            MirrorTo(
                m.backend.name,
                m.backend.namespace,
                100 * m.fraction[0] / m.fraction[1],
                port=m.backend.port or 0,
            )
            for m in decision.mirrors
        )
        assert mirrors == case.mirrors
        assert all(m.invalid is None for m in decision.mirrors)
    if case.timeouts is not None:
        assert decision.timeouts is not None
        assert (decision.timeouts.request, decision.timeouts.backend_request) == case.timeouts


# --- the cases, test by test ---------------------------------------------------------------

CASES: list[Case] = []
V1, V2, V3 = "infra-backend-v1", "infra-backend-v2", "infra-backend-v3"

# HTTPRouteSimpleSameNamespace: a route without matches sends everything to infra-backend-v1.
c = suite("HTTPRouteSimpleSameNamespace", "httproute-simple-same-namespace.yaml")
CASES += [c("/", backend=V1)]

# HTTPRouteExactPathMatching: /one and /two exactly (case-sensitive, no trailing slash or
# deeper path); anything else is not found.
c = suite("HTTPRouteExactPathMatching", "httproute-exact-path-matching.yaml")
CASES += [
    c("/one", backend=V1),
    c("/two", backend=V2),
    c("/", status=404),
    c("/one/example", status=404),
    c("/two/", status=404),
    c("/Two", status=404),
]

# HTTPRouteHeaderMatching: header values select the backend; the match with more headers
# (version two and color orange) wins over version two alone; matches of one rule are ORed.
c = suite("HTTPRouteHeaderMatching", "httproute-header-matching.yaml")
CASES += [
    c("/", headers=(("Version", "one"),), backend=V1),
    c("/", headers=(("Version", "two"),), backend=V2),
    c("/", headers=(("Version", "two"), ("Color", "orange")), backend=V1),
    c("/", headers=(("Version", "two"), ("Color", "blue")), backend=V2),
    c("/", headers=(("Color", "orange"),), status=404),
    c("/", headers=(("Some-Other-Header", "one"),), status=404),
    c("/", headers=(("Color", "blue"),), backend=V1),
    c("/", headers=(("Color", "green"),), backend=V1),
    c("/", headers=(("Color", "red"),), backend=V2),
    c("/", headers=(("Color", "yellow"),), backend=V2),
    c("/", headers=(("Color", "purple"),), status=404),
]

# HTTPRouteMethodMatching: the method selects the backend, alone and together with path and
# header conditions; a longer path prefix outranks a method match, and a method match
# outranks a header match.
c = suite("HTTPRouteMethodMatching", "httproute-method-matching.yaml")
CASES += [
    c("/", method="POST", backend=V1),
    c("/", method="GET", backend=V2),
    c("/", method="HEAD", status=404),
    c("/path1", method="GET", backend=V1),
    c("/", method="PUT", headers=(("version", "one"),), backend=V2),
    c("/path2", method="POST", headers=(("version", "two"),), backend=V3),
    c("/path3", method="PATCH", backend=V1),
    c("/path4", method="DELETE", headers=(("version", "three"),), backend=V1),
    c("/", method="PUT", status=404),
    c("/path4", method="DELETE", status=404),
    c("/path5", method="PATCH", backend=V1),
    c("/", method="PATCH", headers=(("version", "four"),), backend=V2),
]

# HTTPRouteQueryParamMatching: query parameters select the backend (names and values are
# case-sensitive, values whole); more parameters outrank fewer; a longer path prefix
# outranks a query match; a query match outranks a header match.
c = suite("HTTPRouteQueryParamMatching", "httproute-query-param-matching.yaml")
CASES += [
    c("/?animal=whale", backend=V1),
    c("/?animal=dolphin", backend=V2),
    c("/?animal=dolphin&color=blue", backend=V3),
    c("/?ANIMAL=Whale", backend=V3),
    c("/?animal=whale&otherparam=irrelevant", backend=V1),
    c("/?animal=dolphin&color=yellow", backend=V2),
    c("/?color=blue", status=404),
    c("/?animal=dog", status=404),
    c("/?animal=whaledolphin", status=404),
    c("/", status=404),
    c("/path1?animal=whale", backend=V1),
    c("/?animal=whale", headers=(("version", "one"),), backend=V2),
    c("/path2?animal=whale", headers=(("version", "two"),), backend=V3),
    c("/path3?animal=shark", backend=V1),
    c("/path4?animal=kraken", headers=(("version", "three"),), backend=V1),
    c("/?animal=shark", status=404),
    c("/path4?animal=kraken", status=404),
    c("/path5?animal=hydra", backend=V1),
    c("/?animal=hydra", headers=(("version", "four"),), backend=V3),
]

# HTTPRouteMatching: the prefix /v2 (element-wise: not /v2example) or the header version two
# go to v2; everything else to v1.
c = suite("HTTPRouteMatching", "httproute-matching.yaml")
CASES += [
    c("/", backend=V1),
    c("/example", backend=V1),
    c("/", headers=(("Version", "one"),), backend=V1),
    c("/v2", backend=V2),
    c("/v2/example", backend=V2),
    c("/", headers=(("Version", "two"),), backend=V2),
    c("/v2/", backend=V2),
    c("/v2example", backend=V1),
    c("/foo/v2/example", backend=V1),
]

# HTTPRouteMatchingAcrossRoutes: the same matches split over two routes; the second claims
# only example.com, so example.net never reaches v2.
c = suite("HTTPRouteMatchingAcrossRoutes", "httproute-matching-across-routes.yaml")
CASES += [
    c("/", host="example.com", backend=V1),
    c("/example", host="example.com", backend=V1),
    c("/example", host="example.net", backend=V1),
    c("/example", host="example.com", headers=(("Version", "one"),), backend=V1),
    c("/v2", host="example.com", backend=V2),
    c("/v2", host="example.net", backend=V1),
    c("/v2/example", host="example.com", backend=V2),
    c("/", host="example.com", headers=(("Version", "two"),), backend=V2),
]

# HTTPRoutePathMatchOrder: Exact paths before prefixes, longer prefixes before shorter ones.
c = suite("HTTPRoutePathMatchOrder", "httproute-path-match-order.yaml")
CASES += [
    c("/match/exact/one", backend=V3),
    c("/match/exact", backend=V2),
    c("/match", backend=V1),
    c("/match/prefix/one/any", backend=V2),
    c("/match/prefix/any", backend=V1),
    c("/match/any", backend=V3),
]

# HTTPRouteHostnameIntersection: a route serves only the hostnames it shares with a listener
# (a wildcard listener takes one or more labels); a route sharing none serves nothing; a
# listener without hostname serves exactly the route's hostnames.
hosts = "httproute-hostname-intersection.yaml"
c = suite("HTTPRouteHostnameIntersection", hosts, gateway="httproute-hostname-intersection")
CASES += [
    # specific-host-matches-listener-specific-host: only very.specific.com (any port in Host).
    c("/s1", host="very.specific.com", backend=V1),
    c("/s1", host="very.specific.com:1234", backend=V1),
    c("/s1", host="non.matching.com", status=404),
    c("/s1", host="foo.nonmatchingwildcard.io", status=404),
    c("/s1", host="foo.wildcard.io", status=404),
    c("/non-matching-prefix", host="very.specific.com", status=404),
    # specific-host-matches-listener-wildcard-host: its hosts under *.wildcard.io.
    c("/s2", host="foo.wildcard.io", backend=V2),
    c("/s2", host="bar.wildcard.io", backend=V2),
    c("/s2", host="foo.bar.wildcard.io", backend=V2),
    c("/s2", host="non.matching.com", status=404),
    c("/s2", host="wildcard.io", status=404),
    c("/s2", host="very.specific.com", status=404),
    c("/non-matching-prefix", host="foo.wildcard.io", status=404),
    # wildcard-host-matches-listener-specific-host: *.specific.com narrows to very.specific.com.
    c("/s3", host="very.specific.com", backend=V3),
    c("/s3", host="non.matching.com", status=404),
    c("/s3", host="foo.specific.com", status=404),
    c("/s3", host="foo.wildcard.io", status=404),
    c("/non-matching-prefix", host="very.specific.com", status=404),
    # wildcard-host-matches-listener-wildcard-host: *.anotherwildcard.io, one or more labels.
    c("/s4", host="foo.anotherwildcard.io", backend=V1),
    c("/s4", host="bar.anotherwildcard.io", backend=V1),
    c("/s4", host="foo.bar.anotherwildcard.io", backend=V1),
    c("/s4", host="anotherwildcard.io", status=404),
    c("/s4", host="foo.wildcard.io", status=404),
    c("/s4", host="very.specific.com", status=404),
    c("/non-matching-prefix", host="foo.anotherwildcard.io", status=404),
    # no-intersecting-hosts: not accepted, so it serves none of its hosts.
    c("/s5", host="specific.but.wrong.com", status=404),
    c("/s5", host="wildcard.io", status=404),
]
c = suite("HTTPRouteHostnameIntersection", hosts, gateway="httproute-hostname-intersection-all")
CASES += [
    # httproute-hostname-intersection-all on a listener without hostname: its four hosts only.
    c("/", host="first.com", backend=V2),
    c("/", host="sub.first.com", backend=V2),
    c("/", host="second.com", backend=V2),
    c("/", host="sub.second.com", backend=V2),
    c("/", host="third.com", status=404),
    c("/", host="sub.third.com", status=404),
]

# HTTPRouteListenerHostnameMatching: one port, four listeners; each Host reaches the most
# specific listener hostname that covers it, and only the routes attached there.
c = suite(
    "HTTPRouteListenerHostnameMatching",
    "httproute-listener-hostname-matching.yaml",
    gateway="httproute-listener-hostname-matching",
)
CASES += [
    c("/", host="bar.com", backend=V1),
    c("/", host="foo.bar.com", backend=V2),
    c("/", host="baz.bar.com", backend=V3),
    c("/", host="boo.bar.com", backend=V3),
    c("/", host="multiple.prefixes.bar.com", backend=V3),
    c("/", host="multiple.prefixes.foo.com", backend=V3),
    c("/", host="foo.com", status=404),
    c("/", host="no.matching.host", status=404),
]

# HTTPRouteListenerPortMatching: routes attach by parentRef port; a request reaches the
# listeners of the port it arrives on (the port of its Host here), by hostname.
c = suite(
    "HTTPRouteListenerPortMatching",
    "httproute-listener-port-matching.yaml",
    gateway="httproute-listener-port-matching",
)
CASES += [
    c("/", host="foo.com", backend=V1),
    c("/", host="foo.com:8080", port=8080, backend=V2),
    c("/", host="bar.com:8080", port=8080, backend=V2),
    c("/", host="foo.com:8090", port=8090, backend=V3),
    c("/", host="bar.com:8090", port=8090, status=404),
]

# HTTPRouteHTTPSListener: over TLS (SNI = Host), example.org reaches the route of the
# hostname-less listener, second-example.org the route bound to its own listener.
c = suite(
    "HTTPRouteHTTPSListener",
    "httproute-https-listener.yaml",
    gateway="same-namespace-with-https-listener",
    scheme="https",
    port=443,
)
CASES += [
    c("/", host="example.org", sni="example.org", backend=V1),
    c("/", host="unknown-example.org", sni="unknown-example.org", status=404),
    c("/", host="second-example.org", sni="second-example.org", backend=V2),
]

# GatewayHTTPListenerIsolation: a request reaches the most specific listener covering its
# Host and only that listener's routes, whether the hostnames are the listeners' alone or
# the routes' too (the same expectations for both Gateways).
for isolation in ("http-listener-isolation", "http-listener-isolation-with-hostname-intersection"):
    c = suite(
        "GatewayHTTPListenerIsolation",
        "gateway-http-listener-isolation.yaml",
        "gateway-http-listener-isolation-with-hostname-intersection.yaml",
        gateway=isolation,
    )
    CASES += [
        c("/empty-hostname", host="bar.com", backend=V1),
        c("/wildcard-example-com", host="bar.com", status=404),
        c("/wildcard-foo-example-com", host="bar.com", status=404),
        c("/abc-foo-example-com", host="bar.com", status=404),
        c("/empty-hostname", host="bar.example.com", status=404),
        c("/wildcard-example-com", host="bar.example.com", backend=V1),
        c("/wildcard-foo-example-com", host="bar.example.com", status=404),
        c("/abc-foo-example-com", host="bar.example.com", status=404),
        c("/empty-hostname", host="bar.foo.example.com", status=404),
        c("/wildcard-example-com", host="bar.foo.example.com", status=404),
        c("/wildcard-foo-example-com", host="bar.foo.example.com", backend=V1),
        c("/abc-foo-example-com", host="bar.foo.example.com", status=404),
        c("/empty-hostname", host="abc.foo.example.com", status=404),
        c("/wildcard-example-com", host="abc.foo.example.com", status=404),
        c("/wildcard-foo-example-com", host="abc.foo.example.com", status=404),
        c("/abc-foo-example-com", host="abc.foo.example.com", backend=V1),
    ]

# HTTPRouteRedirectHostAndStatus: the redirect keeps scheme, port and path, changes the host,
# 302 unless another status is given.
c = suite("HTTPRouteRedirectHostAndStatus", "httproute-redirect-host-and-status.yaml")
CASES += [
    c("/hostname-redirect", status=302, location=Location(host="example.org")),
    c("/host-and-status", status=301, location=Location(host="example.org")),
]

# HTTPRouteRedirectPath: ReplacePrefixMatch swaps the matched prefix, ReplaceFullPath the
# whole path; with a host or a status besides.
c = suite("HTTPRouteRedirectPath", "httproute-redirect-path.yaml")
CASES += [
    c("/original-prefix/lemon", status=302, location=Location(path="/replacement-prefix/lemon")),
    c("/full/path/original", status=302, location=Location(path="/full-path-replacement")),
    c(
        "/path-and-host",
        status=302,
        location=Location(host="example.org", path="/replacement-prefix"),
    ),
    c("/path-and-status", status=301, location=Location(path="/replacement-prefix")),
    c(
        "/full-path-and-host",
        status=302,
        location=Location(host="example.org", path="/replacement-full"),
    ),
    c("/full-path-and-status", status=301, location=Location(path="/replacement-full")),
]

# HTTPRouteRedirectPort: the Location carries the given port.
c = suite("HTTPRouteRedirectPort", "httproute-redirect-port.yaml")
CASES += [
    c("/port", status=302, location=Location(port=8083)),
    c("/port-and-host", status=302, location=Location(host="example.org", port=8083)),
    c("/port-and-status", status=301, location=Location(port=8083)),
    c("/port-and-host-and-status", status=302, location=Location(host="example.org", port=8083)),
]

# HTTPRouteRedirectScheme: the Location uses https (on its well-known port, not shown).
c = suite("HTTPRouteRedirectScheme", "httproute-redirect-scheme.yaml")
CASES += [
    c("/scheme", status=302, location=Location(scheme="https")),
    c("/scheme-and-host", status=302, location=Location(scheme="https", host="example.org")),
    c("/scheme-and-status", status=301, location=Location(scheme="https")),
    c(
        "/scheme-and-host-and-status",
        status=302,
        location=Location(scheme="https", host="example.org"),
    ),
]

# HTTPRouteRedirectPortAndScheme: without a port, the Location uses the well-known port of
# a given scheme, else the listener's port; ports 80 for http and 443 for https are left out.
redirects = "httproute-redirect-port-and-scheme.yaml"
c = suite("HTTPRouteRedirectPortAndScheme", redirects)
CASES += [
    c("/scheme-nil-and-port-nil", status=302, location=Location("http", "example.org")),
    c("/scheme-nil-and-port-80", status=302, location=Location("http", "example.org")),
    c("/scheme-nil-and-port-8080", status=302, location=Location("http", "example.org", 8080)),
    c("/scheme-https-and-port-nil", status=302, location=Location("https", "example.org")),
    c("/scheme-https-and-port-443", status=302, location=Location("https", "example.org")),
    c(
        "/scheme-https-and-port-8443",
        status=302,
        location=Location("https", "example.org", 8443),
    ),
]
c = suite(
    "HTTPRouteRedirectPortAndScheme",
    redirects,
    gateway="same-namespace-with-http-listener-on-8080",
    port=8080,
)
CASES += [
    c("/scheme-nil-and-port-nil", status=302, location=Location("http", "example.org", 8080)),
    c("/scheme-nil-and-port-80", status=302, location=Location("http", "example.org")),
    c("/scheme-https-and-port-nil", status=302, location=Location("https", "example.org")),
]
c = suite(
    "HTTPRouteRedirectPortAndScheme",
    redirects,
    gateway="same-namespace-with-https-listener",
    host="example.org",
    scheme="https",
    port=443,
    sni="example.org",
)
CASES += [
    c("/scheme-nil-and-port-nil", status=302, location=Location("https", "example.org")),
    c("/scheme-nil-and-port-443", status=302, location=Location("https", "example.org")),
    c(
        "/scheme-nil-and-port-8443",
        status=302,
        location=Location("https", "example.org", 8443),
    ),
    c("/scheme-http-and-port-nil", status=302, location=Location("http", "example.org")),
    c("/scheme-http-and-port-80", status=302, location=Location("http", "example.org")),
    c(
        "/scheme-http-and-port-8080",
        status=302,
        location=Location("http", "example.org", 8080),
    ),
]

# HTTPRouteWeight: the rule's three shares 70/30/0 (the suite checks a 0.7/0.3/0.0
# distribution); the Decision carries every share with its weight, in rule order.
c = suite("HTTPRouteWeight", "httproute-weight.yaml")
CASES += [c("/", weights=((V1, 70), (V2, 30), (V3, 0)))]


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_upstream_conformance_request(case: Case) -> None:
    check(case, case.decide())


def test_every_shared_manifest_has_cases() -> None:
    """Each test manifest of the shared folder is exercised by the cases above."""
    shared = {path.name for path in conformance_dir("gateway-api").glob("*.yaml")}
    covered = {name for case in CASES for name in case.manifests}
    assert shared == covered


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_the_weighted_shares_are_the_upstream_distribution() -> None:
    """HTTPRouteWeight expects 0.7 / 0.3 / 0.0 of the requests: the weights' shares."""
    (case,) = (case for case in CASES if case.test == "HTTPRouteWeight")
    decision = case.decide()
    total = sum(share.weight for share in decision.backends)
    assert {s.backend.name: s.weight / total for s in decision.backends} == {
        V1: 0.7,
        V2: 0.3,
        V3: 0.0,
    }
