"""Load-aware balancers: least request (P2C / Envoy's weighted mode) and peak-EWMA."""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Iterable

from ingresslib.endpoints._balancer import (
    _DEFAULT_HEALTH,
    BalancerBase,
    Clock,
    EndpointState,
    HealthPolicy,
)
from ingresslib.endpoints._model import Endpoint, EndpointSet

__all__ = ["LeastRequest", "PeakEwma"]

_exp = math.exp


class LeastRequest(BalancerBase):
    """Fewest active requests.

    Equal weights: the power of two choices (two distinct random endpoints, the one with
    fewer active requests wins). Unequal weights: Envoy's mode, an earliest-deadline-first
    schedule whose weights are recomputed at each pick as
    `weight / (active + 1) ** active_request_bias`.

    Args:
        active_request_bias: Envoy's `active_request_bias` (1.0 by default; 0 = plain
            weighted round robin).
    """

    tracks_active = True

    def __init__(
        self,
        endpoints: EndpointSet | Iterable[Endpoint] = (),
        *,
        active_request_bias: float = 1.0,
        health: HealthPolicy | None = _DEFAULT_HEALTH,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._bias = active_request_bias
        super().__init__(endpoints, health=health, clock=clock, rng=rng)

    def _rebuild(self) -> None:
        available = self._available
        self._slots = tuple(self._states[e.key] for e in available)
        self._weighted = len({e.weight for e in available}) > 1
        # EDF entries: (deadline, sequence, index); lower deadline goes first.
        self._heap = [
            (1.0 / max(e.weight, 1e-9), i, i) for i, e in enumerate(available) if e.weight > 0
        ]
        heapq.heapify(self._heap)
        self._sequence = len(available)

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint | None:
        with self._lock:
            # Under the lock `_available` and `_slots` belong together (an update may
            # have replaced both since `pick()` read `available`).
            available = self._available
            count = len(available)
            if not count:
                return None
            if self._weighted and self._heap:
                index = self._pick_weighted(available)
            elif count == 1:
                index = 0
            else:
                # PERF: two distinct random indexes without building a sample.
                first = int(self._random() * count)
                second = int(self._random() * (count - 1))
                if second >= first:
                    second += 1
                slots = self._slots
                index = second if slots[second].active < slots[first].active else first
            self._slots[index].active += 1
            return available[index]

    def _pick_weighted(self, available: tuple[Endpoint, ...]) -> int:
        heap = self._heap
        deadline, _, index = heap[0]
        active = self._slots[index].active
        # Envoy: "weight / (active_requests + 1) ^ active_request_bias".
        bias = self._bias
        load = active + 1 if bias == 1.0 else (active + 1) ** bias
        weight = available[index].weight / load
        self._sequence += 1
        # PERF: one sift (heapreplace) instead of a pop and a push.
        heapq.heapreplace(heap, (deadline + 1.0 / max(weight, 1e-9), self._sequence, index))
        return index


class PeakEwma(BalancerBase):
    """Peak-EWMA latency with the power of two choices (Finagle, linkerd).

    Each endpoint keeps a latency estimate that jumps to any higher sample (the peak)
    and otherwise decays exponentially with time: `w = exp(-elapsed / decay)`,
    `ewma = ewma * w + rtt * (1 - w)`. Its load is `ewma * (active + 1)`; of two random
    endpoints the one with the lower load wins. A new endpoint starts at `default_rtt`.

    Args:
        decay: the time constant in seconds (Finagle's default: 10 s).
        default_rtt: the estimate before the first sample (linkerd: 30 ms).
    """

    tracks_active = True

    def __init__(
        self,
        endpoints: EndpointSet | Iterable[Endpoint] = (),
        *,
        decay: float = 10.0,
        default_rtt: float = 0.030,
        health: HealthPolicy | None = _DEFAULT_HEALTH,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._decay = decay
        self._default_rtt = default_rtt
        super().__init__(endpoints, health=health, clock=clock, rng=rng)

    def _rebuild(self) -> None:
        self._slots = tuple(self._states[e.key] for e in self._available)

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint | None:
        with self._lock:
            # Under the lock `_available` and `_slots` belong together.
            available, slots = self._available, self._slots
            count = len(available)
            if not count:
                return None
            if count == 1:
                index = 0
            else:
                now = self._clock()
                first = int(self._random() * count)
                second = int(self._random() * (count - 1))
                if second >= first:
                    second += 1
                # PERF: both loads inline (no method calls on the hot path).
                a, b = slots[first], slots[second]
                if a.ewma < 0:
                    a.ewma, a.stamp = self._default_rtt, now
                if b.ewma < 0:
                    b.ewma, b.stamp = self._default_rtt, now
                # Decay toward 0 while no sample arrives: Finagle's `cost` runs
                # `observe(0.0)`, which decays the estimate and moves its stamp.
                decay = self._decay
                a.ewma *= _exp((a.stamp - now) / decay)
                b.ewma *= _exp((b.stamp - now) / decay)
                a.stamp = b.stamp = now
                load_a = a.ewma * (a.active + 1)
                load_b = b.ewma * (b.active + 1)
                index = second if load_b < load_a else first
            slots[index].active += 1
            return available[index]

    def _observe(self, state: EndpointState, latency: float) -> None:
        now = self._clock()
        if state.ewma < 0:
            state.ewma, state.stamp = latency, now
            return
        weight = _exp(-max(now - state.stamp, 0.0) / self._decay)
        # "if (rtt > cost) cost = rtt else cost = cost * w + rtt * (1.0 - w)"
        state.ewma = (
            latency if latency > state.ewma else state.ewma * weight + latency * (1 - weight)
        )
        state.stamp = now
