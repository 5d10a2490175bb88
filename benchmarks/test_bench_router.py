"""RouteTable.match against peer routers and a dict-trie floor, on equivalent tables.

Run with `make bench` (or `pytest benchmarks --benchmark-only`). One round routes the
whole fixed request mix of `router_table.workload` (2,048 lookups: hits anywhere in the
table and misses), so pytest-benchmark's per-round overhead is spread over them; the
summary at the end gives ns per match. `python benchmarks/router_table.py` measures the
same matrix with timeit and adds build time, memory and a profile.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import router_table

# The repo runs with `filterwarnings = error`. The peers are pinned
# (requirements-bench.txt) and emit no warning at these versions, but a later release
# that deprecates an API used here must not turn its row into an error: the benchmark
# compares speed, it does not police the peers. Only deprecations raised from the peers'
# modules, or from router_table's adapters that call them (where a stacklevel=2
# deprecation lands), are ignored; every other warning stays an error.
_PEERS_AND_ADAPTERS = "(falcon|sanic_routing|werkzeug|starlette|http_router|router_table)"
pytestmark = [
    pytest.mark.filterwarnings(f"ignore::DeprecationWarning:{_PEERS_AND_ADAPTERS}"),
    pytest.mark.filterwarnings(f"ignore::PendingDeprecationWarning:{_PEERS_AND_ADAPTERS}"),
]

#: Target wall time of one benchmark's rounds; a round is one batch of the mix.
_TARGET_SECONDS = 0.5
_MAX_ROUNDS = 200


@pytest.mark.parametrize(
    ("rules", "hosts"),
    [pytest.param(r, h, id=f"{r}rules-{h}hosts") for r, h in router_table.CASES],
)
@pytest.mark.parametrize("router", list(router_table.ROUTERS))
def test_match(
    benchmark: Any,
    ns_per_match: dict[tuple[int, int], dict[str, float]],
    router: str,
    rules: int,
    hosts: int,
) -> None:
    module = router_table.PEER_MODULES.get(router)
    if module is not None:
        # ImportError too, not only ModuleNotFoundError: a broken peer install skips its row.
        pytest.importorskip(
            module,
            reason=f"{router} is not installed (requirements-bench.txt)",
            exc_type=ImportError,
        )
    # Built once per session and checked to route every request of the mix right.
    match = router_table.make_router(router, rules, hosts)
    requests = router_table.workload(rules, hosts).requests

    # One untimed batch: warms the router up and sizes the rounds, so that slow routers
    # (starlette at 10,000 rules takes seconds per batch) keep the suite short.
    start = time.perf_counter()
    router_table.run_batch(match, requests)
    once = time.perf_counter() - start
    rounds = max(1, min(_MAX_ROUNDS, int(_TARGET_SECONDS / once)))

    benchmark.group = f"{rules:,} rules x {hosts:,} hosts ({len(requests):,} lookups/round)"
    benchmark.pedantic(router_table.run_batch, args=(match, requests), rounds=rounds)
    if benchmark.stats is None:  # --benchmark-disable: the batch ran once, untimed
        return
    best = benchmark.stats.stats.min * 1e9 / len(requests)
    benchmark.extra_info["lookups_per_round"] = len(requests)
    benchmark.extra_info["ns_per_match"] = round(best, 1)
    ns_per_match.setdefault((rules, hosts), {})[router] = best
