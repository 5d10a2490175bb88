"""Cookie affinity: ingress-nginx's "persistent" and "balanced" sticky sessions."""

from __future__ import annotations

import functools
import hashlib
import random
from collections import Counter
from collections.abc import Sequence

import pytest

from ingresslib.endpoints import (
    Balancer,
    Endpoint,
    HealthPolicy,
    LeastRequest,
    RandomBalancer,
    SmoothWeightedRoundRobin,
)
from ingresslib.endpoints._affinity import AffinityMode, CookieAffinity, persistent_cookie_value
from ingresslib.endpoints._hashing import hash64
from tests.support import FakeClock, endpoints

MODES: list[AffinityMode] = ["balanced", "persistent"]


def new_sessions(affinity: CookieAffinity, count: int) -> list[tuple[Endpoint, str]]:
    sessions = []
    for _ in range(count):
        endpoint, cookie = affinity.pick_sticky(None)
        assert endpoint is not None
        assert cookie is not None
        sessions.append((endpoint, cookie))
    return sessions


def returning(
    affinity: CookieAffinity, sessions: Sequence[tuple[Endpoint, str]]
) -> list[tuple[Endpoint | None, str | None]]:
    return [affinity.pick_sticky(cookie) for _, cookie in sessions]


# --- both modes ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_is_a_balancer_and_handles_empty_sets(mode: AffinityMode) -> None:
    affinity = CookieAffinity([], mode=mode)
    assert isinstance(affinity, Balancer)
    assert affinity.mode == mode
    assert affinity.pick() is None
    assert affinity.pick_sticky(None) == (None, None)
    assert affinity.pick_sticky("0123456789abcdef") == (None, None)
    affinity.update(endpoints(1))
    endpoint, cookie = affinity.pick_sticky(None)
    assert endpoint == endpoints(1)[0]
    assert cookie is not None
    assert affinity.pick_sticky(cookie) == (endpoint, None)


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="balanced"):
        CookieAffinity(endpoints(2), mode="sticky")  # type: ignore[arg-type]  # on purpose


@pytest.mark.parametrize("mode", MODES)
def test_a_returning_cookie_keeps_its_endpoint_and_sets_no_cookie(mode: AffinityMode) -> None:
    affinity = CookieAffinity(endpoints(10), mode=mode)
    sessions = new_sessions(affinity, 500)
    assert returning(affinity, sessions) == [(endpoint, None) for endpoint, _ in sessions]
    # pick(key) is pick_sticky(key)'s endpoint; bytes keys are the same cookie.
    assert [affinity.pick(c) for _, c in sessions] == [e for e, _ in sessions]
    assert [affinity.pick(c.encode()) for _, c in sessions] == [e for e, _ in sessions]


@pytest.mark.parametrize("mode", MODES)
def test_new_sessions_follow_the_inner_balancer(mode: AffinityMode) -> None:
    # RoundRobin (the default): exactly even, whatever the ring's arcs.
    affinity = CookieAffinity(endpoints(10), mode=mode)
    counts = Counter(endpoint for endpoint, _ in new_sessions(affinity, 1_000))
    assert sorted(counts.values()) == [100] * 10
    # A weighted inner balancer places them by weight.
    eps = endpoints(3, [1, 2, 5])
    weighted = CookieAffinity(eps, mode=mode, inner=SmoothWeightedRoundRobin)
    counts = Counter(endpoint for endpoint, _ in new_sessions(weighted, 800))
    assert [counts[e] for e in eps] == [100, 200, 500]
    assert returning(weighted, new_sessions(weighted, 100)).count((None, None)) == 0


@pytest.mark.parametrize("mode", MODES)
def test_ejected_endpoints_get_no_session(mode: AffinityMode) -> None:
    clock = FakeClock()
    eps = endpoints(4)
    health = HealthPolicy(consecutive_failures=1, base_ejection=10)
    affinity = CookieAffinity(eps, mode=mode, clock=clock, health=health)
    sessions = new_sessions(affinity, 400)
    affinity.report(eps[2], ok=False)
    assert eps[2] not in affinity.available
    assert all(affinity.pick_sticky(None)[0] != eps[2] for _ in range(200))
    again = returning(affinity, sessions)
    assert all(endpoint != eps[2] for endpoint, _ in again)
    # Only the ejected endpoint's sessions moved.
    for (before, _), (after, cookie) in zip(sessions, again, strict=True):
        if before != eps[2]:
            assert (after, cookie) == (before, None)
        elif mode == "persistent":
            assert after is not None
            assert cookie == persistent_cookie_value(after)  # re-picked: a new cookie
        else:
            assert cookie is None  # balanced: the cookie stays, its owner changed
    clock.now += 11
    back = returning(affinity, sessions)
    if mode == "balanced":  # the positions are the same: sessions return to eps[2]
        assert [e for e, _ in back] == [e for e, _ in sessions]


def test_load_aware_inner_balancer_counts_returning_sessions() -> None:
    eps = endpoints(3)
    affinity = CookieAffinity(eps, mode="persistent", inner=LeastRequest)
    endpoint, cookie = affinity.pick_sticky(None)
    assert endpoint is not None
    state = affinity.inner.state(endpoint)
    assert state is not None
    assert state.active == 1
    assert affinity.pick_sticky(cookie)[0] == endpoint
    assert state.active == 2
    affinity.report(endpoint, latency=0.01)
    affinity.report(endpoint, latency=0.01)
    assert state.active == 0
    # New sessions avoid the loaded endpoint (P2C on active requests).
    for _ in range(5):
        affinity.pick_sticky(cookie)
    picks = Counter(affinity.pick_sticky(None)[0] for _ in range(2))
    assert endpoint not in picks


# --- persistent ----------------------------------------------------------------------------


def test_persistent_cookie_is_ingress_nginx_md5_of_salt_and_address_port() -> None:
    endpoint = Endpoint("10.0.0.1", 8080)
    # util/nodemap.lua: ngx.md5(salt .. endpoint), endpoint = address .. ":" .. port.
    expected = hashlib.md5(b"default-web-8010.0.0.1:8080").hexdigest()
    assert persistent_cookie_value(endpoint, "default-web-80") == expected
    assert persistent_cookie_value(endpoint) == hashlib.md5(b"10.0.0.1:8080").hexdigest()
    # IPv6: ingress-nginx concatenates address and port without brackets.
    v6 = Endpoint("fd00::1", 8080)
    assert persistent_cookie_value(v6) == hashlib.md5(b"fd00::1:8080").hexdigest()
    affinity = CookieAffinity([endpoint], mode="persistent", salt="default-web-80")
    assert affinity.pick_sticky(None) == (endpoint, expected)
    assert affinity.pick_sticky(expected) == (endpoint, None)


def test_persistent_sessions_survive_added_endpoints() -> None:
    eps = endpoints(10)
    affinity = CookieAffinity(eps, mode="persistent")
    sessions = new_sessions(affinity, 500)
    affinity.update(eps + endpoints(10, start=100))
    assert returning(affinity, sessions) == [(endpoint, None) for endpoint, _ in sessions]


def test_persistent_repicks_when_its_endpoint_leaves_and_stays_there() -> None:
    eps = endpoints(5)
    affinity = CookieAffinity(eps, mode="persistent", inner=RandomBalancer, rng=random.Random(2))
    sessions = new_sessions(affinity, 300)
    affinity.update(eps[1:])
    again = returning(affinity, sessions)
    for (before, _), (after, cookie) in zip(sessions, again, strict=True):
        if before == eps[0]:
            assert after in eps[1:]
            assert cookie == persistent_cookie_value(after)
        else:
            assert (after, cookie) == (before, None)
    # The endpoint returns: the re-picked sessions stay where their new cookie says.
    affinity.update(eps)
    for (before, old), (after, new) in zip(sessions, again, strict=True):
        assert affinity.pick_sticky(new or old) == (after, None)
        if before != eps[0]:
            assert after == before


def test_persistent_unknown_cookie_gets_a_new_session() -> None:
    affinity = CookieAffinity(endpoints(3), mode="persistent")
    endpoint, cookie = affinity.pick_sticky("not-a-known-value")
    assert endpoint is not None
    assert cookie == persistent_cookie_value(endpoint)


# --- balanced ------------------------------------------------------------------------------


def test_balanced_cookie_maps_consistently_across_instances() -> None:
    eps = endpoints(20)
    first = CookieAffinity(eps, rng=random.Random(1))
    sessions = new_sessions(first, 500)
    assert all(len(cookie) == 16 for _, cookie in sessions)
    # Another replica, endpoints in another order: same cookie, same endpoint.
    second = CookieAffinity(eps[::-1], rng=random.Random(2))
    assert returning(second, sessions) == [(endpoint, None) for endpoint, _ in sessions]


def test_balanced_any_other_value_is_hashed_onto_the_ring() -> None:
    eps = endpoints(10)
    affinity = CookieAffinity(eps)
    ring_owner = {}
    for value in ("abc", "1718000000.123.4242", "zzzzzzzzzzzzzzzz", "0123456789ABCDEF0"):
        endpoint, cookie = affinity.pick_sticky(value)
        assert cookie is None
        ring_owner[value] = endpoint
        assert affinity.pick_sticky(value) == (endpoint, None)
    # The hashed form is the 16-hex-digit form of its hash64.
    assert ring_owner["abc"] == affinity.pick_sticky(f"{hash64('abc'):016x}")[0]


def test_balanced_moves_only_the_sessions_of_an_endpoint_that_leaves() -> None:
    n = 10
    eps = endpoints(n)
    affinity = CookieAffinity(eps, rng=random.Random(4))
    sessions = new_sessions(affinity, 5_000)
    affinity.update(eps[:6] + eps[7:])
    again = returning(affinity, sessions)
    moved = [
        before for (before, _), (after, _) in zip(sessions, again, strict=True) if before != after
    ]
    assert set(moved) == {eps[6]}
    assert 0.5 / n <= len(moved) / len(sessions) <= 1.5 / n
    assert all(cookie is None for _, cookie in again)  # the cookie never changes
    affinity.update(eps)
    assert returning(affinity, sessions) == [(endpoint, None) for endpoint, _ in sessions]


def test_balanced_rebalances_about_one_share_onto_an_added_endpoint() -> None:
    n = 10
    eps = endpoints(n + 1)
    affinity = CookieAffinity(eps[:n], rng=random.Random(5))
    sessions = new_sessions(affinity, 5_000)
    affinity.update(eps)
    again = returning(affinity, sessions)
    moved = [
        after for (before, _), (after, _) in zip(sessions, again, strict=True) if before != after
    ]
    assert set(moved) == {eps[n]}
    assert 0.5 / (n + 1) <= len(moved) / len(sessions) <= 2 / (n + 1)


def test_balanced_weight_zero_choice_still_gets_a_cookie_on_the_ring() -> None:
    eps = endpoints(3, [1, 0, 1])
    affinity = CookieAffinity(eps)  # RoundRobin ignores weights: it will choose eps[1]
    for endpoint, cookie in new_sessions(affinity, 30):
        assert endpoint != eps[1]
        assert affinity.pick_sticky(cookie) == (endpoint, None)


def test_balanced_inner_balancer_may_be_a_partial() -> None:
    inner = functools.partial(LeastRequest, active_request_bias=0.5)
    affinity = CookieAffinity(endpoints(4), inner=inner)
    assert isinstance(affinity.inner, LeastRequest)
    endpoint, cookie = affinity.pick_sticky(None)
    assert affinity.pick_sticky(cookie) == (endpoint, None)
