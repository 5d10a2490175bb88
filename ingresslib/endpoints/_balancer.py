"""The balancer protocol, passive health, and the state every balancer keeps per endpoint."""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

import attrs

from ingresslib.endpoints._model import Endpoint, EndpointSet

__all__ = ["Balancer", "BalancerBase", "EndpointState", "HealthPolicy"]

Clock = Callable[[], float]


@runtime_checkable
class Balancer(Protocol):
    """What every balancer offers.

    A request calls `pick()` once, and `report()` once when it ends, with the endpoint
    `pick()` returned. Balancers are safe to share between threads and asyncio tasks.
    """

    def pick(self, key: str | bytes | None = None) -> Endpoint | None:
        """Choose an endpoint (None when none is available); `key` for hashing balancers."""
        ...

    def report(self, endpoint: Endpoint, *, ok: bool = True, latency: float | None = None) -> None:
        """Tell how a request to `endpoint` ended: success or failure, and its latency."""
        ...

    def update(self, endpoints: EndpointSet | Iterable[Endpoint]) -> None:
        """Replace the endpoints, keeping the state of those that stay."""
        ...


@attrs.frozen
class HealthPolicy:
    """Passive health checking (outlier ejection).

    Attributes:
        consecutive_failures: failures in a row that eject an endpoint.
        base_ejection: seconds of the first ejection; each repeat doubles it.
        max_ejection: the longest ejection, in seconds.
        max_ejected_share: never eject more than this share of the endpoints (floor).
    """

    consecutive_failures: int = 5
    base_ejection: float = 30.0
    max_ejection: float = 300.0
    max_ejected_share: float = 0.5


_DEFAULT_HEALTH = HealthPolicy()


class EndpointState:
    """Mutable per-endpoint state, kept across `update()` for endpoints that stay."""

    __slots__ = ("active", "ejected_until", "ejections", "ewma", "failures", "stamp")

    def __init__(self) -> None:
        self.active = 0
        self.failures = 0
        self.ejections = 0
        self.ejected_until = 0.0
        self.ewma = -1.0  # peak-EWMA latency in seconds; -1: no sample yet
        self.stamp = 0.0


class BalancerBase:
    """Shared machinery: endpoint set, per-endpoint state, passive health, updates.

    Subclasses implement `_choose(available, key)` and may override `_rebuild()`
    (called under the lock whenever the available endpoints change).

    Args:
        endpoints: the initial endpoints.
        health: the passive health policy; None disables ejection.
        clock: a monotonic clock in seconds (injectable for tests).
        rng: the random source (injectable for reproducible tests).
    """

    #: Whether `pick()` counts the request as active until `report()`.
    tracks_active = False

    def __init__(
        self,
        endpoints: EndpointSet | Iterable[Endpoint] = (),
        *,
        health: HealthPolicy | None = _DEFAULT_HEALTH,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._health = health if health is not None else _DEFAULT_HEALTH
        self._eject = health is not None
        self._clock = clock
        self._rng = rng or random.Random()
        self._random = self._rng.random
        self._states: dict[str, EndpointState] = {}
        self._all: tuple[Endpoint, ...] = ()
        self._available: tuple[Endpoint, ...] = ()
        self._ejected = 0
        self._next_expiry = math.inf
        self.update(endpoints)

    # --- the protocol -------------------------------------------------------------------

    def pick(self, key: str | bytes | None = None) -> Endpoint | None:
        """Choose an endpoint for a request; None when there is none."""
        # PERF: the clock is read only while some endpoint is ejected.
        if self._ejected and self._clock() >= self._next_expiry:
            with self._lock:
                self._expire(self._clock())
        available = self._available
        if not available:
            return None
        return self._choose(available, key)

    def report(self, endpoint: Endpoint, *, ok: bool = True, latency: float | None = None) -> None:
        """Record the end of a request: releases it and feeds health and latency state."""
        state = self._states.get(endpoint.key)
        if state is None:
            return  # the endpoint left in an update while the request ran
        if ok and latency is None and not self.tracks_active:
            # PERF: nothing to release or average: one plain store, no lock.
            state.failures = 0
            return
        with self._lock:
            if self.tracks_active and state.active > 0:
                state.active -= 1
            if latency is not None:
                self._observe(state, latency)
            if ok:
                state.failures = 0
                return
            state.failures += 1
            if self._eject and state.failures >= self._health.consecutive_failures:
                self._try_eject(endpoint, state)

    def update(self, endpoints: EndpointSet | Iterable[Endpoint]) -> None:
        """Replace the endpoints; the state of endpoints that stay (by `key`) is kept."""
        # The same address:port twice is one endpoint (it would share one state and be
        # picked twice as often).
        new = tuple({e.key: e for e in endpoints}.values())
        with self._lock:
            old = self._states
            self._states = {e.key: old.get(e.key) or EndpointState() for e in new}
            self._all = new
            # The clock, not 0: an expired ejection must not count again.
            self._refresh(self._clock())

    # --- introspection ------------------------------------------------------------------

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """Every endpoint, ejected or not."""
        return self._all

    @property
    def available(self) -> tuple[Endpoint, ...]:
        """The endpoints that may be picked now (not ejected)."""
        return self._available

    def state(self, endpoint: Endpoint) -> EndpointState | None:
        """The live state of an endpoint (for tests and metrics)."""
        return self._states.get(endpoint.key)

    # --- for subclasses -----------------------------------------------------------------

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint | None:
        """Pick from `available`.

        `available` was read without the lock; a subclass whose derived state must match
        it re-reads `self._available` under the lock.
        """
        raise NotImplementedError

    def _rebuild(self) -> None:
        """Recompute derived structures after `_available` changed (lock held)."""

    def _observe(self, state: EndpointState, latency: float) -> None:
        """Feed a latency sample (lock held)."""

    # --- passive health -----------------------------------------------------------------

    def _try_eject(self, endpoint: Endpoint, state: EndpointState) -> None:
        now = self._clock()
        self._expire(now)  # ejections that ran out must not count against the share
        if state.ejected_until > now:
            state.failures = 0
            return  # requests sent before the ejection are still failing: not a repeat
        limit = math.floor(self._health.max_ejected_share * len(self._all))
        if self._ejected >= limit:
            return  # never eject more than the configured share
        duration = min(self._health.base_ejection * 2**state.ejections, self._health.max_ejection)
        state.ejections += 1
        state.failures = 0
        state.ejected_until = now + duration
        self._refresh(now)

    def _expire(self, now: float) -> None:
        if now >= self._next_expiry:
            self._refresh(now)

    def _refresh(self, now: float) -> None:
        available = []
        ejected = 0
        next_expiry = math.inf
        for endpoint in self._all:
            state = self._states[endpoint.key]
            if state.ejected_until > now:
                ejected += 1
                next_expiry = min(next_expiry, state.ejected_until)
            else:
                available.append(endpoint)
        self._available = tuple(available)
        self._ejected = ejected
        self._next_expiry = next_expiry
        self._rebuild()
