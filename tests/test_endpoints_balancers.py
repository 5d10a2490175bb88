"""Balancers: distributions within bounds, load awareness, health, updates, concurrency."""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from typing import cast

import pytest

from ingresslib.endpoints import (
    Balancer,
    BalancerBase,
    Endpoint,
    HealthPolicy,
    LeastRequest,
    PeakEwma,
    RandomBalancer,
    RoundRobin,
    SmoothWeightedRoundRobin,
    WeightedRandom,
)
from ingresslib.endpoints._simple import smooth_weighted_schedule
from tests.support import FakeClock, endpoints

ALL = [RoundRobin, SmoothWeightedRoundRobin, RandomBalancer, WeightedRandom, LeastRequest, PeakEwma]


@pytest.mark.parametrize("cls", ALL)
def test_every_balancer_is_a_balancer_and_handles_empty_sets(cls: type[BalancerBase]) -> None:
    balancer = cls([], rng=random.Random(1))
    assert isinstance(balancer, Balancer)
    assert balancer.pick() is None
    balancer.update(endpoints(1))
    assert balancer.pick() == endpoints(1)[0]


def test_round_robin_visits_each_in_turn() -> None:
    balancer = RoundRobin(endpoints(3))
    # pick() is None only when no endpoint is available; here some are.
    assert [balancer.pick().address for _ in range(6)] == [  # type: ignore[union-attr]
        "10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.0", "10.0.0.1", "10.0.0.2",
    ]  # fmt: skip


def test_smooth_weighted_matches_nginx_sequence() -> None:
    # nginx's documented example: weights 5, 1, 1 give "a a b a c a a".
    assert smooth_weighted_schedule([5, 1, 1]) == [0, 0, 1, 0, 2, 0, 0]
    balancer = SmoothWeightedRoundRobin(endpoints(3, [5, 1, 1]))
    # pick() is None only when no endpoint is available; here some are.
    picks = [balancer.pick().address[-1] for _ in range(14)]  # type: ignore[union-attr]
    assert "".join(picks) == "00102000010200"


@pytest.mark.parametrize("cls", [SmoothWeightedRoundRobin, WeightedRandom, LeastRequest])
def test_weights_are_honoured_over_100k_picks(cls: type[BalancerBase]) -> None:
    weights = [1, 2, 3, 4]
    balancer = cls(endpoints(4, weights), rng=random.Random(7))
    counts: Counter[str] = Counter()
    for _ in range(100_000):
        endpoint = cast(Endpoint, balancer.pick())  # endpoints are up: never None
        counts[endpoint.address] += 1
        balancer.report(endpoint)
    for i, weight in enumerate(weights):
        share = counts[f"10.0.0.{i}"] / 100_000
        assert share == pytest.approx(weight / sum(weights), rel=0.03), (i, share)


@pytest.mark.parametrize("cls", [RandomBalancer, LeastRequest, PeakEwma])
def test_equal_weights_spread_evenly(cls: type[BalancerBase]) -> None:
    balancer = cls(endpoints(5), rng=random.Random(3))
    counts: Counter[str] = Counter()
    for _ in range(50_000):
        endpoint = cast(Endpoint, balancer.pick())  # endpoints are up: never None
        counts[endpoint.address] += 1
        # Equal latencies, equal to PeakEwma's starting estimate: no endpoint looks faster.
        balancer.report(endpoint, latency=0.030)
    assert all(abs(c / 10_000 - 1) < 0.06 for c in counts.values()), counts


def test_least_request_avoids_an_endpoint_that_holds_requests() -> None:
    balancer = LeastRequest(endpoints(4), rng=random.Random(5))
    slow = balancer.endpoints[0]
    held = []
    counts: Counter[str] = Counter()
    for _ in range(20_000):
        endpoint = cast(Endpoint, balancer.pick())  # endpoints are up: never None
        counts[endpoint.address] += 1
        if endpoint == slow:
            held.append(endpoint)  # the slow endpoint never finishes
        else:
            balancer.report(endpoint)
    assert counts[slow.address] < 20  # P2C: only while it held fewer than its peer
    # state() is None only for an endpoint outside the set.
    assert balancer.state(slow).active == len(held)  # type: ignore[union-attr]


def test_peak_ewma_avoids_a_slow_endpoint_and_forgives_with_time() -> None:
    clock = FakeClock()
    balancer = PeakEwma(endpoints(4), decay=10.0, clock=clock, rng=random.Random(9))
    slow = balancer.endpoints[0]
    counts: Counter[str] = Counter()
    for _ in range(4_000):
        endpoint = cast(Endpoint, balancer.pick())  # endpoints are up: never None
        counts[endpoint.address] += 1
        clock.now += 0.001
        balancer.report(endpoint, latency=1.0 if endpoint == slow else 0.010)
    assert counts[slow.address] < 0.02 * 4_000, counts
    # The peak decays toward zero without samples: two minutes later the slow endpoint's
    # estimate is below the fresh samples of the others, and it is picked again.
    clock.now += 120
    for endpoint in balancer.endpoints[1:]:
        balancer.report(balancer.pick() or endpoint)
        balancer.report(endpoint, latency=0.010)
    again: Counter[str] = Counter()
    for _ in range(400):
        endpoint = cast(Endpoint, balancer.pick())  # endpoints are up: never None
        again[endpoint.address] += 1
        balancer.report(endpoint)
    assert again[slow.address] > 0.3 * 400, again


def test_peak_ewma_jumps_to_a_peak_and_decays_toward_lower_samples() -> None:
    clock = FakeClock()
    balancer = PeakEwma(endpoints(1), decay=10.0, clock=clock)
    endpoint = balancer.endpoints[0]
    state = balancer.state(endpoint)
    assert state is not None
    balancer.report(endpoint, latency=0.1)
    assert state.ewma == 0.1
    balancer.report(endpoint, latency=0.5)  # higher: the peak is taken at once
    assert state.ewma == 0.5
    clock.now += 10  # one time constant: w = e^-1
    balancer.report(endpoint, latency=0.1)
    assert state.ewma == pytest.approx(0.5 * 0.36788 + 0.1 * (1 - 0.36788), rel=1e-4)


@pytest.mark.parametrize("cls", ALL)
def test_failing_endpoint_is_ejected_with_growing_backoff(cls: type[BalancerBase]) -> None:
    clock = FakeClock()
    health = HealthPolicy(consecutive_failures=3, base_ejection=10, max_ejection=25)
    balancer = cls(endpoints(4), health=health, clock=clock, rng=random.Random(2))
    bad = balancer.endpoints[1]
    for _ in range(3):
        balancer.report(bad, ok=False)
    assert bad not in balancer.available
    picks = {balancer.pick() for _ in range(200)}
    assert bad not in picks
    clock.now += 10
    assert balancer.pick() is not None
    assert bad in balancer.available  # back after 10 s
    for _ in range(3):
        balancer.report(bad, ok=False)
    clock.now += 19.9
    balancer.pick()
    assert bad not in balancer.available  # the second ejection lasts 20 s
    clock.now += 0.2
    balancer.pick()
    assert bad in balancer.available
    for _ in range(3):
        balancer.report(bad, ok=False)
    clock.now += 24.9
    balancer.pick()
    assert bad not in balancer.available  # capped at 25 s, not 40
    clock.now += 0.2
    balancer.pick()
    assert bad in balancer.available


def test_success_resets_the_failure_count_and_health_can_be_off() -> None:
    balancer = RoundRobin(endpoints(2), health=HealthPolicy(consecutive_failures=2))
    bad = balancer.endpoints[0]
    balancer.report(bad, ok=False)
    balancer.report(bad, ok=True)
    balancer.report(bad, ok=False)
    assert bad in balancer.available
    off = RoundRobin(endpoints(2), health=None)
    for _ in range(100):
        off.report(off.endpoints[0], ok=False)
    assert off.endpoints[0] in off.available


def test_never_ejects_more_than_the_share() -> None:
    balancer = RoundRobin(endpoints(4), health=HealthPolicy(consecutive_failures=1,
                                                            max_ejected_share=0.5))  # fmt: skip
    for endpoint in balancer.endpoints:
        balancer.report(endpoint, ok=False)
    assert len(balancer.available) == 2


def test_update_keeps_state_of_endpoints_that_stay() -> None:
    balancer = LeastRequest(endpoints(3), rng=random.Random(1))
    first = balancer.pick()
    assert first is not None
    state = balancer.state(first)
    assert state is not None
    assert state.active == 1
    balancer.update([*endpoints(3), Endpoint("10.0.0.9", 8080)])
    assert balancer.state(first) is state
    assert state.active == 1
    balancer.update([e for e in endpoints(3) if e != first])
    assert balancer.state(first) is None
    balancer.report(first)  # a request that outlived its endpoint is simply forgotten


@pytest.mark.parametrize("cls", ALL)
def test_threads_share_a_balancer_safely(cls: type[BalancerBase]) -> None:
    balancer = cls(endpoints(8), rng=random.Random(4))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(3_000):
                endpoint = balancer.pick()
                assert endpoint is not None
                balancer.report(endpoint, ok=True, latency=0.001 * (i % 5))
                if i % 1_000 == 0:
                    balancer.update(endpoints(8))
        except BaseException as error:  # noqa: BLE001 -- collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    if cls.tracks_active:
        # state() is None only for an endpoint outside the set.
        assert all(balancer.state(e).active == 0 for e in balancer.endpoints)  # type: ignore[union-attr]


@pytest.mark.parametrize("cls", [LeastRequest, PeakEwma])
def test_asyncio_tasks_share_a_balancer(cls: type[BalancerBase]) -> None:
    balancer = cls(endpoints(4), rng=random.Random(8))

    async def request(i: int) -> None:
        endpoint = balancer.pick()
        assert endpoint is not None
        await asyncio.sleep(0.001 * (i % 3))
        balancer.report(endpoint, latency=0.001)

    async def main() -> None:
        await asyncio.gather(*(request(i) for i in range(500)))

    asyncio.run(main())
    # state() is None only for an endpoint outside the set.
    assert all(balancer.state(e).active == 0 for e in balancer.endpoints)  # type: ignore[union-attr]


@pytest.mark.parametrize("cls", ALL)
def test_picks_stay_consistent_while_another_thread_updates(cls: type[BalancerBase]) -> None:
    big, small = endpoints(50), endpoints(50)[:2]
    swapped = [Endpoint(f"10.1.0.{i}", 8080) for i in range(50)]
    balancer = cls(big, rng=random.Random(6))
    errors: list[BaseException] = []
    stop = threading.Event()

    def picker() -> None:
        try:
            while not stop.is_set():
                endpoint = balancer.pick()
                if endpoint is not None:
                    balancer.report(endpoint)
        except BaseException as error:  # noqa: BLE001 -- collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=picker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(300):
        balancer.update((big, small, swapped)[i % 3])
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    if cls.tracks_active:
        # Every pick was reported: no active count may be left on any endpoint.
        # state() is None only for an endpoint outside the set.
        assert all(balancer.state(e).active == 0 for e in balancer.endpoints)  # type: ignore[union-attr]


def test_smooth_weighted_stays_cheap_on_large_coprime_weights() -> None:
    import time

    many = [Endpoint(f"10.{i // 250}.0.{i % 250}", 80, weight=7 + i % 13) for i in range(2000)]
    clock = FakeClock()
    balancer = SmoothWeightedRoundRobin(
        many, clock=clock, health=HealthPolicy(consecutive_failures=1)
    )
    started = time.perf_counter()
    balancer.report(many[0], ok=False)  # an ejection rebuilds the schedule
    assert time.perf_counter() - started < 1.0  # was ~8 s with a full nginx period
    assert many[0] not in balancer.available
    counts: Counter[int] = Counter()
    for _ in range(130_000):  # five periods of the ~26,000 total weight
        # pick() is None only when no endpoint is available; here some are.
        counts[balancer.pick().weight] += 1  # type: ignore[union-attr]
    # Shares follow the weights (weights 7..19 are each held by ~153 endpoints).
    assert counts[19] / counts[7] == pytest.approx(19 / 7, rel=0.1)


def test_update_does_not_eject_again_an_endpoint_whose_time_is_up() -> None:
    clock = FakeClock()
    health = HealthPolicy(consecutive_failures=1, base_ejection=5)
    balancer = RoundRobin(endpoints(3), clock=clock, health=health)
    bad = balancer.endpoints[0]
    balancer.report(bad, ok=False)
    clock.now += 6
    balancer.pick()
    assert bad in balancer.available
    balancer.update(endpoints(3))
    assert bad in balancer.available


def test_an_expired_ejection_does_not_block_another() -> None:
    clock = FakeClock()
    health = HealthPolicy(consecutive_failures=1, base_ejection=5, max_ejected_share=0.25)
    balancer = RoundRobin(endpoints(4), clock=clock, health=health)
    first, second = balancer.endpoints[:2]
    balancer.report(first, ok=False)
    clock.now += 6  # first's time is up; no pick in between
    balancer.report(second, ok=False)
    assert first in balancer.available
    assert second not in balancer.available


def test_failures_already_in_flight_do_not_extend_an_ejection() -> None:
    clock = FakeClock()
    health = HealthPolicy(consecutive_failures=2, base_ejection=30)
    balancer = RoundRobin(endpoints(4), clock=clock, health=health)
    bad = balancer.endpoints[0]
    for _ in range(8):  # eight requests sent before the ejection all fail
        balancer.report(bad, ok=False)
    clock.now += 30
    balancer.pick()
    assert bad in balancer.available  # 30 s, not 240 s
    state = balancer.state(bad)
    assert state is not None
    assert state.ejections == 1


def test_the_same_endpoint_twice_is_one_endpoint() -> None:
    balancer = RoundRobin([*endpoints(2), endpoints(2)[0]])
    assert len(balancer.endpoints) == 2
    assert Counter(balancer.pick() for _ in range(100)) == Counter(
        {balancer.endpoints[0]: 50, balancer.endpoints[1]: 50}
    )
