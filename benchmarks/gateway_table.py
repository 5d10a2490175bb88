"""HTTPRoute `decide()` against Ingress `decide()` on equal tables, and HTTPRoute build times.

Run it as a script (`python benchmarks/gateway_table.py`, about a minute; `--quick` for
fewer rounds) to print the Markdown tables of docs/benchmarks.md ("Gateway API").

The tables: route `i` forwards the prefix `/svc{i}/v1` of host `h{i * hosts // routes}` to
Service `svc{i}`; as an Ingress path (one Ingress per 50 paths) and as an HTTPRoute rule
(one HTTPRoute per 50 rules, attached to one HTTP listener). With `headers`, every
HTTPRoute match also requires `x-version: v1` (the requests send it): the conditional
path of the table. Both tables answer the same requests with the same Service (checked
before timing); the ratio is HTTPRoute / Ingress, the same run, the same requests.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import timeit
import warnings
from typing import Any

import ingresslib
from ingresslib import Request, RouteTable

PER_OBJECT = 50
CASES = ((10, 1), (100, 10), (1_000, 100))


def _ingresses(routes: int, hosts: int) -> list[dict[str, Any]]:
    docs = []
    for start in range(0, routes, PER_OBJECT):
        rules: dict[str, list[dict[str, Any]]] = {}
        for i in range(start, min(start + PER_OBJECT, routes)):
            rules.setdefault(f"h{i * hosts // routes}.example.com", []).append(
                {
                    "path": f"/svc{i}/v1",
                    "pathType": "Prefix",
                    "backend": {"service": {"name": f"svc{i}", "port": {"number": 80}}},
                }
            )
        docs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "Ingress",
                "metadata": {"name": f"ing{start}", "namespace": "bench"},
                "spec": {"rules": [{"host": h, "http": {"paths": p}} for h, p in rules.items()]},
            }
        )
    return docs


def _routes(routes: int, hosts: int, *, headers: bool) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": "bench"},
            "spec": {
                "gatewayClassName": "bench",
                "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
            },
        }
    ]
    docs += [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": f"svc{i}", "namespace": "bench"},
            "spec": {"ports": [{"port": 80}]},
        }
        for i in range(routes)
    ]
    for start in range(0, routes, PER_OBJECT):
        by_host: dict[str, list[dict[str, Any]]] = {}
        for i in range(start, min(start + PER_OBJECT, routes)):
            match: dict[str, Any] = {"path": {"type": "PathPrefix", "value": f"/svc{i}/v1"}}
            if headers:
                match["headers"] = [{"name": "x-version", "value": "v1"}]
            by_host.setdefault(f"h{i * hosts // routes}.example.com", []).append(
                {"matches": [match], "backendRefs": [{"name": f"svc{i}", "port": 80}]}
            )
        for n, (host, rules) in enumerate(by_host.items()):
            for part in range(0, len(rules), 16):  # a route holds at most 16 rules
                docs.append(
                    {
                        "apiVersion": "gateway.networking.k8s.io/v1",
                        "kind": "HTTPRoute",
                        "metadata": {"name": f"r{start}-{n}-{part}", "namespace": "bench"},
                        "spec": {
                            "parentRefs": [{"name": "gw"}],
                            "hostnames": [host],
                            "rules": rules[part : part + 16],
                        },
                    }
                )
    return docs


def _requests(routes: int, hosts: int, count: int = 2_048) -> list[Request]:
    rng = random.Random(7)
    out = []
    for _ in range(count):
        i = rng.randrange(routes)
        out.append(
            Request(
                host=f"h{i * hosts // routes}.example.com",
                path=f"/svc{i}/v1/items/{rng.randrange(100)}",
                headers=(("x-version", "v1"),),
            )
        )
    return out


def _per_call(func: Any, requests: list[Request], rounds: int) -> float:
    def batch() -> None:
        for request in requests:
            func(request)

    gc.collect()
    times = timeit.repeat(batch, number=1, repeat=rounds)
    return min(times) / len(requests) * 1e6


def main() -> None:
    """Print the comparison tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 3 if args.quick else 7
    warnings.simplefilter("ignore")
    print(f"Python {sys.version.split()[0]}; best of {rounds} rounds of 2,048 requests\n")
    print(
        "| routes | hosts | Ingress decide µs | HTTPRoute µs | ratio "
        "| HTTPRoute + header µs | ratio |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for routes, hosts in CASES:
        ingress = RouteTable.build(ingresslib.load_manifests(_ingresses(routes, hosts)))
        plain = RouteTable.build(
            ingresslib.load_manifests(_routes(routes, hosts, headers=False)), gateway="bench/gw"
        )
        headed = RouteTable.build(
            ingresslib.load_manifests(_routes(routes, hosts, headers=True)), gateway="bench/gw"
        )
        requests = _requests(routes, hosts)
        for request in requests[:200]:
            want = ingress.decide(request).backends[0].backend.name
            for table in (plain, headed):
                got = table.decide(request).backends[0].backend.name
                assert got == want, (request, got, want)
        base = _per_call(ingress.decide, requests, rounds)
        gw = _per_call(plain.decide, requests, rounds)
        gw_headers = _per_call(headed.decide, requests, rounds)
        print(
            f"| {routes:,} | {hosts:,} | {base:.2f} | {gw:.2f} | {gw / base:.2f}x "
            f"| {gw_headers:.2f} | {gw_headers / base:.2f}x |"
        )
    print("\n| HTTPRoutes (50 rules each… 16 per object) | load ms | build ms |")
    print("|---:|---:|---:|")
    docs = _routes(1_000, 100, headers=False)
    load = timeit.repeat(lambda: ingresslib.load_manifests(docs), number=1, repeat=rounds)
    resources = ingresslib.load_manifests(docs)
    build = timeit.repeat(
        lambda: RouteTable.build(resources, gateway="bench/gw"), number=1, repeat=rounds
    )
    routes_count = len(resources.http_routes)
    print(
        f"| {routes_count:,} routes, 1,000 rules | {min(load) * 1e3:.0f} | {min(build) * 1e3:.0f} |"
    )
    one_each = _routes(1_000, 1_000, headers=False)
    resources = ingresslib.load_manifests(one_each)
    build = timeit.repeat(
        lambda: RouteTable.build(resources, gateway="bench/gw"), number=1, repeat=rounds
    )
    median = statistics.median(build) * 1e3
    print(f"| {len(resources.http_routes):,} routes of one rule | - | {median:.0f} (median) |")


if __name__ == "__main__":
    main()
