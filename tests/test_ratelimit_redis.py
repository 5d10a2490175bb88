"""The Redis store against a real, private Redis (tests/conftest.py starts it).

- the Lua scripts give the decisions of the memory store for the same sequence;
- three replicas with separate clients share one limit: with the server's clock they admit no
  more than the limit in total, where skewed client clocks would not;
- one round trip per decision, NOSCRIPT handled, keys expire when idle;
- Redis stopped or frozen mid-run: the chosen failure policy applies within the timeout, and
  decisions come back from Redis by themselves when it returns.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st

from ingresslib.ratelimit import (
    AsyncRedisLimiter,
    Decision,
    FailurePolicy,
    FixedWindow,
    LimitReq,
    MemoryLimiter,
    RateAlgorithm,
    RedisLimiter,
    SlidingWindow,
    TokenBucket,
)
from ingresslib.ratelimit._lua import SCRIPTS, sha1
from tests.support import FakeClock

if TYPE_CHECKING:
    from tests.conftest import RedisServer

S = TypeVar("S")

ALGORITHMS: dict[str, RateAlgorithm[Any]] = {
    "gcra": TokenBucket(20, burst=4),
    "gcra-slow": TokenBucket(3, period=2.0, burst=2),
    "limit_req": LimitReq(10, burst=3),
    "limit_req-nodelay": LimitReq(50, per="m", burst=2, nodelay=True),
    "limit_req-delay": LimitReq(10, burst=5, delay=2),
    "fixed": FixedWindow(4, 0.3),
    "sliding": SlidingWindow(5, 0.25),
}


def unique() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture(scope="module")
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(ALGORITHMS)),
    st.lists(
        st.tuples(
            st.one_of(
                st.just(0),
                st.integers(0, 3_000),
                st.integers(0, 300_000),
                st.sampled_from([-5_000, -70_000_000]),  # a clock that steps back
            ),
            st.integers(1, 3),
            st.sampled_from([None, None, 0.0, 0.15]),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_redis_gives_the_memory_decisions(
    redis_url: str, name: str, events: list[tuple[int, int, float | None]]
) -> None:
    algorithm = ALGORITHMS[name]
    clock = FakeClock()
    memory = MemoryLimiter(algorithm, clock=clock)
    store = RedisLimiter(algorithm, redis_url, on_failure="closed", prefix=unique(), clock=clock)
    try:
        for gap_us, cost, max_delay in events:
            clock.now += gap_us / 1e6
            expected = memory.hit("k", cost, max_delay=max_delay)
            assert store.hit("k", cost, max_delay=max_delay) == expected
    finally:
        store.close()


def test_redis_uses_the_server_clock_and_expires_idle_keys(
    redis_url: str, client: redis.Redis
) -> None:
    prefix = unique()
    store = RedisLimiter(TokenBucket(10, burst=2), redis_url, on_failure="closed", prefix=prefix)
    try:
        decisions = [store.hit("10.0.0.1") for _ in range(3)]
    finally:
        store.close()
    assert [d.allowed for d in decisions] == [True, True, False]
    assert 0.09 < decisions[2].retry_after <= 0.1
    assert not any(d.degraded for d in decisions)
    # The TAT is ~0.2 s ahead: the key lives that long, plus a second of slack.
    ttl = client.pttl(f"{prefix}gcra:10.0.0.1")
    assert 1_000 < ttl <= 1_200


def test_one_round_trip_and_noscript(redis_url: str, client: redis.Redis) -> None:
    store = RedisLimiter(LimitReq(100, burst=10), redis_url, on_failure="closed", prefix=unique())
    try:
        client.script_flush()
        client.config_resetstat()
        for _ in range(5):
            assert store.hit("k").allowed
        stats = client.info("commandstats")
        # The first call found no script (NOSCRIPT) and sent it once with EVAL.
        assert stats["cmdstat_evalsha"]["calls"] == 5
        assert stats["cmdstat_eval"]["calls"] == 1
        assert client.script_exists(sha1(SCRIPTS["req"])) == [True]
    finally:
        store.close()


def run_replicas(
    limiters: Sequence[RedisLimiter[Any]], key: str, seconds: float
) -> tuple[int, float]:
    """Each limiter hammers `key` from its own thread; returns (admitted, elapsed)."""
    admitted = [0] * len(limiters)
    barrier = threading.Barrier(len(limiters) + 1)

    def replica(index: int) -> None:
        barrier.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if limiters[index].allow(key):
                admitted[index] += 1

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(len(limiters))]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.monotonic()
    for thread in threads:
        thread.join()
    return sum(admitted), time.monotonic() - start


SKEWS = (-0.4, 0.0, 0.4)  # seconds: a replica behind, one on time, one ahead


def skewed_replicas(
    redis_url: str, algorithm: RateAlgorithm[S], prefix: str, *, client_clocks: bool
) -> list[RedisLimiter[S]]:
    """Three replicas, each with its own client and a local clock 0.4 s from the next.

    With `client_clocks` each sends its own clock (what the issue warns against); without,
    the scripts read the server's TIME and the replicas' clocks are never consulted.
    """
    return [
        RedisLimiter(
            algorithm,
            redis_url,
            on_failure="closed",
            prefix=prefix,
            # The default binds each replica's own skew; mypy cannot infer such a lambda
            # against Callable[[], float] by itself, so the cast says what it is.
            clock=cast("Callable[[], float]", lambda skew=skew: time.time() + skew)
            if client_clocks
            else None,
        )
        for skew in SKEWS
    ]


@pytest.mark.parametrize("client_clocks", [True, False], ids=["client-clocks", "server-clock"])
def test_replicas_with_skewed_clocks_one_after_another(redis_url: str, client_clocks: bool) -> None:
    bucket = TokenBucket(100, burst=10)  # full again 0.1 s after being emptied
    replicas = skewed_replicas(redis_url, bucket, unique(), client_clocks=client_clocks)
    try:
        # Each replica in turn takes all it can: the one behind empties the bucket first.
        start = time.monotonic()
        admitted = [sum(replica.allow("shared") for _ in range(20)) for replica in replicas]
        elapsed = time.monotonic() - start
    finally:
        for replica in replicas:
            replica.close()
    if client_clocks:
        # A clock 0.4 s ahead sees the TAT the others wrote in its past: a full bucket.
        assert admitted == [10, 10, 10]
    else:
        assert admitted[0] == 10
        assert sum(admitted) <= 10 + 100 * elapsed


def test_three_replicas_at_once_admit_no_more_than_the_limit(redis_url: str) -> None:
    bucket = TokenBucket(50, burst=10)
    replicas = skewed_replicas(redis_url, bucket, unique(), client_clocks=False)
    try:
        admitted, elapsed = run_replicas(replicas, "shared", 0.6)
    finally:
        for replica in replicas:
            replica.close()
    # Never more than burst + rate * t; and the limit is reached (the replicas are not idle).
    assert 10 + 50 * 0.6 * 0.5 <= admitted <= 10 + 50 * elapsed


@pytest.mark.parametrize("policy", ["open", "closed"])
def test_redis_stopped_mid_run_then_back(redis_server: RedisServer, policy: FailurePolicy) -> None:
    store = RedisLimiter(
        TokenBucket(1000, burst=100),
        redis_server.url,
        on_failure=policy,
        timeout=0.2,
        retry_interval=0.3,
        prefix=unique(),
    )
    try:
        assert store.hit("k").allowed
        redis_server.stop()
        start = time.monotonic()
        decision = store.hit("k")
        assert time.monotonic() - start < 0.2 + 0.1
        assert decision.degraded
        assert decision.allowed is (policy == "open")
        assert f"failing {policy}" in decision.reason
        # Within retry_interval the policy answers without trying Redis at all.
        start = time.monotonic()
        assert store.hit("k").degraded
        assert time.monotonic() - start < 0.01

        redis_server.start()  # same port, empty, without the script: NOSCRIPT again
        deadline = time.monotonic() + 5
        decision = store.hit("k")
        while decision.degraded and time.monotonic() < deadline:
            time.sleep(0.05)
            decision = store.hit("k")
        assert not decision.degraded
        assert decision.allowed
    finally:
        store.close()


def test_redis_frozen_times_out_then_recovers(redis_server: RedisServer) -> None:
    store = RedisLimiter(
        LimitReq(100, burst=5),
        redis_server.url,
        on_failure="closed",
        timeout=0.15,
        retry_interval=0.2,
        prefix=unique(),
    )
    try:
        assert store.hit("k").allowed
        redis_server.pause()
        start = time.monotonic()
        decision = store.hit("k")
        elapsed = time.monotonic() - start
        assert decision.degraded
        assert not decision.allowed
        assert decision.retry_after == 0.2
        assert 0.1 < elapsed < 0.15 + 0.1
        redis_server.resume()
        deadline = time.monotonic() + 5
        while store.hit("k").degraded:
            assert time.monotonic() < deadline, "no recovery after Redis came back"
            time.sleep(0.05)
    finally:
        redis_server.resume()
        store.close()


def test_async_store_acquire_and_failure(redis_server: RedisServer) -> None:
    async def main() -> tuple[list[Decision], float, Decision, Decision, float]:
        store = AsyncRedisLimiter(
            LimitReq(50, burst=3),  # delays of 20, 40, 60 ms
            redis_server.url,
            on_failure="open",
            timeout=0.15,
            retry_interval=0.2,
            prefix=unique(),
        )
        try:
            start = time.monotonic()
            decisions = await asyncio.gather(*(store.acquire("k") for _ in range(4)))
            waited = time.monotonic() - start
            refused = await store.acquire("k", max_wait=0.01)
            redis_server.pause()
            start = time.monotonic()
            degraded = await store.hit("k")
            frozen = time.monotonic() - start
            redis_server.resume()
            deadline = time.monotonic() + 5
            while (await store.hit("k")).degraded:
                assert time.monotonic() < deadline, "no recovery after Redis came back"
                await asyncio.sleep(0.05)
            return list(decisions), waited, refused, degraded, frozen
        finally:
            await store.aclose()

    decisions, waited, refused, degraded, frozen = asyncio.run(main())
    # 0, 20, 40, 60 ms, less what leaked between the calls (real time passes on the server).
    delays = sorted(round(d.delay * 1000) for d in decisions)
    assert all(want - 10 <= got <= want for got, want in zip(delays, [0, 20, 40, 60], strict=True))
    assert waited >= 0.05
    assert not refused.allowed
    assert "max_delay" in refused.reason
    assert degraded.degraded
    assert degraded.allowed  # fail open
    assert frozen < 0.15 + 0.1


def test_async_and_sync_stores_share_state(redis_url: str) -> None:
    prefix = unique()
    bucket = FixedWindow(3, 10.0)
    sync = RedisLimiter(bucket, redis_url, on_failure="closed", prefix=prefix)

    async def main() -> list[bool]:
        store = AsyncRedisLimiter(bucket, redis_url, on_failure="closed", prefix=prefix)
        try:
            return [await store.allow("k") for _ in range(2)]
        finally:
            await store.aclose()

    try:
        got = [*asyncio.run(main()), sync.allow("k"), sync.allow("k")]
    finally:
        sync.close()
    assert got == [True, True, True, False]


def test_user_client_and_validation(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=0.5)
    store = RedisLimiter(SlidingWindow(2, 1.0), client, on_failure="open", prefix=unique())
    assert [store.allow("k") for _ in itertools.repeat(None, 3)] == [True, True, False]
    store.close()  # not ours to close
    assert client.ping()
    client.close()
    bad: list[dict[str, Any]] = [{"on_failure": "maybe"}, {"on_failure": "open", "timeout": 0}]
    for kwargs in bad:
        with pytest.raises(ValueError, match="must be"):
            RedisLimiter(TokenBucket(1), redis_url, **kwargs)


def test_async_store_pipelines_concurrent_decisions_on_one_connection(
    redis_server: RedisServer,
) -> None:
    bucket = TokenBucket(1, period=3600, burst=50)

    async def main() -> tuple[list[Decision], int, list[Decision], float]:
        store = AsyncRedisLimiter(
            bucket,
            redis_server.url,
            on_failure="closed",
            timeout=0.3,
            retry_interval=0.2,
            prefix=unique(),
        )
        monitor = redis.asyncio.Redis.from_url(redis_server.url)
        try:
            await monitor.config_resetstat()
            first = await asyncio.gather(*(store.hit("k") for _ in range(200)))
            clients = (await monitor.info("clients"))["connected_clients"]
            redis_server.pause()
            start = time.monotonic()
            frozen = await asyncio.gather(*(store.hit("k") for _ in range(50)))
            elapsed = time.monotonic() - start
            redis_server.resume()
            deadline = time.monotonic() + 5
            while (await store.hit("other")).degraded:
                assert time.monotonic() < deadline, "no recovery after Redis came back"
                await asyncio.sleep(0.05)
            return list(first), clients, list(frozen), elapsed
        finally:
            await monitor.aclose()
            await store.aclose()

    first, clients, frozen, elapsed = asyncio.run(main())
    assert sum(d.allowed for d in first) == 50  # exactly the burst, from 200 at once
    assert not any(d.degraded for d in first)
    assert clients == 2  # the store's one connection and the monitor
    assert all(d.degraded and not d.allowed for d in frozen)
    assert elapsed < 0.3 + 0.2


def test_async_store_noscript_cancelled_callers_and_a_killed_connection(
    redis_url: str, client: redis.Redis
) -> None:
    """The asyncio store reads its replies itself (`_Link`): EVAL after NOSCRIPT, a cancelled
    caller's reply dropped in order, a connection closed by the server replaced at once."""
    prefix = unique()

    async def main() -> tuple[
        list[Decision], dict[str, Any], list[Decision], list[Decision], Decision, int
    ]:
        store = AsyncRedisLimiter(
            FixedWindow(3, 60.0), redis_url, on_failure="closed", timeout=0.5, prefix=prefix
        )
        try:
            await client_async.script_flush()
            await client_async.config_resetstat()
            noscript = [await store.hit("a") for _ in range(5)]
            stats = await client_async.info("commandstats")
            # Ten decisions in flight, five cancelled once sent: their replies still arrive
            # and are dropped, and the others get their own replies, in order.
            tasks = [asyncio.ensure_future(store.hit("b")) for _ in range(10)]
            await asyncio.sleep(0)
            for task in tasks[::2]:
                task.cancel()
            done = await asyncio.gather(*tasks, return_exceptions=True)
            # return_exceptions=True: the tasks not cancelled return their Decision.
            kept = cast(
                "list[Decision]", [d for d in done if not isinstance(d, asyncio.CancelledError)]
            )
            fresh = [await store.hit("c") for _ in range(4)]
            before = (await client_async.info("stats"))["total_connections_received"]
            await client_async.client_kill_filter(_type="normal", skipme=True)
            await asyncio.sleep(0.05)
            after_kill = await store.hit("d")
            after = (await client_async.info("stats"))["total_connections_received"]
            return noscript, stats, kept, fresh, after_kill, after - before
        finally:
            await store.aclose()

    client_async = redis.asyncio.Redis.from_url(redis_url)

    async def run() -> tuple[
        list[Decision], dict[str, Any], list[Decision], list[Decision], Decision, int
    ]:
        try:
            return await main()
        finally:
            await client_async.aclose()

    noscript, stats, kept, fresh, after_kill, reconnections = asyncio.run(run())
    assert [d.allowed for d in noscript] == [True, True, True, False, False]
    assert [d.remaining for d in noscript[:3]] == [2, 1, 0]
    assert stats["cmdstat_evalsha"]["calls"] == 5
    assert stats["cmdstat_eval"]["calls"] == 1
    assert len(kept) == 5
    assert not any(d.degraded for d in kept)
    assert [(d.allowed, d.remaining) for d in fresh] == [
        (True, 2),
        (True, 1),
        (True, 0),
        (False, 0),
    ]
    assert not after_kill.degraded  # a new connection at once, no failure
    assert after_kill.allowed
    assert reconnections == 1
