"""Consistent hashing: a ketama-style ring (`RingHash`) and Google's Maglev table (`Maglev`).

Both place a request key on the endpoints so that the same key reaches the same endpoint,
on every gateway replica, and so that a change of the endpoint set moves few keys. Both
hash with `hash64` (BLAKE2b, 64-bit digest): never with Python's `hash()`, which is
randomized per process (PYTHONHASHSEED), so two replicas would disagree.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
from collections.abc import Iterable
from typing import cast

from ingresslib.endpoints._balancer import _DEFAULT_HEALTH, BalancerBase, Clock, HealthPolicy
from ingresslib.endpoints._model import Endpoint, EndpointSet

__all__ = ["Maglev", "RingHash", "hash64", "maglev_table"]

#: Envoy's defaults: "minimum_ring_size ... Defaults to 1024 entries, and limited to 8M
#: entries"; "maximum_ring_size ... Defaults to 8M entries".
DEFAULT_MIN_RING_SIZE = 1024
DEFAULT_MAX_RING_SIZE = 8 * 1024 * 1024
#: Maglev's table size: "65537 ... the recommended table size in section 5.3" (Envoy).
DEFAULT_TABLE_SIZE = 65537

_RING_END = 1 << 64
# PERF: an unkeyed BLAKE2b-64 state, copied per call: about 70 ns less than building a new
# `hashlib.blake2b(data, digest_size=8)` (argument parsing and parameter block set-up).
_BLAKE2B_64 = hashlib.blake2b(digest_size=8)
_new_blake2b_64 = _BLAKE2B_64.copy
_from_bytes = int.from_bytes
_bisect_left = bisect.bisect_left

#: A built ring: the sorted point digests; the owner of each point, then the first owner
#: again (for the wrap-around); each endpoint key's arcs as (first position, length).
_Ring = tuple[list[bytes], tuple[Endpoint, ...], dict[str, list[tuple[int, int]]]]


def hash64(data: str | bytes, seed: int = 0) -> int:
    """The stable 64-bit hash of the hashing balancers.

    BLAKE2b (RFC 7693) with an 8-byte digest of the UTF-8 bytes of `data`, read as an
    unsigned big-endian integer (so that digests sort as their integers do). `seed` 0 is
    plain (unkeyed) BLAKE2b; another seed `s` uses the RFC's keyed mode with `s` as an
    8-byte little-endian key (Maglev uses seed 1 for its second hash, as Envoy uses
    `xxHash64(key, 1)`). The same on every process, machine and Python version, and easy
    to reproduce elsewhere (Python `hashlib.blake2b(data, digest_size=8)`, Go
    `blake2b.New(8, nil)` from golang.org/x/crypto, `b2sum -l 64`).

    Why not xxHash64 as Envoy: it is not in the standard library, and the core takes no
    compiled dependency; a pure-Python xxHash64 would cost microseconds. BLAKE2b from
    `hashlib` costs ~200 ns per short key here, and its output is uniform.

    Args:
        data: the text (encoded as UTF-8) or bytes to hash.
        seed: 0 for the plain hash; any other value selects an independent hash.

    Returns:
        An integer in [0, 2**64).
    """
    raw = data.encode() if isinstance(data, str) else data
    if seed:
        keyed = hashlib.blake2b(raw, digest_size=8, key=seed.to_bytes(8, "little"))
        return _from_bytes(keyed.digest(), "big")
    return _from_bytes(_digest64(raw), "big")


def _digest64(raw: bytes) -> bytes:
    """The 8-byte BLAKE2b digest of `raw`: `hash64` as big-endian bytes."""
    state = _new_blake2b_64()
    state.update(raw)
    return state.digest()


def _unique_by_key(endpoints: Iterable[Endpoint]) -> list[Endpoint]:
    """The endpoints sorted by `key`, the first of each key kept (a stable build order)."""
    seen: dict[str, Endpoint] = {}
    for endpoint in endpoints:
        seen.setdefault(endpoint.key, endpoint)
    return [seen[key] for key in sorted(seen)]


def _hash_weights(endpoints: list[Endpoint]) -> list[int]:
    """Weights for hashing: negative counts as 0; all zero means all equal."""
    weights = [max(e.weight, 0) for e in endpoints]
    if not any(weights):
        return [1] * len(weights)
    return weights


# --- the ring ------------------------------------------------------------------------------


class RingHash(BalancerBase):
    """Consistent hashing on a ring (Karger et al.; ketama; Envoy's `RING_HASH`).

    Every endpoint puts `weight * r` points on a 64-bit ring, point `i` at
    `hash64(f"{endpoint.key}_{i}")` (Envoy's hash key: "address" + "_" + i). A request
    key goes to the endpoint of the first point at or after `hash64(key)`, wrapping
    around: Envoy's port of `ketama_get_server`, "if (h <= midval && h > midval1)".

    Ring size: `r` (points per unit of weight) is the smallest power of two that makes
    the ring of *all* the endpoints, ejected ones included, at least `min_ring_size`
    points: between `min_ring_size` and twice that while nothing is ejected. Envoy
    instead scales to exactly `ceil(min_ring_size / n)` points per equal-weight host, a
    count that changes with nearly every change of `n`: removing one of 10 hosts also
    adds points to the other 9 and moves ~9% more keys. Here:

    - an ejection (or its end) never changes `r`: it moves exactly the ejected
      endpoint's keys, and replicas that ejected different endpoints (passive health is
      per replica) still agree on every other key;
    - an update moves only the keys of the endpoints that left (or that joined), unless
      the total weight crosses a power of two (e.g. 4 -> 3 or 8 -> 7 equal endpoints at
      the default size): then `r` doubles or halves and many keys move, as in Envoy.

    When even `r = 1` exceeds `max_ring_size`, weights are scaled down to fit (every
    endpoint with weight > 0 keeps one point, so the ring may exceed the maximum by at
    most one point per endpoint).

    Balance: an endpoint's share of the keys deviates from its weight's share by about
    `1 / sqrt(points)` (~9% at 128 points, i.e. N = 10 at the default size; ~70% at
    N = 1,000 with 2 points each). Raise `min_ring_size` for many endpoints, or use
    `Maglev`, whose table is near-even at any N.

    A pick with no key chooses a random point of the ring (a weighted random endpoint),
    as Envoy does: "If there is no hash in the context, just choose a random value".
    Endpoints with weight 0 get no point (unless all have 0: then all count as 1).

    Args:
        min_ring_size: the least number of points (Envoy's default: 1024).
        max_ring_size: the most points (Envoy's default: 8M).

    Raises:
        ValueError: the sizes are not 1 <= min_ring_size <= max_ring_size.
    """

    def __init__(
        self,
        endpoints: EndpointSet | Iterable[Endpoint] = (),
        *,
        min_ring_size: int = DEFAULT_MIN_RING_SIZE,
        max_ring_size: int = DEFAULT_MAX_RING_SIZE,
        health: HealthPolicy | None = _DEFAULT_HEALTH,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if not 1 <= min_ring_size <= max_ring_size:
            raise ValueError(
                f"ring sizes must satisfy 1 <= min_ring_size ({min_ring_size}) <= "
                f"max_ring_size ({max_ring_size})"
            )
        self._min_ring = min_ring_size
        self._max_ring = max_ring_size
        # (sorted point digests, owner of each point + the first again for the wrap-around,
        # each endpoint's arcs): one tuple, swapped whole, so a pick never sees the points
        # of one ring with the owners of another.
        self._ring: _Ring = ([], (), {})
        self._point_digests: dict[str, list[bytes]] = {}
        self._signature: tuple[frozenset[Endpoint], int] | None = None
        super().__init__(endpoints, health=health, clock=clock, rng=rng)

    @property
    def ring_size(self) -> int:
        """The number of points on the ring now."""
        return len(self._ring[0])

    def points_per_weight(self, total_weight: int) -> int:
        """`r`: the points per unit of weight for a total weight (before max scaling)."""
        per_weight = 1
        while per_weight * max(total_weight, 1) < self._min_ring:
            per_weight <<= 1
        return per_weight

    def _rebuild(self) -> None:
        self._build(self._available, self._all)

    def _build(self, available: Iterable[Endpoint], every: Iterable[Endpoint]) -> None:
        """Build the ring of `available`, with `r` from `every` endpoint (lock held)."""
        every = _unique_by_key(every)
        total = sum(_hash_weights(every))
        signature = (frozenset(available), total)
        if signature == self._signature:
            return  # the same endpoints (an update that changed nothing): keep the ring
        endpoints = _unique_by_key(available)
        if not endpoints:
            self._ring, self._signature = ([], (), {}), signature
            return
        weights = _hash_weights(endpoints)
        per_weight = self.points_per_weight(total)
        if per_weight * total <= self._max_ring:
            counts = [w * per_weight for w in weights]
        else:
            counts = [max(w * self._max_ring // total, 1) if w else 0 for w in weights]

        # Point digests depend only on the endpoint's key: keep them for the endpoints
        # still known (ejected ones included, so a return costs no hashing).
        known = {e.key for e in every}
        cache = {key: digests for key, digests in self._point_digests.items() if key in known}
        points: list[tuple[bytes, str, int]] = []
        for index, (endpoint, count) in enumerate(zip(endpoints, counts, strict=True)):
            key = endpoint.key
            digests = cache.get(key, [])
            if len(digests) < count:
                digests = digests + [
                    _digest64(f"{key}_{i}".encode()) for i in range(len(digests), count)
                ]
                cache[key] = digests
            points.extend((digests[i], key, index) for i in range(count))
        self._point_digests = cache
        # Ties (a 2**-64 event) are broken by key so that every replica builds one ring.
        points.sort()
        owners = [endpoints[point[2]] for point in points]
        owners.append(owners[0])  # bisect past the last point wraps to the first
        # Each point's arc, (first position, length): from just after the previous point
        # (the last one for the first point) up to and including the point itself.
        ints = [_from_bytes(point[0], "big") for point in points]
        arcs: dict[str, list[tuple[int, int]]] = {}
        for index, point in enumerate(points):
            low = ints[index - 1] + 1
            span = (ints[index] - low) % _RING_END + 1
            if span < _RING_END or len(points) == 1:  # else: equal points, an empty arc
                arcs.setdefault(point[1], []).append((low, span))
        self._ring = ([point[0] for point in points], tuple(owners), arcs)
        self._signature = signature

    def pick(self, key: str | bytes | None = None) -> Endpoint | None:
        """The endpoint of `key` on the ring; with no key, a random (weighted) one."""
        # PERF: BalancerBase.pick inlined (its expiry check, then _choose's body): one
        # Python call less per pick (~70 ns). The ring is built from the available
        # endpoints, so an empty ring means none is available.
        if self._ejected and self._clock() >= self._next_expiry:
            with self._lock:
                self._expire(self._clock())
        digests, owners, _ = self._ring
        if not digests:
            return None
        if key is None:
            return owners[_bisect_left(digests, self._rng.getrandbits(64).to_bytes(8, "big"))]
        # PERF: the ring holds big-endian digests, which sort as their integers do, so
        # the key's digest is searched as bytes: no int conversion (~50 ns), and bisect
        # compares 8-byte strings a little faster than 64-bit ints. hash64 is inlined.
        state = _new_blake2b_64()
        state.update(key.encode() if isinstance(key, str) else key)
        return owners[_bisect_left(digests, state.digest())]

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint:
        return self.pick(key) or available[0]  # pick() is overridden: for completeness

    # --- for CookieAffinity ("balanced": the cookie holds a position on the ring) ---------

    def _owner(self, digest: bytes) -> Endpoint | None:
        """The endpoint that owns a ring position (8 big-endian bytes); None: empty ring."""
        digests, owners, _ = self._ring
        if not digests:
            return None
        return owners[_bisect_left(digests, digest)]

    def _random_position(self, endpoint: Endpoint) -> bytes | None:
        """A random ring position (8 big-endian bytes) owned by `endpoint`, if it has points.

        A random arc of the endpoint, then a random position in it (with a modulo bias
        of at most span / 2**64: irrelevant for placing sessions).
        """
        arcs = self._ring[2].get(endpoint.key)
        if not arcs:
            return None
        rng = self._rng
        low, span = arcs[int(rng.random() * len(arcs))]
        return ((low + rng.getrandbits(64) % span) % _RING_END).to_bytes(8, "big")


# --- Maglev --------------------------------------------------------------------------------


def _is_prime(number: int) -> bool:
    if number < 2:
        return False
    if number % 2 == 0 or number % 3 == 0:
        return number in (2, 3)
    divisor = 5
    while divisor * divisor <= number:
        if number % divisor == 0 or number % (divisor + 2) == 0:
            return False
        divisor += 6
    return True


def maglev_table(endpoints: Iterable[Endpoint], size: int = DEFAULT_TABLE_SIZE) -> list[Endpoint]:
    """Populate a Maglev lookup table (Eisenbud et al., NSDI 2016, section 3.4).

    "offset <- h1(name[i]) mod M; skip <- h2(name[i]) mod (M - 1) + 1;
    permutation[i][j] <- (offset + j x skip) mod M" -- with M prime, each endpoint's
    permutation visits every slot. Pseudocode 1 then fills the table round-robin: each
    endpoint in turn takes the next slot of its permutation that is still empty, until
    the table is full. h1 and h2 are `hash64(key)` and `hash64(key, seed=1)`, as Envoy
    uses `xxHash64(key)` and `xxHash64(key, 1)`; endpoints are taken in `key` order
    ("Maglev requires stable order of table_build_entries", Envoy).

    Weights as Envoy does them: in round `iteration` (from 1), an endpoint takes a slot
    only if `iteration * weight >= target`, then `target += max_weight` -- "a host with
    weight equal to max_normalized_weight ... would be picked on every single iteration.
    If it had weight equal to max_normalized_weight / 3, then it would only be picked
    every 3 iterations". Integer weights make that test exact. Every endpoint with
    weight > 0 takes a slot in the first round, so each owns one when N <= M.

    Args:
        endpoints: the endpoints (weights <= 0 take no slot, unless all are <= 0).
        size: M, a prime.

    Returns:
        The table: `size` endpoints (empty when there is no endpoint).
    """
    ordered = _unique_by_key(endpoints)
    weights = _hash_weights(ordered)
    entries = [(e, w) for e, w in zip(ordered, weights, strict=True) if w > 0]
    if not entries:
        return []
    count = len(entries)
    skips = [hash64(e.key, seed=1) % (size - 1) + 1 for e, _ in entries]
    # `nexts[i]` is kept as the slot itself, `(offset + next * skip) mod M`, advanced
    # by `skip` (mod M) rather than recomputed.
    nexts = [hash64(e.key) % size for e, _ in entries]
    entry_weights = [w for _, w in entries]
    targets = [0] * count
    max_weight = max(entry_weights)
    table: list[Endpoint | None] = [None] * size
    filled = 0
    iteration = 1
    while filled < size:
        for i in range(count):
            if iteration * entry_weights[i] < targets[i]:
                continue
            targets[i] += max_weight
            slot, skip = nexts[i], skips[i]
            # PERF: the probe loop is the whole build cost (~M ln M probes): slots and
            # skips are plain ints in local variables, `% size` replaced by a subtraction.
            while table[slot] is not None:
                slot += skip
                if slot >= size:
                    slot -= size
            table[slot] = entries[i][0]
            slot += skip
            if slot >= size:
                slot -= size
            nexts[i] = slot
            filled += 1
            if filled == size:
                break
        iteration += 1
    return cast("list[Endpoint]", table)  # full: no None is left


class Maglev(BalancerBase):
    """Maglev consistent hashing (Google, NSDI 2016; Envoy's `MAGLEV`).

    A lookup table of `table_size` (M, prime) slots, each owning one endpoint, is built
    with `maglev_table` whenever the available endpoints change; a key goes to
    `table[hash64(key) % M]`: O(1) per pick, whatever the number of endpoints. With
    equal weights each endpoint owns floor(M / N) or ceil(M / N) slots (one per round
    of the fill), so keys are spread near-evenly at any N <= M. The price is some extra
    disruption: when one of N endpoints leaves (or is ejected), its slots go to the
    others and a few other slots change hands too; measured in the tests at 1.02/N for
    N = 10 and 1.6/N for N = 100, asserted under 2/N. Unlike `RingHash`, replicas that
    ejected different endpoints therefore disagree on a few more keys.

    A pick with no key takes a random slot (a weighted random endpoint), as Envoy does.
    A build costs ~M ln M probes, 20-30 ms in CPython at the default M; it runs under
    the balancer's lock whenever the available endpoints change, including in the
    `report()` that ejects an endpoint.

    Args:
        table_size: M, a prime larger than the number of endpoints (default 65537, the
            paper's recommendation and Envoy's default; the paper picks M > 100 x N to
            keep the endpoints' shares within 1%).

    Raises:
        ValueError: `table_size` is not a prime.
    """

    def __init__(
        self,
        endpoints: EndpointSet | Iterable[Endpoint] = (),
        *,
        table_size: int = DEFAULT_TABLE_SIZE,
        health: HealthPolicy | None = _DEFAULT_HEALTH,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        # Envoy: "The table size of maglev must be prime number".
        if not _is_prime(table_size):
            raise ValueError(f"the Maglev table size must be a prime number, not {table_size}")
        self._size = table_size
        self._table: tuple[Endpoint, ...] = ()
        self._signature: frozenset[Endpoint] | None = None
        super().__init__(endpoints, health=health, clock=clock, rng=rng)

    @property
    def table_size(self) -> int:
        """M, the number of slots."""
        return self._size

    @property
    def table(self) -> tuple[Endpoint, ...]:
        """The lookup table now (empty when no endpoint is available)."""
        return self._table

    def _rebuild(self) -> None:
        signature = frozenset(self._available)
        if signature == self._signature:
            return  # the same endpoints: keep the table (a build costs milliseconds)
        self._table = tuple(maglev_table(self._available, self._size))
        self._signature = signature

    def pick(self, key: str | bytes | None = None) -> Endpoint | None:
        """`table[hash64(key) % M]`; with no key, a random slot (a weighted endpoint)."""
        # PERF: BalancerBase.pick inlined (its expiry check, then _choose's body): one
        # Python call less per pick. The table is empty exactly when no endpoint is.
        if self._ejected and self._clock() >= self._next_expiry:
            with self._lock:
                self._expire(self._clock())
        table = self._table
        if not table:
            return None
        if key is None:
            return table[int(self._random() * len(table))]
        # PERF: hash64 inlined (one call less); `len(table)` is M.
        state = _new_blake2b_64()
        state.update(key.encode() if isinstance(key, str) else key)
        return table[_from_bytes(state.digest(), "big") % len(table)]

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint:
        return self.pick(key) or available[0]  # pick() is overridden: for completeness
