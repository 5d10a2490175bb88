"""More upstream Gateway API conformance tests (v1.6.1), with manifests stated inline.

The tests of `conformance/tests/` whose manifests are not in ../shared/conformance: their
routes are restated here with small builders (our own words, not the upstream YAML), loaded
with base/manifests.yaml, and every request of the Go test becomes a case, read as
tests/test_gatewayapi_conformance.py reads them. Tests that only check status conditions
(a route the Gateway refuses) become the routing consequence of that status: the route
serves nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import yaml

from tests.test_gatewayapi_conformance import (
    GATEWAY_CLASS,
    INFRA,
    Case,
    Location,
    MirrorTo,
    check,
    suite,
)

Doc = dict[str, Any]
GROUP = "gateway.networking.k8s.io"
WEB = "gateway-conformance-web-backend"
APP = "gateway-conformance-app-backend"
V1, V2, V3 = "infra-backend-v1", "infra-backend-v2", "infra-backend-v3"


# --- builders ----------------------------------------------------------------------------------


def parent(
    name: str = "same-namespace",
    *,
    namespace: str | None = None,
    section: str | None = None,
    port: int | None = None,
) -> Doc:
    ref: Doc = {"name": name}
    if namespace is not None:
        ref["namespace"] = namespace
    if section is not None:
        ref["sectionName"] = section
    if port is not None:
        ref["port"] = port
    return ref


def route(
    name: str,
    *rules: Doc,
    parents: Sequence[Doc] = (parent(),),
    hostnames: Sequence[str] = (),
    namespace: str = INFRA,
) -> Doc:
    spec: Doc = {"parentRefs": list(parents), "rules": list(rules)}
    if hostnames:
        spec["hostnames"] = list(hostnames)
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def backend(
    name: str = V1,
    *,
    port: int | None = 8080,
    namespace: str | None = None,
    weight: int | None = None,
    filters: Sequence[Doc] = (),
    **ref: str,
) -> Doc:
    out: Doc = {"name": name, **ref}
    if port is not None:
        out["port"] = port
    if namespace is not None:
        out["namespace"] = namespace
    if weight is not None:
        out["weight"] = weight
    if filters:
        out["filters"] = list(filters)
    return out


def rule(
    *matches: Doc,
    backends: Sequence[Doc] | None = (backend(),),
    filters: Sequence[Doc] = (),
    **extra: Any,
) -> Doc:
    out: Doc = {**extra}
    if matches:
        out["matches"] = list(matches)
    if backends is not None:
        out["backendRefs"] = list(backends)
    if filters:
        out["filters"] = list(filters)
    return out


def prefix(value: str) -> Doc:
    return {"path": {"type": "PathPrefix", "value": value}}


def exact(value: str) -> Doc:
    return {"path": {"type": "Exact", "value": value}}


def redirect(**fields: Any) -> Doc:
    return {"type": "RequestRedirect", "requestRedirect": fields}


def rewrite(
    *, hostname: str | None = None, full: str | None = None, prefix: str | None = None
) -> Doc:
    spec: Doc = {}
    if hostname is not None:
        spec["hostname"] = hostname
    if full is not None:
        spec["path"] = {"type": "ReplaceFullPath", "replaceFullPath": full}
    if prefix is not None:
        spec["path"] = {"type": "ReplacePrefixMatch", "replacePrefixMatch": prefix}
    return {"type": "URLRewrite", "urlRewrite": spec}


def header_filter(
    kind: str,
    *,
    set: Sequence[tuple[str, str]] = (),
    add: Sequence[tuple[str, str]] = (),
    remove: Sequence[str] = (),
) -> Doc:
    spec: Doc = {}
    if set:
        spec["set"] = [{"name": n, "value": v} for n, v in set]
    if add:
        spec["add"] = [{"name": n, "value": v} for n, v in add]
    if remove:
        spec["remove"] = list(remove)
    key = kind[0].lower() + kind[1:]
    return {"type": kind, key: spec}


def request_headers(**edits: Any) -> Doc:
    return header_filter("RequestHeaderModifier", **edits)


def response_headers(**edits: Any) -> Doc:
    return header_filter("ResponseHeaderModifier", **edits)


def mirror(name: str, **share: Any) -> Doc:
    return {
        "type": "RequestMirror",
        "requestMirror": {"backendRef": {"name": name, "namespace": INFRA, "port": 8080}, **share},
    }


def cors(**fields: Any) -> Doc:
    return {"type": "CORS", "cors": fields}


def grant(name: str, namespace: str, from_: Sequence[Doc], to: Sequence[Doc]) -> Doc:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "ReferenceGrant",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"from": list(from_), "to": list(to)},
    }


def routes_from(kind: str = "HTTPRoute", namespace: str = INFRA, group: str = GROUP) -> Doc:
    return {"group": group, "kind": kind, "namespace": namespace}


def to_service(name: str | None = None, kind: str = "Service", group: str = "") -> Doc:
    return {"group": group, "kind": kind, **({"name": name} if name else {})}


def gateway(name: str, *listeners: Doc) -> Doc:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": INFRA},
        "spec": {"gatewayClassName": GATEWAY_CLASS, "listeners": list(listeners)},
    }


def service(name: str, **spec: Any) -> Doc:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": INFRA},
        "spec": {"ports": [{"name": "first-port", "port": 8080, "targetPort": 3000}], **spec},
    }


def manifests(*docs: Doc) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False)


CASES: list[Case] = []

# A rule's edits of the request headers, used by several tests: set, add twice, remove.
EDITS = request_headers(
    set=[("X-Header-Set", "set-overwrites-values")],
    add=[("X-Header-Add", "header-val-1"), ("X-Header-Add-Append", "header-val-2")],
    remove=["X-Header-Remove"],
)
EDITED = {
    "X-Header-Add": "header-val-1",
    "X-Header-Add-Append": "append-val-1,header-val-2",
    "X-Header-Set": "set-overwrites-values",
}
SENT = (("X-Header-Remove", "remove-val"), ("X-Header-Add-Append", "append-val-1"))

# --- redirects -----------------------------------------------------------------------------------

# HTTPRoute303Redirect / 307 / 308: the status given is the redirect's; the rest of the
# Location is the request's.
for test, status, path in (
    ("HTTPRoute303Redirect", 303, "/see-other"),
    ("HTTPRoute307Redirect", 307, "/temporary"),
    ("HTTPRoute308Redirect", 308, "/permanent"),
):
    c = suite(
        test,
        inline=manifests(
            route(
                f"{status}-redirect",
                rule(prefix(path), backends=None, filters=[redirect(statusCode=status)]),
            )
        ),
    )
    method = "POST" if status == 303 else "GET"
    CASES += [c(path, method=method, status=status, location=Location(path=path))]

# --- rewrites ------------------------------------------------------------------------------------

# HTTPRouteRewritePath: the backend sees the prefix replaced (by another, or stripped to "/")
# or the whole path replaced, with the rule's header edits too.
c = suite(
    "HTTPRouteRewritePath",
    inline=manifests(
        route(
            "rewrite-path",
            rule(prefix("/prefix/one"), filters=[rewrite(prefix="/one")]),
            rule(prefix("/strip-prefix"), filters=[rewrite(prefix="/")]),
            rule(prefix("/full/one"), filters=[rewrite(full="/one")]),
            rule(
                prefix("/full/rewrite-path-and-modify-headers"),
                filters=[rewrite(full="/test"), EDITS],
            ),
            rule(
                prefix("/prefix/rewrite-path-and-modify-headers"),
                filters=[rewrite(prefix="/prefix"), EDITS],
            ),
        )
    ),
)
CASES += [
    c("/prefix/one/two", backend=V1, upstream_path="/one/two"),
    c("/strip-prefix/three", backend=V1, upstream_path="/three"),
    c("/strip-prefix", backend=V1, upstream_path="/"),
    c("/full/one/two", backend=V1, upstream_path="/one"),
    c(
        "/full/rewrite-path-and-modify-headers/test",
        headers=(*SENT, ("X-Header-Set", "set-val")),
        backend=V1,
        upstream_path="/test",
        upstream_headers=EDITED,
        absent_headers=("X-Header-Remove",),
    ),
    c(
        "/prefix/rewrite-path-and-modify-headers/one",
        headers=(*SENT, ("X-Header-Set", "set-val")),
        backend=V1,
        upstream_path="/prefix/one",
        upstream_headers=EDITED,
        absent_headers=("X-Header-Remove",),
    ),
]

# HTTPRouteRewriteHost: the backend sees the rewritten Host, with the rule's header edits.
c = suite(
    "HTTPRouteRewriteHost",
    inline=manifests(
        route(
            "rewrite-host",
            rule(prefix("/one"), filters=[rewrite(hostname="one.example.org")]),
            rule(backends=[backend(V2)], filters=[rewrite(hostname="example.org")]),
            rule(
                prefix("/rewrite-host-and-modify-headers"),
                backends=[backend(V2)],
                filters=[rewrite(hostname="test.example.org"), EDITS],
            ),
            hostnames=["rewrite.example"],
        )
    ),
    host="rewrite.example",
)
CASES += [
    c("/one", backend=V1, upstream_host="one.example.org"),
    c("/two", backend=V2, upstream_host="example.org"),
    c(
        "/rewrite-host-and-modify-headers",
        headers=SENT,
        backend=V2,
        upstream_host="test.example.org",
        upstream_headers=EDITED,
        absent_headers=("X-Header-Remove",),
    ),
]

# --- header modifiers ----------------------------------------------------------------------------


def _header_rules(kind: str, *, on_backend: bool) -> list[Doc]:
    """The five rules of the header modifier tests: set, add, remove, several, any case."""
    edits: list[tuple[str, dict[str, Any]]] = [
        ("/set", {"set": [("X-Header-Set", "set-overwrites-values")]}),
        ("/add", {"add": [("X-Header-Add", "add-appends-values")]}),
        ("/remove", {"remove": ["X-Header-Remove"]}),
        (
            "/multiple",
            {
                "set": [("X-Header-Set-1", "header-set-1"), ("X-Header-Set-2", "header-set-2")],
                "add": [
                    ("X-Header-Add-1", "header-add-1"),
                    ("X-Header-Add-2", "header-add-2"),
                    ("X-Header-Add-3", "header-add-3"),
                ],
                "remove": ["X-Header-Remove-1", "X-Header-Remove-2"],
            },
        ),
        (
            "/case-insensitivity",
            {
                "set": [("X-Header-Set", "header-set")],
                "add": [("X-Header-Add", "header-add")]
                + (
                    [
                        ("x-lowercase-add", "lowercase-add"),
                        ("x-Mixedcase-ADD-1", "mixedcase-add-1"),
                        ("X-mixeDcase-add-2", "mixedcase-add-2"),
                        ("X-UPPERCASE-ADD", "uppercase-add"),
                    ]
                    if kind == "ResponseHeaderModifier"
                    else []
                ),
                "remove": ["X-Header-Remove"],
            },
        ),
    ]
    rules = []
    for path, edit in edits:
        step = header_filter(kind, **edit)
        if on_backend:
            rules.append(rule(prefix(path), backends=[backend(filters=[step])]))
        else:
            rules.append(rule(prefix(path), filters=[step]))
    return rules


# HTTPRouteRequestHeaderModifier (rule filters) and HTTPRouteBackendRequestHeaderModifier
# (the same filters on the backendRef): set replaces, add appends to an existing value,
# remove drops; names compare case-insensitively; other headers pass unchanged.
for test, on_backend in (
    ("HTTPRouteRequestHeaderModifier", False),
    ("HTTPRouteBackendRequestHeaderModifier", True),
):
    c = suite(
        test,
        inline=manifests(
            route(
                "request-header-modifier",
                *_header_rules("RequestHeaderModifier", on_backend=on_backend),
            )
        ),
        backend=V1,
    )
    CASES += [
        c(
            "/set",
            headers=(("Some-Other-Header", "val"),),
            upstream_headers={"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"},
        ),
        c(
            "/set",
            headers=(("Some-Other-Header", "val"), ("X-Header-Set", "some-other-value")),
            upstream_headers={"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"},
        ),
        c(
            "/add",
            headers=(("Some-Other-Header", "val"),),
            upstream_headers={"Some-Other-Header": "val", "X-Header-Add": "add-appends-values"},
        ),
        c(
            "/add",
            headers=(("Some-Other-Header", "val"), ("X-Header-Add", "some-other-value")),
            upstream_headers={
                "Some-Other-Header": "val",
                "X-Header-Add": "some-other-value,add-appends-values",
            },
        ),
        c(
            "/remove",
            headers=(("X-Header-Remove", "val"),),
            upstream_headers={},
            absent_headers=("X-Header-Remove",),
        ),
        c(
            "/multiple",
            headers=(
                ("X-Header-Set-2", "set-val-2"),
                ("X-Header-Add-2", "add-val-2"),
                ("X-Header-Remove-2", "remove-val-2"),
                ("Another-Header", "another-header-val"),
            ),
            upstream_headers={
                "X-Header-Set-1": "header-set-1",
                "X-Header-Set-2": "header-set-2",
                "X-Header-Add-1": "header-add-1",
                "X-Header-Add-2": "add-val-2,header-add-2",
                "X-Header-Add-3": "header-add-3",
                "Another-Header": "another-header-val",
            },
            absent_headers=("X-Header-Remove-1", "X-Header-Remove-2"),
        ),
        c(
            "/case-insensitivity",
            headers=(
                ("x-header-set", "original-val-set"),
                ("x-header-add", "original-val-add"),
                ("x-header-remove", "original-val-remove"),
                ("Another-Header", "another-header-val"),
            ),
            upstream_headers={
                "X-Header-Set": "header-set",
                "X-Header-Add": "original-val-add,header-add",
                "Another-Header": "another-header-val",
            },
            absent_headers=("x-header-remove", "X-Header-Remove"),
        ),
    ]

# HTTPRouteResponseHeaderModifier: the same edits on what the backend answers; and response
# and request edits on one rule.
c = suite(
    "HTTPRouteResponseHeaderModifier",
    inline=manifests(
        route(
            "response-header-modifier",
            *_header_rules("ResponseHeaderModifier", on_backend=False),
            rule(
                prefix("/response-and-request-header-modifiers"),
                filters=[
                    response_headers(
                        set=[
                            ("X-Header-Set-1", "header-set-1"),
                            ("X-Header-Set-2", "header-set-2"),
                        ],
                        add=[
                            ("X-Header-Add-1", "header-add-1"),
                            ("X-Header-Add-2", "header-add-2"),
                        ],
                        remove=["X-Header-Remove-1", "X-Header-Remove-2"],
                    ),
                    EDITS,
                ],
            ),
        )
    ),
    backend=V1,
)
CASES += [
    c(
        "/set",
        backend_response_headers=(("Some-Other-Header", "val"),),
        response_headers={"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"},
    ),
    c(
        "/set",
        backend_response_headers=(
            ("Some-Other-Header", "val"),
            ("X-Header-Set", "some-other-value"),
        ),
        response_headers={"Some-Other-Header": "val", "X-Header-Set": "set-overwrites-values"},
    ),
    c(
        "/add",
        backend_response_headers=(("Some-Other-Header", "val"),),
        response_headers={"Some-Other-Header": "val", "X-Header-Add": "add-appends-values"},
    ),
    c(
        "/add",
        backend_response_headers=(
            ("Some-Other-Header", "val"),
            ("X-Header-Add", "some-other-value"),
        ),
        response_headers={
            "Some-Other-Header": "val",
            "X-Header-Add": "some-other-value,add-appends-values",
        },
    ),
    c(
        "/remove",
        backend_response_headers=(("X-Header-Remove", "val"),),
        absent_response_headers=("X-Header-Remove",),
    ),
    c(
        "/multiple",
        backend_response_headers=(
            ("X-Header-Set-2", "set-val-2"),
            ("X-Header-Add-2", "add-val-2"),
            ("X-Header-Remove-2", "remove-val-2"),
            ("Another-Header", "another-header-val"),
            ("X-Header-Remove-1", "val"),
        ),
        response_headers={
            "X-Header-Set-1": "header-set-1",
            "X-Header-Set-2": "header-set-2",
            "X-Header-Add-1": "header-add-1",
            "X-Header-Add-2": "add-val-2,header-add-2",
            "X-Header-Add-3": "header-add-3",
            "Another-Header": "another-header-val",
        },
        absent_response_headers=("X-Header-Remove-1", "X-Header-Remove-2"),
    ),
    c(
        "/case-insensitivity",
        backend_response_headers=(
            ("x-header-set", "original-val-set"),
            ("x-header-add", "original-val-add"),
            ("x-header-remove", "original-val-remove"),
            ("Another-Header", "another-header-val"),
        ),
        response_headers={
            "X-Header-Set": "header-set",
            "X-Header-Add": "original-val-add,header-add",
            "X-Lowercase-Add": "lowercase-add",
            "X-Mixedcase-Add-1": "mixedcase-add-1",
            "X-Mixedcase-Add-2": "mixedcase-add-2",
            "X-Uppercase-Add": "uppercase-add",
            "Another-Header": "another-header-val",
        },
        absent_response_headers=("x-header-remove", "X-Header-Remove"),
    ),
    c(
        "/response-and-request-header-modifiers",
        headers=(*SENT, ("X-Header-Echo", "echo")),
        backend_response_headers=(
            ("X-Header-Set-2", "set-val-2"),
            ("X-Header-Add-2", "add-val-2"),
            ("X-Header-Remove-2", "remove-val-2"),
            ("Another-Header", "another-header-val"),
            ("X-Header-Remove-1", "remove-val-1"),
            ("X-Header-Echo", "echo"),
        ),
        upstream_headers={**EDITED, "X-Header-Echo": "echo"},
        absent_headers=("X-Header-Remove",),
        response_headers={
            "X-Header-Set-1": "header-set-1",
            "X-Header-Set-2": "header-set-2",
            "X-Header-Add-1": "header-add-1",
            "X-Header-Add-2": "add-val-2,header-add-2",
            "Another-Header": "another-header-val",
            "X-Header-Echo": "echo",
        },
        absent_response_headers=("X-Header-Remove-1", "X-Header-Remove-2"),
    ),
]

# HTTPRouteRequestHeaderModifierBackendWeights: two equal shares, each setting a header that
# names its own Service: whichever share serves a request, the header names it.
c = suite(
    "HTTPRouteRequestHeaderModifierBackendWeights",
    inline=manifests(
        route(
            "request-header-modifier-backend-weights",
            rule(
                backends=[
                    backend(V1, weight=10, filters=[request_headers(set=[("Backend", V1)])]),
                    backend(V2, weight=10, filters=[request_headers(set=[("Backend", V2)])]),
                ]
            ),
        )
    ),
)
CASES += [c("/", weights=((V1, 10), (V2, 10)), share_header="Backend", upstream_headers={})]

# --- references ----------------------------------------------------------------------------------

# HTTPRouteCrossNamespace: a route in a backend namespace, on the Gateway that selects such
# namespaces, reaches its own Service.
c = suite(
    "HTTPRouteCrossNamespace",
    inline=manifests(
        route(
            "cross-namespace",
            rule(backends=[backend("web-backend")]),
            parents=[parent("backend-namespaces", namespace=INFRA)],
            namespace=WEB,
        )
    ),
    gateway="backend-namespaces",
)
CASES += [c("/", backend="web-backend", namespace=WEB)]

# HTTPRouteReferenceGrant: a Service of another namespace is reached while a ReferenceGrant
# there allows it, and answered 500 once the grant is deleted.
_CROSS = route("reference-grant", rule(backends=[backend("web-backend", namespace=WEB)]))
_GRANT = grant("reference-grant", WEB, [routes_from()], [to_service("web-backend")])
c = suite("HTTPRouteReferenceGrant", inline=manifests(_GRANT, _CROSS))
CASES += [c("/", backend="web-backend", namespace=WEB)]
c = suite("HTTPRouteReferenceGrant", inline=manifests(_CROSS))
CASES += [c("/", status=500)]

# HTTPRouteInvalidCrossNamespaceBackendRef: no ReferenceGrant at all: 500.
c = suite(
    "HTTPRouteInvalidCrossNamespaceBackendRef",
    inline=manifests(
        route(
            "invalid-cross-namespace-backend-ref",
            rule(backends=[backend("web-backend", namespace=WEB)]),
        )
    ),
)
CASES += [c("/", status=500)]

# HTTPRouteInvalidNonExistentBackendRef: a Service that does not exist: 500.
c = suite(
    "HTTPRouteInvalidNonExistentBackendRef",
    inline=manifests(
        route(
            "invalid-nonexistent-backend-ref",
            rule(backends=[backend("nonexistent", namespace=INFRA)]),
        )
    ),
)
CASES += [c("/", status=500)]

# HTTPRouteInvalidBackendRefUnknownKind: a backendRef of a kind nobody serves: 500.
c = suite(
    "HTTPRouteInvalidBackendRefUnknownKind",
    inline=manifests(
        route(
            "invalid-backend-ref-unknown-kind",
            rule(backends=[backend(group="unknownkind.example.com", kind="NonExistent")]),
        )
    ),
)
CASES += [c("/v2", status=500)]

# HTTPRouteInvalidReferenceGrant: ReferenceGrants that each get one thing wrong (its own
# namespace, the from group, kind or namespace, the to group, kind or name) allow nothing.
_WRONG_GRANTS = [
    grant("reference-grant-wrong-namespace", INFRA, [routes_from()], [to_service("web-backend")]),
    grant(
        "wrong-from-group",
        WEB,
        [routes_from(group="not-the-group.example")],
        [to_service("web-backend")],
    ),
    grant("wrong-from-kind", WEB, [routes_from(kind="Gateway")], [to_service("web-backend")]),
    grant(
        "wrong-from-namespace",
        WEB,
        [routes_from(namespace="elsewhere")],
        [to_service("web-backend")],
    ),
    grant(
        "wrong-to-group",
        WEB,
        [routes_from()],
        [to_service("web-backend", group="not-the-group.example")],
    ),
    grant("wrong-to-kind", WEB, [routes_from()], [to_service("web-backend", kind="Secret")]),
    grant("wrong-to-name", WEB, [routes_from()], [to_service("some-other-service")]),
]
c = suite("HTTPRouteInvalidReferenceGrant", inline=manifests(*_WRONG_GRANTS, _CROSS))
CASES += [c("/", status=500)]

# HTTPRoutePartiallyInvalidViaInvalidReferenceGrant: the rule whose Service no grant covers
# answers 500; its sibling, covered, is served.
c = suite(
    "HTTPRoutePartiallyInvalidViaInvalidReferenceGrant",
    inline=manifests(
        grant("invalid-reference-grant", APP, [routes_from()], [to_service("app-backend-v1")]),
        route(
            "invalid-reference-grant",
            rule(prefix("/v2"), backends=[backend("app-backend-v2", namespace=APP)]),
            rule(backends=[backend("app-backend-v1", namespace=APP)]),
        ),
    ),
)
CASES += [c("/v2", status=500), c("/", backend="app-backend-v1", namespace=APP)]

# --- rules and routes ----------------------------------------------------------------------------

# HTTPRouteOmittedBackendRefs: a rule without backendRefs (omitted or empty) answers 500.
c = suite(
    "HTTPRouteOmittedBackendRefs",
    inline=manifests(
        route(
            "omitted-backendrefs",
            rule(exact("/omitted-no-forward"), backends=None),
            rule(exact("/empty-no-forward"), backends=[]),
            rule(prefix("/")),
        )
    ),
)
CASES += [
    c("/forward", backend=V1),
    c("/omitted-no-forward", status=500),
    c("/empty-no-forward", status=500),
]

# HTTPRouteNamedRule: named and unnamed rules route alike.
c = suite(
    "HTTPRouteNamedRule",
    inline=manifests(
        route(
            "http-named-rules",
            rule(prefix("/named"), name="named-rule"),
            rule(prefix("/unnamed"), backends=[backend(V2)]),
        )
    ),
)
CASES += [c("/named", backend=V1), c("/unnamed", backend=V2)]

# HTTPRouteMultipleGateways: a route on two Gateways serves on both, beside each Gateway's
# own route.
_SHARED = manifests(
    route(
        "multiple-gateways-shared-route",
        rule(prefix("/shared")),
        parents=[parent(), parent("all-namespaces")],
    ),
    route("same-namespace-dedicated-route", rule(prefix("/"), backends=[backend(V2)])),
    route(
        "all-namespaces-dedicated-route",
        rule(prefix("/"), backends=[backend(V3)]),
        parents=[parent("all-namespaces")],
    ),
)
c = suite("HTTPRouteMultipleGateways", inline=_SHARED)
CASES += [c("/shared", backend=V1), c("/", backend=V2)]
c = suite("HTTPRouteMultipleGateways", inline=_SHARED, gateway="all-namespaces")
CASES += [c("/shared", backend=V1), c("/", backend=V3)]

# HTTPRouteServiceTypes: Services with manual EndpointSlices and headless Services are
# backends like any other (the suite then finds infra-backend-v1's pods behind them, which
# the EndpointSlices decide, not the route).
c = suite(
    "HTTPRouteServiceTypes",
    inline=manifests(
        route(
            "service-types",
            *(
                rule(exact(f"/{name}"), backends=[backend(name)])
                for name in (
                    "manual-endpointslices",
                    "headless",
                    "headless-manual-endpointslices",
                )
            ),
        ),
        service("manual-endpointslices"),
        service("headless", clusterIP="None", selector={"app": V1}),
        service("headless-manual-endpointslices", clusterIP="None"),
    ),
)
CASES += [
    c("/manual-endpointslices", backend="manual-endpointslices"),
    c("/headless-manual-endpointslices", backend="headless-manual-endpointslices"),
    c("/headless", backend="headless"),
]

# --- routes the Gateway refuses (status-only upstream tests) --------------------------------------

# HTTPRouteDisallowedKind: a Gateway whose only listener takes TLSRoutes: the HTTPRoute is
# not accepted, so the Gateway serves nothing.
c = suite(
    "HTTPRouteDisallowedKind",
    inline=manifests(
        gateway(
            "tlsroutes-only",
            {
                "name": "tls",
                "port": 443,
                "protocol": "TLS",
                "tls": {"mode": "Passthrough"},
                "allowedRoutes": {"namespaces": {"from": "Same"}, "kinds": [{"kind": "TLSRoute"}]},
            },
        ),
        route("disallowed-kind", rule(), parents=[parent("tlsroutes-only", namespace=INFRA)]),
    ),
    gateway="tlsroutes-only",
)
CASES += [c("/", scheme="https", port=443, host="example.org", sni="example.org", status=404)]

# HTTPRouteInvalidCrossNamespaceParentRef: a route of another namespace on a Gateway that
# takes only its own namespace's routes is not accepted: nothing is served.
c = suite(
    "HTTPRouteInvalidCrossNamespaceParentRef",
    inline=manifests(
        route(
            "invalid-cross-namespace-parent-ref",
            rule(backends=[backend("web-backend")]),
            parents=[parent(namespace=INFRA)],
            namespace=WEB,
        )
    ),
)
CASES += [c("/", status=404)]

# HTTPRouteInvalidParentRefNotMatchingListenerPort / ...NotMatchingSectionName /
# ...SectionNameNotMatchingPort: a parentRef whose port or sectionName names no listener
# (or both, not the same one) attaches nowhere: nothing is served.
for test, ref, target in (
    ("HTTPRouteInvalidParentRefNotMatchingListenerPort", parent(namespace=INFRA, port=81), None),
    (
        "HTTPRouteInvalidParentRefNotMatchingSectionName",
        parent(namespace=INFRA, port=80, section="http1"),
        None,
    ),
    (
        "HTTPRouteInvalidParentRefSectionNameNotMatchingPort",
        parent(
            "gateway-with-one-not-matching-port-and-section-name-route",
            namespace=INFRA,
            section="http",
            port=81,
        ),
        gateway(
            "gateway-with-one-not-matching-port-and-section-name-route",
            {
                "name": "http",
                "port": 80,
                "protocol": "HTTP",
                "allowedRoutes": {"kinds": [{"kind": "HTTPRoute"}], "namespaces": {"from": "All"}},
            },
        ),
    ),
):
    docs = [route("mismatched-parent-ref", rule(), parents=[ref])]
    if target is not None:
        docs.insert(0, target)
    c = suite(test, inline=manifests(*docs), gateway=ref["name"])
    CASES += [c("/", status=404)]

# --- HTTPS listeners -----------------------------------------------------------------------------

# HTTPRouteHTTPSListenerDetectMisdirectedRequests: over TLS, a Host that reaches another
# listener than the TLS server name did is misdirected (421); otherwise the Host's listener
# routes it (404 when none of its routes claims the Host).
c = suite(
    "HTTPRouteHTTPSListenerDetectMisdirectedRequests",
    inline=manifests(
        *(
            route(
                f"https-listener-detect-misdirected-requests-test-{number}",
                rule(prefix("/detect-misdirected-requests"), backends=[backend(name)]),
                parents=[parent("same-namespace-with-https-listener", section=section)],
                hostnames=hostnames,
            )
            for number, section, name, hostnames in (
                (1, "https", V1, ["example.org"]),
                (2, "https-with-hostname", V2, []),
                (3, "https-with-wildcard-hostname", V3, []),
                (4, "https-with-hostname-matching-wildcard", V1, []),
            )
        )
    ),
    gateway="same-namespace-with-https-listener",
    scheme="https",
    port=443,
)
for sni, host, answer in (
    ("example.org", "example.org", V1),
    ("example.org", "second-example.org", 421),
    ("example.org", "unknown-example.org", 404),
    ("second-example.org", "second-example.org", V2),
    ("second-example.org", "example.org", 421),
    ("second-example.org", "unknown-example.org", 421),
    ("third-example.wildcard.org", "third-example.wildcard.org", V3),
    ("third-example.wildcard.org", "fith-example.wildcard.org", V3),
    ("third-example.wildcard.org", "fourth-example.wildcard.org", 421),
    ("third-example.wildcard.org", "second-example.org", 421),
    ("third-example.wildcard.org", "unknown-example.org", 421),
    ("fourth-example.wildcard.org", "fourth-example.wildcard.org", V1),
    ("fourth-example.wildcard.org", "fith-example.wildcard.org", 421),
    ("unknown-example.org", "example.org", V1),
    ("unknown-example.org", "unknown-example.org", 404),
):
    expected: dict[str, Any] = (
        {"backend": answer} if isinstance(answer, str) else {"status": answer}
    )
    CASES += [c("/detect-misdirected-requests", sni=sni, host=host, **expected)]

# --- CORS ----------------------------------------------------------------------------------------

# HTTPRouteCORS: preflights are answered by the gateway (200 or 204), with the allowed origin
# echoed and the allowed methods, headers, exposed headers, max age and credentials;
# an origin not allowed gets no CORS headers; simple requests go to the backend with the
# allow-origin (and credentials) headers added.
c = suite(
    "HTTPRouteCORS",
    inline=manifests(
        route(
            "cors-multiple-origins-methods-headers",
            rule(
                prefix("/cors-1"),
                filters=[
                    cors(
                        allowOrigins=["https://www.foo.com", "https://*.bar.com"],
                        allowMethods=["GET", "OPTIONS"],
                        allowHeaders=["x-header-1", "x-header-2"],
                        exposeHeaders=["x-header-3", "x-header-4"],
                        allowCredentials=True,
                        maxAge=3600,
                    )
                ],
            ),
        ),
        route(
            "cors-wildcard-methods",
            rule(
                prefix("/cors-2"),
                filters=[cors(allowOrigins=["https://www.foo.com"], allowMethods=["*"])],
            ),
        ),
        route(
            "cors-wildcard-origin",
            rule(
                prefix("/cors-wildcard-origin"),
                filters=[cors(allowOrigins=["*"], allowMethods=["PUT"], allowCredentials=False)],
            ),
        ),
        route(
            "cors-wildcard-methods-headers",
            rule(
                prefix("/cors-wildcard-methods-headers"),
                filters=[
                    cors(
                        allowOrigins=["*"],
                        allowMethods=["*"],
                        allowHeaders=["*"],
                        allowCredentials=True,
                    )
                ],
            ),
            rule(
                prefix("/cors-wildcard-methods-headers-unauth"),
                filters=[
                    cors(
                        allowOrigins=["*"],
                        allowMethods=["*"],
                        allowHeaders=["*"],
                        allowCredentials=False,
                    )
                ],
            ),
        ),
    ),
)
_PREFLIGHT_1 = {
    "access-control-allow-methods": ("GET, OPTIONS", "OPTIONS, GET"),
    "access-control-allow-headers": ("x-header-1, x-header-2", "x-header-2, x-header-1"),
    "access-control-expose-headers": ("x-header-3, x-header-4", "x-header-4, x-header-3"),
    "access-control-max-age": "3600",
    "access-control-allow-credentials": "true",
}
_ASKS = (
    ("access-control-request-method", "GET"),
    ("access-control-request-headers", "x-header-1, x-header-2"),
)
_PREFLIGHT = {"method": "OPTIONS", "answered": True, "statuses": (200, 204)}
CASES += [
    *(
        c(
            "/cors-1",
            headers=(("Origin", origin), *_ASKS),
            response_headers={"access-control-allow-origin": origin, **_PREFLIGHT_1},
            ignore_whitespace=True,
            **_PREFLIGHT,
        )
        for origin in ("https://www.foo.com", "https://www.bar.com", "https://xpto.www.bar.com")
    ),
    c(
        "/cors-1",
        method="OPTIONS",
        answered=True,
        statuses=(200, 204, 403),
        headers=(("Origin", "https://foobar.com"), ("access-control-request-method", "GET")),
        absent_response_headers=("access-control-allow-origin",),
    ),
    *(
        c(
            "/cors-1",
            headers=(("Origin", origin), *_ASKS),
            backend=V1,
            response_headers={"access-control-allow-origin": origin},
        )
        for origin in ("https://www.foo.com", "https://www.bar.com")
    ),
    c(
        "/cors-1",
        headers=(("Origin", "https://foobar.com"), ("access-control-request-method", "GET")),
        backend=V1,
        absent_response_headers=("access-control-allow-origin",),
    ),
    c(
        "/cors-2",
        headers=(("Origin", "https://www.foo.com"), ("access-control-request-method", "POST")),
        response_headers={
            "access-control-allow-methods": ("POST", "*"),
            "access-control-allow-origin": "https://www.foo.com",
        },
        absent_response_headers=("access-control-allow-credentials",),
        **_PREFLIGHT,
    ),
    c(
        "/cors-2",
        headers=(("Origin", "https://www.foo.com"), ("access-control-request-method", "POST")),
        absent_response_headers=("Access-Control-Allow-Credentials",),
        **_PREFLIGHT,
    ),
    *(
        c(
            "/cors-wildcard-origin",
            headers=(("Origin", origin), ("access-control-request-method", "PUT")),
            response_headers={
                "access-control-allow-origin": (origin, "*"),
                "access-control-allow-methods": "PUT",
            },
            absent_response_headers=("Access-Control-Allow-Credentials",),
            **_PREFLIGHT,
        )
        for origin in ("https://foobar.com", "https://foobar.com:12345")
    ),
    c(
        "/cors-wildcard-origin",
        method="PUT",
        headers=(("Origin", "https://foobar.com:12345"),),
        backend=V1,
        response_headers={"access-control-allow-origin": ("https://foobar.com:12345", "*")},
    ),
    c(
        "/cors-wildcard-origin",
        method="PUT",
        headers=(("Origin", "https://foobar.com"),),
        backend=V1,
        response_headers={"access-control-allow-origin": ("https://foobar.com", "*")},
        absent_response_headers=("Access-Control-Allow-Credentials",),
    ),
    c(
        "/cors-wildcard-methods-headers",
        headers=(
            ("Origin", "https://other.foo.com"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-header-1, x-header-2"),
        ),
        response_headers={
            "access-control-allow-origin": "https://other.foo.com",
            "access-control-allow-methods": "PUT",
            "access-control-allow-headers": ("x-header-1, x-header-2", "x-header-2, x-header-1"),
            "access-control-allow-credentials": "true",
        },
        ignore_whitespace=True,
        **_PREFLIGHT,
    ),
    c(
        "/cors-wildcard-methods-headers-unauth",
        headers=(
            ("Origin", "https://other.foo.com"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-header-1, x-header-2"),
        ),
        response_headers={
            "access-control-allow-origin": ("https://other.foo.com", "*"),
            "access-control-allow-methods": ("PUT", "*"),
            "access-control-allow-headers": (
                "x-header-1, x-header-2",
                "x-header-2, x-header-1",
                "*",
            ),
        },
        absent_response_headers=("access-control-allow-credentials",),
        ignore_whitespace=True,
        **_PREFLIGHT,
    ),
    c(
        "/cors-wildcard-methods-headers",
        headers=(("Origin", "https://other.foo.com"),),
        backend=V1,
        response_headers={
            "access-control-allow-origin": "https://other.foo.com",
            "access-control-allow-credentials": "true",
        },
    ),
    c(
        "/cors-wildcard-methods-headers-unauth",
        headers=(("Origin", "https://other.foo.com"),),
        backend=V1,
        response_headers={"access-control-allow-origin": ("https://other.foo.com", "*")},
        absent_response_headers=("access-control-allow-credentials",),
    ),
]

# --- mirrors -------------------------------------------------------------------------------------

# HTTPRouteRequestMirror: the request goes to v1 and a copy to v2 (with the rule's header
# edits on the forwarded request).
c = suite(
    "HTTPRouteRequestMirror",
    inline=manifests(
        route(
            "request-mirror",
            rule(prefix("/mirror"), backends=[backend(namespace=INFRA)], filters=[mirror(V2)]),
            rule(
                prefix("/mirror-and-modify-headers"),
                backends=[backend(namespace=INFRA)],
                filters=[EDITS, mirror(V2)],
            ),
        )
    ),
    backend=V1,
)
CASES += [
    c("/mirror", mirrors=(MirrorTo(V2),)),
    c(
        "/mirror-and-modify-headers",
        headers=SENT,
        upstream_headers=EDITED,
        absent_headers=("X-Header-Remove",),
        mirrors=(MirrorTo(V2),),
    ),
]

# HTTPRouteRequestMultipleMirrors: copies go to v2 and v3.
c = suite(
    "HTTPRouteRequestMultipleMirrors",
    inline=manifests(
        route(
            "request-multiple-mirrors",
            rule(prefix("/multi-mirror"), filters=[mirror(V2), mirror(V3)]),
            rule(
                prefix("/multi-mirror-and-modify-request-headers"),
                filters=[EDITS, mirror(V2), mirror(V3)],
            ),
        )
    ),
    backend=V1,
)
CASES += [
    c("/multi-mirror", mirrors=(MirrorTo(V2), MirrorTo(V3))),
    c(
        "/multi-mirror-and-modify-request-headers",
        headers=SENT,
        upstream_headers=EDITED,
        absent_headers=("X-Header-Remove",),
        mirrors=(MirrorTo(V2), MirrorTo(V3)),
    ),
]

# HTTPRouteRequestPercentageMirror: a percent or a fraction of the requests is copied.
c = suite(
    "HTTPRouteRequestPercentageMirror",
    inline=manifests(
        route(
            "request-percentage-mirror",
            rule(prefix("/percent-mirror"), filters=[mirror(V2, percent=20)]),
            rule(
                prefix("/percent-mirror-fraction"),
                filters=[mirror(V2, fraction={"numerator": 25, "denominator": 50})],
            ),
            rule(
                prefix("/percent-mirror-and-modify-headers"),
                filters=[EDITS, mirror(V2, percent=35)],
            ),
        )
    ),
    backend=V1,
)
CASES += [
    c("/percent-mirror", mirrors=(MirrorTo(V2, percent=20),)),
    c("/percent-mirror-fraction", mirrors=(MirrorTo(V2, percent=50),)),
    c(
        "/percent-mirror-and-modify-headers",
        headers=SENT,
        upstream_headers=EDITED,
        absent_headers=("X-Header-Remove",),
        mirrors=(MirrorTo(V2, percent=35),),
    ),
]

# --- timeouts ------------------------------------------------------------------------------------

# HTTPRouteTimeoutRequest / HTTPRouteTimeoutBackendRequest: the rule's timeout (500 ms: a
# backend delaying 1 s gets a 504 from the executor), and "0s", which disables it (the
# suite's 1 s delay is then served).
for test, field, name in (
    ("HTTPRouteTimeoutRequest", "request", "request-timeout"),
    ("HTTPRouteTimeoutBackendRequest", "backendRequest", "backend-timeout"),
):
    disabled = f"/disable-{name}"
    c = suite(
        test,
        inline=manifests(
            route(
                name,
                rule(prefix(f"/{name}"), timeouts={field: "500ms"}),
                rule(prefix(disabled), timeouts={field: "0s"}),
            )
        ),
        backend=V1,
    )
    limited = (0.5, None) if field == "request" else (None, 0.5)
    unlimited = (math.inf, None) if field == "request" else (None, math.inf)
    CASES += [
        c(f"/{name}", timeouts=limited),
        c(f"/{name}?delay=1s", timeouts=limited),
        c(f"{disabled}?delay=1s", timeouts=unlimited),
    ]


# --- GRPCRoute ----------------------------------------------------------------------------------

# gRPC requests are HTTP/2 POSTs of `/<service>/<method>` with metadata as (lower-case)
# headers; the suite's "Unimplemented" is what a gRPC client makes of the gateway's 404.
ECHO = "gateway_api_conformance.echo_basic.grpcecho.GrpcEcho"
GRPC_V1, GRPC_V2, GRPC_V3 = (
    "grpc-infra-backend-v1",
    "grpc-infra-backend-v2",
    "grpc-infra-backend-v3",
)
GRPC = (("content-type", "application/grpc"),)


def grpc_route(name: str, *rules: Doc, parents: Sequence[Doc] = (parent(),)) -> Doc:
    doc = route(name, *rules, parents=parents)
    doc["kind"] = "GRPCRoute"
    return doc


def grpc_method(method: str) -> Doc:
    return {"method": {"service": ECHO, "method": method}}


def grpc_headers(*pairs: tuple[str, str]) -> Doc:
    return {"headers": [{"name": n, "value": v} for n, v in pairs]}


def rpc(method: str = "Echo", *metadata: tuple[str, str]) -> dict[str, Any]:
    headers = (*GRPC, *((n.lower(), v) for n, v in metadata))
    return {"path": f"/{ECHO}/{method}", "method": "POST", "headers": headers}


def _rpc_case(
    c: Callable[..., Case], method: str = "Echo", *metadata: tuple[str, str], **expected: Any
) -> Case:
    call = rpc(method, *metadata)
    path = call.pop("path")
    return c(path, **call, **expected)


# GRPCRouteExactMethodMatching: service and method exactly; another method is not found.
c = suite(
    "GRPCRouteExactMethodMatching",
    inline=manifests(
        grpc_route(
            "exact-matching",
            rule(grpc_method("Echo"), backends=[backend(GRPC_V1)]),
            rule(grpc_method("EchoTwo"), backends=[backend(GRPC_V2)]),
        )
    ),
)
CASES += [
    _rpc_case(c, "Echo", backend=GRPC_V1),
    _rpc_case(c, "EchoTwo", backend=GRPC_V2),
    _rpc_case(c, "EchoThree", status=404),
]

# GRPCRouteHeaderMatching: metadata selects the backend as headers do for HTTPRoutes.
c = suite(
    "GRPCRouteHeaderMatching",
    inline=manifests(
        grpc_route(
            "grpc-header-matching",
            rule(grpc_headers(("version", "one")), backends=[backend(GRPC_V1)]),
            rule(grpc_headers(("version", "two")), backends=[backend(GRPC_V2)]),
            rule(
                grpc_headers(("version", "two"), ("color", "orange")), backends=[backend(GRPC_V1)]
            ),
            rule(
                grpc_headers(("color", "blue")),
                grpc_headers(("color", "green")),
                backends=[backend(GRPC_V1)],
            ),
            rule(
                grpc_headers(("color", "red")),
                grpc_headers(("color", "yellow")),
                backends=[backend(GRPC_V2)],
            ),
        )
    ),
)
CASES += [
    _rpc_case(c, "Echo", ("Version", "one"), backend=GRPC_V1),
    _rpc_case(c, "Echo", ("Version", "two"), backend=GRPC_V2),
    _rpc_case(c, "Echo", ("Version", "two"), ("Color", "orange"), backend=GRPC_V1),
    _rpc_case(c, "Echo", ("Version", "two"), ("Color", "blue"), backend=GRPC_V2),
    _rpc_case(c, "Echo", ("Color", "orange"), status=404),
    _rpc_case(c, "Echo", ("Some-Other-Header", "one"), status=404),
    _rpc_case(c, "Echo", ("Color", "blue"), backend=GRPC_V1),
    _rpc_case(c, "Echo", ("Color", "green"), backend=GRPC_V1),
    _rpc_case(c, "Echo", ("Color", "red"), backend=GRPC_V2),
    _rpc_case(c, "Echo", ("Color", "yellow"), backend=GRPC_V2),
    _rpc_case(c, "Echo", ("Color", "purple"), status=404),
]

# GRPCRouteListenerHostnameMatching: the authority picks the most specific listener, as
# for HTTPRoutes.
_hostname_listener = {
    "port": 80,
    "protocol": "HTTP",
    "allowedRoutes": {"namespaces": {"from": "Same"}},
}
_GRPC_GW = "grpcroute-listener-hostname-matching"
c = suite(
    "GRPCRouteListenerHostnameMatching",
    inline=manifests(
        gateway(
            _GRPC_GW,
            *(
                {"name": f"listener-{n}", "hostname": h, **_hostname_listener}
                for n, h in ((1, "bar.com"), (2, "foo.bar.com"), (3, "*.bar.com"), (4, "*.foo.com"))
            ),
        ),
        grpc_route(
            "backend-v1",
            rule(backends=[backend(GRPC_V1)]),
            parents=[parent(_GRPC_GW, namespace=INFRA, section="listener-1")],
        ),
        grpc_route(
            "backend-v2",
            rule(backends=[backend(GRPC_V2)]),
            parents=[parent(_GRPC_GW, namespace=INFRA, section="listener-2")],
        ),
        grpc_route(
            "backend-v3",
            rule(backends=[backend(GRPC_V3)]),
            parents=[
                parent(_GRPC_GW, namespace=INFRA, section="listener-3"),
                parent(_GRPC_GW, namespace=INFRA, section="listener-4"),
            ],
        ),
    ),
    gateway=_GRPC_GW,
)
for authority, answer in (
    ("bar.com", GRPC_V1),
    ("foo.bar.com", GRPC_V2),
    ("baz.bar.com", GRPC_V3),
    ("boo.bar.com", GRPC_V3),
    ("multiple.prefixes.bar.com", GRPC_V3),
    ("multiple.prefixes.foo.com", GRPC_V3),
    ("foo.com", 404),
    ("no.matching.host", 404),
):
    expected = {"backend": answer} if isinstance(answer, str) else {"status": answer}
    CASES += [_rpc_case(c, "Echo", host=authority, **expected)]

# GRPCRouteNamedRule: named and unnamed rules route alike.
c = suite(
    "GRPCRouteNamedRule",
    inline=manifests(
        grpc_route(
            "grpc-named-rules",
            rule(grpc_method("Echo"), backends=[backend(GRPC_V1)], name="named-rule"),
            rule(grpc_method("EchoTwo"), backends=[backend(GRPC_V2)]),
        )
    ),
)
CASES += [_rpc_case(c, "Echo", backend=GRPC_V1), _rpc_case(c, "EchoTwo", backend=GRPC_V2)]

# GRPCRouteWeight: shares 70/30/0, in rule order.
c = suite(
    "GRPCRouteWeight",
    inline=manifests(
        grpc_route(
            "weighted-backends",
            rule(
                backends=[
                    backend(GRPC_V1, weight=70),
                    backend(GRPC_V2, weight=30),
                    backend(GRPC_V3, weight=0),
                ]
            ),
        )
    ),
)
CASES += [_rpc_case(c, "Echo", weights=((GRPC_V1, 70), (GRPC_V2, 30), (GRPC_V3, 0)))]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_upstream_conformance_request(case: Case) -> None:
    check(case, case.decide())


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
