"""Round robin, smooth weighted round robin, random and weighted random."""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Sequence

from ingresslib.endpoints._balancer import BalancerBase
from ingresslib.endpoints._model import Endpoint

__all__ = ["RandomBalancer", "RoundRobin", "SmoothWeightedRoundRobin", "WeightedRandom"]

# Most steps (period x endpoints) spent precomputing a smooth-weighted schedule, which
# happens on every change of the available set (ejections included): about 10 ms.
_MAX_SCHEDULE_WORK = 1 << 16


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
    """nginx's smooth weighted round robin over `Endpoint.weight`.

    The sequence is periodic (period = the sum of the weights, after dividing them by
    their greatest common divisor), so it is precomputed and a pick is one index. A set
    whose precomputation would cost more than `_MAX_SCHEDULE_WORK` steps (thousands of
    endpoints with coprime weights) uses an earliest-deadline-first order instead: the
    same shares, not nginx's exact order; precomputed for one period while the period is
    at most `_MAX_SCHEDULE_WORK` picks, else O(log n) per pick.
    """

    def _rebuild(self) -> None:
        available = self._available
        weights = [max(e.weight, 0) for e in available]
        divisor = math.gcd(*weights) if weights else 0
        if divisor:
            weights = [w // divisor for w in weights]
        total = sum(weights)
        self._counter = itertools.count()
        plan: tuple[tuple[Endpoint, ...], object]
        if total and total * len(weights) <= _MAX_SCHEDULE_WORK:
            # PERF: one period precomputed; a pick is an index into it.
            order = smooth_weighted_schedule(weights)
            plan = (available, tuple(available[i] for i in order))
        elif 0 < total <= _MAX_SCHEDULE_WORK:
            # Too many endpoints for nginx's O(period x n) walk: one period of the
            # earliest-deadline-first order instead, O(period log n), also precomputed.
            plan = (available, tuple(available[i] for i in _deadline_schedule(weights, total)))
        elif total:
            heap = [(1.0 / w, i, i) for i, w in enumerate(weights) if w > 0]
            heapq.heapify(heap)
            plan = (available, _Deadlines(heap, weights))
        else:
            plan = (available, available)  # every weight 0: plain round robin
        # One attribute, so `pick()` never pairs one set's schedule with another set.
        self._plan = plan

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint:
        endpoints, schedule = self._plan
        if isinstance(schedule, tuple):
            chosen: Endpoint = schedule[next(self._counter) % len(schedule)]
            return chosen
        assert isinstance(schedule, _Deadlines)
        with self._lock:
            return endpoints[schedule.next_index()]


def _deadline_schedule(weights: list[int], count: int) -> list[int]:
    deadlines = _Deadlines([(1.0 / w, i, i) for i, w in enumerate(weights) if w > 0], weights)
    heapq.heapify(deadlines.heap)
    return [deadlines.next_index() for _ in range(count)]


class _Deadlines:
    """Earliest-deadline-first over weights: each pick moves the winner 1/weight later."""

    __slots__ = ("heap", "sequence", "weights")

    def __init__(self, heap: list[tuple[float, int, int]], weights: list[int]) -> None:
        self.heap = heap
        self.weights = weights
        self.sequence = len(weights)

    def next_index(self) -> int:
        deadline, _, index = heapq.heappop(self.heap)
        self.sequence += 1
        heapq.heappush(self.heap, (deadline + 1.0 / self.weights[index], self.sequence, index))
        return index


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
