"""LeaderElector and StatusWriter against a real kube-apiserver (tests/kubernetes/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from ingresslib.kubernetes import LeaderElector, StatusWriter, Watcher
from tests.kubernetes.conftest import KubeAPIServer
from tests.kubernetes.test_watcher import INGRESSES, call, ingress, run, watcher_for

pytest.importorskip("kubernetes_asyncio")

LEASES = "/apis/coordination.k8s.io/v1/namespaces/{}/leases"
TIMEOUT = 15.0
FOREIGN = {"hostname": "other-lb.example.net"}


def elector(server: KubeAPIServer, namespace: str, identity: str) -> LeaderElector:
    return LeaderElector(
        str(server.kubeconfig),
        name="ingresslib",
        namespace=namespace,
        identity=identity,
        lease_duration=2.0,
        renew_deadline=1.5,
        retry_period=0.2,
    )


class Replica:
    def __init__(self, server: KubeAPIServer, namespace: str, identity: str, ip: str) -> None:
        self.ip = ip
        self.watcher: Watcher = watcher_for(server, namespace)
        self.elector = elector(server, namespace, identity)
        self.writer = StatusWriter(self.watcher, self.elector, ips=[ip])

    async def start(self) -> None:
        await self.watcher.start()
        await self.elector.start()
        await self.writer.start()

    async def stop(self) -> None:
        await self.writer.stop()
        await self.elector.stop()
        await self.watcher.stop()


@contextlib.asynccontextmanager
async def replicas(*items: Replica) -> AsyncIterator[tuple[Replica, ...]]:
    await asyncio.gather(*(r.start() for r in items))
    try:
        yield items
    finally:
        await asyncio.gather(*(r.stop() for r in items))


async def until(predicate: Callable[[], Any], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while not await asyncio.to_thread(predicate):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def test_of_two_replicas_only_the_leader_writes_status(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    path = INGRESSES.format(namespace)
    names = ["a", "b", "c"]

    def statuses() -> dict[str, list[dict[str, str]]]:
        items = call(kube_apiserver, "GET", path)["items"]
        return {
            i["metadata"]["name"]: i.get("status", {}).get("loadBalancer", {}).get("ingress", [])
            for i in items
        }

    def lease() -> dict[str, Any]:
        spec: dict[str, Any] = call(
            kube_apiserver, "GET", f"{LEASES.format(namespace)}/ingresslib"
        )["spec"]
        return spec

    for name in names:
        call(kube_apiserver, "POST", path, ingress(name, f"{name}.{namespace}.example.com"))
    # Another controller's entry, which we must never clear.
    a = call(kube_apiserver, "GET", f"{path}/a")
    a["status"] = {"loadBalancer": {"ingress": [FOREIGN]}}
    call(kube_apiserver, "PUT", f"{path}/a/status", a)

    async def main() -> None:
        first = Replica(kube_apiserver, namespace, "replica-1", "10.9.0.1")
        second = Replica(kube_apiserver, namespace, "replica-2", "10.9.0.2")
        async with replicas(first, second):
            await until(lambda: first.elector.is_leader or second.elector.is_leader, "a leader")
            leader, follower = (first, second) if first.elector.is_leader else (second, first)
            await until(lambda: all({"ip": leader.ip} in s for s in statuses().values()), "status")
            await asyncio.sleep(1.0)  # a few renewals and snapshots more
            assert leader.elector.is_leader
            assert not follower.elector.is_leader
            assert leader.writer.stats.writes == len(names)
            assert follower.writer.stats.writes == 0
            seen = statuses()
            assert seen["a"] == [FOREIGN, {"ip": leader.ip}]
            assert seen["b"] == [{"ip": leader.ip}] == seen["c"]
            spec = lease()
            assert spec["holderIdentity"] == leader.elector.identity
            assert spec["leaseDurationSeconds"] == 2
            assert spec["leaseTransitions"] == 0

            # The leader goes (and releases the Lease): the follower takes over at once.
            await leader.stop()
            await until(lambda: follower.elector.is_leader, "the follower to lead")
            await until(
                lambda: all({"ip": follower.ip} in s for s in statuses().values()), "status"
            )
            seen = statuses()
            # The old leader's entries are not the new leader's: kept, not cleared.
            assert seen["a"] == [FOREIGN, {"ip": leader.ip}, {"ip": follower.ip}]
            assert follower.writer.stats.writes == len(names)
            spec = lease()
            assert spec["holderIdentity"] == follower.elector.identity
            assert spec["leaseTransitions"] == 1
            # replicas() stops both again on the way out; a second stop() is a no-op.

    run(main())


def test_a_held_lease_is_respected_until_it_expires(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    call(
        kube_apiserver,
        "POST",
        LEASES.format(namespace),
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "ingresslib"},
            "spec": {
                "holderIdentity": "crashed-replica",
                "leaseDurationSeconds": 2,
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 4,
            },
        },
    )

    async def main() -> None:
        async with elector(kube_apiserver, namespace, "replica-3") as contender:
            began = asyncio.get_running_loop().time()
            await asyncio.sleep(1.0)
            assert not contender.is_leader  # the crashed holder's lease has not expired
            await until(lambda: contender.is_leader, "the lease to expire")
            # Expiry counts from when the contender first saw the lease, not its renewTime.
            assert asyncio.get_running_loop().time() - began >= 1.8
            spec = call(kube_apiserver, "GET", f"{LEASES.format(namespace)}/ingresslib")["spec"]
            assert spec["holderIdentity"] == "replica-3"
            assert spec["leaseTransitions"] == 5
        spec = call(kube_apiserver, "GET", f"{LEASES.format(namespace)}/ingresslib")["spec"]
        assert spec.get("holderIdentity", "") == ""  # released on stop

    run(main())


def test_a_leader_that_cannot_renew_steps_down(
    kube_apiserver: KubeAPIServer, namespace: str
) -> None:
    changes: list[bool] = []

    async def main() -> None:
        async with elector(kube_apiserver, namespace, "replica-4") as leader:
            leader.subscribe(changes.append)
            await until(lambda: leader.is_leader, "leadership")
            await asyncio.to_thread(kube_apiserver.stop_apiserver)
            try:
                # renew_deadline (1.5 s) < lease_duration (2 s): it steps down before a
                # follower could take the lease over.
                await until(lambda: not leader.is_leader, "the leader to step down")
            finally:
                await asyncio.to_thread(kube_apiserver.start_apiserver)
            await until(lambda: leader.is_leader, "leadership again")
            spec = call(kube_apiserver, "GET", f"{LEASES.format(namespace)}/ingresslib")["spec"]
            assert spec["holderIdentity"] == "replica-4"
        assert changes == [True, False, True, False]

    run(main())
