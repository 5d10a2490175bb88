"""Service + EndpointSlices -> EndpointSet, against hand-built slices and by Hypothesis."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ingresslib
from ingresslib import testing
from ingresslib.endpoints import EndpointIndex, EndpointSet, Unresolved, resolve_endpoints
from ingresslib.resources import IngressBackend, Service, ServiceBackendPort
from ingresslib.resources._networking import IngressServiceBackend


def service(name: str = "web", **spec: Any) -> dict[str, Any]:
    return testing.service(name, **spec)


def endpoint(address: str, **extra: Any) -> dict[str, Any]:
    return {"addresses": [address], **extra}


def slice_(
    name: str,
    endpoints: list[dict[str, Any]],
    *,
    service_name: str = "web",
    ports: list[dict[str, Any]] | None = None,
    address_type: str = "IPv4",
) -> dict[str, Any]:
    return testing.endpoint_slice(
        service_name,
        endpoints,
        name=name,
        ports=ports if ports is not None else [{"name": "http", "port": 8080}],
        address_type=address_type,
    )


def resolve(*docs: dict[str, Any], port: str | int = "http", **options: Any) -> Any:
    resources = ingresslib.load_manifests(list(docs))
    index = EndpointIndex.build(resources, **options)
    backend_port = (
        ServiceBackendPort(name=port) if isinstance(port, str) else ServiceBackendPort(number=port)
    )
    backend = IngressBackend(service=IngressServiceBackend(name="web", port=backend_port))
    return index.resolve("default", backend)


def addresses(result: Any) -> list[str]:
    assert isinstance(result, EndpointSet), result
    return [e.key for e in result.endpoints]


def test_port_by_name_and_number_map_to_the_slice_port_by_name() -> None:
    docs = (service(), slice_("web-1", [endpoint("10.0.0.1"), endpoint("10.0.0.2")]))
    assert addresses(resolve(*docs, port="http")) == ["10.0.0.1:8080", "10.0.0.2:8080"]
    assert addresses(resolve(*docs, port=80)) == ["10.0.0.1:8080", "10.0.0.2:8080"]


def test_unnamed_service_port_matches_the_unnamed_slice_port() -> None:
    docs = (
        service(ports=[{"port": 80}]),
        slice_("web-1", [endpoint("10.0.0.1")], ports=[{"port": 9000}]),
    )
    assert addresses(resolve(*docs, port=80)) == ["10.0.0.1:9000"]


@pytest.mark.parametrize(
    ("docs", "port", "reason"),
    [
        ((), "http", "service-not-found"),
        ((service(),), "grpc", "port-not-found"),
        ((service(),), 81, "port-not-found"),
        ((service(),), "http", "no-endpoint-slices"),
        ((service(), slice_("web-1", [endpoint("10.0.0.1", conditions={"ready": False})])),
         "http", "no-endpoints"),
        ((service(), slice_("web-1", [endpoint("10.0.0.1")], ports=[{"name": "other", "port": 1}])),
         "http", "no-endpoints"),
    ],
)  # fmt: skip
def test_missing_pieces_are_typed_outcomes(docs: tuple[Any, ...], port: Any, reason: str) -> None:
    result = resolve(*docs, port=port)
    assert isinstance(result, Unresolved)
    assert result.reason == reason
    assert not result
    assert result.message


def test_resource_backends_do_not_resolve() -> None:
    index = EndpointIndex.build([])
    result = index.resolve("default", IngressBackend())
    assert isinstance(result, Unresolved)
    assert result.reason == "not-a-service"


def test_slices_of_other_services_and_namespaces_are_ignored() -> None:
    other = slice_("api-1", [endpoint("10.9.9.9")], service_name="api")
    elsewhere = slice_("web-x", [endpoint("10.8.8.8")])
    elsewhere["metadata"]["namespace"] = "other"
    docs = (service(), slice_("web-1", [endpoint("10.0.0.1")]), other, elsewhere)
    assert addresses(resolve(*docs)) == ["10.0.0.1:8080"]


def test_duplicates_across_slices_count_once_and_the_ready_copy_wins() -> None:
    docs = (
        service(),
        slice_("web-a", [endpoint("10.0.0.1", conditions={"ready": False})]),
        slice_("web-b", [endpoint("10.0.0.1"), endpoint("10.0.0.2")]),
    )
    result = resolve(*docs)
    assert addresses(result) == ["10.0.0.1:8080", "10.0.0.2:8080"]
    assert all(e.ready for e in result.endpoints)


# Every combination of the three conditions, absent/true/false.
CONDITIONS = list(itertools.product([None, True, False], repeat=3))


@pytest.mark.parametrize(("ready", "serving", "terminating"), CONDITIONS)
def test_conditions_follow_the_api_docs(
    ready: bool | None, serving: bool | None, terminating: bool | None
) -> None:
    conditions = {
        k: v
        for k, v in (("ready", ready), ("serving", serving), ("terminating", terminating))
        if v is not None
    }
    result = resolve(service(), slice_("web-1", [endpoint("10.0.0.1", conditions=conditions)]))
    is_ready = ready is not False  # nil means ready
    is_serving = serving is not False  # nil means serving (current API docs, kube-proxy)
    is_terminating = terminating is True  # nil means not terminating
    if is_ready:
        assert isinstance(result, EndpointSet)
        assert not result.fallback
    elif is_serving and is_terminating:
        assert isinstance(result, EndpointSet)
        assert result.fallback  # kube-proxy: serving-and-terminating only when none is ready
    else:
        assert isinstance(result, Unresolved)


def test_terminating_endpoints_are_used_only_when_none_is_ready() -> None:
    draining = endpoint(
        "10.0.0.9", conditions={"ready": False, "serving": True, "terminating": True}
    )
    docs = (service(), slice_("web-1", [endpoint("10.0.0.1"), draining]))
    assert addresses(resolve(*docs)) == ["10.0.0.1:8080"]
    docs = (service(), slice_("web-1", [draining]))
    assert addresses(resolve(*docs)) == ["10.0.0.9:8080"]


def test_publish_not_ready_addresses_uses_every_endpoint() -> None:
    not_ready = endpoint("10.0.0.2", conditions={"ready": False})
    docs = (
        service(publishNotReadyAddresses=True),
        slice_("web-1", [endpoint("10.0.0.1"), not_ready]),
    )
    assert addresses(resolve(*docs)) == ["10.0.0.1:8080", "10.0.0.2:8080"]


def hinted(address: str, zone: str, *hint_zones: str) -> dict[str, Any]:
    return endpoint(address, zone=zone, hints={"forZones": [{"name": z} for z in hint_zones]})


def test_zone_hints_all_or_nothing() -> None:
    docs = (
        service(trafficDistribution="PreferClose"),
        slice_("web-1", [hinted("10.0.0.1", "a", "a"), hinted("10.0.0.2", "b", "b")]),
    )
    result = resolve(*docs, zone="a")
    assert addresses(result) == ["10.0.0.1:8080"]
    assert result.topology == "zone"
    # No local zone given, or no endpoint hinted for ours: every endpoint.
    assert addresses(resolve(*docs)) == ["10.0.0.1:8080", "10.0.0.2:8080"]
    assert addresses(resolve(*docs, zone="c")) == ["10.0.0.1:8080", "10.0.0.2:8080"]
    # One ready endpoint without a hint: hints are ignored altogether.
    docs = (service(), slice_("web-1", [hinted("10.0.0.1", "a", "a"), endpoint("10.0.0.2")]))
    result = resolve(*docs, zone="a")
    assert addresses(result) == ["10.0.0.1:8080", "10.0.0.2:8080"]
    assert result.topology is None


def test_node_hints_prefer_same_node() -> None:
    def on(address: str, node: str) -> dict[str, Any]:
        return endpoint(address, nodeName=node, hints={"forNodes": [{"name": node}]})

    docs = (service(trafficDistribution="PreferSameNode"),
            slice_("web-1", [on("10.0.0.1", "n1"), on("10.0.0.2", "n2")]))  # fmt: skip
    result = resolve(*docs, node_name="n2")
    assert addresses(result) == ["10.0.0.2:8080"]
    assert result.topology == "node"


def test_ipv6_and_dual_stack() -> None:
    docs = (
        service(),
        slice_("web-6", [endpoint("fd00::1")], address_type="IPv6"),
        slice_("web-4", [endpoint("10.0.0.1")]),
    )
    result = resolve(*docs)
    assert addresses(result) == ["10.0.0.1:8080", "[fd00::1]:8080"]
    assert result.address_type == "mixed"
    assert addresses(resolve(docs[0], docs[1])) == ["[fd00::1]:8080"]


def test_external_name_resolves_to_its_dns_name() -> None:
    docs = (service(type="ExternalName", externalName="db.example.net.", ports=[]),)
    result = resolve(*docs, port=5432)
    assert addresses(result) == ["db.example.net:5432"]
    assert result.address_type == "FQDN"
    result = resolve(service(type="ExternalName", externalName="db.example.net"), port="http")
    assert addresses(result) == ["db.example.net:80"]


# --- Hypothesis: the rules, read directly -------------------------------------------------

condition_values = st.sampled_from([None, True, False])
endpoints_strategy = st.lists(
    st.tuples(st.integers(1, 6), condition_values, condition_values, condition_values),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(endpoints_strategy, min_size=1, max_size=3), st.booleans())
def test_resolution_rules(slices: list[Any], publish: bool) -> None:
    docs: list[dict[str, Any]] = [service(publishNotReadyAddresses=publish)]
    expected: dict[str, tuple[bool, bool, bool]] = {}
    for n, items in enumerate(slices):
        built = []
        for host, ready, serving, terminating in items:
            pairs = (("ready", ready), ("serving", serving), ("terminating", terminating))
            conditions = {k: v for k, v in pairs if v is not None}
            built.append(endpoint(f"10.0.0.{host}", conditions=conditions))
            r = publish or ready is not False
            s = publish or serving is not False
            t = (terminating is True) and not publish
            key = f"10.0.0.{host}:8080"
            # The first copy in slice-name order is kept unless a later copy is ready.
            if key not in expected or (r and not expected[key][0]):
                expected[key] = (r, s, t)
        docs.append(slice_(f"web-{n}", built))
    result = resolve(*docs)
    ready = sorted(k for k, (r, _, _) in expected.items() if r)
    draining = sorted(k for k, (r, s, t) in expected.items() if s and t)
    if ready:
        assert sorted(addresses(result)) == ready
    elif draining:
        assert sorted(addresses(result)) == draining
        assert result.fallback
    else:
        assert isinstance(result, Unresolved)
        assert result.reason == "no-endpoints"


def test_resolve_endpoints_directly() -> None:
    (svc,) = ingresslib.load_manifests(service())
    assert isinstance(svc, Service)
    assert resolve_endpoints(svc, [], ServiceBackendPort(name="http")) == Unresolved(
        "no-endpoint-slices", "Service default/web has no EndpointSlices"
    )
