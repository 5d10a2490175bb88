"""Fuzzed ingress-nginx annotation values: problems, never exceptions.

Any value of any annotation of the catalogue, on Ingresses with regex-looking paths,
TLS and a Secret: `RouteTable.build` succeeds, every problem names an annotation of the
Ingress (its field is `metadata.annotations[...]`), and `decide()` answers every request
without raising (a forward, a redirect or a response).
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingresslib import Request, RouteTable, load_manifests, testing
from ingresslib.ingress.annotations import CATALOGUE, NGINX_PREFIX, annotation_status

IMPLEMENTED = sorted(name for name in CATALOGUE if annotation_status(name) == "implemented")

# Values that reach every branch of the parsers: booleans, numbers, sizes, CIDRs, URLs,
# regexes and captures, header names, and plain garbage (Unicode, separators, newlines).
VALUES = st.one_of(
    st.sampled_from(
        [
            "true",
            "false",
            "True",
            "0",
            "1",
            "-1",
            "100",
            "99999999999999999999",
            "5m",
            "1k",
            "0",
            "10.0.0.0/8",
            "10.0.0/8",
            "::1, 127.0.0.1",
            "https://a.example.com",
            "*",
            "https://*.x.com, http://y",
            "not a url",
            "/$1/$2",
            "/x",
            "$host",
            "GET",
            "X-User, X-Other",
            "basic",
            "digest",
            "auth-map",
            "cookie",
            "persistent",
            "ewma",
            "$request_uri",
            "always",
            "never",
            "^Do.*$",
            "(",
            "/foo(/|$)(.*)",
            "",
            " ",
            "a\nb",
            "ü",
            "%00",
            "308",
            "301",
            "302",
        ]
    ),
    st.text(max_size=24),
)


@st.composite
def annotated(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(st.sampled_from(IMPLEMENTED), min_size=1, max_size=6, unique=True))
    annotations = {NGINX_PREFIX + name: draw(VALUES) for name in names}
    path = draw(st.sampled_from(["/", "/api", "/api(/|$)(.*)", "/a.b", "/x/[a-z]+"]))
    path_type = draw(st.sampled_from(["Prefix", "Exact", "ImplementationSpecific"]))
    main = testing.ingress(
        "fuzzed",
        [testing.ingress_rule("fuzz.test", testing.ingress_path(path, "svc", path_type=path_type))],
        annotations=annotations,
        tls=[testing.ingress_tls("tls", "fuzz.test")] if draw(st.booleans()) else (),
    )
    other = testing.ingress(
        "other", [testing.ingress_rule("fuzz.test", testing.ingress_path("/other", "svc"))]
    )
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": draw(st.sampled_from(["basic-auth", "tls"])), "namespace": "default"},
        "stringData": {"auth": draw(st.sampled_from(["u:{PLAIN}p\n", "garbage", ""]))},
    }
    return [testing.service("svc"), secret, main, other]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=annotated(), path=st.sampled_from(["/", "/api/x", "/other", "/API/Y?q=1"]))
def test_fuzzed_annotations_give_problems_not_exceptions(
    documents: list[dict[str, Any]], path: str
) -> None:
    resources = load_manifests(yaml.safe_dump_all(documents))
    table = RouteTable.build(resources)
    names = set(documents[2]["metadata"]["annotations"])
    for problem in table.annotation_problems:
        assert problem.field.startswith("metadata.annotations[")
        assert problem.field[len("metadata.annotations[") : -1] in names, problem
    target, _, query = path.partition("?")
    for scheme in ("http", "https"):
        request = Request(
            scheme=scheme,
            host="fuzz.test",
            path=target,
            query=query,
            method="OPTIONS" if query else "GET",
            headers=[("origin", "https://a.example.com"), ("cookie", "x=always")],
            client="10.1.2.3",
        )
        decision = table.decide(request)
        assert decision.action in ("forward", "redirect", "respond")
        if decision.action == "redirect":
            assert decision.location
