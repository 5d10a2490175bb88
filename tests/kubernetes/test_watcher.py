"""ingresslib.kubernetes.Watcher against a real kube-apiserver (tests/kubernetes/conftest.py)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import ingresslib
from ingresslib import testing
from ingresslib.kubernetes import Snapshot, Watcher
from tests.kubernetes.conftest import KubeAPIServer

pytest.importorskip("kubernetes_asyncio")

INGRESSES = "/apis/networking.k8s.io/v1/namespaces/{}/ingresses"
SERVICES = "/api/v1/namespaces/{}/services"
SLICES = "/apis/discovery.k8s.io/v1/namespaces/{}/endpointslices"
TIMEOUT = 15.0


# --------------------------------------------------------------------------- objects


def ingress(
    name: str,
    host: str,
    service: str = "api",
    *,
    path: str = "/api",
    path_type: str = "Prefix",
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return testing.ingress(
        name,
        [testing.ingress_rule(host, testing.ingress_path(path, service, path_type=path_type))],
        annotations=annotations,
    )


def service(name: str) -> dict[str, Any]:
    return testing.service(name)


def endpoint_slice(name: str, service_name: str, address: str) -> dict[str, Any]:
    return testing.endpoint_slice(service_name, [address], name=name)


def call(server: KubeAPIServer, method: str, path: str, body: Any = None) -> dict[str, Any]:
    response = server.request(method, path, body)
    assert response.status in (200, 201), response
    result: dict[str, Any] = response.body
    return result


# --------------------------------------------------------------------------- helpers


def run(coroutine: Awaitable[None]) -> None:
    asyncio.run(asyncio.wait_for(coroutine, 50))


async def eventually(watcher: Watcher, predicate: Callable[[Snapshot], bool]) -> Snapshot:
    """Wait until the latest snapshot satisfies `predicate`."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        snapshot = watcher.snapshot
        if snapshot is not None and predicate(snapshot):
            return snapshot
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no snapshot satisfied the predicate; last: {snapshot}")
        await asyncio.sleep(0.05)


def backend(snapshot: Snapshot, host: str, path: str) -> str | None:
    match = snapshot.table.match(host, path)
    if match is None or match.backend.service is None:
        return None
    return match.backend.service.name


def routes(table: ingresslib.RouteTable) -> list[tuple[str, ...]]:
    return sorted(
        (
            route.host,
            route.http_path.path,
            str(route.http_path.path_type),
            route.ingress.metadata.namespace,
            route.ingress.metadata.name,
            route.http_path.backend.describe(),
        )
        for route in table.routes()
    )


def listed_paths(namespace: str) -> dict[str, str]:
    """The Ingress-side kinds the watcher follows in `namespace`, and their collection paths.

    (When an earlier test installed the Gateway API CRDs the watcher follows those kinds too.)
    """
    return {
        "Ingress": INGRESSES.format(namespace),
        "Service": SERVICES.format(namespace),
        "EndpointSlice": SLICES.format(namespace),
        "Secret": f"/api/v1/namespaces/{namespace}/secrets",
        "IngressClass": "/apis/networking.k8s.io/v1/ingressclasses",
    }


def fresh_list(server: KubeAPIServer, namespace: str) -> list[dict[str, Any]]:
    """Every object of `listed_paths` in `namespace` (and the IngressClasses), listed now."""
    objects: list[dict[str, Any]] = []
    for kind, path in listed_paths(namespace).items():
        body = call(server, "GET", path)
        api_version = body["apiVersion"]
        objects += [{"apiVersion": api_version, "kind": kind, **item} for item in body["items"]]
    return objects


def watcher_for(server: KubeAPIServer, namespace: str, **options: Any) -> Watcher:
    return Watcher(
        str(server.kubeconfig),
        namespaces=[namespace],
        debounce=0.02,
        backoff_initial=0.2,
        backoff_max=1.0,
        **options,
    )


# --------------------------------------------------------------------------- tests


def test_ingress_create_update_delete_reach_the_table(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    host = f"{namespace}.example.com"
    via_callback: list[Snapshot] = []
    via_iterator: list[Snapshot] = []

    async def main() -> None:
        watcher = watcher_for(kube_apiserver, namespace)
        assert not watcher.synced
        # `as watcher` (the same object) ends mypy's narrowing of the `synced` property to
        # False, which it would otherwise keep across the awaits.
        async with watcher as watcher:
            first = await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            assert watcher.synced
            assert first.generation == 1
            assert backend(first, host, "/api") is None
            watcher.subscribe(via_callback.append)

            async def consume() -> None:
                async for snapshot in watcher.snapshots():
                    via_iterator.append(snapshot)  # noqa: PERF401 (as they arrive, not at the end)

            consumer = asyncio.create_task(consume())

            path = INGRESSES.format(namespace)
            created = await asyncio.to_thread(
                call, kube_apiserver, "POST", path, ingress("shop", host)
            )
            await eventually(watcher, lambda s: backend(s, host, "/api/orders") == "api")

            created["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "v2"
            await asyncio.to_thread(call, kube_apiserver, "PUT", f"{path}/shop", created)
            await eventually(watcher, lambda s: backend(s, host, "/api/orders") == "v2")

            await asyncio.to_thread(call, kube_apiserver, "DELETE", f"{path}/shop")
            last = await eventually(watcher, lambda s: backend(s, host, "/api") is None)
            assert not any(i.metadata.namespace == namespace for i in last.table.ingresses)
        # stop() ends the iterator.
        await asyncio.wait_for(consumer, TIMEOUT)
        assert via_iterator[0] is first
        assert via_iterator[-1] is last
        assert via_callback[0] is first
        assert via_callback[-1] is last
        assert [s.generation for s in via_callback] == sorted({s.generation for s in via_callback})

    run(main())


def test_endpoint_slice_changes_reach_the_index(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    def addresses(snapshot: Snapshot) -> set[str]:
        slices = snapshot.endpoints.slices.get((namespace, "web"), ())
        return {a for s in slices for e in s.endpoints for a in e.addresses}

    async def main() -> None:
        async with watcher_for(kube_apiserver, namespace) as watcher:
            await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            await asyncio.to_thread(
                call, kube_apiserver, "POST", SERVICES.format(namespace), service("web")
            )
            created = await asyncio.to_thread(
                call,
                kube_apiserver,
                "POST",
                SLICES.format(namespace),
                endpoint_slice("web-1", "web", "10.1.0.1"),
            )
            snapshot = await eventually(watcher, lambda s: addresses(s) == {"10.1.0.1"})
            assert (namespace, "web") in snapshot.endpoints.services

            created["endpoints"][0]["addresses"] = ["10.1.0.2"]
            await asyncio.to_thread(
                call, kube_apiserver, "PUT", f"{SLICES.format(namespace)}/web-1", created
            )
            await eventually(watcher, lambda s: addresses(s) == {"10.1.0.2"})

    run(main())


def test_rejected_ingress_is_skipped_and_the_watcher_goes_on(
    kube_apiserver: KubeAPIServer, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The apiserver accepts any absolute ImplementationSpecific path; ingresslib's regex
    # matcher refuses "/(" when it builds the table. That Ingress alone is left out.
    pytest.importorskip("re2")
    host = f"{namespace}.example.com"
    bad = ingress(
        "bad",
        host,
        "broken",
        path="/(",
        path_type="ImplementationSpecific",
        annotations={"ingresslib.dev/path-matcher": "regex"},
    )

    async def main() -> None:
        async with watcher_for(kube_apiserver, namespace) as watcher:
            await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            path = INGRESSES.format(namespace)
            await asyncio.to_thread(call, kube_apiserver, "POST", path, bad)
            snapshot = await eventually(watcher, lambda s: bool(s.rejected))
            assert [i.metadata.name for i in snapshot.rejected] == ["bad"]
            await asyncio.to_thread(
                call, kube_apiserver, "POST", path, ingress("good", host, path="/ok")
            )
            snapshot = await eventually(watcher, lambda s: backend(s, host, "/ok") == "api")
            assert [i.metadata.name for i in snapshot.rejected] == ["bad"]

    with caplog.at_level(logging.WARNING, logger="ingresslib.kubernetes"):
        run(main())
    assert "skipping Ingress" in caplog.text


def test_an_object_ingresslib_rejects_is_logged_and_skipped(
    kube_apiserver: KubeAPIServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Whatever the apiserver stores passes its own validation, which ingresslib mirrors; feed
    # the converter an object it rejects directly.
    watcher = Watcher(str(kube_apiserver.kubeconfig))
    obj = ingress("Not_A_Name", "shop.example.com")
    obj["metadata"]["namespace"] = "default"
    with caplog.at_level(logging.WARNING, logger="ingresslib.kubernetes"):
        assert watcher._convert(obj) is None
    assert watcher.stats.invalid == 1
    assert "skipping Ingress default/Not_A_Name" in caplog.text
    assert "metadata.name" in caplog.text


def test_restart_and_compaction_lose_nothing(kube_apiserver: KubeAPIServer, namespace: str) -> None:
    path = INGRESSES.format(namespace)

    def host(name: str) -> str:
        return f"{name}.{namespace}.example.com"

    async def matches_fresh_list(watcher: Watcher) -> Snapshot:
        objects = await asyncio.to_thread(fresh_list, kube_apiserver, namespace)
        expected = ingresslib.load_manifests(objects, unknown_kinds="ignore")
        want_keys = {
            (r.kind, r.metadata.namespace, r.metadata.name, r.metadata.resource_version)
            for r in expected
        }
        want_routes = routes(ingresslib.RouteTable.build(expected))

        def same(snapshot: Snapshot) -> bool:
            have = {
                (r.kind, r.metadata.namespace, r.metadata.name, r.metadata.resource_version)
                for r in snapshot.resources
                if r.kind in listed_paths(namespace)
            }
            return have == want_keys and routes(snapshot.table) == want_routes

        return await eventually(watcher, same)

    async def main() -> None:
        async with watcher_for(kube_apiserver, namespace) as watcher:
            await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            for name in ("a", "b", "c"):
                await asyncio.to_thread(
                    call, kube_apiserver, "POST", path, ingress(name, host(name))
                )
            await matches_fresh_list(watcher)

            # A rolling restart: the watches break, reconnect and resume.
            await asyncio.to_thread(kube_apiserver.restart_apiserver)
            await asyncio.to_thread(call, kube_apiserver, "DELETE", f"{path}/a")
            await asyncio.to_thread(call, kube_apiserver, "POST", path, ingress("d", host("d")))
            snapshot = await matches_fresh_list(watcher)
            assert backend(snapshot, host("a"), "/api") is None
            assert backend(snapshot, host("d"), "/api") == "api"
            reconnects = watcher.stats.reconnects
            assert reconnects >= 1

            # Changes, then a compaction of etcd past them, then a restart: the watch cache
            # is new and etcd's history is gone, so resuming answers 410 and forces a relist.
            relists = watcher.stats.relists
            await asyncio.to_thread(call, kube_apiserver, "DELETE", f"{path}/b")
            await asyncio.to_thread(kube_apiserver.stop_apiserver)
            await asyncio.to_thread(kube_apiserver.compact_etcd)
            await asyncio.to_thread(kube_apiserver.start_apiserver)
            await asyncio.to_thread(call, kube_apiserver, "POST", path, ingress("e", host("e")))
            snapshot = await matches_fresh_list(watcher)
            assert backend(snapshot, host("b"), "/api") is None
            assert backend(snapshot, host("e"), "/api") == "api"
            assert watcher.stats.relists > relists

    run(main())


def test_without_kubernetes_asyncio_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "kubernetes_asyncio", None)
    with pytest.raises(ImportError, match=r"pip install 'ingresslib\[kubernetes\]'"):
        Watcher("kubeconfig")
