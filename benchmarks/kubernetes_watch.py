"""Benchmark `ingresslib.kubernetes.Watcher` against a real kube-apiserver + etcd.

Starts the control plane of tests/kubernetes/conftest.py (binaries from
scripts/k8s-fixtures.sh) and, for each size N, in a fresh namespace holding N Ingresses:

- initial sync: a fresh Watcher, `start()` until `wait_synced()` (median of 3);
- create -> routable: POST one more Ingress, time until a published snapshot routes its
  host (over `--changes` changes, one at a time, with the N Ingresses in the store);
- memory per Ingress: tracemalloc, what a synced Watcher retains (store + snapshot),
  minus what one watching an empty namespace retains, divided by N.

Usage: python benchmarks/kubernetes_watch.py [--sizes 1000,10000] [--changes 200]
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingresslib.kubernetes import Snapshot, Watcher  # noqa: E402
from tests.kubernetes.conftest import (  # noqa: E402
    KubeAPIServer,
    binary_dir,
    start_control_plane,
)
from tests.kubernetes.test_watcher import INGRESSES, call, ingress  # noqa: E402
from tests.kubernetes.test_watcher_scale import post_many  # noqa: E402

GOAL_P50 = 0.050
GOAL_P99 = 0.250


def new_namespace(server: KubeAPIServer) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    call(server, "POST", "/api/v1/namespaces", body)
    return name


OPTIONS: dict[str, Any] = {}  # Watcher options from the command line


def make_watcher(server: KubeAPIServer, namespace: str) -> Watcher:
    return Watcher(str(server.kubeconfig), namespaces=[namespace], **OPTIONS)


def host_of(namespace: str, name: str) -> str:
    return f"{name}.{namespace}.example.com"


async def populate(server: KubeAPIServer, namespace: str, count: int) -> float:
    began = time.perf_counter()
    await post_many(
        server,
        INGRESSES.format(namespace),
        (ingress(f"ing-{i}", host_of(namespace, f"ing-{i}")) for i in range(count)),
    )
    return time.perf_counter() - began


async def sync_time(server: KubeAPIServer, namespace: str, count: int) -> float:
    began = time.perf_counter()
    async with make_watcher(server, namespace) as watcher:
        snapshot = await watcher.wait_synced()
        elapsed = time.perf_counter() - began
        assert len(snapshot.table.ingresses) == count, len(snapshot.table.ingresses)
    return elapsed


async def retained_bytes(server: KubeAPIServer, namespace: str) -> int:
    """What a synced watcher of `namespace` retains, by tracemalloc."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        async with make_watcher(server, namespace) as watcher:
            await watcher.wait_synced()
            await asyncio.sleep(0.2)  # let the LIST buffers go
            gc.collect()
            return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


async def latencies(server: KubeAPIServer, namespace: str, changes: int) -> list[float]:
    """Create `changes` Ingresses one by one; seconds from POST to a snapshot routing each."""
    waiting: dict[str, tuple[float, asyncio.Future[float]]] = {}

    def on_snapshot(snapshot: Snapshot) -> None:
        now = time.perf_counter()
        for host, (began, future) in list(waiting.items()):
            if snapshot.table.match(host, "/api") is not None and not future.done():
                future.set_result(now - began)
                del waiting[host]

    results: list[float] = []
    path = INGRESSES.format(namespace)
    async with make_watcher(server, namespace) as watcher:
        await watcher.wait_synced()
        watcher.subscribe(on_snapshot)
        loop = asyncio.get_running_loop()
        for i in range(changes):
            name = f"new-{i}"
            host = host_of(namespace, name)
            future: asyncio.Future[float] = loop.create_future()
            waiting[host] = (time.perf_counter(), future)
            await asyncio.to_thread(call, server, "POST", path, ingress(name, host))
            results.append(await asyncio.wait_for(future, 30))
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def bench(server: KubeAPIServer, sizes: list[int], changes: int) -> list[dict[str, Any]]:
    empty = new_namespace(server)
    empty_bytes = min([await retained_bytes(server, empty) for _ in range(2)])
    rows = []
    for count in sizes:
        namespace = new_namespace(server)
        created = await populate(server, namespace, count)
        syncs = [await sync_time(server, namespace, count) for _ in range(3)]
        held = min([await retained_bytes(server, namespace) for _ in range(2)])
        lat = await latencies(server, namespace, changes)
        row = {
            "n": count,
            "created": created,
            "sync": statistics.median(syncs),
            "p50": percentile(lat, 50),
            "p99": percentile(lat, 99),
            "max": max(lat),
            "bytes": (held - empty_bytes) / count,
        }
        print(row, file=sys.stderr, flush=True)
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]], changes: int) -> str:
    def verdict(value: float, goal: float) -> str:
        return "✅" if value <= goal else "❌"

    lines = [
        f"| Ingresses | create (API, 64 at a time) | initial sync (median of 3) "
        f"| create→routable p50 | p99 | max (n={changes}) | memory per Ingress |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['n']:,} | {r['created']:.2f} s | {r['sync'] * 1000:.0f} ms "
        f"| {r['p50'] * 1000:.1f} ms {verdict(r['p50'], GOAL_P50)} "
        f"| {r['p99'] * 1000:.1f} ms {verdict(r['p99'], GOAL_P99)} "
        f"| {r['max'] * 1000:.1f} ms | {r['bytes'] / 1024:.1f} KiB |"
        for r in rows
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--debounce", type=float, help="Watcher(debounce=...); default: its own")
    args = parser.parse_args()
    if args.debounce is not None:
        OPTIONS["debounce"] = args.debounce
    sizes = [int(s) for s in args.sizes.split(",")]

    binaries = binary_dir()
    if not (binaries / "kube-apiserver").exists():
        sys.exit(f"no kube-apiserver in {binaries}: run scripts/k8s-fixtures.sh")
    directory = Path(tempfile.mkdtemp(prefix="ingresslib-k8s-bench-"))
    server = start_control_plane(directory, binaries)
    try:
        rows = asyncio.run(bench(server, sizes, args.changes))
    finally:
        server.stop()
        if not os.environ.get("INGRESSLIB_K8S_KEEP"):
            shutil.rmtree(directory, ignore_errors=True)
    print(table(rows, args.changes))
    print(
        f"\nGoals: p50 ≤ {GOAL_P50 * 1000:.0f} ms, p99 ≤ {GOAL_P99 * 1000:.0f} ms."
        f" Python {sys.version.split()[0]}."
    )


if __name__ == "__main__":
    main()
