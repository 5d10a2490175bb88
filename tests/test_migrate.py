"""`migrate()`: the Gateway API routes decide requests as the Ingresses do, wherever it says so.

The round trip: random Ingress sets (the reference-router strategies) are migrated; the
manifests must load (the vendored Gateway API CRDs validate them) and, when the migration
reports no difference, `decide()` of the Gateway's table must equal `decide()` of the
Ingress table on requests aimed at every rule path and its near misses.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings

from ingresslib import Decision, Request, RouteTable, load_manifests, testing
from ingresslib.ingress import migrate
from tests.test_routing_reference import derived_requests, ingress_sets

CLASS = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "GatewayClass",
    "metadata": {"name": "ingresslib"},
    "spec": {"controllerName": "ingresslib.dev/gateway"},
}


def outcome(decision: Decision) -> tuple[Any, ...]:
    """What an executor does with the decision, without where it came from."""
    backends = tuple(
        (b.backend.name, b.backend.namespace, b.backend.port, b.weight) for b in decision.backends
    )
    edits = decision.request_headers
    return (
        decision.action,
        decision.status,
        decision.location,
        backends,
        decision.path if decision.action == "forward" else None,
        decision.authority,
        None if edits is None else (edits.set, edits.add, edits.remove),
    )


def gateway_table(manifests: tuple[dict[str, Any], ...]) -> RouteTable:
    resources = load_manifests([CLASS, *manifests])
    return RouteTable.build(resources, gateway="default/ingresslib")


def test_an_annotated_ingress_with_tls() -> None:
    manifest = testing.ingress(
        "shop",
        [
            testing.ingress_rule(
                "shop.example.com", ("/api", "Prefix", "api"), ("/", "Exact", "web")
            ),
            testing.ingress_rule("plain.example.com", ("/", "Prefix", "web")),
        ],
        namespace="store",
        default_backend="fallback",
        tls=[testing.ingress_tls("shop-cert", "shop.example.com")],
        annotations={
            "nginx.ingress.kubernetes.io/enable-access-log": "false",
            "nginx.ingress.kubernetes.io/preserve-trailing-slash": "true",
            "nginx.ingress.kubernetes.io/upstream-vhost": "internal.shop",
            # Without rewrite-target, ingress-nginx sends no X-Forwarded-Prefix.
            "nginx.ingress.kubernetes.io/x-forwarded-prefix": "/shop",
        },
    )
    ingresses = load_manifests([manifest])
    migration = migrate(ingresses)
    kinds = [m["kind"] for m in migration.manifests]
    assert kinds.count("Gateway") == 1
    assert kinds.count("ReferenceGrant") == 1, "the certificate is in another namespace"
    (note,) = migration.notes
    assert note.field == "metadata.annotations[nginx.ingress.kubernetes.io/enable-access-log]"
    assert not migration.exact
    ingress_table = RouteTable.build(ingresses)
    routes = gateway_table(migration.manifests)
    for scheme, port in (("http", 80), ("https", 443)):
        for host in ("shop.example.com", "plain.example.com"):
            if scheme == "https" and host == "plain.example.com":
                continue  # no certificate: Gateway API has no listener for it
            for path in ("/", "/api", "/api/x", "/apix", "/other"):
                request = Request(scheme=scheme, host=host, path=path, query="q=1", port=port)
                expected = ingress_table.decide(request)
                assert outcome(routes.decide(request)) == outcome(expected), (scheme, host, path)


def test_the_trailing_slash_of_the_https_redirect_is_reported() -> None:
    manifest = testing.ingress(
        "shop",
        [testing.ingress_rule("shop.example.com", ("/", "Prefix", "web"))],
        tls=[testing.ingress_tls("shop-cert", "shop.example.com")],
    )
    ingresses = load_manifests([manifest])
    migration = migrate(ingresses)
    (note,) = migration.notes
    assert note.field == (
        "metadata.annotations[nginx.ingress.kubernetes.io/preserve-trailing-slash]"
    )
    assert not migration.exact
    request = Request(scheme="http", host="shop.example.com", path="/a/", port=80)
    assert RouteTable.build(ingresses).decide(request).location == "https://shop.example.com/a"
    routes = gateway_table(migration.manifests)
    assert routes.decide(request).location == "https://shop.example.com/a/"


ROUND_TRIP = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@ROUND_TRIP
@given(manifests=ingress_sets())
def test_migrated_routes_decide_as_the_ingresses(manifests: list[dict[str, Any]]) -> None:
    resources = load_manifests(manifests)
    migration = migrate(resources)
    routes = gateway_table(migration.manifests)  # the manifests always load
    # Hypothesis fails the test when too few examples are exact (health check).
    assume(migration.exact)
    ingress_table = RouteTable.build(resources)
    requests = [
        *derived_requests(list(resources.ingresses)),
        (None, "/"),
        ("unclaimed.example", "/"),
        ("unclaimed.example", "/a"),
    ]
    for host, path in requests:
        request = Request(host=host, path=path)
        got, expected = routes.decide(request), ingress_table.decide(request)
        assert outcome(got) == outcome(expected), (host, path, migration.notes)
