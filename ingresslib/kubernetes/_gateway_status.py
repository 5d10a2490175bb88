"""`GatewayStatusWriter`: the Gateway API status of our classes, written from the leader.

What to write is computed purely by `ingresslib.gateway_status(snapshot.resources,
controller=...)`; this module only merges it into the objects' current status and writes
it through the `status` subresource (GET, then PUT with the `resourceVersion` read; 409 is
read again), like `StatusWriter` does for Ingresses. What belongs to others is kept: the
route `status.parents` entries of other controllers, and the status of GatewayClasses (and
their Gateways) that name another controller are never touched.

The conditions are `metav1.Condition`s: `observedGeneration` is the `metadata.generation`
the status was computed from, and `lastTransitionTime` is kept while a condition's status
stays the same ("lastTransitionTime is the last time the condition transitioned from one
status to another", as `meta.SetStatusCondition` keeps it).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from ingresslib.gatewayapi import GatewayStatusReport, gateway_status
from ingresslib.kubernetes._client import KindSpec
from ingresslib.kubernetes._lease import LeaderElector, StatusWriter, StatusWriterStats
from ingresslib.kubernetes._watcher import GATEWAY_API_GROUP, Snapshot, Watcher
from ingresslib.resources import (
    Condition,
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPRoute,
    Namespace,
    ParentReference,
    ReferenceGrant,
    Resource,
    RouteGroupKind,
    Secret,
    Service,
)

__all__ = ["GatewayStatusWriter"]

log = logging.getLogger("ingresslib.kubernetes")

# The kinds gateway_status() reads: a snapshot that changed none of them (an EndpointSlice
# change, the common event) reuses the previous report.
_INPUTS = (GatewayClass, Gateway, HTTPRoute, GRPCRoute, ReferenceGrant, Namespace, Secret, Service)
# Stores at least this large are computed in a worker thread, off the event loop.
_THREAD_THRESHOLD = 500
# "+kubebuilder:validation:MaxItems=32" (RouteStatus.Parents).
_MAX_PARENTS = 32

#: A status merge: the current `status` (JSON) and the time now -> the new one.
_Merge = Callable[[Mapping[str, Any], str], dict[str, Any]]


def _now() -> str:
    """A metav1.Time: RFC 3339, seconds, UTC."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- JSON of what the store holds (to tell, without a GET, whether a write is due) ----------


def _condition_json(condition: Condition) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": condition.type,
        "status": condition.status,
        "observedGeneration": condition.observed_generation,
        "reason": condition.reason,
        "message": condition.message,
    }
    when = _time(condition.last_transition_time)
    if when is not None:
        item["lastTransitionTime"] = when
    return item


def _kind_json(kind: RouteGroupKind) -> dict[str, Any]:
    return {"group": kind.group, "kind": kind.kind}


def _parent_ref_json(ref: ParentReference) -> dict[str, Any]:
    item: dict[str, Any] = {"group": ref.group, "kind": ref.kind}
    if ref.namespace is not None:
        item["namespace"] = ref.namespace
    item["name"] = ref.name
    if ref.section_name is not None:
        item["sectionName"] = ref.section_name
    if ref.port is not None:
        item["port"] = ref.port
    return item


def _stored_status(resource: Resource) -> dict[str, Any]:
    """The parts of a stored object's status that this writer compares, as JSON."""
    if isinstance(resource, GatewayClass):
        return {"conditions": [_condition_json(c) for c in resource.status.conditions]}
    if isinstance(resource, Gateway):
        status = resource.status
        return {
            "addresses": [{"type": a.type, "value": a.value} for a in status.addresses],
            "conditions": [_condition_json(c) for c in status.conditions],
            "listeners": [
                {
                    "name": listener.name,
                    "supportedKinds": [_kind_json(k) for k in listener.supported_kinds],
                    "attachedRoutes": listener.attached_routes,
                    "conditions": [_condition_json(c) for c in listener.conditions],
                }
                for listener in status.listeners
            ],
        }
    if isinstance(resource, HTTPRoute | GRPCRoute):
        return {
            "parents": [
                {
                    "parentRef": _parent_ref_json(p.parent_ref),
                    "controllerName": p.controller_name,
                    "conditions": [_condition_json(c) for c in p.conditions],
                }
                for p in resource.status.parents
            ]
        }
    raise TypeError(f"no Gateway API status for {resource.kind}")


# --- merging ---------------------------------------------------------------------------------


def _conditions(wanted: Iterable[Condition], current: object, now: str) -> list[dict[str, Any]]:
    """`wanted` as JSON; each keeps the lastTransitionTime of a current one of its type and status.

    A condition that is new, or whose status changed, gets `now`.
    """
    previous = (
        {c.get("type"): c for c in current if isinstance(c, dict)}
        if isinstance(current, list)
        else {}
    )
    merged = []
    for condition in wanted:
        item = _condition_json(condition)
        old = previous.get(condition.type)
        if old is not None and old.get("status") == condition.status:
            item["lastTransitionTime"] = old.get("lastTransitionTime") or now
        else:
            item["lastTransitionTime"] = now
        merged.append(item)
    return merged


def _comparable(value: Any) -> Any:
    """`value` without lastTransitionTime (it changes only with a status, compared anyway)."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "lastTransitionTime"}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _parent_key(ref: Mapping[str, Any], route_namespace: str) -> tuple[str, str, str | None] | None:
    """(namespace, name, sectionName) of a parentRef naming a Gateway, else None."""
    if (ref.get("group") or GATEWAY_API_GROUP) != GATEWAY_API_GROUP:
        return None
    if (ref.get("kind") or "Gateway") != "Gateway":
        return None
    return (
        str(ref.get("namespace") or route_namespace),
        str(ref.get("name") or ""),
        ref.get("sectionName"),
    )


@attrs.frozen
class _RouteParent:
    """One `status.parents` entry we own: its parentRef and conditions."""

    key: tuple[str, str, str | None]
    parent_ref: dict[str, Any]
    conditions: tuple[Condition, ...]


def _merge_class(conditions: Sequence[Condition]) -> _Merge:
    def merge(current: Mapping[str, Any], now: str) -> dict[str, Any]:
        return {**current, "conditions": _conditions(conditions, current.get("conditions"), now)}

    return merge


@attrs.frozen
class _ListenerWant:
    """One `status.listeners` entry, as computed."""

    name: str
    supported_kinds: tuple[RouteGroupKind, ...]
    attached_routes: int
    conditions: tuple[Condition, ...]


def _merge_gateway(
    conditions: Sequence[Condition],
    listeners: Sequence[_ListenerWant],
    addresses: Sequence[Mapping[str, str]],
) -> _Merge:
    def merge(current: Mapping[str, Any], now: str) -> dict[str, Any]:
        before = {
            item.get("name"): item
            for item in current.get("listeners") or ()
            if isinstance(item, dict)
        }
        status: dict[str, Any] = {
            **current,
            "conditions": _conditions(conditions, current.get("conditions"), now),
            "listeners": [
                {
                    "name": want.name,
                    "supportedKinds": [_kind_json(k) for k in want.supported_kinds],
                    "attachedRoutes": want.attached_routes,
                    "conditions": _conditions(
                        want.conditions, (before.get(want.name) or {}).get("conditions"), now
                    ),
                }
                for want in listeners
            ],
        }
        if addresses:
            status["addresses"] = [dict(a) for a in addresses]
        return status

    return merge


def _merge_route(
    what: str, namespace: str, controller: str, parents: Sequence[_RouteParent]
) -> _Merge:
    def merge(current: Mapping[str, Any], now: str) -> dict[str, Any]:
        wanted = {p.key: p for p in parents}
        merged: list[dict[str, Any]] = []
        done: set[tuple[str, str, str | None]] = set()
        for entry in current.get("parents") or ():
            if not isinstance(entry, dict):
                continue
            if entry.get("controllerName") != controller:
                merged.append(entry)  # another controller's: untouched
                continue
            key = _parent_key(entry.get("parentRef") or {}, namespace)
            parent = wanted.get(key) if key is not None else None
            if parent is None or key in done:
                continue  # a parent that is no longer ours: its entry goes
            done.add(parent.key)
            merged.append(_parent_json(parent, controller, entry.get("conditions"), now))
        for parent in parents:
            if parent.key not in done:
                done.add(parent.key)
                merged.append(_parent_json(parent, controller, None, now))
        if len(merged) > _MAX_PARENTS:
            # The apiserver would refuse the whole status: ours beyond the limit are left out.
            log.debug(
                "%s: %d status.parents entries, more than the CRD allows (%d): ours beyond go",
                what,
                len(merged),
                _MAX_PARENTS,
            )
            room = _MAX_PARENTS - sum(1 for e in merged if e.get("controllerName") != controller)
            trimmed = []
            for entry in merged:
                if entry.get("controllerName") == controller:
                    if room <= 0:
                        continue
                    room -= 1
                trimmed.append(entry)
            merged = trimmed
        return {**current, "parents": merged}

    return merge


def _parent_json(
    parent: _RouteParent, controller: str, current: object, now: str
) -> dict[str, Any]:
    return {
        "parentRef": dict(parent.parent_ref),
        "controllerName": controller,
        "conditions": _conditions(parent.conditions, current, now),
    }


@attrs.frozen
class _Target:
    """One object whose status we write, and how."""

    resource: Resource
    merge: _Merge

    def due(self) -> bool:
        """Whether the status in the store differs from what the merge makes of it."""
        stored = _stored_status(self.resource)
        return bool(_comparable(self.merge(stored, "")) != _comparable(stored))


def _plan(
    inputs: Sequence[Resource], controller: str, addresses: Sequence[Mapping[str, str]]
) -> tuple[GatewayStatusReport, tuple[_Target, ...]]:
    """The status of our objects among `inputs`, and the merges that write it."""
    report = gateway_status(inputs, controller=controller)
    targets = [
        _Target(c, _merge_class(report.conditions("GatewayClass", "", c.metadata.name)))
        for c in report.classes.values()
    ]
    routes: dict[tuple[str, str, str], list[_RouteParent]] = {}
    for attachment in report.attachments.values():
        gateway = attachment.gateway
        namespace, name = gateway.metadata.namespace, gateway.metadata.name
        listeners = [
            _ListenerWant(
                listener.name,
                report.supported_kinds(namespace, name, listener.name),
                report.attached_routes(namespace, name, listener.name),
                report.listener_conditions(namespace, name, listener.name),
            )
            for listener in gateway.spec.listeners
        ]
        conditions = report.conditions("Gateway", namespace, name)
        targets.append(_Target(gateway, _merge_gateway(conditions, listeners, addresses)))
        for entry in attachment.parents:
            route, ref = entry.route, entry.parent_ref
            meta = route.metadata
            key = (namespace, name, ref.section_name)
            parents = routes.setdefault((route.kind, meta.namespace, meta.name), [])
            if all(p.key != key for p in parents):
                # PERF: route_conditions() looks the entry up among the Gateway's parents,
                # so this is quadratic in the routes of one Gateway (~0.1 s for 1,000); it
                # runs once per change of the inputs, in a thread for large stores.
                wanted = report.route_conditions(route.kind, meta.namespace, meta.name, parent=key)
                parents.append(_RouteParent(key, _parent_ref_json(ref), wanted))
    for resource in inputs:
        if not isinstance(resource, HTTPRoute | GRPCRoute):
            continue
        meta = resource.metadata
        found = routes.get((resource.kind, meta.namespace, meta.name), [])
        # Ours to write: a route with a parent of ours, or one with an entry of ours to remove.
        if found or any(p.controller_name == controller for p in resource.status.parents):
            what = f"{resource.kind} {meta.namespace}/{meta.name}"
            targets.append(_Target(resource, _merge_route(what, meta.namespace, controller, found)))
    return report, tuple(targets)


class GatewayStatusWriter:
    """Write the Gateway API status of our GatewayClasses, their Gateways and their routes.

    From the leader only (`elector.is_leader`), for the GatewayClasses whose
    `spec.controllerName` is `controller`, what `ingresslib.gateway_status` computes from each
    snapshot of `watcher`:

    - GatewayClass `status.conditions` (Accepted, SupportedVersion);
    - Gateway `status.conditions` (Accepted, Programmed), `status.listeners` (one entry per
      listener of the spec: name, supportedKinds, attachedRoutes, conditions) and
      `status.addresses`: those of `addresses_from` (the Ingress `StatusWriter`'s fixed
      addresses, or its `publish_service`'s) when it has some, else left as they are;
    - HTTPRoute and GRPCRoute `status.parents`: one entry per Gateway of ours the route names
      (parentRef, controllerName, conditions: Accepted, ResolvedRefs); our entries for parents
      that are no longer ours are removed; other controllers' entries are kept as they are.

    A status is written only when it changes (compared without the timestamps), through the
    `status` subresource: GET, merge, PUT with that `resourceVersion`; a 409 reads again, up
    to 3 times. A failed write is logged and tried again with the next snapshot.

    Args:
        watcher: whose snapshots hold the Gateway API objects (it must follow them:
            `watcher.gateway_api`).
        elector: the leader election this replica takes part in (its connection is used).
        controller: our controller name; default: the watcher's `controller`.
        addresses_from: the Ingress `StatusWriter` whose addresses the Gateways get.
        concurrency: writes in flight at once.
    """

    def __init__(
        self,
        watcher: Watcher,
        elector: LeaderElector,
        *,
        controller: str | None = None,
        addresses_from: StatusWriter | None = None,
        concurrency: int = 8,
    ) -> None:
        controller = controller if controller is not None else watcher.controller
        if not controller:
            raise ValueError("GatewayStatusWriter needs a controller name (or a watcher's)")
        self._controller = controller
        self._watcher = watcher
        self._elector = elector
        self._addresses_from = addresses_from
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._report: GatewayStatusReport | None = None
        self._targets: tuple[_Target, ...] = ()
        self._planned: object = None  # the (inputs, addresses) of `_targets`
        self._done: object = None  # the (inputs, addresses) fully written
        self._stats: dict[str, int] = dict.fromkeys(attrs.fields_dict(StatusWriterStats), 0)

    @property
    def controller(self) -> str:
        """The controller name whose classes this writer writes for."""
        return self._controller

    @property
    def stats(self) -> StatusWriterStats:
        """The counters so far (writes: statuses written)."""
        return StatusWriterStats(**self._stats)

    @property
    def report(self) -> GatewayStatusReport | None:
        """The status last computed (from the latest snapshot the writer handled)."""
        return self._report

    async def start(self) -> None:
        """Start following snapshots and leadership."""
        self._unsubscribe = self._watcher.subscribe(lambda _snapshot: self._wake.set())
        self._elector.subscribe(self._on_leadership)
        self._task = asyncio.create_task(self._run(), name="ingresslib-gateway-status-writer")

    def _on_leadership(self, _leading: bool) -> None:
        self._done = None  # a new leader checks everything again
        self._wake.set()

    async def stop(self) -> None:
        """Stop writing."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def __aenter__(self) -> GatewayStatusWriter:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            snapshot = self._watcher.snapshot
            if snapshot is not None and self._elector.is_leader and self._watcher.gateway_api:
                await self._sync(snapshot)

    def _gateway_addresses(self, snapshot: Snapshot) -> tuple[tuple[tuple[str, str], ...], ...]:
        """`status.addresses` entries for the Gateways, as hashable items."""
        if self._addresses_from is None:
            return ()
        return tuple(
            (("type", "IPAddress"), ("value", a["ip"]))
            if a.get("ip")
            else (("type", "Hostname"), ("value", a.get("hostname", "")))
            for a in self._addresses_from.addresses(snapshot)
        )

    async def _sync(self, snapshot: Snapshot) -> None:
        inputs = tuple(r for r in snapshot.resources if isinstance(r, _INPUTS))
        addresses = self._gateway_addresses(snapshot)
        key = (inputs, addresses)
        if key == self._done:
            return  # written already (an EndpointSlice change, say)
        if key != self._planned:
            plain = [dict(a) for a in addresses]
            if len(inputs) >= _THREAD_THRESHOLD:
                planned = await asyncio.to_thread(_plan, inputs, self._controller, plain)
            else:
                planned = _plan(inputs, self._controller, plain)
            self._report, self._targets = planned
            self._planned = key
        specs = {spec.kind: spec for spec in self._watcher.kinds}
        todo = [t for t in self._targets if t.due()]
        errors = self._stats["errors"]
        await asyncio.gather(*(self._write(t, specs[t.resource.kind]) for t in todo))
        # Nothing left to do for these inputs unless leadership changes; a failed write is
        # tried again with the next snapshot.
        self._done = key if self._stats["errors"] == errors and self._elector.is_leader else None

    async def _write(self, target: _Target, spec: KindSpec) -> None:
        meta = target.resource.metadata
        namespace = meta.namespace if spec.namespaced else None
        path = f"{spec.path(namespace)}/{meta.name}/status"
        what = f"{spec.kind} {meta.namespace + '/' if namespace else ''}{meta.name}"
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
                    current = obj.get("status") or {}
                    new = target.merge(current, _now())
                    if _comparable(new) == _comparable(current):
                        return
                    obj["status"] = new
                    status, reply = await connection.request("PUT", path, obj)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # noqa: BLE001 (logged; retried on the next snapshot)
                    self._stats["errors"] += 1
                    log.warning("status of %s: %s", what, error)
                    return
                if status == 200:
                    self._stats["writes"] += 1
                    return
                if status != 409:
                    self._stats["errors"] += 1
                    log.warning("status of %s: HTTP %s: %s", what, status, str(reply)[:500])
                    return
                self._stats["conflicts"] += 1
