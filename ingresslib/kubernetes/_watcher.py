"""`Watcher`: LIST + WATCH the cluster into a store; publish `RouteTable` snapshots.

The reflector pattern of client-go, in asyncio: for each kind (and namespace), LIST, then
WATCH from the list's resourceVersion with bookmarks; on 410 Gone LIST again and diff
against the store; on any other failure reconnect with jittered exponential back-off.
Routing itself stays in the pure core: a snapshot is `RouteTable.build(store)`.

The Gateway API kinds are followed too when the apiserver serves them: API discovery of
gateway.networking.k8s.io/v1 decides, once, at start.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any

import attrs

from ingresslib.endpoints import EndpointIndex
from ingresslib.kubernetes._client import (
    ApiConnection,
    Backoff,
    GoneError,
    KindSpec,
    sleep_or_stop,
)
from ingresslib.plugins import get_path_matcher
from ingresslib.resources import (
    Ingress,
    IngressBackend,
    IngressClass,
    ManifestError,
    Resource,
    load_manifests,
)
from ingresslib.routing import RouteTable, RouteTableError

__all__ = [
    "GATEWAY_API_GROUP",
    "GATEWAY_API_KINDS",
    "KINDS",
    "Snapshot",
    "SnapshotCallback",
    "Watcher",
    "WatcherStats",
]

log = logging.getLogger("ingresslib.kubernetes")

#: The kinds a watcher follows.
KINDS: tuple[KindSpec, ...] = (
    KindSpec("Ingress", "networking.k8s.io/v1", "ingresses"),
    KindSpec("IngressClass", "networking.k8s.io/v1", "ingressclasses", namespaced=False),
    KindSpec("Service", "v1", "services"),
    KindSpec("EndpointSlice", "discovery.k8s.io/v1", "endpointslices"),
    KindSpec("Secret", "v1", "secrets"),
)

GATEWAY_API_GROUP = "gateway.networking.k8s.io"

#: The kinds a watcher also follows when the apiserver serves gateway.networking.k8s.io/v1
#: (the Gateway API CRDs are installed), at the version API discovery names (ReferenceGrant
#: may be served as v1beta1 only); and Namespaces, whose labels `allowedRoutes` selects by.
GATEWAY_API_KINDS: tuple[KindSpec, ...] = (
    KindSpec("GatewayClass", f"{GATEWAY_API_GROUP}/v1", "gatewayclasses", namespaced=False),
    KindSpec("Gateway", f"{GATEWAY_API_GROUP}/v1", "gateways"),
    KindSpec("HTTPRoute", f"{GATEWAY_API_GROUP}/v1", "httproutes"),
    KindSpec("GRPCRoute", f"{GATEWAY_API_GROUP}/v1", "grpcroutes"),
    KindSpec("ReferenceGrant", f"{GATEWAY_API_GROUP}/v1", "referencegrants"),
    KindSpec("Namespace", "v1", "namespaces", namespaced=False),
)
# The versions tried, in order, for a Gateway API kind that v1 does not list.
_GATEWAY_API_FALLBACK_VERSIONS = ("v1beta1",)

# Stores at least this large are built in a worker thread, off the event loop.
_THREAD_THRESHOLD = 500

StoreKey = tuple[str, str, str]  # (kind, namespace, name)


@attrs.frozen
class Snapshot:
    """One consistent view of the cluster, as published to subscribers.

    Attributes:
        generation: 1 for the first snapshot, then one more for each.
        table: the routes of the Ingresses (and IngressClasses) in `resources`.
        endpoints: the Services and EndpointSlices in `resources`, indexed.
        resources: every valid object in the store, sorted by (kind, namespace, name): the
            Gateway API objects and Namespaces too when they are followed, so that
            `RouteTable.build(snapshot.resources, gateway="ns/name")` routes a Gateway.
        rejected: Ingresses left out of `table` because a path matcher rejected a path.
    """

    generation: int
    table: RouteTable
    endpoints: EndpointIndex
    resources: tuple[Resource, ...]
    rejected: tuple[Ingress, ...] = ()


@attrs.frozen
class WatcherStats:
    """Counters since `start()`, for metrics and tests.

    Attributes:
        lists: completed LISTs (initial ones and relists).
        relists: LISTs after a 410 Gone.
        reconnects: watches re-opened after a failure (a closed or refused connection,
            a read timeout, an HTTP error other than 410), and Gateway API discovery
            requests retried.
        events: watch events applied (bookmarks not counted).
        invalid: objects skipped because ingresslib rejected them.
        snapshots: snapshots published.
        full_builds: snapshots built from the whole store (the others were derived from
            the previous snapshot and the changes since).
    """

    lists: int = 0
    relists: int = 0
    reconnects: int = 0
    events: int = 0
    invalid: int = 0
    snapshots: int = 0
    full_builds: int = 0


SnapshotCallback = Callable[[Snapshot], "Awaitable[None] | None"]


@attrs.frozen
class _Stream:
    spec: KindSpec
    namespace: str | None  # None: all namespaces (or cluster-scoped)
    params: tuple[tuple[str, str], ...]
    name: str | None = None  # one object only (a fieldSelector on metadata.name in params)

    def owns(self, key: StoreKey) -> bool:
        return (
            key[0] == self.spec.kind
            and (self.namespace is None or key[1] == self.namespace)
            and (self.name is None or key[2] == self.name)
        )

    def describe(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        only = f" {self.name}" if self.name else ""
        return f"{self.spec.kind}{only}{where}"


class _WatchEndedError(Exception):
    """The watch stream ended with an ERROR event other than 410."""


class Watcher:
    """Follow Ingresses, IngressClasses, Services, EndpointSlices, Secrets (and Gateway API).

    Use it as an async context manager, or `await start()` and `await stop()`::

        async with Watcher("~/.kube/config", controller="example.com/ingress") as watcher:
            async for snapshot in watcher.snapshots():
                gateway.table = snapshot.table

    Args:
        config: a kubeconfig path; a kubernetes_asyncio `Configuration` or `ApiClient`;
            or None for the in-cluster service account (when `KUBERNETES_SERVICE_HOST` is
            set) or else the default kubeconfig.
        namespaces: watch only these namespaces (one LIST+WATCH per kind and namespace);
            None watches all. IngressClasses and GatewayClasses are cluster-scoped and
            always watched; Namespaces are then followed by name.
        label_selector: a label selector for the Ingresses (other kinds are not filtered:
            a backend's Service or EndpointSlices must be seen whatever their labels).
        field_selector: a field selector for the Ingresses.
        controller: as for `RouteTable.build`.
        ingress_class: as for `RouteTable.build`.
        watch_without_class: as for `RouteTable.build`.
        default_backend: as for `RouteTable.build`.
        implementation_specific: as for `RouteTable.build`: the path matcher of
            `ImplementationSpecific` paths (a name in `ingresslib.plugins`; an unknown
            one raises `PathMatcherError` here).
        debounce: the shortest pause between two builds, in seconds: a change after a
            quiet spell is built at once; changes that follow a build within `debounce`
            wait until then, so that a burst of changes makes few snapshots.
        context: the kubeconfig context, when not the current one.
        watch_timeout: the server-side `timeoutSeconds` of a watch, randomised up to
            twice this (as client-go does) so that watches do not all end together.
        read_timeout: the longest silence tolerated on a watch connection before it is
            dropped and re-opened; default: twice `watch_timeout` plus 30 s (the server
            ends each watch by then, and sends bookmarks in between).
        backoff_initial: the first reconnect delay, in seconds.
        backoff_max: the longest reconnect delay, in seconds.
        gateway_api: follow the Gateway API kinds (`GATEWAY_API_KINDS`) when the apiserver
            serves them (API discovery at start); False: never (Ingress only).
    """

    def __init__(
        self,
        config: object = None,
        *,
        namespaces: Sequence[str] | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        controller: str | None = None,
        ingress_class: str | None = None,
        watch_without_class: bool = False,
        default_backend: IngressBackend | None = None,
        implementation_specific: str = "prefix",
        debounce: float = 0.01,
        context: str | None = None,
        watch_timeout: float = 300.0,
        read_timeout: float | None = None,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        gateway_api: bool = True,
    ) -> None:
        # An unknown matcher would reject every Ingress at each build: refuse it now.
        get_path_matcher(implementation_specific)
        if isinstance(config, str):
            config = os.path.expanduser(config)
        self._connection = ApiConnection(config, context=context)
        self._build_options: dict[str, Any] = {
            "controller": controller,
            "ingress_class": ingress_class,
            "watch_without_class": watch_without_class,
            "default_backend": default_backend,
            "implementation_specific": implementation_specific,
        }
        self._debounce = debounce
        self._watch_timeout = watch_timeout
        self._read_timeout = read_timeout if read_timeout is not None else 2 * watch_timeout + 30
        self._backoff = (backoff_initial, backoff_max)
        self._namespaces = None if namespaces is None else tuple(dict.fromkeys(namespaces))
        self._streams = tuple(
            self._plan(KINDS, self._namespaces, label_selector, field_selector),
        )
        # None until discovery answered; then whether the Gateway API kinds are followed.
        self._gateway_api: bool | None = None if gateway_api else False
        self._discovered = asyncio.Event()
        if not gateway_api:
            self._discovered.set()
        self._store: dict[StoreKey, Resource] = {}
        self._callbacks: list[SnapshotCallback] = []
        self._snapshot: Snapshot | None = None
        self._published = asyncio.Event()  # replaced after each publication
        self._dirty = asyncio.Event()
        self._pending: set[StoreKey] = set()  # keys changed since the last build
        self._stopping = asyncio.Event()
        self._synced = asyncio.Event()
        self._unlisted: set[_Stream] = set(self._streams)
        self._tasks: list[asyncio.Task[None]] = []
        self._stats: dict[str, int] = dict.fromkeys(attrs.fields_dict(WatcherStats), 0)
        self._started = False

    @staticmethod
    def _plan(
        specs: Iterable[KindSpec],
        namespaces: Sequence[str] | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> Iterable[_Stream]:
        for spec in specs:
            params: list[tuple[str, str]] = []
            if spec.kind == "Ingress":
                if label_selector:
                    params.append(("labelSelector", label_selector))
                if field_selector:
                    params.append(("fieldSelector", field_selector))
            if spec.kind == "Namespace" and namespaces is not None:
                # Only the Namespaces watched (their labels), each by name.
                for namespace in namespaces:
                    selector = ("fieldSelector", f"metadata.name={namespace}")
                    yield _Stream(spec, None, (selector,), name=namespace)
            elif not spec.namespaced or namespaces is None:
                yield _Stream(spec, None, tuple(params))
            else:
                for namespace in namespaces:
                    yield _Stream(spec, namespace, tuple(params))

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and start following the cluster; returns before the initial LISTs end.

        Await `wait_synced()` (or watch `synced`) to know when the first snapshot is out.
        """
        if self._started:
            raise RuntimeError("Watcher.start() was already called")
        self._started = True
        await self._connection.open()
        self._tasks = [self._start_follow(stream) for stream in self._streams]
        if not self._discovered.is_set():
            self._tasks.append(
                asyncio.create_task(self._discover(), name="ingresslib-discover-gateway-api")
            )
        self._tasks.append(asyncio.create_task(self._publish_loop(), name="ingresslib-publish"))

    def _start_follow(self, stream: _Stream) -> asyncio.Task[None]:
        return asyncio.create_task(
            self._follow(stream), name=f"ingresslib-watch-{stream.describe()}"
        )

    async def stop(self) -> None:
        """Stop watching, end `snapshots()` iterators and close the connection."""
        self._stopping.set()
        self._published.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._connection.close()

    async def __aenter__(self) -> Watcher:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- the published state ------------------------------------------------------------

    @property
    def synced(self) -> bool:
        """Whether every kind was listed and the first snapshot published (readiness)."""
        return self._synced.is_set()

    @property
    def controller(self) -> str | None:
        """The `controller` the watcher was made with (our classes' controller name)."""
        controller: str | None = self._build_options["controller"]
        return controller

    @property
    def gateway_api(self) -> bool | None:
        """Whether the Gateway API kinds are followed; None until discovery has answered.

        False when the apiserver does not serve gateway.networking.k8s.io/v1 (the CRDs are
        not installed: logged once at INFO) or when the watcher was made with
        `gateway_api=False`. Known by the time `synced` is true.
        """
        return self._gateway_api

    @property
    def kinds(self) -> tuple[KindSpec, ...]:
        """The kinds followed, each once, at the version served (Gateway API: after discovery)."""
        return tuple(dict.fromkeys(stream.spec for stream in self._streams))

    async def wait_synced(self) -> Snapshot:
        """Wait until `synced`; returns the latest snapshot."""
        await self._synced.wait()
        assert self._snapshot is not None
        return self._snapshot

    @property
    def snapshot(self) -> Snapshot | None:
        """The latest snapshot, or None before the first."""
        return self._snapshot

    @property
    def stats(self) -> WatcherStats:
        """The counters so far."""
        return WatcherStats(**self._stats)

    def subscribe(self, callback: SnapshotCallback) -> Callable[[], None]:
        """Call `callback(snapshot)` on each new snapshot (and now, if there is one).

        The callback runs on the event loop; when it returns an awaitable it is awaited
        before the next snapshot is delivered. An exception is logged, never fatal.

        Returns:
            A function that unsubscribes the callback.
        """
        self._callbacks.append(callback)
        if self._snapshot is not None:
            asyncio.get_running_loop().create_task(self._deliver(callback, self._snapshot))

        def unsubscribe() -> None:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

        return unsubscribe

    async def snapshots(self) -> AsyncIterator[Snapshot]:
        """Yield the latest snapshot, then each newer one, until `stop()`.

        A slow consumer skips intermediate snapshots: it always gets the newest one.
        """
        seen = 0
        while True:
            snapshot = self._snapshot
            if snapshot is not None and snapshot.generation > seen:
                seen = snapshot.generation
                yield snapshot
                continue
            if self._stopping.is_set():
                return
            await self._published.wait()

    # --- discovery ----------------------------------------------------------------------

    async def _discover(self) -> None:
        """Ask the apiserver whether it serves the Gateway API; follow its kinds if so."""
        backoff = Backoff(*self._backoff)
        while True:
            try:
                specs = await self._gateway_api_specs()
                break
            except asyncio.CancelledError:
                raise
            # Not an answer (refused connection, 5xx, 403...): ask again after a back-off; the
            # first snapshot waits, as it waits for every LIST.
            except Exception as error:  # noqa: BLE001
                delay = backoff.next_delay()
                log.warning(
                    "Gateway API discovery: %s: %s; retrying in %.1fs",
                    type(error).__name__,
                    error,
                    delay,
                )
                self._stats["reconnects"] += 1
                if await sleep_or_stop(delay, self._stopping):
                    return
        if specs is None:
            log.info("Gateway API CRDs not installed: not watching Gateway API kinds")
            self._gateway_api = False
        else:
            log.info(
                "Gateway API served: watching %s",
                ", ".join(f"{s.kind} ({s.api_version})" for s in specs),
            )
            streams = tuple(self._plan(specs, self._namespaces))
            self._streams += streams
            self._unlisted.update(streams)
            self._gateway_api = True
            self._tasks.extend(self._start_follow(stream) for stream in streams)
        self._discovered.set()
        self._dirty.set()

    async def _gateway_api_specs(self) -> tuple[KindSpec, ...] | None:
        """The Gateway API kinds served, at their served version; None: the group is not served.

        "GET /apis/<group>/<version>" answers an APIResourceList (404 when the group version is
        not served); its `resources` name each kind's plural and scope, and subresources
        ("gateways/status") besides.
        """
        wanted = [
            spec for spec in GATEWAY_API_KINDS if spec.api_version.startswith(GATEWAY_API_GROUP)
        ]
        found: dict[str, KindSpec] = {}
        for version in ("v1", *_GATEWAY_API_FALLBACK_VERSIONS):
            group_version = f"{GATEWAY_API_GROUP}/{version}"
            status, body = await self._connection.request("GET", f"/apis/{group_version}")
            if status == 404:
                if version == "v1":
                    return None
                continue
            if status != 200 or not isinstance(body, dict):
                raise RuntimeError(f"GET /apis/{group_version}: HTTP {status}: {str(body)[:300]}")
            served = {
                r.get("kind"): r
                for r in body.get("resources") or ()
                if isinstance(r, dict) and "/" not in str(r.get("name", ""))
            }
            for spec in wanted:
                resource = served.get(spec.kind)
                if spec.kind not in found and resource is not None:
                    found[spec.kind] = KindSpec(
                        spec.kind,
                        group_version,
                        str(resource["name"]),
                        namespaced=bool(resource.get("namespaced", spec.namespaced)),
                    )
            if len(found) == len(wanted):
                break
        missing = [spec.kind for spec in wanted if spec.kind not in found]
        if missing:
            log.info("Gateway API: %s not served: not watching them", ", ".join(missing))
        namespaces = next(spec for spec in GATEWAY_API_KINDS if spec.kind == "Namespace")
        return (*(found[spec.kind] for spec in wanted if spec.kind in found), namespaces)

    # --- following one kind -------------------------------------------------------------

    async def _follow(self, stream: _Stream) -> None:
        backoff = Backoff(*self._backoff)
        version: str | None = None
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            listing = version is None
            began = loop.time()
            try:
                if version is None:
                    version = await self._list(stream)
                    backoff.reset()
                    listing = False
                version = await self._watch(stream, version, backoff)
                if loop.time() - began < 1.0:
                    # A watch the server ends at once (e.g. while it shuts down) is a
                    # failure too: back off rather than spin.
                    raise _WatchEndedError("the watch ended at once")
            except GoneError as error:
                self._stats["relists"] += 1
                log.info(
                    "%s: %s (resourceVersion %s): relisting", stream.describe(), error, version
                )
                version = None
                # A LIST answered 410 (its continue token expired): list again, but not in
                # a tight loop.
                if listing and await sleep_or_stop(backoff.next_delay(), self._stopping):
                    return
            except asyncio.CancelledError:
                raise
            # A watch loop must outlive every failure (refused or dropped connections, read
            # timeouts, HTTP errors, truncated JSON): log it and reconnect after a back-off.
            except Exception as error:  # noqa: BLE001
                delay = backoff.next_delay()
                log.warning(
                    "%s: %s: %s; retrying in %.1fs",
                    stream.describe(),
                    type(error).__name__,
                    error,
                    delay,
                )
                self._stats["reconnects"] += 1
                if await sleep_or_stop(delay, self._stopping):
                    return

    async def _list(self, stream: _Stream) -> str:
        """LIST `stream` into the store, replacing what it held; return the resourceVersion."""
        path = stream.spec.path(stream.namespace)
        items, version = await self._connection.list(
            path, dict(stream.params), timeout=max(60.0, self._watch_timeout)
        )
        fresh: dict[StoreKey, Resource] = {}
        for item in items:
            # LIST items carry no kind/apiVersion of their own; the list's kind names them.
            resource = self._convert(
                {
                    "apiVersion": stream.spec.api_version,
                    "kind": stream.spec.kind,
                    **item,
                }
            )
            if resource is not None:
                fresh[_key(resource)] = resource
        changed = False
        for key in [key for key in self._store if stream.owns(key) and key not in fresh]:
            del self._store[key]
            self._pending.add(key)
            changed = True
        for key, resource in fresh.items():
            if self._store.get(key) != resource:
                self._store[key] = resource
                self._pending.add(key)
                changed = True
        self._stats["lists"] += 1
        log.debug("%s: listed %d objects at %s", stream.describe(), len(items), version)
        if stream in self._unlisted:
            self._unlisted.discard(stream)
            changed = True
        if changed:
            self._dirty.set()
        return version

    async def _watch(self, stream: _Stream, version: str, backoff: Backoff) -> str:
        """WATCH `stream` from `version` until the server ends it; return the last version."""
        # "the server will ... close the watch after timeoutSeconds"; randomise as client-go
        # does so that the watches of many clients do not all reconnect at once.
        timeout = int(self._watch_timeout * (1 + random.random()))
        params = {
            **dict(stream.params),
            "resourceVersion": version,
            # "allowWatchBookmarks requests watch events with type "BOOKMARK". ... Bookmarks
            # ... only [carry] the resourceVersion ... so the client can resume from it."
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout),
        }
        events = self._connection.watch(
            stream.spec.path(stream.namespace),
            params,
            connect_timeout=30.0,
            read_timeout=max(self._read_timeout, timeout + 30.0),
        )
        async for event in events:
            backoff.reset()
            kind = event.get("type")
            obj = event.get("object") or {}
            if kind == "ERROR":
                # "ERROR ... the object is a Status"; code 410 when the version is too old.
                if obj.get("code") == 410:
                    raise GoneError(obj.get("message", "410 Gone"))
                raise _WatchEndedError(f"watch error: {obj.get('message', obj)}")
            metadata = obj.get("metadata") or {}
            version = str(metadata.get("resourceVersion") or version)
            if kind == "BOOKMARK":
                continue
            self._stats["events"] += 1
            key: StoreKey = (
                stream.spec.kind,
                str(metadata.get("namespace") or ""),
                str(metadata.get("name") or ""),
            )
            if kind == "DELETED":
                if self._store.pop(key, None) is not None:
                    self._changed(key)
                continue
            resource = self._convert(obj)
            if resource is None:
                # A changed object ingresslib rejects leaves the store, as a fresh LIST
                # would not include it either.
                if self._store.pop(key, None) is not None:
                    self._changed(key)
            elif self._store.get(key) != resource:
                self._store[key] = resource
                self._changed(key)
        return version

    def _changed(self, key: StoreKey) -> None:
        self._pending.add(key)
        self._dirty.set()

    def _convert(self, obj: dict[str, Any]) -> Resource | None:
        metadata = obj.get("metadata") or {}
        try:
            loaded = load_manifests(obj, unknown_kinds="ignore")
        except ManifestError as error:
            self._stats["invalid"] += 1
            log.warning(
                "skipping %s %s/%s (resourceVersion %s): %s",
                obj.get("kind"),
                metadata.get("namespace", ""),
                metadata.get("name", ""),
                metadata.get("resourceVersion", ""),
                error,
            )
            return None
        return loaded[0] if len(loaded) else None

    # --- publishing ---------------------------------------------------------------------

    async def _publish_loop(self) -> None:
        loop = asyncio.get_running_loop()
        built_at = -float("inf")
        while True:
            await self._dirty.wait()
            if self._unlisted or not self._discovered.is_set():
                self._dirty.clear()
                continue
            # Throttle rather than delay: a change after a quiet spell is built at once;
            # changes within `debounce` of the end of the last build wait until then, so
            # a burst makes at most one snapshot per `debounce` (plus build time).
            pause = built_at + self._debounce - loop.time()
            if self._synced.is_set() and pause > 0:
                await asyncio.sleep(pause)
            self._dirty.clear()
            resources = tuple(self._store[key] for key in sorted(self._store))
            changes = tuple((key, self._store.get(key)) for key in self._pending)
            self._pending.clear()
            build = functools.partial(
                _build, resources, self._build_options, self._snapshot, changes
            )
            built = (
                await asyncio.to_thread(build) if len(resources) >= _THREAD_THRESHOLD else build()
            )
            if built[3]:
                self._stats["full_builds"] += 1
            built_at = loop.time()
            generation = self._snapshot.generation + 1 if self._snapshot else 1
            snapshot = Snapshot(generation, *built[:2], resources=resources, rejected=built[2])
            self._snapshot = snapshot
            self._stats["snapshots"] += 1
            published, self._published = self._published, asyncio.Event()
            published.set()
            self._synced.set()
            for callback in list(self._callbacks):
                await self._deliver(callback, snapshot)

    @staticmethod
    async def _deliver(callback: SnapshotCallback, snapshot: Snapshot) -> None:
        try:
            result = callback(snapshot)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        # A subscriber's bug must not stop the watcher nor the other subscribers.
        except Exception:
            log.exception("snapshot callback %r failed", callback)


def _key(resource: Resource) -> StoreKey:
    return (resource.kind, resource.metadata.namespace, resource.metadata.name)


_Built = tuple[RouteTable, EndpointIndex, tuple[Ingress, ...], bool]


def _build(
    resources: tuple[Resource, ...],
    options: dict[str, Any],
    previous: Snapshot | None = None,
    changes: Sequence[tuple[StoreKey, Resource | None]] = (),
) -> _Built:
    """Build a table and an index; Ingresses whose paths a matcher rejects are left out.

    With a `previous` snapshot and the `changes` since (key, new object or None when
    deleted), derive them from the previous ones when that is possible; the last item
    tells whether it was a full build.
    """
    if previous is not None:
        updated = _update(previous, resources, changes)
        if updated is not None:
            return updated
    rejected: list[Ingress] = []
    try:
        table = RouteTable.build(resources, **options)
    except RouteTableError:
        # Find the culprits one by one: a matcher error belongs to one Ingress's path.
        classes = [r for r in resources if isinstance(r, IngressClass)]
        kept: list[Resource] = []
        for resource in resources:
            if isinstance(resource, Ingress):
                try:
                    RouteTable.build([*classes, resource], **options)
                except RouteTableError as error:
                    log.warning("skipping Ingress: %s", error)
                    rejected.append(resource)
                    continue
            kept.append(resource)
        table = RouteTable.build(kept, **options)
    return table, EndpointIndex.build(resources), tuple(rejected), True


def _update(
    previous: Snapshot,
    resources: tuple[Resource, ...],
    changes: Sequence[tuple[StoreKey, Resource | None]],
) -> _Built | None:
    """The table and index after `changes`, derived from `previous`; None: build in full.

    Ingress changes go through `RouteTable.with_changes` (only the touched virtual hosts
    are rebuilt); the index is rebuilt only when a Service or EndpointSlice changed; an
    IngressClass change, or a path a matcher rejects, needs a full build. Secrets and
    Services go to the table too (the annotations of Ingresses may read them: auth-secret,
    default-backend...; it recompiles only the Ingresses that read the changed ones); other
    kinds (the Gateway API kinds, Namespaces) reuse both.
    """
    kinds = {key[0] for key, _ in changes}
    if "IngressClass" in kinds:
        return None
    table = previous.table
    ingresses = [(key, new) for key, new in changes if key[0] == "Ingress"]
    read = [(key, new) for key, new in changes if key[0] in ("Secret", "Service")]
    if ingresses or read:
        try:
            table = table.with_changes(
                upserted=[new for _, new in (*ingresses, *read) if new is not None],
                deleted=[
                    *((key[1], key[2]) for key, new in ingresses if new is None),
                    *(key for key, new in read if new is None),
                ],
            )
        except RouteTableError:
            return None
    endpoints = previous.endpoints
    if kinds & {"Service", "EndpointSlice"}:
        endpoints = EndpointIndex.build(resources)
    changed = {key for key, _ in ingresses}
    rejected = tuple(i for i in previous.rejected if _key(i) not in changed)
    return table, endpoints, rejected, False
