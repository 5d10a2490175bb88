"""The one runner of `Decision.policies`, shared by every executor.

`decide()` leaves the filters that need state across requests (rate and connection
limits) in `Decision.policies`; an executor asks a `PolicyRunner` to admit the request
before it forwards it, and releases the admission once the response is done:

    admission = runner.admit(decision.policies, client)
    if admission.refusal is not None:
        return admission.refusal          # a Canned response (503 for limit_req...)
    try:
        ...forward...
    finally:
        admission.release()

The runner knows `RequestRateLimit` and `ConnectionLimit`; `register()` adds a handler
for another Policy type. A policy no handler knows is skipped when it does not restrict
access (`Admission.skipped` says which, for the executor's log), and refuses the request
with 503 when it does: a restriction is never silently dropped (DESIGN.md).

No IO and no asyncio: the state is in memory (per zone, per client key), bounded by
`max_keys` per zone.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ingresslib.proxy._responses import Canned, canned
from ingresslib.ratelimit._algorithms import REFUSED, LimitReq
from ingresslib.ratelimit._concurrency import ConcurrencyLimiter
from ingresslib.rules._policies import (
    Balancing,
    ConnectionLimit,
    RequestRateLimit,
    UpstreamProtocol,
    exempt,
)
from ingresslib.rules._steps import Policy

__all__ = ["Admission", "PolicyHandler", "PolicyRunner"]

Release = Callable[[], None]


class PolicyHandler(Protocol):
    """Runs one kind of Policy for a runner."""

    def enter(self, policy: Any, client: str | None) -> tuple[Canned | None, Release | None]:
        """Admit (None, and a release for a hold, or None) or refuse (the response)."""
        ...


class Admission:
    """The runner's answer for one request.

    Attributes:
        refusal: the response to send instead of forwarding, or None (admitted).
        skipped: the policies no handler knows that do not restrict access.
    """

    __slots__ = ("_releases", "refusal", "skipped")

    def __init__(
        self,
        refusal: Canned | None = None,
        releases: Sequence[Release] = (),
        skipped: tuple[Policy, ...] = (),
    ) -> None:
        self.refusal = refusal
        self.skipped = skipped
        self._releases = list(releases)

    def release(self) -> None:
        """Give back what the admission holds (connection slots); safe to call twice."""
        releases, self._releases = self._releases, []
        for release in reversed(releases):
            release()


# Run elsewhere: the rate limits (all zones at once, above) and what the proxy does when
# it picks and reaches an endpoint.
_PROXY_OWN = frozenset({RequestRateLimit, Balancing, UpstreamProtocol})

#: The admission of a request without policies (nothing to release).
ADMITTED = Admission()


class _RateLimits:
    """`limit_req` zones: per (zone, algorithm), the state of each client key (LRU-bounded).

    ngx_http_limit_req_handler looks every zone of a location up without accounting
    ("account = (n == lrcf->limits.nelts - 1)"), and accounts them only when all admit:
    a request one zone refuses leaves the others unchanged. `LimitReq.admit` gives the
    next state or REFUSED without storing anything, so this is exactly that.
    """

    def __init__(self, max_keys: int, clock: Callable[[], float] | None) -> None:
        self._max_keys = max_keys
        self._clock = clock
        self._zones: dict[str, tuple[LimitReq, OrderedDict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _now_us(self) -> int:
        if self._clock is None:
            return time.monotonic_ns() // 1000
        return int(self._clock() * 1_000_000)

    def check(self, policies: Sequence[RequestRateLimit], client: str | None) -> Canned | None:
        """Account the request in every zone, or refuse it (the first refusing status)."""
        if client is None:
            return None
        now = self._now_us()
        with self._lock:
            updates: list[tuple[OrderedDict[str, Any], Any]] = []
            for policy in policies:
                if exempt(policy.allowlist, client):
                    continue
                zone = self._zones.get(policy.zone)
                if zone is None or zone[0] != policy.algorithm:
                    zone = self._zones[policy.zone] = (policy.algorithm, OrderedDict())
                states = zone[1]
                new = policy.algorithm.admit(states.get(client), now, 1)
                if new is REFUSED:
                    return canned(policy.status)
                updates.append((states, new))
            for states, new in updates:
                states[client] = new
                states.move_to_end(client)
                if len(states) > self._max_keys:
                    states.popitem(last=False)
        return None


class _ConnectionLimits:
    """`limit_conn` zones: one ConcurrencyLimiter per (zone, limit)."""

    def __init__(self, max_keys: int) -> None:
        self._max_keys = max_keys
        self._zones: dict[str, ConcurrencyLimiter] = {}
        self._lock = threading.Lock()

    def enter(
        self, policy: ConnectionLimit, client: str | None
    ) -> tuple[Canned | None, Release | None]:
        if client is None or exempt(policy.allowlist, client):
            return None, None
        limiter = self._zones.get(policy.zone)
        if limiter is None or limiter.limit != policy.limit:
            with self._lock:
                limiter = self._zones.get(policy.zone)
                if limiter is None or limiter.limit != policy.limit:
                    limiter = ConcurrencyLimiter(policy.limit, max_keys=self._max_keys)
                    self._zones[policy.zone] = limiter
        if not limiter.acquire(client).allowed:
            return canned(policy.status), None
        held = limiter

        def release() -> None:
            held.release(client)

        return None, release


class PolicyRunner:
    """Admits requests by the policies of their decisions; holds the policies' state.

    Args:
        max_keys: the most client keys held per zone.
        clock: the rate limits' monotonic clock in seconds (tests pass a fake one).
    """

    def __init__(self, *, max_keys: int = 100_000, clock: Callable[[], float] | None = None):
        self._rates = _RateLimits(max_keys, clock)
        self._handlers: dict[type[Policy], PolicyHandler] = {
            ConnectionLimit: _ConnectionLimits(max_keys),
        }

    def register(self, kind: type[Policy], handler: PolicyHandler) -> None:
        """Run policies of `kind` with `handler` (replacing the runner's own, if any).

        `RequestRateLimit` is always the runner's own (its zones are accounted together).
        """
        self._handlers[kind] = handler

    def admit(
        self,
        policies: Sequence[Policy],
        client: str | None,
        handled: tuple[type[Policy], ...] = (),
    ) -> Admission:
        """Run `policies` (in order) for a request from `client`.

        `handled`: the Policy types the executor runs itself (ExternalAuth in the aiohttp
        proxy), neither refused nor skipped here.

        Each policy is asked in the rule's order (ingress-nginx's plugins put `limit_req`
        before `limit_conn`, the order nginx's preaccess phase runs them in); the first
        refusal answers, and what the earlier ones hold is released.
        """
        if not policies:
            return ADMITTED
        rates = [policy for policy in policies if type(policy) is RequestRateLimit]
        if rates:
            refusal = self._rates.check(rates, client)
            if refusal is not None:
                return Admission(refusal)
        releases: list[Release] = []
        skipped: list[Policy] = []
        for policy in policies:
            if type(policy) in _PROXY_OWN:
                continue  # the rate limits ran above; the endpoint choice is the proxy's
            if handled and isinstance(policy, handled):
                continue
            handler = self._handlers.get(type(policy))
            if handler is None:
                if policy.restricts_access:
                    Admission(None, releases).release()
                    return Admission(canned(503), (), tuple(skipped))
                skipped.append(policy)
                continue
            refusal, release = handler.enter(policy, client)
            if refusal is not None:
                Admission(None, releases).release()
                return Admission(refusal, (), tuple(skipped))
            if release is not None:
                releases.append(release)
        return Admission(None, releases, tuple(skipped))
