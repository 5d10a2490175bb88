"""Rate-limit decisions: ingresslib against `limits` and `pyrate-limiter`, same workload.

Run with `make bench` (or `pytest benchmarks --benchmark-only -k ratelimit`). One round
decides the whole request mix of `ratelimit_table.workload` (4,096 requests over 1,000
keys, 100 per second per key); pytest-benchmark's ops/s is rounds per second, so decisions
per second are ops * 4,096. `python benchmarks/ratelimit_table.py` prints the same rows as
the Markdown tables of docs/benchmarks.md, with the ratios against the goals.
The Redis rows start a private redis-server (skipped when it is not installed); the
concurrent ones decide the mix with 16 or 64 tasks sharing one limiter.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import ratelimit_table

# As in test_bench_router.py: a deprecation raised by a peer must not turn its row into an
# error (the benchmark compares speed); every other warning stays an error.
_PEERS_AND_ADAPTERS = "(limits|pyrate_limiter|deprecated|ratelimit_table)"
pytestmark = [
    pytest.mark.filterwarnings(f"ignore::DeprecationWarning:{_PEERS_AND_ADAPTERS}"),
    pytest.mark.filterwarnings(f"ignore::PendingDeprecationWarning:{_PEERS_AND_ADAPTERS}"),
]

MODULES = {"limits": "limits", "pyrate-limiter": "pyrate_limiter"}


def _require(distribution: str | None) -> None:
    if distribution is not None:
        pytest.importorskip(
            MODULES[distribution],
            reason=f"{distribution} is not installed (requirements-bench.txt)",
            exc_type=ImportError,
        )


@pytest.mark.parametrize("row", list(ratelimit_table.MEMORY_ROWS))
def test_memory(benchmark: Any, row: str) -> None:
    distribution, make = ratelimit_table.MEMORY_ROWS[row]
    _require(distribution)
    decide = make()
    mix = ratelimit_table.workload()
    ratelimit_table.run_mix(decide, mix)  # every key seen once
    benchmark.extra_info["decisions_per_round"] = len(mix)
    benchmark.pedantic(ratelimit_table.run_mix, args=(decide, mix), rounds=30, warmup_rounds=1)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with ratelimit_table.private_redis() as url:
        yield url


@pytest.mark.parametrize("row", list(ratelimit_table.REDIS_ROWS))
def test_redis(benchmark: Any, redis_url: str, row: str) -> None:
    distribution, make = ratelimit_table.REDIS_ROWS[row]
    _require(distribution)
    mix = ratelimit_table.workload()[:1_024]
    loop = asyncio.new_event_loop()
    try:
        decide, close = loop.run_until_complete(make(redis_url))

        async def round_() -> None:
            for key in mix:
                await decide(key)

        loop.run_until_complete(round_())  # connection, scripts
        benchmark.extra_info["decisions_per_round"] = len(mix)
        benchmark.pedantic(lambda: loop.run_until_complete(round_()), rounds=10)
        loop.run_until_complete(close())
    finally:
        loop.close()


@pytest.mark.parametrize("tasks", ratelimit_table.CONCURRENCY)
@pytest.mark.parametrize("row", list(ratelimit_table.CONCURRENT_ROWS))
def test_redis_concurrent(benchmark: Any, redis_url: str, row: str, tasks: int) -> None:
    distribution, make = ratelimit_table.CONCURRENT_ROWS[row]
    _require(distribution)
    mix = ratelimit_table.workload()[:1_024]
    loop = asyncio.new_event_loop()
    try:
        decide, close = loop.run_until_complete(make(redis_url))
        loop.run_until_complete(ratelimit_table.decide_all(decide, mix, tasks))  # warm
        benchmark.extra_info["decisions_per_round"] = len(mix)
        benchmark.extra_info["tasks"] = tasks
        benchmark.pedantic(
            lambda: loop.run_until_complete(ratelimit_table.decide_all(decide, mix, tasks)),
            rounds=10,
        )
        loop.run_until_complete(close())
    finally:
        loop.close()
