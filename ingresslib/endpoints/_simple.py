"""Round robin, smooth weighted round robin, random and weighted random."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

from ingresslib.endpoints._balancer import BalancerBase
from ingresslib.endpoints._model import Endpoint

__all__ = ["RandomBalancer", "RoundRobin", "SmoothWeightedRoundRobin", "WeightedRandom"]

# Longest precomputed smooth-weighted schedule; past it, picks run nginx's loop directly.
_MAX_SCHEDULE = 1 << 16


class RoundRobin(BalancerBase):
    """Each available endpoint in turn (weights ignored)."""

    def _rebuild(self) -> None:
        self._counter = itertools.count()

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint:
        # PERF: next() on itertools.count is atomic under the GIL: no lock per pick.
        return available[next(self._counter) % len(available)]


def smooth_weighted_schedule(weights: Sequence[int]) -> list[int]:
    """One full period of nginx's smooth weighted round robin (ngx_http_upstream_get_peer).

    "for each peer: current_weight += effective_weight; total += effective_weight; the peer
    with the largest current_weight is chosen and its current_weight -= total". With
    weights 5, 1, 1 the order is a a b a c a a: heavy peers are spread, not bunched.

    Returns:
        The indexes of the peers chosen in one period (sum(weights) picks).
    """
    current = [0] * len(weights)
    total = sum(weights)
    order = []
    for _ in range(total):
        best = -1
        for index, weight in enumerate(weights):
            current[index] += weight
            if best < 0 or current[index] > current[best]:
                best = index
        current[best] -= total
        order.append(best)
    return order


class SmoothWeightedRoundRobin(BalancerBase):
    """nginx's smooth weighted round robin over `Endpoint.weight`."""

    def _rebuild(self) -> None:
        weights = [max(e.weight, 0) for e in self._available]
        self._counter = itertools.count()
        self._current = [0] * len(weights)
        self._weights = weights
        # PERF: the sequence is periodic (period = total weight); precompute it once so a
        # pick is an index, not a loop over every endpoint.
        total = sum(weights)
        self._schedule = (
            tuple(self._available[i] for i in smooth_weighted_schedule(weights))
            if 0 < total <= _MAX_SCHEDULE
            else None
        )

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint:
        schedule = self._schedule
        if schedule is not None and schedule and available is self._available:
            return schedule[next(self._counter) % len(schedule)]
        with self._lock:
            weights, current = self._weights, self._current
            if len(weights) != len(available) or not any(weights):
                return available[next(self._counter) % len(available)]
            total = sum(weights)
            best = max(range(len(weights)), key=lambda i: current[i] + weights[i])
            for index, weight in enumerate(weights):
                current[index] += weight
            current[best] -= total
            return available[best]


class RandomBalancer(BalancerBase):
    """A uniformly random available endpoint."""

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint:
        return available[int(self._random() * len(available))]


class WeightedRandom(BalancerBase):
    """A random available endpoint, with probability proportional to its weight."""

    def _rebuild(self) -> None:
        self._cumulative = list(itertools.accumulate(max(e.weight, 0) for e in self._available))
        self._total = self._cumulative[-1] if self._cumulative else 0

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint:
        cumulative, total = self._cumulative, self._total
        if total <= 0 or len(cumulative) != len(available):
            return available[int(self._random() * len(available))]
        # PERF: binary search over cumulative weights: O(log n).
        index = bisect.bisect_right(cumulative, self._random() * total)
        return available[min(index, len(available) - 1)]
