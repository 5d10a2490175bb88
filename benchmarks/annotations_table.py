"""decide() on a route with ingress-nginx annotations against the same route without them.

Issue 13's goal: a route with five annotations (rewrite-target, enable-cors,
allowlist-source-range, limit-rps, affinity) costs at most 2x a plain route in
`decide()`, measured in the same run. `limit-rps` and `affinity` are Policies: decide()
only passes them on; the executor's `PolicyRunner.admit()` runs the rate limit (timed on
its own row, and added to the annotated decide() in the "decide + admit" row) and its
endpoint choice the affinity (`CookieAffinity.pick_sticky`, timed on its own row).

    python benchmarks/annotations_table.py [--quick]

prints the Markdown table of docs/benchmarks.md ("Annotations").
"""

from __future__ import annotations

import platform
import sys
import timeit
from collections.abc import Callable

import ingresslib
from ingresslib import Request, RouteTable
from ingresslib.endpoints import CookieAffinity, Endpoint
from ingresslib.proxy import PolicyRunner
from ingresslib.testing import ingress, ingress_path, ingress_rule, service

P = "nginx.ingress.kubernetes.io/"

ANNOTATIONS = {
    P + "rewrite-target": "/$2",
    P + "use-regex": "true",
    P + "enable-cors": "true",
    P + "cors-allow-origin": "https://app.example.com",
    P + "allowlist-source-range": "10.0.0.0/8, 192.168.0.0/16",
    P + "limit-rps": "100",
    P + "affinity": "cookie",
}

#: The requests: one path, a CORS Origin, a client the allowlist admits.
REQUEST = Request(
    host="shop.example.com",
    path="/api/orders/42",
    headers=[("origin", "https://app.example.com"), ("accept", "*/*")],
    client="10.1.2.3",
)


def tables() -> tuple[RouteTable, RouteTable]:
    """The plain table and the annotated one: the same rule, with and without annotations."""

    def build(path: str, path_type: str, annotations: dict[str, str]) -> RouteTable:
        manifest = ingress(
            "shop",
            [ingress_rule("shop.example.com", ingress_path(path, "api", path_type=path_type))],
            annotations=annotations,
        )
        return RouteTable.build(ingresslib.load_manifests([service("api"), manifest]))

    plain = build("/api", "Prefix", {})
    annotated = build("/api(/|$)(.*)", "ImplementationSpecific", ANNOTATIONS)
    return plain, annotated


def check(plain: RouteTable, annotated: RouteTable) -> None:
    """Both tables forward the request, the annotated one with its filters applied."""
    first, second = plain.decide(REQUEST), annotated.decide(REQUEST)
    assert first.action == "forward", first
    assert second.action == "forward", second
    assert second.path == "/orders/42", second.path
    assert second.response_headers is not None  # the CORS headers
    assert len(second.policies) == 2  # limit-rps, affinity


def _best(function: Callable[[], object], number: int, repeat: int) -> float:
    """The best time of one call, in seconds."""
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number


def main() -> None:
    """Print the table."""
    quick = "--quick" in sys.argv[1:]
    number, repeat = (20_000, 3) if quick else (50_000, 7)
    plain, annotated = tables()
    check(plain, annotated)
    runner = PolicyRunner()
    policies = annotated.decide(REQUEST).policies

    def admit() -> None:
        runner.admit(policies, "10.1.2.3").release()

    # The plain route's decision is memoised after the first request (it depends on the
    # Host and path only); a new path each time shows the whole work of decide().
    fresh = iter(
        [
            Request(host=REQUEST.host, path=f"/api/orders/{i}", headers=REQUEST.headers)
            for i in range(number * repeat + 1)
        ]
    )
    rows = {
        "plain route: decide() (memo hit)": _best(lambda: plain.decide(REQUEST), number, repeat),
        "plain route: decide() (new path each time)": _best(
            lambda: plain.decide(next(fresh)), number, repeat
        ),
        "5 annotations: decide()": _best(lambda: annotated.decide(REQUEST), number, repeat),
        "limit-rps: PolicyRunner.admit()": _best(admit, number, repeat),
    }
    affinity = CookieAffinity([Endpoint("10.0.0.1", 80), Endpoint("10.0.0.2", 80)], mode="balanced")
    _, session = affinity.pick_sticky(None)
    rows["affinity: CookieAffinity.pick_sticky() (a session)"] = _best(
        lambda: affinity.pick_sticky(session), number, repeat
    )
    rows["5 annotations: decide() + admit()"] = (
        rows["5 annotations: decide()"] + rows["limit-rps: PolicyRunner.admit()"]
    )
    base = rows["plain route: decide() (new path each time)"]
    print(f"Python {platform.python_version()}, {platform.machine()}; best of {repeat} x {number}")
    print()
    print("| case | µs per request | ratio to the plain route (new path) |")
    print("|---|---:|---:|")
    for name, seconds in rows.items():
        print(f"| {name} | {seconds * 1e6:.2f} | {seconds / base:.2f} |")


if __name__ == "__main__":
    main()
