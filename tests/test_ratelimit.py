"""Rate-limit algorithms against hand-computed sequences; headers; the memory store.

Every expected number below is worked out by hand from the formula the test names (nginx's
ngx_http_limit_req_module.c, Go's x/time/rate, the `limits` library), not taken from a run.
"""

from __future__ import annotations

import asyncio
import gc
import math
import os
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterable
from typing import Any, TypeVar

import pytest

from ingresslib.ratelimit import (
    ConcurrencyLimiter,
    Decision,
    FixedWindow,
    LimitReq,
    MemoryLimiter,
    QuotaPolicy,
    SlidingWindow,
    TokenBucket,
    ratelimit_header,
    ratelimit_policy_header,
    retry_after_header,
)
from tests.support import Decides, PureRateAlgorithm

S = TypeVar("S")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def run(
    algorithm: Decides[S], events: Iterable[tuple[float, int]], state: S | None = None
) -> tuple[list[Decision], S | None]:
    """Feed (now, cost) pairs to a pure algorithm; return the decisions and the last state."""
    decisions: list[Decision] = []
    for now, cost in events:
        decision, state = algorithm.decide(state, now, cost)
        decisions.append(decision)
    return decisions, state


# --- token bucket (GCRA, x/time/rate semantics) ---------------------------------------------


def test_token_bucket_starts_full_and_refills_at_rate() -> None:
    # NewLimiter(10, 3): "a token bucket of size b, initially full and refilled at rate r".
    bucket = TokenBucket(10, burst=3)
    decisions, _ = run(bucket, [(0, 1)] * 4 + [(0.1, 1), (0.1, 1), (0.25, 1)])
    assert [d.allowed for d in decisions] == [True, True, True, False, True, False, True]
    assert [d.remaining for d in decisions[:3]] == [2, 1, 0]
    assert decisions[3].retry_after == pytest.approx(0.1)
    assert decisions[3].reason == "rate limited"
    # After t=0.1 the TAT is 0.4; at 0.25 the request needs 0.5 - 0.3 = 0.2 <= 0.25.
    assert decisions[5].retry_after == pytest.approx(0.1)
    assert decisions[6].reset == pytest.approx(0.25)  # TAT 0.5: full again in 0.25 s
    assert decisions[2].reset == pytest.approx(0.3)


def test_token_bucket_cost_and_cost_above_burst() -> None:
    bucket = TokenBucket(10, burst=5)
    decisions, state = run(bucket, [(0, 3), (0, 3), (0, 2), (0, 6)])
    assert [d.allowed for d in decisions] == [True, False, True, False]
    assert decisions[1].retry_after == pytest.approx(0.1)  # one token short
    # x/time/rate: ok := n <= lim.burst: a cost above the burst is never admitted.
    never = decisions[3]
    assert never.retry_after == math.inf
    assert "cost 6 exceeds the burst of 5" in never.reason
    assert retry_after_header(never) is None
    assert state == 500_000  # TAT: 5 tokens taken at t=0 -> full again at 0.5 s


def test_token_bucket_interval_rounds_up_to_the_microsecond() -> None:
    bucket = TokenBucket(3, burst=1)  # T = 1/3 s -> 333,334 µs, never faster than 3/s
    assert bucket.interval_us == 333_334
    decisions, _ = run(bucket, [(0, 1), (0.333333, 1), (0.333334, 1)])
    assert [d.allowed for d in decisions] == [True, False, True]


def test_token_bucket_reservation_waits_like_go_wait_n() -> None:
    bucket = TokenBucket(10, burst=2)
    state = None
    delays = []
    for _ in range(4):
        decision, state = bucket.decide(state, 0, max_delay=0.25)
        delays.append(decision.delay if decision.allowed else None)
    assert delays == [0.0, 0.0, pytest.approx(0.1), pytest.approx(0.2)]
    decision, state2 = bucket.decide(state, 0, max_delay=0.25)
    assert not decision.allowed
    assert decision.reason == "rate limited: the wait would exceed max_delay"
    assert decision.retry_after == pytest.approx(0.05)  # at 0.05 the wait is 0.25
    assert state2 == state  # refused: nothing taken


def test_token_bucket_period_and_policy() -> None:
    bucket = TokenBucket(100, period=60, burst=10)
    assert bucket.interval_us == 600_000
    assert bucket.policy("api") == QuotaPolicy("api", 100, 60)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rate": 0},
        {"rate": 1, "burst": 0},
        {"rate": 1, "period": 0},
        {"rate": 1, "period": math.inf},
        {"rate": 1, "period": 1e-9},
        {"rate": 1, "period": 3e9, "burst": 10**6},
    ],
)
def test_token_bucket_rejects_bad_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        TokenBucket(**kwargs)


def test_cost_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TokenBucket(1).decide(None, 0, cost=0)
    with pytest.raises(ValueError, match="at least 1"):
        MemoryLimiter(TokenBucket(1)).allow("k", 0)


# --- nginx limit_req -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "delays_ms"),
    [
        # rate=10r/s burst=5, 7 requests in the same millisecond on a new key: the excess is
        # 0, 1000, ..., 6000; the 7th exceeds burst*1000 and is rejected.
        ({}, [0, 100, 200, 300, 400, 500, None]),
        ({"nodelay": True}, [0, 0, 0, 0, 0, 0, None]),
        # delay=2: "(excess - delay) * 1000 / rate" for excess above 2000.
        ({"delay": 2}, [0, 0, 0, 100, 200, 300, None]),
    ],
)
def test_limit_req_burst_admits_burst_plus_one_at_once(
    kwargs: dict[str, Any], delays_ms: list[int | None]
) -> None:
    limit = LimitReq(10, burst=5, **kwargs)
    decisions, state = run(limit, [(7.0, 1)] * 7)
    got = [round(d.delay * 1000) if d.allowed else None for d in decisions]
    assert got == delays_ms
    assert state == (5000, 7000)  # excess 5000 thousandths, last = 7000 ms
    assert decisions[-1].reason == "rate limited: excess over burst"


def test_limit_req_nginx_documentation_example() -> None:
    # nginx.org: "rate=1r/s ... burst=5": "not more than 1 request per second at an average,
    # with bursts not exceeding 5 requests": delayed by 0..5 s, the 7th rejected.
    decisions, _ = run(LimitReq(1, burst=5), [(0.0, 1)] * 7)
    assert [d.delay for d in decisions[:6]] == [0, 1, 2, 3, 4, 5]
    assert not decisions[6].allowed


def test_limit_req_two_stage_example() -> None:
    # rate=5r/s burst=12 delay=8: 9 requests pass at once (the first is free: excess 0),
    # excess 9000..12000 wait (excess - 8000) * 1000 / 5000 ms, the 14th is rejected.
    decisions, _ = run(LimitReq(5, burst=12, delay=8), [(0.0, 1)] * 14)
    assert [round(d.delay * 1000) for d in decisions[:13]] == [0] * 9 + [200, 400, 600, 800]
    assert [d.allowed for d in decisions] == [True] * 13 + [False]


def test_limit_req_leaks_in_thousandths() -> None:
    limit = LimitReq(10, burst=5, nodelay=True)
    decisions, state = run(limit, [(0.0, 1)] * 7)
    assert state == (5000, 0)
    assert decisions[6].retry_after == pytest.approx(0.1)  # 1000 must leak: 100 ms at 10r/s
    # At 50 ms: 5000 - 10000 * 50 / 1000 + 1000 = 5500 > 5000: rejected, 50 ms more.
    decision, state = limit.decide(state, 0.05)
    assert not decision.allowed
    assert decision.retry_after == pytest.approx(0.05)
    assert decision.remaining == 0
    # At 100 ms: 5000 - 1000 + 1000 = 5000: admitted; the node keeps excess 5000, last 100.
    decision, state = limit.decide(state, 0.1)
    assert decision.allowed
    assert state == (5000, 100)
    # The same millisecond again: 6000, rejected, and `last` is not moved.
    decision, state = limit.decide(state, 0.1005)
    assert not decision.allowed
    assert state == (5000, 100)


def test_limit_req_rate_per_minute_truncates_like_nginx() -> None:
    # "ctx->rate = rate * 1000 / scale": 1r/m is 16 (not 16.67) thousandths per second, so
    # after one request a second one needs 1000 * 1000 / 16 = 62,500 ms, not 60 s.
    limit = LimitReq.from_directives("rate=1r/m", "")
    assert limit.rate_milli == 16
    _, state = limit.decide(None, 0.0)
    assert state == (0, 0)
    # 60 s: 0 - 16 * 60000 / 1000 + 1000 = 40 > burst 0.
    assert not limit.decide(state, 60.0)[0].allowed
    decision, _ = limit.decide(state, 62.499)  # 16 * 62499 / 1000 = 999 -> excess 1
    assert not decision.allowed
    assert decision.retry_after == pytest.approx(0.001)
    assert limit.decide(state, 62.5)[0].allowed


def test_limit_req_integer_leak_per_millisecond() -> None:
    limit = LimitReq(3, burst=1)  # 3000 thousandths per second: 3 per elapsed millisecond
    _, state = limit.decide(None, 0.0)
    decision, state = limit.decide(state, 0.001)
    assert decision.allowed
    assert state == (997, 1)  # 0 - 3 * 1 / 1000... = 0 - 3 + 1000
    assert decision.delay == pytest.approx(0.332)  # 997 * 1000 / 3000 = 332 ms (truncated)


def test_limit_req_clock_stepping_back() -> None:
    limit = LimitReq(10, burst=5, nodelay=True)
    state = (2000, 100_000)
    # ms < 0 counts as 0: nothing leaks, last stays.
    decision, new = limit.decide(state, 99.99)
    assert new == (3000, 100_000)
    # ms < -60000 counts as 1 and moves last.
    decision, new = limit.decide(state, 30.0)
    assert decision.allowed
    assert new == (2000 - 10 + 1000, 30_000)


def test_limit_req_cost_and_max_delay() -> None:
    limit = LimitReq(10, burst=5)
    decision, state = limit.decide(None, 0.0, cost=3)
    assert decision.allowed
    assert state == (2000, 0)
    assert decision.delay == pytest.approx(0.2)
    never, _ = limit.decide(None, 0.0, cost=7)
    assert never.retry_after == math.inf
    assert "exceeds burst + 1 = 6" in never.reason
    # A delay above max_delay refuses without counting the request.
    decision, new = limit.decide(state, 0.0, max_delay=0.25)
    assert not decision.allowed
    assert decision.reason == "rate limited: the delay would exceed max_delay"
    assert decision.retry_after == pytest.approx(0.05)
    assert new == state


def test_limit_req_directives() -> None:
    assert LimitReq.from_directives("rate=10r/s", "burst=20 nodelay") == LimitReq(
        10, burst=20, nodelay=True
    )
    assert LimitReq.from_directives("rate=30r/m", "burst=5 delay=3") == LimitReq(
        30, per="m", burst=5, delay=3
    )
    for zone, limit_req in [("rate=0r/s", ""), ("rate=xr/s", ""), ("rate=1r/s", "burst=0")]:
        with pytest.raises(ValueError, match="invalid"):
            LimitReq.from_directives(zone, limit_req)
    with pytest.raises(ValueError, match="exclude"):
        LimitReq(1, delay=1, nodelay=True)
    assert LimitReq(30, per="m").policy() == QuotaPolicy("default", 30, 60)


# --- windows (the `limits` library's definitions) --------------------------------------------


def test_fixed_window_starts_at_first_request() -> None:
    window = FixedWindow(3, 1.0)
    decisions, state = run(window, [(0.5, 1)] * 4 + [(1.49, 1), (1.5, 1)])
    assert [d.allowed for d in decisions] == [True, True, True, False, False, True]
    assert decisions[3].retry_after == pytest.approx(1.0)  # the window ends at 1.5
    assert decisions[4].retry_after == pytest.approx(0.01)
    assert decisions[5].remaining == 2
    assert decisions[5].reset == pytest.approx(1.0)
    assert state == (2_500_000, 1)


def test_fixed_window_refused_requests_do_not_count() -> None:
    window = FixedWindow(3, 1.0)
    decisions, state = run(window, [(0, 2), (0, 2), (0, 1), (0, 4)])
    assert [d.allowed for d in decisions] == [True, False, True, False]
    assert decisions[3].retry_after == math.inf
    assert state == (1_000_000, 3)


def test_sliding_window_weights_the_previous_window() -> None:
    window = SlidingWindow(10, 1.0)
    decisions, state = run(window, [(0.5, 1)] * 11)
    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert state == (0, 10, 0)
    # At 1.0: 10 * (1 - 0) + 0 = 10 -> full; one microsecond later floor(9.99999) = 9.
    decision, _ = window.decide(state, 1.0)
    assert not decision.allowed
    assert decision.retry_after == pytest.approx(1e-6)
    # At 1.25: floor(10 * 0.75) = 7, so 3 more; the 4th needs floor(weighted) <= 6:
    # 10 * (1 - e) < 7 - 3 + ... -> e >= 0.300001.
    decisions, state = run(window, [(1.25, 1)] * 4, state)
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[3].retry_after == pytest.approx(0.050001)
    assert decisions[2].remaining == 0
    # Two windows later nothing is left.
    decision, _ = window.decide(state, 3.0)
    assert decision.remaining == 9


def test_sliding_window_reset_and_never() -> None:
    window = SlidingWindow(4, 2.0)
    decision, state = window.decide(None, 10.0, cost=4)
    assert decision.allowed
    assert decision.remaining == 0
    # Back to a full quota when 4 * (2 - e) / 2 < 1 in the next window: e > 1.5 s.
    assert decision.reset == pytest.approx(2.0 + 1.500001)
    never, _ = window.decide(state, 10.0, cost=5)
    assert never.retry_after == math.inf


# --- headers -------------------------------------------------------------------------------


def test_retry_after_rounds_up() -> None:
    assert retry_after_header(Decision(False, retry_after=0.1)) == "1"
    assert retry_after_header(Decision(False, retry_after=2.0)) == "2"
    assert retry_after_header(Decision(False, retry_after=2.000001)) == "3"
    assert retry_after_header(Decision(True)) is None
    assert retry_after_header(Decision(False, retry_after=math.inf)) is None


def test_ratelimit_fields_follow_the_draft_examples() -> None:
    # draft-ietf-httpapi-ratelimit-headers-11, sections 3.2 and 4.2.
    assert ratelimit_policy_header(QuotaPolicy("default", 100, 10)) == '"default";q=100;w=10'
    assert (
        ratelimit_policy_header([QuotaPolicy("permin", 50, 60), QuotaPolicy("perhr", 1000, 3600)])
        == '"permin";q=50;w=60, "perhr";q=1000;w=3600'
    )
    assert (
        QuotaPolicy("peruser", 65535, 10, unit="content-bytes").serialize()
        == '"peruser";q=65535;qu="content-bytes";w=10'
    )
    assert ratelimit_header("default", Decision(True, remaining=50, reset=29.2)) == (
        '"default";r=50;t=30'
    )
    assert ratelimit_header(
        "default", Decision(True, remaining=999), partition_key=b"trial121323"
    ) == ('"default";r=999;t=0;pk=:dHJpYWwxMjEzMjM=:')
    assert ConcurrencyLimiter(5).policy("conn").serialize() == (
        '"conn";q=5;qu="concurrent-requests"'
    )
    assert ratelimit_policy_header(QuotaPolicy('a"b\\c', 1)) == '"a\\"b\\\\c";q=1'


def test_ratelimit_fields_reject_what_they_cannot_carry() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        ratelimit_policy_header([])
    with pytest.raises(ValueError, match="printable ASCII"):
        ratelimit_policy_header(QuotaPolicy("é", 1))
    with pytest.raises(ValueError, match="15 digits"):
        ratelimit_policy_header(QuotaPolicy("x", 10**15))
    with pytest.raises(ValueError, match="positive"):
        ratelimit_policy_header(QuotaPolicy("x", 1, window=0))


# --- the memory store ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "algorithm",
    [
        TokenBucket(10, burst=3),
        LimitReq(10, burst=3, nodelay=True),
        FixedWindow(4, 0.4),
        SlidingWindow(4, 0.4),
    ],
    ids=["gcra", "limit_req", "fixed", "sliding"],
)
def test_memory_store_gives_the_pure_decisions(algorithm: PureRateAlgorithm[Any]) -> None:
    clock = FakeClock(0.0)
    limiter = MemoryLimiter(algorithm, clock=clock)
    fast = MemoryLimiter(algorithm, clock=clock)
    state = None
    for step in range(60):
        clock.now = step * 0.037
        cost = 1 + step % 3
        expected, state = algorithm.decide(state, clock.now, cost)
        assert limiter.hit("key", cost) == expected
        assert fast.allow("key", cost) is expected.allowed
    assert limiter.state("key") == state == fast.state("key")


def test_memory_store_keys_are_independent_and_resettable() -> None:
    limiter = MemoryLimiter(TokenBucket(1, period=60, burst=1), clock=FakeClock())
    assert limiter.allow("a")
    assert not limiter.allow("a")
    assert limiter.allow("b")
    limiter.reset("a")
    assert limiter.allow("a")
    assert len(limiter) == 2


def test_memory_store_evicts_least_recently_used() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(TokenBucket(1, period=60, burst=1), max_keys=3, clock=clock)
    for key in "abc":
        assert limiter.allow(key)
    assert not limiter.allow("a")  # a refused request still marks "a" as recently used
    assert limiter.allow("d")  # evicts "b", the least recently used
    assert limiter.evictions == 1
    assert limiter.state("b") is None
    assert limiter.state("a") is not None
    assert len(limiter) == 3


def test_memory_store_drops_expired_keys_before_evicting() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(TokenBucket(10, burst=1), max_keys=3, clock=clock)
    for key in "abc":
        limiter.allow(key)
    clock.now += 0.1  # every TAT is now in the past: the same as no state
    limiter.allow("d")
    assert limiter.evictions == 0
    assert len(limiter) == 2  # "a" and "b" expired (the two oldest looked at), then "d"
    clock.now += 1
    assert limiter.sweep() == 2
    assert len(limiter) == 0


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_one_million_keys_keep_memory_bounded() -> None:
    limiter = MemoryLimiter(TokenBucket(1, period=3600, burst=5), max_keys=10_000)
    allow = limiter.allow
    # What one key costs, measured on the first 10,000 (tracemalloc is too slow for 1M).
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(10_000):
            allow(f"10.0.{i >> 8}.{i & 255}")
        per_key = tracemalloc.get_traced_memory()[0] / 10_000
    finally:
        tracemalloc.stop()
    assert per_key < 300  # its string, its state, its dict entry and LRU link
    for i in range(10_000, 20_000):
        allow(f"10.1.{i >> 8}.{i & 255}")
    gc.collect()
    resident = _resident_bytes()
    for i in range(20_000, 1_000_000):
        allow(f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}")
    gc.collect()
    grown = _resident_bytes() - resident
    assert len(limiter) == 10_000
    assert limiter.evictions == 990_000
    # Unbounded, 980,000 more keys would take ~250 MB.
    assert grown < 16 * 2**20, f"resident memory grew by {grown} bytes over 980,000 keys"


def test_memory_store_is_exact_under_threads() -> None:
    limiter = MemoryLimiter(TokenBucket(1, period=3600, burst=1_000))
    admitted = [0] * 8
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:

        def worker(index: int) -> None:
            admitted[index] = sum(limiter.allow("shared") for _ in range(500))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert sum(admitted) == 1_000


def test_acquire_sleeps_the_delay_without_blocking_the_loop() -> None:
    limiter = MemoryLimiter(LimitReq(50, burst=3))  # delays of 20, 40, 60 ms

    async def main() -> tuple[list[Decision], int, float]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.005)

        task = asyncio.create_task(ticker())
        start = time.monotonic()
        decisions = await asyncio.gather(*(limiter.acquire("k") for _ in range(4)))
        elapsed = time.monotonic() - start
        task.cancel()
        return list(decisions), ticks, elapsed

    decisions, ticks, elapsed = asyncio.run(main())
    assert [round(d.delay * 1000) for d in decisions] == [0, 20, 40, 60]
    assert 0.06 <= elapsed < 1.0
    assert ticks >= 5  # the loop kept running while the requests slept


def test_acquire_refuses_beyond_max_wait_without_counting() -> None:
    clock = FakeClock(0.0)
    limiter = MemoryLimiter(LimitReq(10, burst=5), clock=clock)

    async def main() -> list[Decision]:
        return [await limiter.acquire("k", max_wait=0.0) for _ in range(3)]

    decisions = asyncio.run(main())
    assert [d.allowed for d in decisions] == [True, False, False]
    assert limiter.state("k") == (0, 0)  # the refused requests left no excess


# --- concurrency ---------------------------------------------------------------------------


def test_concurrency_limiter_holds_and_releases() -> None:
    limiter = ConcurrencyLimiter(2)
    with limiter.hold("ip") as first, limiter.hold("ip") as second, limiter.hold("ip") as third:
        assert first.allowed
        assert second.allowed
        assert (first.remaining, second.remaining) == (1, 0)
        assert not third.allowed
        assert third.reason == "concurrency limit reached"
        assert limiter.in_flight("ip") == 2
    assert limiter.in_flight("ip") == 0
    assert len(limiter) == 0


def test_concurrency_limiter_releases_on_error_and_in_async_code() -> None:
    limiter = ConcurrencyLimiter(1)
    with pytest.raises(RuntimeError), limiter.hold("ip"):
        raise RuntimeError("boom")
    assert limiter.in_flight("ip") == 0

    async def main() -> bool:
        async with limiter.hold("ip") as decision:
            return decision.allowed and limiter.in_flight("ip") == 1

    assert asyncio.run(main())
    assert limiter.in_flight("ip") == 0
    with pytest.raises(ValueError, match="without a matching acquire"):
        limiter.release("ip")


def test_concurrency_limiter_bounds_keys() -> None:
    limiter = ConcurrencyLimiter(1, max_keys=2)
    assert limiter.acquire("a").allowed
    assert limiter.acquire("b").allowed
    refused = limiter.acquire("c")
    assert not refused.allowed
    assert "max_keys" in refused.reason
    limiter.release("a")
    assert limiter.acquire("c").allowed


# --- purity and the optional extra -----------------------------------------------------------

PURE_MODULES = ["_algorithms", "_decision", "_lua", "_memory", "_concurrency"]
IO_MODULES = {"asyncio", "redis", "socket", "selectors", "subprocess", "ssl", "http", "urllib"}


@pytest.mark.parametrize("module", PURE_MODULES)
def test_algorithm_modules_do_no_io(module: str) -> None:
    import ast
    from pathlib import Path

    import ingresslib.ratelimit

    source = Path(ingresslib.ratelimit.__file__).with_name(f"{module}.py").read_text()
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert not imported & IO_MODULES


def test_the_core_imports_and_works_without_redis() -> None:
    import subprocess

    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import ingresslib.ratelimit as rl\n"
        "assert rl.MemoryLimiter(rl.TokenBucket(1)).allow('k')\n"
        "try:\n"
        "    rl.RedisLimiter(rl.TokenBucket(1), 'redis://127.0.0.1:1', on_failure='open')\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert 'pip install "ingresslib[redis]"' in result.stdout
