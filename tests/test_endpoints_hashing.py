"""Consistent hashing: RingHash and Maglev spread, weights, minimal movement, stability."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingresslib.endpoints import Balancer, Endpoint, HealthPolicy
from ingresslib.endpoints._hashing import Maglev, RingHash, hash64, maglev_table
from tests.support import FakeClock, endpoints

KEYS = [f"user-{i}" for i in range(100_000)]
SMALL_PRIMES = [p for p in range(2, 1100) if all(p % d for d in range(2, int(p**0.5) + 1))]


def assignment(balancer: RingHash | Maglev, keys: Sequence[str] = KEYS) -> list[Endpoint]:
    picks = []
    for key in keys:
        endpoint = balancer.pick(key)
        assert endpoint is not None
        picks.append(endpoint)
    return picks


def moved_share(before: Sequence[Endpoint], after: Sequence[Endpoint]) -> float:
    return sum(b != a for b, a in zip(before, after, strict=True)) / len(before)


HASHERS: list[Callable[..., RingHash | Maglev]] = [RingHash, Maglev]


# --- the hash ------------------------------------------------------------------------------


def test_hash64_is_blake2b_64_big_endian_and_pinned() -> None:
    # RFC 7693 / the reference BLAKE2b-64 of the empty string.
    assert hash64("") == 0xE4A6A0577479B2B4
    # Pinned: every replica (and every version of ingresslib) must place keys alike.
    assert hash64("10.0.0.1:8080_0") == 0x81D98E7C780E1242
    assert hash64("user-42") == 0x6FA0CA4D7BE6EFA6
    assert hash64(b"user-42") == hash64("user-42")
    for text in ("", "a", "é", "10.0.0.1:8080_17", "x" * 300):
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        assert hash64(text) == int.from_bytes(digest, "big")


def test_hash64_seeds_are_keyed_blake2b_and_independent() -> None:
    assert hash64("10.0.0.1:8080", seed=1) == 0x502B035530901F2A
    keyed = hashlib.blake2b(b"abc", digest_size=8, key=(7).to_bytes(8, "little")).digest()
    assert hash64("abc", seed=7) == int.from_bytes(keyed, "big")
    assert len({hash64("abc", seed=s) for s in range(20)}) == 20


def test_same_key_same_endpoint_in_another_process_with_another_hash_seed() -> None:
    # Python's hash() differs per process (PYTHONHASHSEED); the balancers must not.
    script = (
        "import json, sys\n"
        "from ingresslib.endpoints import Endpoint\n"
        "from ingresslib.endpoints._hashing import Maglev, RingHash\n"
        "eps = [Endpoint(f'10.0.0.{i}', 8080) for i in range(20)][::-1]\n"
        "keys = [f'user-{i}' for i in range(500)]\n"
        "out = {}\n"
        "for cls in (RingHash, Maglev):\n"
        "    balancer = cls(eps)\n"
        "    out[cls.__name__] = [balancer.pick(k).key for k in keys]\n"
        "json.dump(out, sys.stdout)\n"
    )
    results = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        results.append(json.loads(done.stdout))
    eps = [Endpoint(f"10.0.0.{i}", 8080) for i in range(20)]
    here = {c.__name__: [e.key for e in assignment(c(eps), KEYS[:500])] for c in (RingHash, Maglev)}
    assert results[0] == results[1] == here


# --- both hashers --------------------------------------------------------------------------


@pytest.mark.parametrize("cls", HASHERS)
def test_is_a_balancer_and_handles_empty_sets(cls: Callable[..., RingHash | Maglev]) -> None:
    balancer = cls([])
    assert isinstance(balancer, Balancer)
    assert balancer.pick("k") is None
    assert balancer.pick() is None
    balancer.update(endpoints(1))
    assert balancer.pick("k") == endpoints(1)[0]
    balancer.update([])
    assert balancer.pick("k") is None


@pytest.mark.parametrize("cls", HASHERS)
def test_equal_weights_spread_within_15_percent(cls: Callable[..., RingHash | Maglev]) -> None:
    n = 10
    counts = Counter(assignment(cls(endpoints(n))))
    share = len(KEYS) / n
    assert len(counts) == n
    for endpoint, count in counts.items():
        assert abs(count / share - 1) <= 0.15, (endpoint, count / share)


@pytest.mark.parametrize("cls", HASHERS)
def test_weights_are_honoured(cls: Callable[..., RingHash | Maglev]) -> None:
    weights = [1, 2, 5]
    eps = endpoints(3, weights)
    counts = Counter(assignment(cls(eps)))
    for endpoint, weight in zip(eps, weights, strict=True):
        expected = len(KEYS) * weight / sum(weights)
        assert abs(counts[endpoint] / expected - 1) <= 0.15, (endpoint, counts[endpoint])


@pytest.mark.parametrize("cls", HASHERS)
def test_same_key_same_endpoint_whatever_the_order_of_the_set(
    cls: Callable[..., RingHash | Maglev],
) -> None:
    eps = endpoints(50)
    shuffled = eps[:]
    random.Random(3).shuffle(shuffled)
    keys = KEYS[:2_000]
    assert assignment(cls(eps), keys) == assignment(cls(shuffled), keys)
    # str and bytes keys are the same key.
    one = cls(eps)
    assert [one.pick(k.encode()) for k in keys[:100]] == assignment(one, keys[:100])


@pytest.mark.parametrize("cls", HASHERS)
def test_ejected_endpoints_are_not_picked_and_come_back(
    cls: Callable[..., RingHash | Maglev],
) -> None:
    clock = FakeClock()
    eps = endpoints(10)
    balancer = cls(eps, clock=clock, health=HealthPolicy(consecutive_failures=2, base_ejection=5))
    keys = KEYS[:20_000]
    before = assignment(balancer, keys)
    for _ in range(2):
        balancer.report(eps[3], ok=False)
    assert eps[3] not in balancer.available
    during = assignment(balancer, keys)
    assert eps[3] not in during
    # The ring moves only the ejected endpoint's keys; Maglev a few more (under 2/N).
    kept = [b == d for b, d in zip(before, during, strict=True) if b != eps[3]]
    assert kept.count(False) <= (0 if cls is RingHash else 0.1 * len(keys))
    assert all(balancer.pick() != eps[3] for _ in range(2_000))
    clock.now += 6
    assert assignment(balancer, keys) == before


@pytest.mark.parametrize("cls", HASHERS)
def test_zero_weights_take_no_share_unless_all_are_zero(
    cls: Callable[..., RingHash | Maglev],
) -> None:
    eps = endpoints(4, [1, 0, 3, 0])
    picked = set(assignment(cls(eps), KEYS[:5_000]))
    assert picked == {eps[0], eps[2]}
    all_zero = endpoints(4, [0, 0, 0, 0])
    assert set(assignment(cls(all_zero), KEYS[:5_000])) == set(all_zero)


@pytest.mark.parametrize("cls", HASHERS)
def test_no_key_picks_at_random_by_weight(cls: Callable[..., RingHash | Maglev]) -> None:
    eps = endpoints(2, [1, 3])
    balancer = cls(eps, rng=random.Random(5))
    counts = Counter(balancer.pick() for _ in range(20_000))
    assert 0.20 <= counts[eps[0]] / 20_000 <= 0.30
    # The random source is injectable: the same seed gives the same picks.
    first, second = cls(eps, rng=random.Random(9)), cls(eps, rng=random.Random(9))
    assert [first.pick() for _ in range(50)] == [second.pick() for _ in range(50)]


@pytest.mark.parametrize("cls", HASHERS)
def test_choose_hook_agrees_with_pick(cls: Callable[..., RingHash | Maglev]) -> None:
    # pick() is inlined for speed; the BalancerBase hook still answers the same.
    balancer = cls(endpoints(7))
    for key in KEYS[:50]:
        assert balancer._choose(balancer.available, key) == balancer.pick(key)


@pytest.mark.parametrize("cls", HASHERS)
def test_duplicate_endpoints_in_an_update_count_once(
    cls: Callable[..., RingHash | Maglev],
) -> None:
    eps = endpoints(5)
    keys = KEYS[:2_000]
    assert assignment(cls(eps + eps[:2]), keys) == assignment(cls(eps), keys)


# --- RingHash ------------------------------------------------------------------------------


def test_ring_removing_one_moves_only_its_keys_and_adding_back_restores() -> None:
    n = 10
    eps = endpoints(n)
    ring = RingHash(eps)
    before = assignment(ring)
    ring.update(eps[:4] + eps[5:])
    after = assignment(ring)
    moved = moved_share(before, after)
    assert 0.5 / n <= moved <= 1.5 / n, moved
    # Exactly the keys of the endpoint that left, and nothing else.
    assert all(b == a for b, a in zip(before, after, strict=True) if b != eps[4])
    ring.update(eps)
    assert assignment(ring) == before


def test_ring_adding_one_moves_about_its_share_only_to_it() -> None:
    n = 10
    eps = endpoints(n + 1)
    ring = RingHash(eps[:n])
    before = assignment(ring)
    ring.update(eps)
    after = assignment(ring)
    moved = moved_share(before, after)
    assert 0.5 / (n + 1) <= moved <= 1.5 / (n + 1), moved
    assert all(a == eps[n] for b, a in zip(before, after, strict=True) if a != b)


def test_ring_ejection_never_resizes_so_it_moves_only_its_keys() -> None:
    # 4 -> 3 endpoints crosses a power of two (r = 256 -> 512 for the same 1024 minimum):
    # the ring is sized by every endpoint, ejected ones included, so r stays 256.
    clock = FakeClock()
    eps = endpoints(4)
    ring = RingHash(eps, clock=clock, health=HealthPolicy(consecutive_failures=1))
    before = assignment(ring)
    ring.report(eps[1], ok=False)
    assert ring.ring_size == 3 * 256
    during = assignment(ring)
    assert all(b == d for b, d in zip(before, during, strict=True) if b != eps[1])
    assert eps[1] not in during
    # An update to 3 endpoints does resize (documented): r doubles, more keys move.
    ring.update(eps[:1] + eps[2:])
    assert ring.ring_size == 3 * 512


def test_ring_size_is_a_power_of_two_per_weight_between_min_and_twice_min() -> None:
    for n in (1, 3, 10, 100, 1000):
        ring = RingHash(endpoints(n))
        assert 1024 <= ring.ring_size < 2048
        per = ring.ring_size // n
        assert per & (per - 1) == 0  # a power of two: stable while N changes by < 2x
    # r is the same for 9 and 10 endpoints: that is why a removal moves only 1/N.
    assert RingHash(endpoints(9)).ring_size // 9 == RingHash(endpoints(10)).ring_size // 10
    assert RingHash(endpoints(10), min_ring_size=16_384).ring_size == 10 * 2048


def test_ring_max_size_scales_weights_down_keeping_every_endpoint() -> None:
    eps = endpoints(4, [1, 1, 1, 1000])
    ring = RingHash(eps, min_ring_size=64, max_ring_size=100)
    assert ring.ring_size <= 100 + 4
    assert set(assignment(ring, KEYS[:20_000])) == set(eps)


def test_ring_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="min_ring_size"):
        RingHash(min_ring_size=0)
    with pytest.raises(ValueError, match="max_ring_size"):
        RingHash(min_ring_size=2048, max_ring_size=1024)


def test_ring_lookup_is_the_first_point_at_or_after_the_key_hash() -> None:
    eps = endpoints(3)
    ring = RingHash(eps, min_ring_size=3)  # one point each, at hash64(f"{key}_0")
    points = sorted((hash64(f"{e.key}_0"), e) for e in eps)
    assert ring.ring_size == 3
    for key in KEYS[:300]:
        h = hash64(key)
        owner = next((e for p, e in points if p >= h), points[0][1])  # wraps around
        assert ring.pick(key) == owner


def test_an_update_that_changes_nothing_keeps_the_ring() -> None:
    eps = endpoints(10)
    ring = RingHash(eps)
    built = ring._ring
    ring.update(list(eps))
    assert ring._ring is built


# --- Maglev --------------------------------------------------------------------------------


def test_maglev_table_size_must_be_prime() -> None:
    for size in (0, 1, 4, 65536, 65535, 1001):
        with pytest.raises(ValueError, match="prime"):
            Maglev(table_size=size)
    for size in (2, 3, 13, 251, 65537):
        assert Maglev(endpoints(2), table_size=size).table_size == size


def test_maglev_equal_weights_own_floor_or_ceil_of_m_over_n_slots() -> None:
    for n in (1, 7, 10, 100):
        maglev = Maglev(endpoints(n))
        assert len(maglev.table) == 65537
        counts = Counter(maglev.table)
        assert len(counts) == n
        assert max(counts.values()) - min(counts.values()) <= 1


def test_maglev_weighted_slots_follow_weights_within_one_percent() -> None:
    weights = [1, 2, 5, 8]
    eps = endpoints(4, weights)
    counts = Counter(Maglev(eps).table)
    for endpoint, weight in zip(eps, weights, strict=True):
        expected = 65537 * weight / sum(weights)
        assert abs(counts[endpoint] / expected - 1) <= 0.01, (weight, counts[endpoint])


def test_maglev_matches_the_papers_permutations_for_a_tiny_table() -> None:
    # Recompute pseudocode 1 by the book (permutation lists, entry[] = -1) and compare.
    eps = endpoints(3)
    size = 7
    ordered = sorted(eps, key=lambda e: e.key)
    permutation = [
        [
            (hash64(e.key) % size + j * (hash64(e.key, seed=1) % (size - 1) + 1)) % size
            for j in range(size)
        ]
        for e in ordered
    ]
    entry = [-1] * size
    nexts = [0] * len(ordered)
    n = 0
    while n < size:
        for i in range(len(ordered)):
            c = permutation[i][nexts[i]]
            while entry[c] >= 0:
                nexts[i] += 1
                c = permutation[i][nexts[i]]
            entry[c] = i
            nexts[i] += 1
            n += 1
            if n == size:
                break
    assert maglev_table(eps, size) == [ordered[i] for i in entry]


def test_maglev_removing_one_moves_at_most_two_over_n_and_adding_back_restores() -> None:
    for n in (10, 50):
        eps = endpoints(n)
        maglev = Maglev(eps)
        before = assignment(maglev)
        maglev.update(eps[:3] + eps[4:])
        after = assignment(maglev)
        moved = moved_share(before, after)
        assert 0.5 / n <= moved <= 2 / n, (n, moved)
        maglev.update(eps)
        assert assignment(maglev) == before


def test_maglev_lookup_is_table_of_hash_mod_m() -> None:
    maglev = Maglev(endpoints(5), table_size=251)
    for key in KEYS[:300]:
        assert maglev.pick(key) == maglev.table[hash64(key) % 251]


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=40),
    size=st.sampled_from(SMALL_PRIMES),
    keys=st.lists(st.text(max_size=12), max_size=20),
)
def test_maglev_table_is_full_and_every_weighted_endpoint_owns_a_slot(
    weights: list[int], size: int, keys: list[str]
) -> None:
    eps = endpoints(len(weights), weights)
    maglev = Maglev(eps, table_size=size)
    table = maglev.table
    assert len(table) == size
    assert all(isinstance(e, Endpoint) for e in table)
    candidates = [e for e in eps if e.weight > 0] or eps
    if len(candidates) <= size:
        assert set(table) == set(candidates)
    for key in keys:
        assert maglev.pick(key) in candidates
