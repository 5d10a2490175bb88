"""The Watcher and the Gateway API status writer against a real kube-apiserver.

With the Gateway API v1.6 CRDs installed (the `gateway_api` fixture of conftest.py) and
without them (`without_gateway_api`): the apiserver's own CRD validation checks every object
and every status the writer puts.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import ingresslib
from ingresslib.kubernetes import Snapshot, Watcher
from tests.kubernetes.conftest import GatewayAPICRDs, KubeAPIServer
from tests.kubernetes.test_watcher import (
    INGRESSES,
    SERVICES,
    TIMEOUT,
    backend,
    call,
    eventually,
    ingress,
    run,
    service,
    watcher_for,
)

pytest.importorskip("kubernetes_asyncio")

GROUP = "gateway.networking.k8s.io"
GATEWAY_CLASSES = f"/apis/{GROUP}/v1/gatewayclasses"
GATEWAYS = f"/apis/{GROUP}/v1/namespaces/{{}}/gateways"
HTTPROUTES = f"/apis/{GROUP}/v1/namespaces/{{}}/httproutes"
GRPCROUTES = f"/apis/{GROUP}/v1/namespaces/{{}}/grpcroutes"
REFERENCE_GRANTS = f"/apis/{GROUP}/v1beta1/namespaces/{{}}/referencegrants"
CONTROLLER = "ingresslib.dev/test-gateway"
OTHER_CONTROLLER = "example.net/other-gateway"


# --------------------------------------------------------------------------- objects


def gateway_class(name: str, controller: str = CONTROLLER) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "GatewayClass",
        "metadata": {"name": name},
        "spec": {"controllerName": controller},
    }


def gateway(name: str, class_name: str, *listeners: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "Gateway",
        "metadata": {"name": name},
        "spec": {
            "gatewayClassName": class_name,
            "listeners": list(listeners) or [listener("http")],
        },
    }


def listener(name: str, port: int = 80, hostname: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"name": name, "protocol": "HTTP", "port": port}
    if hostname is not None:
        item["hostname"] = hostname
    return item


def http_route(
    name: str,
    host: str,
    *parents: dict[str, Any],
    service_name: str = "api",
    path: str = "/api",
) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name},
        "spec": {
            "parentRefs": list(parents),
            "hostnames": [host],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                    "backendRefs": [{"name": service_name, "port": 80}],
                }
            ],
        },
    }


def parent(name: str, section: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": name}
    if section is not None:
        ref["sectionName"] = section
    return ref


# --------------------------------------------------------------------------- helpers


def gateway_backend(
    snapshot: Snapshot, gateway_key: str, host: str, path: str, port: int = 80
) -> str | None:
    """The Service a Gateway's table forwards `host` + `path` to, or None."""
    try:
        table = ingresslib.RouteTable.build(
            snapshot.resources, gateway=gateway_key, controller=CONTROLLER
        )
    except ingresslib.GatewayNotFoundError:
        return None
    decision = table.decide(ingresslib.Request(host=host, path=path, port=port))
    if decision.action != "forward" or not decision.backends:
        return None
    return decision.backends[0].backend.name


def kinds_in(snapshot: Snapshot, namespace: str) -> set[tuple[str, str]]:
    return {
        (r.kind, r.metadata.name)
        for r in snapshot.resources
        if r.metadata.namespace == namespace or r.kind in ("GatewayClass", "Namespace")
    }


# --------------------------------------------------------------------------- without the CRDs


def test_without_the_crds_the_watcher_says_so_and_serves_ingresses(
    kube_apiserver: KubeAPIServer,
    without_gateway_api: None,
    namespace: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = f"{namespace}.example.com"

    async def main() -> None:
        watcher = watcher_for(kube_apiserver, namespace)
        assert watcher.gateway_api is None  # not asked yet
        async with watcher as watcher:
            first = await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            assert watcher.gateway_api is False
            assert {k.kind for k in watcher.kinds} == {
                "Ingress",
                "IngressClass",
                "Service",
                "EndpointSlice",
                "Secret",
            }
            assert not any(r.kind == "Namespace" for r in first.resources)
            await asyncio.to_thread(
                call, kube_apiserver, "POST", INGRESSES.format(namespace), ingress("shop", host)
            )
            await eventually(watcher, lambda s: backend(s, host, "/api/x") == "api")
            assert watcher.stats.reconnects == 0

    with caplog.at_level(logging.INFO, logger="ingresslib.kubernetes"):
        run(main())
    said = [
        r
        for r in caplog.records
        if r.getMessage() == "Gateway API CRDs not installed: not watching Gateway API kinds"
    ]
    assert len(said) == 1
    assert said[0].levelno == logging.INFO


def test_gateway_api_false_follows_no_gateway_api_kind(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    async def main() -> None:
        watcher = watcher_for(kube_apiserver, namespace, gateway_api=False)
        assert watcher.gateway_api is False
        async with watcher as watcher:
            await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            assert watcher.gateway_api is False
            assert not any(k.api_version.startswith(GROUP) for k in watcher.kinds)

    run(main())


# --------------------------------------------------------------------------- with the CRDs


def test_the_fixture_installs_the_pinned_standard_crds(gateway_api: GatewayAPICRDs) -> None:
    server = gateway_api.server
    assert gateway_api.version == "v1.6.1"
    for name in gateway_api.names:
        crd = call(server, "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        annotations = crd["metadata"]["annotations"]
        assert annotations[f"{GROUP}/bundle-version"] == gateway_api.version
        assert annotations[f"{GROUP}/channel"] == "standard"
    served = {r["name"] for r in call(server, "GET", f"/apis/{GROUP}/v1")["resources"]}
    assert {"gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants"} <= served
    assert "gateways/status" in served
    # Installing again is a no-op.
    gateway_api.install()
    assert gateway_api.installed()


def test_gateway_api_objects_reach_snapshots_and_route(
    kube_apiserver: KubeAPIServer, gateway_api: GatewayAPICRDs, namespace: str
) -> None:
    host = f"{namespace}.example.com"
    class_name = f"{namespace}-ours"
    key = f"{namespace}/edge"

    async def main() -> None:
        async with watcher_for(kube_apiserver, namespace) as watcher:
            first = await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            assert watcher.gateway_api is True
            versions = {k.kind: k.api_version for k in watcher.kinds}
            assert versions["GatewayClass"] == f"{GROUP}/v1"
            assert versions["HTTPRoute"] == f"{GROUP}/v1"
            assert versions["ReferenceGrant"] == f"{GROUP}/v1"  # v1.6 serves it as v1 too
            assert versions["Namespace"] == "v1"
            # The watched Namespace (by name), with its labels.
            assert ("Namespace", namespace) in kinds_in(first, namespace)
            assert not any(
                r.kind == "Namespace" and r.metadata.name != namespace for r in first.resources
            )

            post = poster(kube_apiserver)
            await post(GATEWAY_CLASSES, gateway_class(class_name))
            await post(GATEWAYS.format(namespace), gateway("edge", class_name))
            await post(SERVICES.format(namespace), service("api"))
            await post(HTTPROUTES.format(namespace), http_route("shop", host, parent("edge")))
            snapshot = await eventually(
                watcher, lambda s: gateway_backend(s, key, host, "/api/orders") == "api"
            )
            assert {
                ("GatewayClass", class_name),
                ("Gateway", "edge"),
                ("HTTPRoute", "shop"),
            } <= kinds_in(snapshot, namespace)
            assert gateway_backend(snapshot, key, host, "/other") is None

            # An update (a new backend) and a delete reach the snapshots too.
            path = f"{HTTPROUTES.format(namespace)}/shop"
            route = await asyncio.to_thread(call, kube_apiserver, "GET", path)
            route["spec"]["rules"][0]["backendRefs"][0]["name"] = "v2"
            await asyncio.to_thread(call, kube_apiserver, "PUT", path, route)
            await eventually(watcher, lambda s: gateway_backend(s, key, host, "/api/x") == "v2")
            await asyncio.to_thread(call, kube_apiserver, "DELETE", path)
            await eventually(watcher, lambda s: gateway_backend(s, key, host, "/api/x") is None)

            # A ReferenceGrant (v1beta1 here, stored and served as v1 as well) is followed.
            grant = {
                "apiVersion": f"{GROUP}/v1beta1",
                "kind": "ReferenceGrant",
                "metadata": {"name": "from-routes"},
                "spec": {
                    "from": [{"group": GROUP, "kind": "HTTPRoute", "namespace": "elsewhere"}],
                    "to": [{"group": "", "kind": "Service"}],
                },
            }
            await post(REFERENCE_GRANTS.format(namespace), grant)
            await eventually(
                watcher, lambda s: ("ReferenceGrant", "from-routes") in kinds_in(s, namespace)
            )
            assert watcher.stats.invalid == 0

            # A label on the Namespace (what allowedRoutes selectors read) reaches it.
            ns_path = f"/api/v1/namespaces/{namespace}"
            obj = await asyncio.to_thread(call, kube_apiserver, "GET", ns_path)
            obj["metadata"].setdefault("labels", {})["team"] = "shop"
            await asyncio.to_thread(call, kube_apiserver, "PUT", ns_path, obj)
            await eventually(
                watcher,
                lambda s: any(
                    r.kind == "Namespace" and r.metadata.labels.get("team") == "shop"
                    for r in s.resources
                ),
            )

    run(main())


def test_gateway_api_changes_do_not_rebuild_the_ingress_table(
    kube_apiserver: KubeAPIServer, gateway_api: GatewayAPICRDs, namespace: str
) -> None:
    host = f"{namespace}.example.com"

    async def main() -> None:
        async with watcher_for(kube_apiserver, namespace) as watcher:
            await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            post = poster(kube_apiserver)
            await post(INGRESSES.format(namespace), ingress("shop", host))
            before = await eventually(watcher, lambda s: backend(s, host, "/api") == "api")
            full_builds = watcher.stats.full_builds
            await post(GATEWAYS.format(namespace), gateway("edge", "no-such-class"))
            await post(HTTPROUTES.format(namespace), http_route("r", host, parent("edge")))
            after = await eventually(
                watcher, lambda s: ("HTTPRoute", "r") in kinds_in(s, namespace)
            )
            assert after.table is before.table  # the very same table object
            assert after.endpoints is before.endpoints
            assert watcher.stats.full_builds == full_builds

    run(main())


def test_an_invalid_gateway_api_object_is_counted_and_skipped(
    kube_apiserver: KubeAPIServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The apiserver validates what it stores as ingresslib does; feed the converter a route
    # that it refuses directly.
    watcher = Watcher(str(kube_apiserver.kubeconfig))
    obj = http_route("Not_A_Name", "shop.example.com", parent("edge"))
    obj["metadata"]["namespace"] = "default"
    with caplog.at_level(logging.WARNING, logger="ingresslib.kubernetes"):
        assert watcher._convert(obj) is None
    assert watcher.stats.invalid == 1
    assert "skipping HTTPRoute default/Not_A_Name" in caplog.text


def poster(server: KubeAPIServer) -> Any:
    """An async POST to the apiserver (in a thread) that checks the answer."""

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(call, server, "POST", path, body)

    return post
