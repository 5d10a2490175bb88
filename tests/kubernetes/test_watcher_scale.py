"""The Watcher at scale, and certificate rotation, against a real kube-apiserver."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterable
from typing import Any

import pytest

import ingresslib
from ingresslib.kubernetes import Snapshot
from ingresslib.resources import Secret
from tests.kubernetes.conftest import KubeAPIServer
from tests.kubernetes.test_watcher import (
    INGRESSES,
    TIMEOUT,
    backend,
    call,
    eventually,
    ingress,
    routes,
    run,
    watcher_for,
)

pytest.importorskip("kubernetes_asyncio")

SCALE = 2000
SECRETS = "/api/v1/namespaces/{}/secrets"


async def post_many(
    server: KubeAPIServer, path: str, bodies: Iterable[dict[str, Any]], concurrency: int = 64
) -> None:
    """POST each body to `path`, `concurrency` at a time over pooled keep-alive connections."""
    aiohttp = pytest.importorskip("aiohttp")
    semaphore = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(ssl=server.ssl_context(), limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(body: dict[str, Any]) -> None:
            async with (
                semaphore,
                session.post(
                    f"{server.url}{path}",
                    data=json.dumps(body),
                    headers={"Content-Type": "application/json", "Accept": "application/json"},
                ) as response,
            ):
                text = await response.text()
                assert response.status == 201, text[:500]

        await asyncio.gather(*(post(body) for body in bodies))


def tls_secret(name: str, certificate: bytes, key: bytes) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": base64.b64encode(certificate).decode(),
            "tls.key": base64.b64encode(key).decode(),
        },
    }


def test_a_fresh_watcher_syncs_thousands_of_ingresses(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    def host(i: int) -> str:
        return f"h{i}.{namespace}.example.com"

    async def main() -> None:
        began = time.perf_counter()
        await post_many(
            kube_apiserver,
            INGRESSES.format(namespace),
            (ingress(f"ing-{i}", host(i), f"svc-{i}") for i in range(SCALE)),
        )
        created = time.perf_counter() - began

        began = time.perf_counter()
        async with watcher_for(kube_apiserver, namespace) as watcher:
            snapshot = await asyncio.wait_for(watcher.wait_synced(), 40)
            synced = time.perf_counter() - began
            print(  # shown with -s only
                f"\n{SCALE} Ingresses: created in {created:.2f}s;"
                f" a fresh Watcher synced in {synced:.2f}s"
                f" ({len(snapshot.resources)} objects, generation {snapshot.generation})"
            )
            assert len(snapshot.table.ingresses) == SCALE
            for i in range(SCALE):
                assert backend(snapshot, host(i), "/api/x") == f"svc-{i}", host(i)
            assert watcher.stats.invalid == 0

    run(main())


def test_certificate_rotation_reaches_subscribers(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    path = SECRETS.format(namespace)
    old_cert = b"-----BEGIN CERTIFICATE-----\nb2xk\n-----END CERTIFICATE-----\n"
    new_cert = b"-----BEGIN CERTIFICATE-----\nbmV3\n-----END CERTIFICATE-----\n"
    key = b"-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n"

    def certificate(snapshot: Snapshot) -> bytes | None:
        for resource in snapshot.resources:
            if (
                isinstance(resource, Secret)
                and resource.metadata.namespace == namespace
                and resource.metadata.name == "shop-tls"
            ):
                assert resource.is_tls
                return resource.certificate_pem
        return None

    async def main() -> None:
        seen: list[bytes | None] = []
        async with watcher_for(kube_apiserver, namespace) as watcher:
            await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            watcher.subscribe(lambda snapshot: seen.append(certificate(snapshot)))
            await asyncio.to_thread(
                call, kube_apiserver, "POST", path, tls_secret("shop-tls", old_cert, key)
            )
            await eventually(watcher, lambda s: certificate(s) == old_cert)

            # Rotation: cert-manager replaces the data of the same Secret.
            await asyncio.to_thread(
                call,
                kube_apiserver,
                "PUT",
                f"{path}/shop-tls",
                tls_secret("shop-tls", new_cert, key),
            )
            await eventually(watcher, lambda s: certificate(s) == new_cert)
            await asyncio.sleep(0.1)  # the callback runs after the snapshot is set
        assert old_cert in seen
        assert seen[-1] == new_cert

    run(main())


def test_snapshots_derived_from_changes_equal_a_full_build(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    path = INGRESSES.format(namespace)

    def host(name: str) -> str:
        return f"{name}.{namespace}.example.com"

    def same_as_full_build(snapshot: Snapshot) -> bool:
        full = ingresslib.RouteTable.build(snapshot.resources)
        return routes(snapshot.table) == routes(full)

    async def main() -> None:
        await post_many(kube_apiserver, path, (ingress(f"i{n}", host(f"i{n}")) for n in range(600)))
        async with watcher_for(kube_apiserver, namespace) as watcher:
            await asyncio.wait_for(watcher.wait_synced(), TIMEOUT)
            full_builds = watcher.stats.full_builds
            # A new host, a second Ingress on an existing host, an update, a delete.
            await asyncio.to_thread(call, kube_apiserver, "POST", path, ingress("n", host("n")))
            await asyncio.to_thread(
                call, kube_apiserver, "POST", path, ingress("x", host("i1"), "other", path="/x")
            )
            changed = await asyncio.to_thread(call, kube_apiserver, "GET", f"{path}/i2")
            changed["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] = "v2"
            await asyncio.to_thread(call, kube_apiserver, "PUT", f"{path}/i2", changed)
            await asyncio.to_thread(call, kube_apiserver, "DELETE", f"{path}/i3")
            snapshot = await eventually(
                watcher,
                lambda s: (
                    backend(s, host("n"), "/api") == "api"
                    and backend(s, host("i1"), "/x") == "other"
                    and backend(s, host("i2"), "/api") == "v2"
                    and backend(s, host("i3"), "/api") is None
                ),
            )
            assert same_as_full_build(snapshot)
            assert backend(snapshot, host("i1"), "/api") == "api"
            assert len(snapshot.table.ingresses) == 601
            assert watcher.stats.full_builds == full_builds  # all derived

    run(main())
