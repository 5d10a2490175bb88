"""Leader election on a coordination.k8s.io/v1 Lease, and status writing from the leader.

`LeaderElector` follows client-go's leaderelection (`tryAcquireOrRenew`): a Lease is held by
`spec.holderIdentity` until `leaseDurationSeconds` after the holder last changed it *as this
client observed* (local monotonic time, so clocks need not agree); every write is a PUT
carrying the `resourceVersion` that was read, so of two contenders only one wins (409
Conflict for the other). `StatusWriter` adds our addresses to `status.loadBalancer.ingress`
of the Ingresses a `Watcher` routes, from the leader only.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import random
import socket
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ingresslib.kubernetes._client import ApiConnection, sleep_or_stop
from ingresslib.kubernetes._watcher import Snapshot, Watcher
from ingresslib.resources import Ingress, Service

__all__ = ["LeaderElector", "StatusWriter", "StatusWriterStats", "service_addresses"]

log = logging.getLogger("ingresslib.kubernetes")

LEASES = "/apis/coordination.k8s.io/v1/namespaces/{}/leases"


def _micro_time(now: datetime.datetime | None = None) -> str:
    """A metav1.MicroTime: RFC 3339 with microseconds, in UTC."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """Hold a coordination.k8s.io/v1 Lease while alive; `is_leader` says whether we hold it.

    Args:
        config: as for `Watcher` (a kubeconfig path, a Configuration or ApiClient, None).
        name: the Lease's name.
        namespace: the Lease's namespace.
        identity: this replica's `holderIdentity`; default: hostname and process id.
        lease_duration: `leaseDurationSeconds`: how long a non-leader waits, after it last
            saw the Lease change, before taking it over (client-go default 15 s).
        renew_deadline: how long the leader keeps trying to renew before it steps down;
            less than `lease_duration` (client-go default 10 s).
        retry_period: the pause between two attempts (client-go default 2 s); jittered
            by up to 20% while not leading.
        release_on_stop: on `stop()`, hand the Lease back (empty holder, 1 s duration) so
            that another replica takes over at once (client-go's ReleaseOnCancel).
        context: the kubeconfig context, when not the current one.
    """

    def __init__(
        self,
        config: object = None,
        *,
        name: str,
        namespace: str,
        identity: str | None = None,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        release_on_stop: bool = True,
        context: str | None = None,
    ) -> None:
        if not 0 < retry_period < renew_deadline < lease_duration:
            raise ValueError("need 0 < retry_period < renew_deadline < lease_duration")
        if isinstance(config, str):
            config = os.path.expanduser(config)
        self.connection = ApiConnection(config, context=context)
        self.name = name
        self.namespace = namespace
        self.identity = identity or f"{socket.gethostname()}_{os.getpid()}"
        self._duration = lease_duration
        self._renew_deadline = renew_deadline
        self._retry = retry_period
        self._release_on_stop = release_on_stop
        self._path = f"{LEASES.format(namespace)}/{name}"
        self._observed: dict[str, Any] | None = None  # the Lease's spec as last read
        self._observed_at = 0.0  # loop.time() when `_observed` last changed
        self._renewed_at = 0.0
        self._leading = False
        self._callbacks: list[Callable[[bool], None]] = []
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this replica holds the Lease now."""
        return self._leading

    def subscribe(self, callback: Callable[[bool], None]) -> None:
        """Call `callback(is_leader)` whenever leadership is gained or lost."""
        self._callbacks.append(callback)

    async def start(self) -> None:
        """Connect and start contending for the Lease."""
        await self.connection.open()
        self._task = asyncio.create_task(self._run(), name=f"ingresslib-lease-{self.name}")

    async def stop(self) -> None:
        """Stop contending; release the Lease if held (and `release_on_stop`)."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._leading and self._release_on_stop:
            try:
                await self._release()
            except Exception as error:  # noqa: BLE001 (best effort: the lease expires anyway)
                log.warning("lease %s: release failed: %s", self.name, error)
        self._set_leading(False)
        await self.connection.close()

    async def __aenter__(self) -> LeaderElector:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- the loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                held = await asyncio.wait_for(self._try_acquire_or_renew(), self._renew_deadline)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 (retried: the loop must go on)
                log.warning("lease %s: %s: %s", self.name, type(error).__name__, error)
                held = False
            now = loop.time()
            if held:
                self._renewed_at = now
                self._set_leading(True)
            elif self._leading and (
                now - self._renewed_at > self._renew_deadline or self._held_by_other()
            ):
                log.warning("lease %s: leadership lost", self.name)
                self._set_leading(False)
            delay = self._retry if self._leading else self._retry * (1 + 0.2 * random.random())
            if await sleep_or_stop(delay, self._stopping):
                return

    def _held_by_other(self) -> bool:
        holder = (self._observed or {}).get("holderIdentity") or ""
        return holder not in ("", self.identity)

    def _set_leading(self, leading: bool) -> None:
        if leading == self._leading:
            return
        self._leading = leading
        log.info("lease %s: %s %s", self.name, self.identity, "leads" if leading else "follows")
        for callback in list(self._callbacks):
            _call_safely(callback, leading)

    async def _try_acquire_or_renew(self) -> bool:
        loop = asyncio.get_running_loop()
        now = _micro_time()
        status, lease = await self.connection.request("GET", self._path)
        if status == 404:
            fresh: dict[str, Any] = {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": round(self._duration),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            }
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.name, "namespace": self.namespace},
                "spec": fresh,
            }
            status, created = await self.connection.request(
                "POST", LEASES.format(self.namespace), body
            )
            if status != 201:
                return False  # 409: another replica created it first
            self._observed, self._observed_at = created["spec"], loop.time()
            return True
        if status != 200:
            raise RuntimeError(f"GET lease: HTTP {status}: {str(lease)[:300]}")
        spec: dict[str, Any] = dict(lease.get("spec") or {})
        if spec != self._observed:
            self._observed, self._observed_at = spec, loop.time()
        holder = spec.get("holderIdentity") or ""
        duration = float(spec.get("leaseDurationSeconds") or self._duration)
        if holder and holder != self.identity and self._observed_at + duration > loop.time():
            return False  # held by another, and not expired (as we observed it)
        if holder != self.identity:
            # A new holder: "LeaderTransitions = oldRecord.LeaderTransitions + 1".
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        spec.update(
            holderIdentity=self.identity,
            leaseDurationSeconds=round(self._duration),
            renewTime=now,
        )
        lease["spec"] = spec  # metadata.resourceVersion is kept: a stale read fails with 409
        status, updated = await self.connection.request("PUT", self._path, lease)
        if status != 200:
            return False
        self._observed, self._observed_at = updated["spec"], loop.time()
        return True

    async def _release(self) -> None:
        status, lease = await self.connection.request("GET", self._path)
        if status != 200 or (lease.get("spec") or {}).get("holderIdentity") != self.identity:
            return
        lease["spec"].update(holderIdentity="", leaseDurationSeconds=1, renewTime=_micro_time())
        await self.connection.request("PUT", self._path, lease)


def _call_safely(callback: Callable[[bool], None], leading: bool) -> None:
    try:
        callback(leading)
    # A subscriber's bug must not stop the election.
    except Exception:
        log.exception("leadership callback %r failed", callback)


@attrs.frozen
class StatusWriterStats:
    """Counters of a `StatusWriter` (or a `GatewayStatusWriter`).

    Attributes:
        writes: statuses written.
        conflicts: writes refused with 409 Conflict (retried after a fresh read).
        errors: writes that failed otherwise.
    """

    writes: int = 0
    conflicts: int = 0
    errors: int = 0


class StatusWriter:
    """Write our addresses to `status.loadBalancer.ingress` of the Ingresses a Watcher routes.

    Writes only while `elector.is_leader`. Each write reads the status subresource and PUTs
    it back with that `resourceVersion`; on 409 it reads again (up to 3 times).

    The addresses are either fixed (`ips`, `hostnames`: added to each status, entries that
    are not ours kept, never cleared) or those of a Service (`publish_service`, as
    ingress-nginx's `--publish-service`): then the status of each Ingress we serve is set to
    exactly that Service's addresses (ingress-nginx: "currIng.Status.LoadBalancer.Ingress =
    status"), so that a changed load-balancer address replaces the old one; nothing is
    written while the Service has no address (a load balancer still pending) or is not in
    the watcher's store.

    Args:
        watcher: whose snapshots name the Ingresses we serve (`snapshot.table.ingresses`).
        elector: the leader election this replica takes part in (its connection is used).
        ips: our addresses (`ip` entries).
        hostnames: our DNS names (`hostname` entries).
        publish_service: "namespace/name" of the Service whose addresses are ours (it must
            be in a namespace the watcher follows); exclusive with `ips` and `hostnames`.
        concurrency: writes in flight at once.
    """

    def __init__(
        self,
        watcher: Watcher,
        elector: LeaderElector,
        *,
        ips: Sequence[str] = (),
        hostnames: Sequence[str] = (),
        publish_service: str | None = None,
        concurrency: int = 8,
    ) -> None:
        if publish_service is not None:
            namespace, sep, name = publish_service.partition("/")
            if not (sep and namespace and name) or "/" in name:
                raise ValueError(f"publish_service is namespace/name, not {publish_service!r}")
            if ips or hostnames:
                raise ValueError("publish_service excludes ips and hostnames")
            self._service: tuple[str, str] | None = (namespace, name)
        elif not ips and not hostnames:
            raise ValueError("StatusWriter needs an IP, a hostname or a publish_service")
        else:
            self._service = None
        self._watcher = watcher
        self._elector = elector
        self._fixed = [{"ip": ip} for ip in ips] + [{"hostname": h} for h in hostnames]
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._stats: dict[str, int] = dict.fromkeys(attrs.fields_dict(StatusWriterStats), 0)

    @property
    def stats(self) -> StatusWriterStats:
        """The counters so far."""
        return StatusWriterStats(**self._stats)

    async def start(self) -> None:
        """Start following snapshots and leadership."""
        self._unsubscribe = self._watcher.subscribe(lambda _snapshot: self._wake.set())
        self._elector.subscribe(lambda _leading: self._wake.set())
        self._task = asyncio.create_task(self._run(), name="ingresslib-status-writer")

    async def stop(self) -> None:
        """Stop writing."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def __aenter__(self) -> StatusWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            snapshot = self._watcher.snapshot
            if snapshot is not None and self._elector.is_leader:
                await self._sync(snapshot)

    def addresses(self, snapshot: Snapshot) -> list[dict[str, str]]:
        """Our addresses in `snapshot`: the fixed ones, or the published Service's.

        Each is `{"ip": ...}` or `{"hostname": ...}`, as in `status.loadBalancer.ingress`;
        empty while the published Service has no address (or is not in the snapshot).
        `GatewayStatusWriter(addresses_from=...)` gives these to the Gateways.
        """
        if self._service is None:
            return self._fixed
        service = snapshot.endpoints.services.get(self._service)
        return [] if service is None else service_addresses(service)

    def _change(
        self, entries: Sequence[dict[str, Any]], wanted: Sequence[dict[str, str]]
    ) -> list[dict[str, Any]] | None:
        """The new `ingress` list for a status holding `entries`, or None: no change."""
        have = [(e.get("ip") or "", e.get("hostname") or "") for e in entries]
        want = [(w.get("ip", ""), w.get("hostname", "")) for w in wanted]
        if self._service is not None:
            return None if sorted(have) == sorted(want) else list(wanted)
        missing = [w for w, key in zip(wanted, want, strict=True) if key not in have]
        return [*entries, *missing] if missing else None  # others' entries kept

    async def _sync(self, snapshot: Snapshot) -> None:
        wanted = self.addresses(snapshot)
        if not wanted:
            return  # no address yet: never clear a status for that
        todo = []
        for ingress in snapshot.table.ingresses:
            entries = [
                {"ip": e.ip, "hostname": e.hostname} for e in ingress.status.load_balancer.ingress
            ]
            if self._change(entries, wanted) is not None:
                todo.append(ingress)
        await asyncio.gather(*(self._write(ingress, wanted) for ingress in todo))

    async def _write(self, ingress: Ingress, wanted: Sequence[dict[str, str]]) -> None:
        meta = ingress.metadata
        path = (
            f"/apis/networking.k8s.io/v1/namespaces/{meta.namespace}/ingresses/{meta.name}/status"
        )
        connection = self._elector.connection
        async with self._semaphore:
            for _ in range(3):
                if not self._elector.is_leader:
                    return
                try:
                    status, obj = await connection.request("GET", path)
                    if status == 404:
                        return
                    if status != 200:
                        raise RuntimeError(f"GET: HTTP {status}: {str(obj)[:300]}")
                    balancer = obj.setdefault("status", {}).setdefault("loadBalancer", {})
                    change = self._change(balancer.get("ingress") or [], wanted)
                    if change is None:
                        return
                    balancer["ingress"] = change
                    status, reply = await connection.request("PUT", path, obj)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 (logged; retried on the next snapshot)
                    self._stats["errors"] += 1
                    log.warning("status of %s/%s: %s", meta.namespace, meta.name, error)
                    return
                if status == 200:
                    self._stats["writes"] += 1
                    return
                if status != 409:
                    self._stats["errors"] += 1
                    log.warning(
                        "status of %s/%s: HTTP %s: %s",
                        meta.namespace,
                        meta.name,
                        status,
                        str(reply)[:300],
                    )
                    return
                self._stats["conflicts"] += 1


def service_addresses(service: Service) -> list[dict[str, str]]:
    """The `status.loadBalancer.ingress` entries a Service gives an Ingress it fronts.

    ingress-nginx's `statusAddressFromService`: ExternalName, its name; ClusterIP, its
    cluster IP; NodePort, its external IPs, else its cluster IP; LoadBalancer, the load
    balancer's addresses ("if ingress.IP == "" { Hostname } else { IP }") then the external
    IPs not among them.
    """
    spec = service.spec
    kind = service.effective_type
    if kind == "ExternalName":
        return [{"hostname": spec.external_name}] if spec.external_name else []
    if kind == "NodePort" and spec.external_ips:
        return [{"ip": ip} for ip in spec.external_ips]
    if kind in ("ClusterIP", "NodePort"):
        ip = spec.cluster_ip
        return [{"ip": ip}] if ip and ip != "None" else []
    found: list[dict[str, str]] = []
    seen: set[str] = set()
    for entry in service.status.load_balancer.ingress:
        item = {"ip": entry.ip} if entry.ip else {"hostname": entry.hostname}
        found.append(item)
        seen.add(entry.ip or entry.hostname)
    found += [{"ip": ip} for ip in spec.external_ips if ip not in seen]
    return found
