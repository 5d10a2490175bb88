"""The Watcher and the Gateway API status writer against a real kube-apiserver.

With the Gateway API v1.6 CRDs installed (the `gateway_api` fixture of conftest.py) and
without them (`without_gateway_api`): the apiserver's own CRD validation checks every object
and every status the writer puts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

import ingresslib
from ingresslib.kubernetes import (
    GatewayStatusWriter,
    Snapshot,
    StatusWriter,
    StatusWriterStats,
    Watcher,
)
from tests.kubernetes.conftest import GatewayAPICRDs, KubeAPIServer
from tests.kubernetes.test_lease import elector, until
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


# --------------------------------------------------------------------------- status


def conditions_of(items: list[dict[str, Any]]) -> dict[str, tuple[str, str, int | None]]:
    """{type: (status, reason, observedGeneration)}."""
    return {c["type"]: (c["status"], c["reason"], c.get("observedGeneration")) for c in items}


def transition_times(items: list[dict[str, Any]]) -> dict[str, str]:
    return {c["type"]: c["lastTransitionTime"] for c in items}


FOREIGN_ENTRY = {
    "parentRef": {"group": GROUP, "kind": "Gateway", "name": "foreign"},
    "controllerName": OTHER_CONTROLLER,
    "conditions": [
        {
            "type": "Accepted",
            "status": "True",
            "reason": "Accepted",
            "message": "theirs",
            "observedGeneration": 1,
            "lastTransitionTime": "2026-01-02T03:04:05Z",
        }
    ],
}


class StatusScenario:
    """Our class, Gateway and routes beside another controller's, in one namespace."""

    address = "203.0.113.7"

    def __init__(self, server: KubeAPIServer, namespace: str) -> None:
        self.server = server
        self.namespace = namespace
        # A controller of this test's own: the other tests' GatewayClasses (cluster-scoped,
        # still there) name CONTROLLER, and their status is not this test's business.
        self.controller = f"ingresslib.dev/{namespace}"
        self.ours, self.theirs = f"{namespace}-ours", f"{namespace}-theirs"
        self.gateways = GATEWAYS.format(namespace)
        self.routes = HTTPROUTES.format(namespace)
        self.grpc_routes = GRPCROUTES.format(namespace)

    def create(self) -> None:
        server, namespace = self.server, self.namespace
        call(server, "POST", GATEWAY_CLASSES, gateway_class(self.ours, self.controller))
        call(server, "POST", GATEWAY_CLASSES, gateway_class(self.theirs, OTHER_CONTROLLER))
        named = listener("named", 8080, f"*.other.{namespace}.example")
        call(server, "POST", self.gateways, gateway("edge", self.ours, listener("http"), named))
        call(server, "POST", self.gateways, gateway("foreign", self.theirs))
        call(server, "POST", SERVICES.format(namespace), service("api"))
        shop = http_route("shop", f"{namespace}.example.com", parent("edge"), parent("foreign"))
        call(server, "POST", self.routes, shop)
        rpc = {
            "apiVersion": f"{GROUP}/v1",
            "kind": "GRPCRoute",
            "metadata": {"name": "rpc"},
            "spec": {
                "parentRefs": [parent("edge", "http")],
                # A hostname of its own: an HTTPRoute and a GRPCRoute sharing one on a
                # listener would leave only the older accepted (GRPCRoute.hostnames).
                "hostnames": [f"rpc.{namespace}.example.com"],
                "rules": [{"backendRefs": [{"name": "api", "port": 80}]}],
            },
        }
        call(server, "POST", self.grpc_routes, rpc)
        # The other controller's entry for its Gateway, which we must keep as it is.
        route = call(server, "GET", f"{self.routes}/shop")
        route["status"] = {"parents": [FOREIGN_ENTRY]}
        call(server, "PUT", f"{self.routes}/shop/status", route)

    def get(self, path: str) -> dict[str, Any]:
        return call(self.server, "GET", path)

    def shop(self) -> dict[str, Any]:
        return self.get(f"{self.routes}/shop")

    def our_parents(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        parents: list[dict[str, Any]] = obj.get("status", {}).get("parents", [])
        return [p for p in parents if p["controllerName"] == self.controller]

    def written(self) -> bool:
        """Whether our status is on every object of ours."""
        accepted = self.get(f"{GATEWAY_CLASSES}/{self.ours}")["status"]["conditions"][0]
        return bool(
            accepted["status"] == "True"
            and self.get(f"{self.gateways}/edge")["status"].get("listeners")
            and self.our_parents(self.shop())
            and self.our_parents(self.get(f"{self.grpc_routes}/rpc"))
        )

    def check_class_and_gateways(self) -> None:
        cls = self.get(f"{GATEWAY_CLASSES}/{self.ours}")
        generation = cls["metadata"]["generation"]
        assert conditions_of(cls["status"]["conditions"]) == {
            "Accepted": ("True", "Accepted", generation),
            "SupportedVersion": ("True", "SupportedVersion", generation),
        }
        # The Gateway: its conditions, one listener entry per listener, our address.
        gw = self.get(f"{self.gateways}/edge")
        generation = gw["metadata"]["generation"]
        status = gw["status"]
        assert conditions_of(status["conditions"]) == {
            "Accepted": ("True", "Accepted", generation),
            "Programmed": ("True", "Programmed", generation),
        }
        assert status["addresses"] == [{"type": "IPAddress", "value": self.address}]
        assert [item["name"] for item in status["listeners"]] == ["http", "named"]
        http, named = status["listeners"]
        assert http["attachedRoutes"] == 2  # the HTTPRoute and the GRPCRoute
        assert named["attachedRoutes"] == 0  # no hostname in common
        assert http["supportedKinds"] == [
            {"group": GROUP, "kind": "HTTPRoute"},
            {"group": GROUP, "kind": "GRPCRoute"},
        ]
        assert conditions_of(http["conditions"]) == {
            "Accepted": ("True", "Accepted", generation),
            "Programmed": ("True", "Programmed", generation),
            "ResolvedRefs": ("True", "ResolvedRefs", generation),
            "Conflicted": ("False", "NoConflicts", generation),
        }
        # Another controller's class and Gateway: as the apiserver defaulted them.
        for path in (f"{GATEWAY_CLASSES}/{self.theirs}", f"{self.gateways}/foreign"):
            reasons = {c["reason"] for c in self.get(path)["status"]["conditions"]}
            assert reasons == {"Pending"}, path

    def check_routes(self) -> dict[str, Any]:
        """Our entries beside the other controller's (kept as it was); returns ours of shop."""
        shop = self.shop()
        generation = shop["metadata"]["generation"]
        assert shop["status"]["parents"][0] == FOREIGN_ENTRY
        (entry,) = self.our_parents(shop)
        assert entry["parentRef"] == {"group": GROUP, "kind": "Gateway", "name": "edge"}
        assert conditions_of(entry["conditions"]) == {
            "Accepted": ("True", "Accepted", generation),
            "ResolvedRefs": ("True", "ResolvedRefs", generation),
        }
        (rpc,) = self.our_parents(self.get(f"{self.grpc_routes}/rpc"))
        assert rpc["parentRef"] == {
            "group": GROUP,
            "kind": "Gateway",
            "name": "edge",
            "sectionName": "http",
        }
        return entry

    def resolved_refs_false(self) -> bool:
        found = self.our_parents(self.shop())
        return bool(found) and any(
            c["type"] == "ResolvedRefs" and c["status"] == "False" for c in found[0]["conditions"]
        )


def test_the_status_writer_writes_our_classes_gateways_and_routes(
    kube_apiserver: KubeAPIServer, gateway_api: GatewayAPICRDs, namespace: str
) -> None:
    scenario = StatusScenario(kube_apiserver, namespace)
    scenario.create()

    async def main() -> None:
        watcher = watcher_for(kube_apiserver, namespace, controller=scenario.controller)
        leading = elector(kube_apiserver, namespace, "gw-1")
        following = elector(kube_apiserver, namespace, "gw-2")
        ingress_status = StatusWriter(watcher, leading, ips=[scenario.address])
        writer = GatewayStatusWriter(watcher, leading, addresses_from=ingress_status)
        idle = GatewayStatusWriter(watcher, following)
        assert writer.controller == scenario.controller
        async with watcher, leading:
            await until(lambda: leading.is_leader, "leadership")
            async with following, writer, idle:
                await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
                await until(scenario.written, "the status of our objects")
                await asyncio.to_thread(scenario.check_class_and_gateways)
                entry = await asyncio.to_thread(scenario.check_routes)
                await asyncio.sleep(0.5)  # the snapshots of our own writes come back
                # One write per object (class, Gateway, two routes), none repeated.
                assert writer.stats == StatusWriterStats(writes=4, conflicts=0, errors=0)
                assert idle.stats.writes == 0  # not the leader
                assert not following.is_leader

                # Nothing changes: nothing is written, even as snapshots come.
                writes = writer.stats.writes
                await asyncio.to_thread(
                    call, kube_apiserver, "POST", SERVICES.format(namespace), service("other")
                )
                await eventually(
                    watcher, lambda s: any(r.metadata.name == "other" for r in s.resources)
                )
                await asyncio.sleep(0.5)
                assert writer.stats.writes == writes

                # A backend goes missing: ResolvedRefs turns False (only its
                # lastTransitionTime moves); observedGeneration follows the generation.
                before = transition_times(entry["conditions"])
                await asyncio.sleep(1.1)  # the times have a resolution of one second
                shop = await asyncio.to_thread(scenario.shop)
                shop["spec"]["rules"][0]["backendRefs"][0]["name"] = "missing"
                path = f"{scenario.routes}/shop"
                await asyncio.to_thread(call, kube_apiserver, "PUT", path, shop)
                await until(scenario.resolved_refs_false, "ResolvedRefs False")
                shop = await asyncio.to_thread(scenario.shop)
                (entry,) = scenario.our_parents(shop)
                generation = shop["metadata"]["generation"]
                assert conditions_of(entry["conditions"]) == {
                    "Accepted": ("True", "Accepted", generation),
                    "ResolvedRefs": ("False", "BackendNotFound", generation),
                }
                after = transition_times(entry["conditions"])
                assert after["Accepted"] == before["Accepted"]
                assert after["ResolvedRefs"] > before["ResolvedRefs"]
                assert shop["status"]["parents"][0] == FOREIGN_ENTRY

                # The route leaves our Gateway: our entry goes, theirs stays.
                shop["spec"]["parentRefs"] = [parent("foreign")]
                await asyncio.to_thread(call, kube_apiserver, "PUT", path, shop)
                await until(lambda: not scenario.our_parents(scenario.shop()), "entry removed")
                assert scenario.shop()["status"]["parents"] == [FOREIGN_ENTRY]
                listeners = f"{scenario.gateways}/edge"
                await until(
                    lambda: (
                        scenario.get(listeners)["status"]["listeners"][0]["attachedRoutes"] == 1
                    ),
                    "attachedRoutes 1",
                )
                assert writer.stats.errors == 0

    run(main())


def test_the_apiserver_refuses_a_malformed_status(
    kube_apiserver: KubeAPIServer, gateway_api: GatewayAPICRDs, namespace: str
) -> None:
    # What makes the writes above evidence: the CRD's schema checks the status subresource.
    class_name = f"{namespace}-strict"
    call(kube_apiserver, "POST", GATEWAY_CLASSES, gateway_class(class_name))
    obj = call(kube_apiserver, "GET", f"{GATEWAY_CLASSES}/{class_name}")
    obj["status"] = {
        "conditions": [
            {
                "type": "Accepted",
                "status": "Yes",
                "reason": "not a reason!",
                "message": "",
                "lastTransitionTime": "2026-01-02T03:04:05Z",
            }
        ]
    }
    response = kube_apiserver.request("PUT", f"{GATEWAY_CLASSES}/{class_name}/status", obj)
    assert response.status == 422, response
    message = response.body["message"]
    assert "status.conditions[0].status" in message
    assert "status.conditions[0].reason" in message


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def create_to_routable(
    watcher: Watcher,
    routable: Callable[[Snapshot, str], bool],
    create: Callable[[int, str], None],
    host_of: Callable[[int], str],
    count: int,
) -> list[float]:
    """Seconds from each POST (one at a time) to the first snapshot in which it routes."""
    waiting: dict[str, tuple[float, asyncio.Future[float]]] = {}

    def on_snapshot(snapshot: Snapshot) -> None:
        now = time.perf_counter()
        for host, (began, future) in list(waiting.items()):
            if not future.done() and routable(snapshot, host):
                future.set_result(now - began)
                del waiting[host]

    unsubscribe = watcher.subscribe(on_snapshot)
    loop = asyncio.get_running_loop()
    results = []
    try:
        for i in range(count):
            host = host_of(i)
            future: asyncio.Future[float] = loop.create_future()
            waiting[host] = (time.perf_counter(), future)
            await asyncio.to_thread(create, i, host)
            results.append(await asyncio.wait_for(future, TIMEOUT))
    finally:
        unsubscribe()
    return results


def test_create_to_routable_latency_of_an_httproute(
    kube_apiserver: KubeAPIServer, gateway_api: GatewayAPICRDs, namespace: str
) -> None:
    count = 20
    class_name = f"{namespace}-latency"
    key = f"{namespace}/edge"
    call(kube_apiserver, "POST", GATEWAY_CLASSES, gateway_class(class_name))
    call(kube_apiserver, "POST", GATEWAYS.format(namespace), gateway("edge", class_name))
    call(kube_apiserver, "POST", SERVICES.format(namespace), service("api"))

    def host_of(i: int) -> str:
        return f"r{i}.{namespace}.example.com"

    def create_route(i: int, host: str) -> None:
        call(
            kube_apiserver,
            "POST",
            HTTPROUTES.format(namespace),
            http_route(f"r{i}", host, parent("edge")),
        )

    def create_ingress(i: int, host: str) -> None:
        call(kube_apiserver, "POST", INGRESSES.format(namespace), ingress(f"i{i}", host))

    async def main() -> tuple[list[float], list[float]]:
        async with watcher_for(kube_apiserver, namespace) as watcher:
            await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            routes = await create_to_routable(
                watcher,
                lambda s, host: gateway_backend(s, key, host, "/api/x") == "api",
                create_route,
                host_of,
                count,
            )
            ingresses = await create_to_routable(
                watcher,
                lambda s, host: backend(s, f"i-{host}", "/api/x") == "api",
                lambda i, host: create_ingress(i, f"i-{host}"),
                host_of,
                count,
            )
        return routes, ingresses

    results: list[tuple[list[float], list[float]]] = []

    async def measure() -> None:
        results.append(await main())

    run(measure())
    routes, ingresses = results[0]
    for what, values in (("HTTPRoute", routes), ("Ingress", ingresses)):
        print(  # shown with -s only
            f"\ncreate->routable, {what}, {count} one at a time:"
            f" p50 {percentile(values, 50) * 1000:.1f} ms,"
            f" p99 {percentile(values, 99) * 1000:.1f} ms,"
            f" max {max(values) * 1000:.1f} ms"
        )
    assert percentile(routes, 50) < 1.0
