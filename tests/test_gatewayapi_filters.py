"""The Gateway API filters' building blocks, row by row of the spec (`apis/v1/httproute_types.go`,
v1.6.1): ReplacePrefixMatch, hostname intersection, redirect ports, CORS origins, and the
filters the front-end compiles from HTTPRoutes (timeouts, header edits, backendRef filters).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import ingresslib
from ingresslib import Request
from ingresslib.resources import IngressBackend
from ingresslib.routing import RouteMatch
from ingresslib.routing._apply import origin_allowed, redirect_location
from ingresslib.rules import PathModifier, Redirect, intersect_hostnames, replace_prefix

# --- ReplacePrefixMatch ---------------------------------------------------------------------------

# HTTPPathModifier.ReplacePrefixMatch: "Request Path | Prefix Match | Replace Prefix |
# Modified Path", every row of the spec's table.
SPEC_TABLE = [
    ("/foo/bar", "/foo", "/xyz", "/xyz/bar"),
    ("/foo/bar", "/foo", "/xyz/", "/xyz/bar"),
    ("/foo/bar", "/foo/", "/xyz", "/xyz/bar"),
    ("/foo/bar", "/foo/", "/xyz/", "/xyz/bar"),
    ("/foo", "/foo", "/xyz", "/xyz"),
    ("/foo/", "/foo", "/xyz", "/xyz/"),
    ("/foo/bar", "/foo", "", "/bar"),
    ("/foo/", "/foo", "", "/"),
    ("/foo", "/foo", "", "/"),
    ("/foo/", "/foo", "/", "/"),
    ("/foo", "/foo", "/", "/"),
]


@pytest.mark.parametrize(("path", "prefix", "replacement", "expected"), SPEC_TABLE)
def test_replace_prefix_is_the_spec_table(
    path: str, prefix: str, replacement: str, expected: str
) -> None:
    assert replace_prefix(path, prefix, replacement) == expected


@pytest.mark.parametrize(("path", "prefix", "replacement", "expected"), SPEC_TABLE)
def test_a_path_modifier_replaces_the_matched_prefix(
    path: str, prefix: str, replacement: str, expected: str
) -> None:
    assert PathModifier("ReplacePrefixMatch", replacement).apply(path, prefix) == expected


@pytest.mark.parametrize(
    ("path", "prefix", "replacement", "expected"),
    [
        # The prefix "/" (a rule without path match) covers the whole path.
        ("/foo/bar", "/", "/xyz", "/xyz/foo/bar"),
        ("/foo/bar", "/", "", "/foo/bar"),
        # Deeper prefixes and replacements keep the rest element by element.
        ("/a/b/c/d", "/a/b", "/x/y/z", "/x/y/z/c/d"),
        ("/prefix/one/two", "/prefix/one", "/one", "/one/two"),
        ("/strip-prefix/three", "/strip-prefix", "/", "/three"),
    ],
)
def test_replace_prefix_beyond_the_table(
    path: str, prefix: str, replacement: str, expected: str
) -> None:
    assert replace_prefix(path, prefix, replacement) == expected


def test_replace_full_path_ignores_the_request_path() -> None:
    assert PathModifier("ReplaceFullPath", "/one").apply("/full/one/two", "/full/one") == "/one"


# --- hostname intersection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listener", "route", "expected"),
    [
        # "A Listener with `test.example.com` as the hostname matches HTTPRoutes that have
        # either not specified any hostnames, or have specified at least one of
        # `test.example.com` or `*.example.com`."
        ("test.example.com", "", "test.example.com"),
        ("test.example.com", "test.example.com", "test.example.com"),
        ("test.example.com", "*.example.com", "test.example.com"),
        ("test.example.com", "example.com", None),
        ("test.example.com", "foo.test.example.com", None),
        ("test.example.com", "*.test.example.com", None),
        ("test.example.com", "*.example.net", None),
        # "A Listener with `*.example.com` as the hostname matches HTTPRoutes that have
        # either not specified any hostnames or have specified at least one hostname that
        # matches the Listener hostname. For example, `*.example.com`, `test.example.com`,
        # and `foo.test.example.com` would all match. On the other hand, `example.com` and
        # `test.example.net` would not match."
        ("*.example.com", "", "*.example.com"),
        ("*.example.com", "*.example.com", "*.example.com"),
        ("*.example.com", "test.example.com", "test.example.com"),
        ("*.example.com", "foo.test.example.com", "foo.test.example.com"),
        ("*.example.com", "example.com", None),
        ("*.example.com", "test.example.net", None),
        # Two wildcards: the narrower ("the hostname cannot be less specific than" the
        # listener's, as the listener isolation manifests put it).
        ("*.example.com", "*.foo.example.com", "*.foo.example.com"),
        ("*.foo.example.com", "*.example.com", "*.foo.example.com"),
        ("abc.foo.example.com", "*.example.com", "abc.foo.example.com"),
        ("abc.foo.example.com", "*.foo.example.com", "abc.foo.example.com"),
        ("*.foo.example.com", "bar.com", None),
        ("*.example.com", "*.example.net", None),
        # A wildcard label matches whole labels only.
        ("*.example.com", "testexample.com", None),
        ("*.ample.com", "test.example.com", None),
        # A listener without hostname serves the route's hostnames as they are.
        ("", "very.specific.com", "very.specific.com"),
        ("", "*.wildcard.io", "*.wildcard.io"),
        ("", "", ""),
    ],
)
def test_intersect_hostnames(listener: str, route: str, expected: str | None) -> None:
    assert intersect_hostnames(listener, route) == expected


# --- redirect ports -------------------------------------------------------------------------------


def _location(
    step: Redirect,
    *,
    scheme: str = "http",
    port: int | None = 80,
    host: str = "gw.example",
    path: str = "/p",
    query: str = "",
) -> str:
    match = RouteMatch(IngressBackend(), None, "", "/p", "PathPrefix")
    request = Request(scheme=scheme, host=host, path=path, port=port)
    return redirect_location(step, match, request, name=host, path=path, query=query)


@pytest.mark.parametrize(
    ("step", "scheme", "port", "expected"),
    [
        # "If redirect scheme is empty, the redirect port MUST be the Gateway Listener port",
        # left out for http on 80 and https on 443 ("Implementations SHOULD NOT add the port
        # number in the 'Location' header" then).
        (Redirect(), "http", 80, "http://gw.example/p"),
        (Redirect(), "http", 8080, "http://gw.example:8080/p"),
        (Redirect(), "https", 443, "https://gw.example/p"),
        (Redirect(), "https", 8443, "https://gw.example:8443/p"),
        (Redirect(), "http", None, "http://gw.example/p"),
        (Redirect(), "https", None, "https://gw.example/p"),
        # "If redirect scheme is not-empty, the redirect port MUST be the well-known port
        # associated with the redirect scheme. Specifically "http" to port 80 and "https"
        # to port 443."
        (Redirect(scheme="https"), "http", 80, "https://gw.example/p"),
        (Redirect(scheme="https"), "http", 8080, "https://gw.example/p"),
        (Redirect(scheme="http"), "https", 443, "http://gw.example/p"),
        (Redirect(scheme="http"), "https", 8443, "http://gw.example/p"),
        (Redirect(scheme="http"), "http", 8080, "http://gw.example/p"),
        # "Port is the port to be used in the value of the `Location` header": it wins, and
        # is shown unless it is the well-known port of the Location's scheme.
        (Redirect(port=8083), "http", 80, "http://gw.example:8083/p"),
        (Redirect(port=80), "http", 8080, "http://gw.example/p"),
        (Redirect(port=443), "https", 443, "https://gw.example/p"),
        (Redirect(port=8443), "https", 443, "https://gw.example:8443/p"),
        (Redirect(scheme="https", port=8443), "http", 80, "https://gw.example:8443/p"),
        (Redirect(scheme="https", port=443), "http", 80, "https://gw.example/p"),
        (Redirect(scheme="https", port=80), "http", 80, "https://gw.example:80/p"),
        (Redirect(scheme="http", port=443), "https", 443, "http://gw.example:443/p"),
        (Redirect(scheme="http", port=8080), "https", 443, "http://gw.example:8080/p"),
    ],
)
def test_redirect_port_rules(step: Redirect, scheme: str, port: int | None, expected: str) -> None:
    assert _location(step, scheme=scheme, port=port) == expected


def test_redirect_hostname_path_and_query() -> None:
    step = Redirect(hostname="example.org", path=PathModifier("ReplacePrefixMatch", "/new"))
    assert _location(step, path="/p/rest", query="a=1") == "http://example.org/new/rest?a=1"
    assert _location(Redirect(), host="[::1]", port=8080) == "http://[::1]:8080/p"


# --- CORS origins ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allowed", "origin", "expected"),
    [
        (["https://www.foo.com"], "https://www.foo.com", True),
        (["https://www.foo.com"], "http://www.foo.com", False),
        (["https://www.foo.com"], "https://www.foo.com:8443", False),
        # "if not included, port `80` is assumed for `http` scheme origins, and port `443`
        # is assumed for `https` origins."
        (["https://www.foo.com"], "https://www.foo.com:443", True),
        (["http://www.foo.com:80"], "http://www.foo.com", True),
        (["http://www.foo.com:8080"], "http://www.foo.com", False),
        (["http://www.foo.com:8080"], "http://www.foo.com:8080", True),
        # "`*` is a greedy match to the _left_, including any number of DNS labels to the
        # left of its position."
        (["https://*.bar.com"], "https://www.bar.com", True),
        (["https://*.bar.com"], "https://xpto.www.bar.com", True),
        (["https://*.bar.com"], "https://bar.com", False),
        (["https://*.bar.com"], "https://foobar.com", False),
        (["https://*.bar.com"], "http://www.bar.com", False),
        # "A wildcard by itself matches all hosts"; "An origin value that includes _only_
        # the `*` character indicates requests from all `Origin`s are allowed."
        (["https://*"], "https://anything.example", True),
        (["https://*"], "http://anything.example", False),
        (["*"], "https://foobar.com:12345", True),
        (["*"], "null", True),
        # Several origins: any of them.
        (["https://www.foo.com", "https://*.bar.com"], "https://a.bar.com", True),
        (["https://www.foo.com", "https://*.bar.com"], "https://a.foo.com", False),
        # Not an origin at all.
        (["https://www.foo.com"], "null", False),
        (["https://www.foo.com"], "https://www.foo.com/path", False),
        # Hosts compare case-insensitively.
        (["https://www.foo.com"], "https://WWW.Foo.com", True),
        # IPv6 literal origins keep their port apart from the address.
        (["http://[::1]:8080"], "http://[::1]:8080", True),
        (["http://[::1]"], "http://[::1]:80", True),
        (["http://[::1]"], "http://[::1]:8080", False),
    ],
)
def test_origin_allowed(allowed: list[str], origin: str, expected: bool) -> None:
    assert origin_allowed(allowed, origin) is expected


# --- filters compiled from HTTPRoutes -------------------------------------------------------------

GROUP = "gateway.networking.k8s.io"


def _decide(rule: dict[str, Any], request: Request | None = None) -> ingresslib.Decision:
    documents = [
        {
            "apiVersion": f"{GROUP}/v1",
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "ns"},
            "spec": {
                "gatewayClassName": "c",
                "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "svc", "namespace": "ns"},
            "spec": {"ports": [{"port": 80}]},
        },
        {
            "apiVersion": f"{GROUP}/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "r", "namespace": "ns"},
            "spec": {"parentRefs": [{"name": "gw"}], "rules": [rule]},
        },
    ]
    table = ingresslib.RouteTable.build(ingresslib.load_manifests(documents), gateway="ns/gw")
    return table.decide(request or Request(host="a.example", path="/"))


@pytest.mark.parametrize(
    ("timeouts", "expected"),
    [
        ({"request": "500ms"}, (0.5, None)),
        ({"backendRequest": "1m30s"}, (None, 90.0)),
        ({"request": "10s", "backendRequest": "2s"}, (10.0, 2.0)),
        # "Setting a timeout to the zero duration (e.g. "0s") SHOULD disable the timeout
        # completely": no limit at all, not the executor's default.
        ({"request": "0s"}, (math.inf, None)),
        ({"backendRequest": "0ms"}, (None, math.inf)),
        ({"request": "0s", "backendRequest": "0s"}, (math.inf, math.inf)),
    ],
)
def test_timeouts(timeouts: dict[str, str], expected: tuple[float | None, float | None]) -> None:
    decision = _decide({"backendRefs": [{"name": "svc", "port": 80}], "timeouts": timeouts})
    assert decision.timeouts is not None
    assert (decision.timeouts.request, decision.timeouts.backend_request) == expected


def test_a_rule_without_timeouts_leaves_them_to_the_executor() -> None:
    assert _decide({"backendRefs": [{"name": "svc", "port": 80}]}).timeouts is None


def _edits(kind: str, **edits: list[Any]) -> dict[str, Any]:
    key = kind[0].lower() + kind[1:]
    return {"type": kind, key: edits}


def test_header_edits_ignore_later_entries_of_an_equivalent_name() -> None:
    # HTTPHeader: "If multiple entries specify equivalent header names, the first entry
    # with an equivalent name MUST be considered for a match. Subsequent entries with an
    # equivalent header name MUST be ignored. Due to the case-insensitivity of header
    # names, "foo" and "Foo" are considered equivalent."
    edits = {
        "set": [{"name": "X-Set", "value": "first"}, {"name": "x-set", "value": "second"}],
        "add": [{"name": "X-Add", "value": "first"}, {"name": "X-ADD", "value": "second"}],
    }
    decision = _decide(
        {
            "backendRefs": [{"name": "svc", "port": 80}],
            "filters": [
                _edits("RequestHeaderModifier", **edits),
                _edits("ResponseHeaderModifier", **edits),
            ],
        },
        Request(host="a.example", path="/", headers=[("x-add", "sent")]),
    )
    assert decision.request_headers is not None
    assert decision.response_headers is not None
    upstream = dict(decision.request_headers.apply([("x-add", "sent")]))
    assert (upstream["X-Set"], upstream["x-add"]) == ("first", "sent,first")
    response = dict(decision.response_headers.apply([]))
    assert (response["X-Set"], response["X-Add"]) == ("first", "first")


@pytest.mark.parametrize(
    "step",
    [
        {"type": "URLRewrite", "urlRewrite": {"hostname": "other.example"}},
        {"type": "RequestRedirect", "requestRedirect": {"hostname": "other.example"}},
        {
            "type": "RequestMirror",
            "requestMirror": {"backendRef": {"name": "svc", "port": 80}},
        },
        {"type": "ExtensionRef", "extensionRef": {"group": "x.example", "kind": "K", "name": "n"}},
    ],
)
def test_a_backendref_filter_that_cannot_be_applied_is_never_skipped(step: dict[str, Any]) -> None:
    # HTTPBackendRef.filters: "Filters defined at this level should be executed if and only
    # if the request is being forwarded to the backend defined here"; "If a reference to a
    # custom filter type cannot be resolved, the filter MUST NOT be skipped. Instead,
    # requests that would have been processed by that filter MUST receive a HTTP error
    # response." A share whose filter ingresslib cannot run per backend is answered 500
    # (`invalid`), never forwarded as if the filter were not there.
    decision = _decide(
        {
            "backendRefs": [
                {"name": "svc", "port": 80, "filters": [step]},
                {"name": "svc", "port": 80},
            ]
        }
    )
    assert decision.action == "forward"
    filtered, plain = decision.backends
    assert filtered.invalid is not None
    assert step["type"] in filtered.invalid
    assert plain.invalid is None


def test_backendref_header_filters_stay_with_their_share() -> None:
    edits = _edits("RequestHeaderModifier", set=[{"name": "Backend", "value": "one"}])
    decision = _decide(
        {
            "backendRefs": [
                {"name": "svc", "port": 80, "filters": [edits]},
                {"name": "svc", "port": 80},
            ]
        }
    )
    one, other = decision.backends
    assert (one.invalid, other.invalid) == (None, None)
    assert len(one.filters) == 1
    assert other.filters == ()


REDIRECT = {"type": "RequestRedirect", "requestRedirect": {"hostname": "example.org"}}
SET_HEADER = _edits("ResponseHeaderModifier", set=[{"name": "X-Edited", "value": "yes"}])
CORS_ANY = {"type": "CORS", "cors": {"allowOrigins": ["*"], "allowMethods": ["GET"]}}
UNSUPPORTED = {
    "type": "ExtensionRef",
    "extensionRef": {"group": "x.example", "kind": "K", "name": "n"},
}


@pytest.mark.parametrize("filters", [[REDIRECT, SET_HEADER], [SET_HEADER, REDIRECT]])
def test_a_redirect_gets_the_response_header_edits_in_either_order(
    filters: list[dict[str, Any]],
) -> None:
    # "All filters are expected to be compatible with each other except for the URLRewrite
    # and RequestRedirect filters": a ResponseHeaderModifier edits the redirect response,
    # wherever it is in the list.
    decision = _decide({"filters": filters})
    assert (decision.action, decision.location) == ("redirect", "http://example.org/")
    assert decision.response_headers is not None
    assert dict(decision.response_headers.apply([])) == {"X-Edited": "yes"}


@pytest.mark.parametrize("filters", [[REDIRECT, CORS_ANY], [CORS_ANY, REDIRECT]])
def test_cors_answers_the_preflight_of_a_redirecting_rule_in_either_order(
    filters: list[dict[str, Any]],
) -> None:
    preflight = Request(
        method="OPTIONS",
        host="a.example",
        path="/",
        headers=[("Origin", "https://web.example"), ("Access-Control-Request-Method", "GET")],
    )
    decision = _decide({"filters": filters}, preflight)
    assert (decision.action, decision.status) == ("respond", 200)
    simple = Request(host="a.example", path="/", headers=[("Origin", "https://web.example")])
    decision = _decide({"filters": filters}, simple)
    assert decision.action == "redirect"
    assert decision.response_headers is not None
    edited = dict(decision.response_headers.apply([]))
    assert edited["access-control-allow-origin"] == "https://web.example"


@pytest.mark.parametrize("filters", [[REDIRECT, UNSUPPORTED], [UNSUPPORTED, REDIRECT]])
def test_a_filter_that_cannot_be_applied_wins_over_a_redirect(
    filters: list[dict[str, Any]],
) -> None:
    # "If a reference to a custom filter type cannot be resolved, the filter MUST NOT be
    # skipped. Instead, requests that would have been processed by that filter MUST
    # receive a HTTP error response."
    decision = _decide({"filters": filters})
    assert (decision.action, decision.status) == ("respond", 500)


def test_a_rewritten_host_survives_an_absolute_form_target() -> None:
    # HTTPURLRewriteFilter.hostname: "the value to be used to replace the Host header value
    # during forwarding", whatever form the request target had (RFC 9112 §3.2.2: the
    # target's authority only stands in for the received Host header).
    rule = {
        "filters": [{"type": "URLRewrite", "urlRewrite": {"hostname": "one.example.org"}}],
        "backendRefs": [{"name": "svc", "port": 80}],
    }
    assert _decide(rule, Request(host="a.example", path="/")).authority == "one.example.org"
    absolute = Request(host="a.example", path="http://a.example/")
    assert _decide(rule, absolute).authority == "one.example.org"
