"""RouteTable.match side by side with other Python routers, on equivalent tables.

Run it as a script (`python benchmarks/router_table.py`, about 3 minutes; `--quick` for 3
timing rounds instead of 7) to print the Markdown table of docs/benchmarks.md, build
times, memory per rule and a profile of `RouteTable.match`.
The pytest-benchmark suite (`benchmarks/test_bench_router.py`) imports the same
workloads and adapters from this module, so both measure the same thing.

The table: rule `i` is the Ingress path `/svc{i}/v1/items`, pathType Prefix, on host
`h{i * hosts // rules}.example.com` (consecutive rules share a host). Every router answers
the same requests and must give the same rule for each (checked before timing):

- the floor: a ~25-line dict trie (`Floor`), the least a host + Prefix router can do;
- peers have no Ingress host semantics, so each gets one router per host behind a plain
  `dict.get` on the Host header (no lower-casing, no port stripping: the request hosts
  are already canonical, so this only favours the peers). Prefix semantics are given
  as two routes per rule: the exact path, and the path plus a "rest of the path"
  converter (falcon `{rest:path}`, sanic-routing `<rest:path>`, werkzeug
  `<path:rest>`, starlette `{rest:path}`, http-router `{rest:path}`).
"""

from __future__ import annotations

import cProfile
import functools
import gc
import importlib.metadata
import io
import os
import platform
import pstats
import random
import sys
import timeit
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ingresslib

#: (rules, hosts): rule counts on one host, then 2,000 rules spread over more hosts.
CASES: tuple[tuple[int, int], ...] = (
    (10, 1),
    (200, 1),
    (2_000, 1),
    (10_000, 1),
    (2_000, 200),
    (2_000, 1_000),
)
#: Lookups per timed batch. More than http-router's lru_cache (1,024 entries, shared by
#: all its Router instances), so a batch replayed in order cannot be served from it.
MIX_SIZE = 2_048
#: Ingress objects hold this many consecutive rule paths each.
PATHS_PER_INGRESS = 50

#: Column order of the table; the value is the distribution a row needs (None: always).
ROUTERS: dict[str, str | None] = {
    "ingresslib": None,
    "decide": None,
    "floor": None,
    "falcon": "falcon",
    "sanic-routing": "sanic-routing",
    "werkzeug": "werkzeug",
    "starlette": "starlette",
    "http-router": "http-router",
}
#: The module each peer row imports (for pytest.importorskip).
PEER_MODULES: dict[str, str] = {
    "falcon": "falcon.routing",
    "sanic-routing": "sanic_routing",
    "werkzeug": "werkzeug.routing",
    "starlette": "starlette.routing",
    "http-router": "http_router",
}

Match = Callable[[str, str], Any]
Identify = Callable[[Any], "int | None"]


# --- the workload ------------------------------------------------------------------------


def rule_host(index: int, rules: int, hosts: int) -> str:
    return f"h{index * hosts // rules}.example.com"


def rule_path(index: int) -> str:
    return f"/svc{index}/v1/items"


@dataclass(frozen=True)
class Workload:
    """A table of `rules` Prefix paths over `hosts` hosts, and the requests to route.

    Attributes:
        routes: (host, path, rule index) of every rule.
        requests: (Host header, path) of every lookup of a batch.
        expected: the rule index each request must reach (None: no route).
    """

    rules: int
    hosts: int
    routes: tuple[tuple[str, str, int], ...]
    requests: tuple[tuple[str, str], ...]
    expected: tuple[int | None, ...]

    def by_host(self) -> dict[str, list[tuple[str, int]]]:
        tables: dict[str, list[tuple[str, int]]] = {}
        for host, path, index in self.routes:
            tables.setdefault(host, []).append((path, index))
        return tables


@functools.cache
def workload(rules: int, hosts: int, size: int = MIX_SIZE) -> Workload:
    """The table and a fixed request mix: 70% hits anywhere in the table, 30% misses.

    Out of every 10 requests (the rule `i` drawn uniformly, so hits land deep in the
    table as often as near its start): 4 sub-path hits `/svc{i}/v1/items/{n}`, 2 hits
    on the rule path itself, 1 deeper hit `/svc{i}/v1/items/{n}/detail`; 1 miss that
    shares two segments with a rule (`/svc{i}/v1/orders/{n}`), 1 miss on the first
    segment (`/svc{rules + n}/v1/items`) and 1 miss on an unknown host.
    """
    rng = random.Random(rules * 100_003 + hosts)
    routes = tuple((rule_host(i, rules, hosts), rule_path(i), i) for i in range(rules))
    requests: list[tuple[str, str]] = []
    expected: list[int | None] = []
    for n in range(size):
        i = rng.randrange(rules)
        host, path = routes[i][0], routes[i][1]
        kind = n % 10
        if kind <= 3:
            requests.append((host, f"{path}/{n}"))
        elif kind <= 5:
            requests.append((host, path))
        elif kind == 6:
            requests.append((host, f"{path}/{n}/detail"))
        elif kind == 7:
            requests.append((host, f"/svc{i}/v1/orders/{n}"))
        elif kind == 8:
            requests.append((host, f"/svc{rules + n}/v1/items"))
        else:
            requests.append((f"unknown{n}.example.org", path))
        expected.append(i if kind <= 6 else None)
    return Workload(rules, hosts, routes, tuple(requests), tuple(expected))


def manifests(work: Workload, *, port: int = 80) -> list[dict[str, Any]]:
    """The Ingresses (Kubernetes JSON form) of a workload, `PATHS_PER_INGRESS` paths each."""
    documents: list[dict[str, Any]] = []
    for start in range(0, work.rules, PATHS_PER_INGRESS):
        rules: dict[str, list[dict[str, Any]]] = {}
        for host, path, index in work.routes[start : start + PATHS_PER_INGRESS]:
            rules.setdefault(host, []).append(
                {
                    "path": path,
                    "pathType": "Prefix",
                    "backend": {"service": {"name": f"svc{index}", "port": {"number": port}}},
                }
            )
        documents.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {"name": f"ing{start // PATHS_PER_INGRESS}", "namespace": "bench"},
                "spec": {
                    "rules": [{"host": h, "http": {"paths": paths}} for h, paths in rules.items()]
                },
            }
        )
    return documents


# --- the floor ---------------------------------------------------------------------------


class Floor:
    """The minimal host + Prefix router: a dict of hosts, then a dict trie of segments.

    A node is a dict of child segments; the key None holds the value of a rule ending
    there. `match` returns the value of the deepest rule node on the request's path.
    """

    __slots__ = ("_hosts",)

    def __init__(self, routes: Iterable[tuple[str, str, Any]]) -> None:
        self._hosts: dict[str, dict[Any, Any]] = {}
        for host, path, value in routes:
            node = self._hosts.setdefault(host.lower(), {})
            for segment in path.rstrip("/").split("/"):
                node = node.setdefault(segment, {})
            node[None] = value

    def match(self, host: str, path: str) -> Any:
        colon = host.find(":")
        if colon >= 0:
            host = host[:colon]
        node = self._hosts.get(host.lower())
        if node is None:
            return None
        best = None
        for segment in path.split("/"):
            node = node.get(segment)
            if node is None:
                break
            best = node.get(None, best)
        return best


# --- one adapter per router: (match(host, path), identify(result) -> rule index) ----------


def _ingresslib(work: Workload) -> tuple[Match, Identify]:
    table = build_table(work)

    def identify(found: Any) -> int | None:
        return None if found is None else int(found.backend.service.name[3:])

    return table.match, identify


def _ingresslib_decide(work: Workload) -> tuple[Match, Identify]:
    """`RouteTable.decide` for a plain forward, a Request built per call, normalisation on."""
    table = build_table(work)
    decide, request = table.decide, ingresslib.Request

    def match(host: str, path: str) -> Any:
        return decide(request(host=host, path=path))

    def identify(found: Any) -> int | None:
        if found.match is None:
            return None
        return int(found.match.backend.service.name[3:])

    return match, identify


def build_table(work: Workload) -> ingresslib.RouteTable:
    resources = ingresslib.load_manifests(manifests(work))
    return ingresslib.RouteTable.build(resources)


def _floor(work: Workload) -> tuple[Match, Identify]:
    return Floor(work.routes).match, lambda found: found


class _FalconResource:
    """A falcon resource: falcon maps `on_get` to GET when the route is added."""

    def __init__(self, index: int) -> None:
        self.index = index

    def on_get(self, req: Any, resp: Any) -> None:  # pragma: no cover - never called
        pass


def _falcon(work: Workload) -> tuple[Match, Identify]:
    from falcon.routing import CompiledRouter

    routers: dict[str, Any] = {}
    for host, table in work.by_host().items():
        router = CompiledRouter()
        for path, index in table:
            resource = _FalconResource(index)
            router.add_route(path, resource)
            router.add_route(path + "/{rest:path}", resource)
        router.find("/")  # CompiledRouter compiles its finder on the first lookup
        routers[host] = router.find
    get = routers.get

    def match(host: str, path: str) -> Any:
        find = get(host)
        return None if find is None else find(path)

    return match, lambda found: None if found is None else found[0].index


def _sanic_handler(index: int) -> int:  # pragma: no cover - never called
    return index


def _sanic(work: Workload) -> tuple[Match, Identify]:
    from sanic_routing import BaseRouter
    from sanic_routing.exceptions import NotFound

    # BaseRouter is Any when sanic-routing is not installed (`make typecheck`: the peers are
    # requirements-bench.txt), a typed class when it is (`make bench`); each ignore below is
    # needed in one of the two, hence `unused-ignore`.
    class Router(BaseRouter):  # type: ignore[misc, unused-ignore]
        # The subclass sanic-routing documents: `get` resolves a path and a method (its
        # signature differs from BaseRouter.get's on purpose).
        def get(  # type: ignore[override, unused-ignore]
            self, path: str, method: str, extra: Any = None
        ) -> Any:
            return self.resolve(path=path, method=method, extra=extra)

    routers: dict[str, Any] = {}
    for host, table in work.by_host().items():
        router = Router()
        for path, index in table:
            handler = functools.partial(_sanic_handler, index)
            router.add(path, handler, methods=["GET"])
            router.add(path + "/<rest:path>", handler, methods=["GET"])
        router.finalize()
        routers[host] = router.get
    get = routers.get

    def match(host: str, path: str) -> Any:
        resolve = get(host)
        if resolve is None:
            return None
        try:
            return resolve(path, "GET")
        except NotFound:
            return None

    # resolve() returns (route, handler, params).
    return match, lambda found: None if found is None else found[1].args[0]


def _werkzeug(work: Workload) -> tuple[Match, Identify]:
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import Map, Rule

    adapters: dict[str, Any] = {}
    for host, table in work.by_host().items():
        rules = []
        for path, index in table:
            rules.append(Rule(path, endpoint=index))
            rules.append(Rule(path + "/<path:rest>", endpoint=index))
        # A MapAdapter is bound once per host, as an app binds one per request.
        adapters[host] = Map(rules).bind(host).match
    get = adapters.get

    def match(host: str, path: str) -> Any:
        adapter_match = get(host)
        if adapter_match is None:
            return None
        try:
            return adapter_match(path, "GET")
        except NotFound:
            return None

    return match, lambda found: None if found is None else found[0]


def _starlette_endpoint(request: Any) -> None:  # pragma: no cover - never called
    pass


def _starlette(work: Workload) -> tuple[Match, Identify]:
    from starlette.routing import Match as StarletteMatch
    from starlette.routing import Route, Router

    full = StarletteMatch.FULL
    routers: dict[str, Any] = {}
    for host, table in work.by_host().items():
        routes = []
        for path, index in table:
            routes.append(Route(path, _starlette_endpoint, name=str(index)))
            routes.append(Route(path + "/{rest:path}", _starlette_endpoint, name=str(index)))
        # redirect_slashes=False: with the default (True), Router.app scans every route a
        # second time on each miss, looking for a slash redirect; leaving it out favours
        # starlette.
        routers[host] = Router(routes, redirect_slashes=False).routes
    get = routers.get

    def match(host: str, path: str) -> Any:
        # The route loop of starlette's Router.app: the first route whose matches(scope)
        # is FULL wins (the PARTIAL branch is for 405s: every route here allows GET).
        routes = get(host)
        if routes is None:
            return None
        scope = {"type": "http", "path": path, "method": "GET"}
        for route in routes:
            if route.matches(scope)[0] is full:
                return route
        return None

    return match, lambda found: None if found is None else int(found.name)


def _http_router(work: Workload) -> tuple[Match, Identify]:
    from http_router import Router

    routers: dict[str, Any] = {}
    for host, table in work.by_host().items():
        router = Router()
        for path, index in table:
            router.bind(index, path, path + "/{rest:path}", methods="GET")
        routers[host] = router
    get = routers.get
    not_found = Router.NotFoundError

    def match(host: str, path: str) -> Any:
        router = get(host)
        if router is None:
            return None
        try:
            return router(path, "GET")
        except not_found:
            return None

    return match, lambda found: None if found is None else found.target


ADAPTERS: dict[str, Callable[[Workload], tuple[Match, Identify]]] = {
    "ingresslib": _ingresslib,
    "decide": _ingresslib_decide,
    "floor": _floor,
    "falcon": _falcon,
    "sanic-routing": _sanic,
    "werkzeug": _werkzeug,
    "starlette": _starlette,
    "http-router": _http_router,
}


@functools.cache
def make_router(name: str, rules: int, hosts: int) -> Match:
    """Build router `name` for the workload and check it routes every request right."""
    work = workload(rules, hosts)
    match, identify = ADAPTERS[name](work)
    verify(name, match, identify, work)
    return match


def verify(name: str, match: Match, identify: Identify, work: Workload) -> None:
    wrong = [
        (host, path, want, got)
        for (host, path), want in zip(work.requests, work.expected, strict=True)
        if (got := identify(match(host, path))) != want
    ]
    if wrong:
        raise AssertionError(f"{name} routes {len(wrong)} requests wrong, e.g. {wrong[:3]}")


def run_batch(match: Match, requests: Sequence[tuple[str, str]]) -> None:
    """The timed unit: every request of the mix once."""
    for host, path in requests:
        match(host, path)


def _noop(host: str, path: str) -> None:
    return None


# --- the script ----------------------------------------------------------------------------


def available(name: str) -> bool:
    module = PEER_MODULES.get(name)
    if module is None:
        return True
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def time_matrix(
    cases: Sequence[tuple[int, int]], repeats: int, progress: Callable[[str], None]
) -> dict[tuple[int, int], dict[str, float]]:
    """ns per match: per case, all routers timed in turn, `repeats` rounds, best kept.

    Interleaving the routers spreads background load over all of them alike. Each
    measurement runs the batch enough times to last at least 0.1 s; a router whose one
    batch takes over a second is timed in 3 rounds only.
    """
    results: dict[tuple[int, int], dict[str, float]] = {}
    for rules, hosts in cases:
        work = workload(rules, hosts)
        timers: dict[str, tuple[timeit.Timer, int]] = {}
        for name in ROUTERS:
            if not available(name):
                continue
            progress(f"{rules} rules x {hosts} hosts: building {name}")
            match = make_router(name, rules, hosts)
            timer = timeit.Timer(functools.partial(run_batch, match, work.requests))
            once = timer.timeit(1)
            timers[name] = (timer, max(1, int(0.1 / once)))
        best: dict[str, float] = {}
        for round_ in range(repeats):
            for name, (timer, number) in timers.items():
                if round_ >= 3 and best[name] * len(work.requests) > 1.0:
                    continue
                seconds = timer.timeit(number) / number
                best[name] = min(best.get(name, seconds), seconds)
        results[rules, hosts] = {
            name: seconds * 1e9 / len(work.requests) for name, seconds in best.items()
        }
        progress(f"{rules} rules x {hosts} hosts: done")
    return results


def harness_ns(repeats: int) -> float:
    """The cost of the batch loop itself: a no-op match in the same loop."""
    requests = workload(2_000, 1).requests
    timer = timeit.Timer(functools.partial(run_batch, _noop, requests))
    return min(timer.repeat(repeats, 200)) / 200 * 1e9 / len(requests)


def host_forms(repeats: int, rules: int = 2_000, hosts: int = 1) -> list[tuple[str, float, float]]:
    """ingresslib and the floor with canonical and non-canonical Host headers.

    The floor lower-cases and strips the port of every Host header; ingresslib does so
    only when the header as received is not a rule host. The main mix sends canonical
    headers (as most clients do); this compares both with `H0.EXAMPLE.COM:8443` forms.
    """
    work = workload(rules, hosts)
    odd = tuple((f"{host.upper()}:8443", path) for host, path in work.requests)
    rows: list[tuple[str, float, float]] = []
    matchers = {name: ADAPTERS[name](work) for name in ("ingresslib", "floor")}
    for label, requests in (
        ("canonical (`h0.example.com`)", work.requests),
        ("upper-case + port (`H0.EXAMPLE.COM:8443`)", odd),
    ):
        best: dict[str, float] = {}
        for name, (match, identify) in matchers.items():
            verify(name, match, identify, replace(work, requests=requests))
            timer = timeit.Timer(functools.partial(run_batch, match, requests))
            best[name] = min(timer.repeat(repeats, 50)) / 50 * 1e9 / len(requests)
        rows.append((label, best["ingresslib"], best["floor"]))
    return rows


def _ns(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None:
        return "n/a"
    return f"{numerator / denominator:.2f}x"


def format_table(results: dict[tuple[int, int], dict[str, float]]) -> str:
    """The Markdown table: ns per match per router, then the ratio columns."""
    names = list(ROUTERS)
    header = [
        "rules",
        "hosts",
        *names,
        "falcon / ingresslib",
        "ingresslib / floor",
        "ingresslib / ingresslib@10 rules",
        "decide / match",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    base = results.get((10, 1), {}).get("ingresslib")
    for (rules, hosts), row in results.items():
        ours = row.get("ingresslib")
        cells = [f"{rules:,}", f"{hosts:,}", *(_ns(row.get(n)) for n in names)]
        cells += [
            _ratio(row.get("falcon"), ours),
            _ratio(ours, row.get("floor")),
            _ratio(ours, base),
            _ratio(row.get("decide"), ours),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build_times(repeats: int) -> list[tuple[str, float]]:
    """Best-of-`repeats` wall time, in ms, of building and updating 10,000-path tables.

    As timeit times them: with the cyclic garbage collector off, except in the row that
    says it is on.
    """
    rows: list[tuple[str, float]] = []
    for hosts in (1, 200):
        work = workload(10_000, hosts)
        documents = manifests(work)
        resources = ingresslib.load_manifests(documents)
        table = ingresslib.RouteTable.build(resources)
        changed = manifests(work, port=81)[0]
        replacement = next(iter(ingresslib.load_manifests([changed])))
        # timeit turns the cyclic garbage collector off while it times; a build of some
        # 100,000 objects sets it off, so the second timer turns it on again.
        build = timeit.Timer(functools.partial(ingresslib.RouteTable.build, resources))
        build_with_gc = timeit.Timer(
            functools.partial(ingresslib.RouteTable.build, resources), setup="gc.enable()"
        )
        update = timeit.Timer(
            functools.partial(table.with_changes, upserted=[replacement], deleted=[])
        )
        load = timeit.Timer(functools.partial(ingresslib.load_manifests, documents))
        label = f"10,000 paths, {hosts:,} host{'s' if hosts > 1 else ''}"
        rows.append((f"`RouteTable.build`, {label}", min(build.repeat(repeats, 1)) * 1e3))
        rows.append(
            (
                f"`RouteTable.build`, {label}, cyclic GC on",
                min(build_with_gc.repeat(repeats, 1)) * 1e3,
            )
        )
        rows.append(
            (
                f"`with_changes` replacing 1 Ingress ({PATHS_PER_INGRESS} paths), {label}",
                min(update.repeat(repeats, 1)) * 1e3,
            )
        )
        rows.append(
            (f"`load_manifests` (not part of the goal), {label}", min(load.repeat(3, 1)) * 1e3)
        )
    return rows


def _decide_built(decide: Callable[[Any], Any], requests: Sequence[tuple[str, str]]) -> None:
    """The decide column's unit: a Request built per call."""
    request = ingresslib.Request
    for host, path in requests:
        decide(request(host=host, path=path))


def _decide_each(decide: Callable[[Any], Any], requests: Sequence[ingresslib.Request]) -> None:
    for item in requests:
        decide(item)


def decide_rows(repeats: int) -> list[tuple[int, float, float, float, float]]:
    """(rules, match, decide(Request(...)), decide(prebuilt), decide missing its memo) in ns.

    The first three route the request mix of the main table (every decision of it is in
    the table's memo after the first batch). The last routes 8,192 distinct requests (the
    mix's, with a distinct last segment), more than the memo keeps (4,096), in turn, so
    that every decision is made afresh: Host validation (its memo hits), path
    normalisation, the match and a new Decision.
    """
    rows: list[tuple[int, float, float, float, float]] = []
    for rules in (10, 2_000, 10_000):
        work = workload(rules, 1)
        table = build_table(work)
        prebuilt = [ingresslib.Request(host=host, path=path) for host, path in work.requests]
        fresh = [
            ingresslib.Request(host=host, path=f"{path}/{n}")
            for n, (host, path) in enumerate(work.requests * 4)
        ]
        units = {
            "match": (functools.partial(run_batch, table.match, work.requests), 1),
            "built": (functools.partial(_decide_built, table.decide, work.requests), 1),
            "prebuilt": (functools.partial(_decide_each, table.decide, prebuilt), 1),
            "fresh": (functools.partial(_decide_each, table.decide, fresh), 4),
        }
        best: dict[str, float] = {}
        for _ in range(repeats):
            for name, (unit, batches) in units.items():
                seconds = timeit.Timer(unit).timeit(10) / 10 / (batches * len(work.requests))
                best[name] = min(best.get(name, seconds), seconds)
        ns = {name: seconds * 1e9 for name, seconds in best.items()}
        rows.append((rules, ns["match"], ns["built"], ns["prebuilt"], ns["fresh"]))
    return rows


def _traced(build: Callable[[], object]) -> tuple[int, int]:
    """(bytes still allocated after `build` while its result lives, peak bytes)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = build()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return after - before, peak - before


def memory_per_rule() -> list[tuple[str, float, float]]:
    """(what, retained bytes per rule, peak bytes per rule) for 10,000-rule tables."""
    rows: list[tuple[str, float, float]] = []
    for hosts in (1, 200):
        work = workload(10_000, hosts)
        documents = manifests(work)
        resources = ingresslib.load_manifests(documents)
        label = f"10,000 rules, {hosts:,} host{'s' if hosts > 1 else ''}"
        kept, peak = _traced(functools.partial(ingresslib.RouteTable.build, resources))
        rows.append((f"`RouteTable.build` (table only), {label}", kept / 1e4, peak / 1e4))
        kept, peak = _traced(functools.partial(ingresslib.load_manifests, documents))
        rows.append((f"`load_manifests` (the Ingress objects), {label}", kept / 1e4, peak / 1e4))
        kept, peak = _traced(functools.partial(Floor, work.routes))
        rows.append((f"floor (reference), {label}", kept / 1e4, peak / 1e4))
    return rows


def profile_match(rules: int = 2_000, hosts: int = 1, batches: int = 50) -> str:
    """cProfile of `RouteTable.match` over the request mix: the top 10 by tottime."""
    work = workload(rules, hosts)
    match = make_router("ingresslib", rules, hosts)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(batches):
        run_batch(match, work.requests)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(10)
    return out.getvalue().strip()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> str:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            cpu = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                cpu,
            )
    except OSError:
        pass
    peers = ", ".join(f"{d} {_version(d)}" for d in ROUTERS.values() if d is not None)
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{os.cpu_count()} CPUs, {cpu}; ingresslib {ingresslib.__version__}; {peers}"
    )


def main(argv: Sequence[str] = ()) -> int:
    quick = "--quick" in argv
    repeats = 3 if quick else 7

    def progress(message: str) -> None:
        print(f"  ... {message}", file=sys.stderr, flush=True)

    print(f"Machine: {machine()}\n")
    missing = [n for n in ROUTERS if not available(n)]
    if missing:
        print(f"Not installed (n/a in the table): {', '.join(missing)}\n")
    results = time_matrix(CASES, repeats, progress)
    print(f"## ns per match ({MIX_SIZE:,} lookups per batch, best of {repeats} rounds)\n")
    print(format_table(results))
    print(f"\nHarness: the batch loop with a no-op match costs {harness_ns(repeats):.0f} ns/lookup")
    print("(included in every column above).\n")
    print("## Host header forms, 2,000 rules, 1 host (ns per match)\n")
    print("| Host headers | ingresslib | floor | ingresslib / floor |\n|---|---:|---:|---:|")
    for label, ours, floor in host_forms(repeats):
        print(f"| {label} | {ours:.0f} | {floor:.0f} | {ours / floor:.2f}x |")
    print()
    print("## decide() for a plain forward, normalisation on (ns per call, 1 host)\n")
    print(
        "| rules | match | `decide(Request(...))` | decide / match | `decide(request)`, "
        "prebuilt | `decide`, memo missed |\n|---:|---:|---:|---:|---:|---:|"
    )
    for rules, match_ns, built_ns, prebuilt_ns, fresh_ns in decide_rows(repeats):
        print(
            f"| {rules:,} | {match_ns:.0f} | {built_ns:.0f} | {built_ns / match_ns:.2f}x "
            f"| {prebuilt_ns:.0f} | {fresh_ns:.0f} |"
        )
    print()
    print("## Build and update (best of 7, ms)\n")
    print("| what | ms |\n|---|---:|")
    for what, ms in build_times(7):
        print(f"| {what} | {ms:.1f} |")
    print("\n## Memory per rule (tracemalloc)\n")
    print("| what | retained bytes/rule | peak bytes/rule |\n|---|---:|---:|")
    for what, kept, peak in memory_per_rule():
        print(f"| {what} | {kept:,.0f} | {peak:,.0f} |")
    print("\n## Profile: RouteTable.match at 2,000 rules, 1 host (top 10 by tottime)\n")
    print("```")
    print(profile_match())
    print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
