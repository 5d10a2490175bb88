"""Session affinity by cookie: ingress-nginx's sticky sessions, "balanced" and "persistent".

ingress-nginx (`nginx.ingress.kubernetes.io/affinity: cookie`) reads the cookie, maps its
value to an upstream, and picks a new upstream (setting a new cookie) only when the value
maps to none (rootfs/etc/nginx/lua/balancer/sticky.lua, `balance`):

    local key = self:get_cookie()
    if key then
      upstream_from_cookie = self.instance:find(key)
    end
    ...
    new_upstream, key = self:pick_new_upstream(get_failed_upstreams())
    ...
      self:set_cookie(key)

`nginx.ingress.kubernetes.io/affinity-mode` chooses how a value maps to an upstream:

- "balanced" (sticky_balanced.lua): the value is a key consistently hashed onto the
  endpoints (`resty.chash`), so sessions are rebalanced when the set changes: "when
  scaling up a deployment, roughly (n-c)/n users will lose their session".
- "persistent" (sticky_persistent.lua): the value names the endpoint itself,
  `ngx.md5(salt .. endpoint)` with the endpoint as `address .. ":" .. port` and the
  backend's name as the salt (util/nodemap.lua: "obfuscate the endpoint with a shared key
  to prevent brute force and rainbow table attacks"), so "a user will never lose his
  session" while the endpoint lives, but sessions are not rebalanced on scale-up.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import time
from collections.abc import Callable, Iterable
from typing import Literal

from ingresslib.endpoints._balancer import _DEFAULT_HEALTH, BalancerBase, Clock, HealthPolicy
from ingresslib.endpoints._hashing import (
    DEFAULT_MAX_RING_SIZE,
    DEFAULT_MIN_RING_SIZE,
    RingHash,
    _digest64,
)
from ingresslib.endpoints._model import Endpoint, EndpointSet
from ingresslib.endpoints._simple import RoundRobin

__all__ = ["AffinityMode", "CookieAffinity", "persistent_cookie_value"]

#: `nginx.ingress.kubernetes.io/affinity-mode`.
AffinityMode = Literal["balanced", "persistent"]

#: Builds the balancer of new sessions: a `BalancerBase` subclass (or a partial of one)
#: called as `factory((), health=None, clock=clock, rng=rng)`.
InnerFactory = Callable[..., BalancerBase]

_bisect_left = bisect.bisect_left
_POSITION_DIGITS = 16  # a balanced cookie: a ring position, 8 bytes as lower-case hex


def persistent_cookie_value(endpoint: Endpoint, salt: str = "") -> str:
    """The "persistent" cookie value of an endpoint, as ingress-nginx computes it.

    `md5(salt + address + ":" + port)` in hex (util/nodemap.lua: `ngx.md5(salt ..
    endpoint)`, the endpoint being `endpoint.address .. ":" .. endpoint.port`, without
    IPv6 brackets). With `salt` set to the ingress-nginx backend name, the values are the
    ones ingress-nginx sets (before its "|backend" suffix).

    Args:
        endpoint: the endpoint.
        salt: the shared salt (ingress-nginx: the backend's name).

    Returns:
        32 lower-case hex digits.
    """
    node = f"{salt}{endpoint.address}:{endpoint.port}"
    # md5 identifies, it does not protect: `usedforsecurity=False` keeps it usable on
    # FIPS builds of OpenSSL.
    return hashlib.md5(node.encode(), usedforsecurity=False).hexdigest()


class CookieAffinity(BalancerBase):
    """Session affinity by cookie, ingress-nginx's two affinity modes.

    A request calls `pick_sticky(cookie_value)` with the value of the affinity cookie
    (None when the client sent none) and gets `(endpoint, cookie_to_set)`:
    `cookie_to_set` is None when the client's cookie is still valid, else the value to
    send in `Set-Cookie`. `pick(key)` is the same with `key` as the cookie value, for
    code that only needs the endpoint.

    Modes:

    - "balanced": the cookie holds a position on a consistent-hash ring (a `RingHash`
      ring of the available endpoints), 16 hex digits; a value in any other form is
      hashed onto the ring with `hash64`. A returning value goes to the position's
      owner, whichever it is now: when an endpoint leaves (or is ejected) only its
      sessions move, to their ring successors; when one joins it takes ~1/(N+1) of
      the sessions. The cookie itself never changes.
    - "persistent": the cookie holds `persistent_cookie_value(endpoint, salt)`. A
      returning value goes to the same endpoint as long as it exists and is available
      (not ejected); otherwise a new endpoint is picked and a new value returned.
      Adding endpoints never moves a session.

    New sessions (no cookie; or, when persistent, a cookie that maps to no available
    endpoint) are placed by an inner balancer, `RoundRobin` by default, which sees the
    same available endpoints. ingress-nginx places them at random instead:
    "persistent" returns `self.instance:random_except(failed_upstreams)`, a uniformly
    random node; "balanced" hashes a random key, `string.format("%s.%s.%s", ngx.now() +
    i, ngx.worker.pid(), math_random(999999))`, onto the ring (retrying up to 20 times
    to avoid the request's failed upstreams). `inner=RandomBalancer` gives
    ingress-nginx's persistent-mode placement. In balanced mode the new session's
    position is drawn at random inside an arc of the endpoint the inner balancer chose,
    so new sessions follow the inner balancer (even with `RoundRobin`, by weight with
    `SmoothWeightedRoundRobin`, by load with `LeastRequest`) rather than the ring's
    uneven arcs. A load-aware inner balancer sees every request: returning sessions are
    counted as active too, and `report()` reaches it. Not supported: ingress-nginx's
    `session-cookie-change-on-failure` (failed endpoints leave by passive health here).

    Args:
        mode: "balanced" (the default, ingress-nginx's too) or "persistent".
        inner: the balancer class (or factory) for new sessions.
        salt: the persistent-mode salt (ingress-nginx uses the backend's name).
        min_ring_size: the balanced-mode ring's minimum size (see `RingHash`).
        max_ring_size: the balanced-mode ring's maximum size.

    Raises:
        ValueError: an unknown mode.
    """

    def __init__(
        self,
        endpoints: EndpointSet | Iterable[Endpoint] = (),
        *,
        mode: AffinityMode = "balanced",
        inner: InnerFactory = RoundRobin,
        salt: str = "",
        min_ring_size: int = DEFAULT_MIN_RING_SIZE,
        max_ring_size: int = DEFAULT_MAX_RING_SIZE,
        health: HealthPolicy | None = _DEFAULT_HEALTH,
        clock: Clock = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        if mode not in ("balanced", "persistent"):
            raise ValueError(f'affinity mode must be "balanced" or "persistent", not {mode!r}')
        rng = rng or random.Random()
        self._mode: AffinityMode = mode
        self._salt = salt
        # The inner balancer and the ring follow this balancer's available endpoints;
        # ejection is decided here, so theirs is off.
        self._inner = inner((), health=None, clock=clock, rng=rng)
        self._inner_counts = self._inner.tracks_active
        # Balanced mode's ring (left empty in persistent mode).
        self._ring = RingHash(
            min_ring_size=min_ring_size, max_ring_size=max_ring_size, health=None, rng=rng
        )
        self._sticky: Callable[[str | None], tuple[Endpoint | None, str | None]] = (
            self._sticky_balanced if mode == "balanced" else self._sticky_persistent
        )
        # Persistent mode: cookie value -> available endpoint, and endpoint key -> value
        # (one tuple, swapped whole); `_values` caches the md5 of every known endpoint.
        self._persistent: tuple[dict[str, Endpoint], dict[str, str]] = ({}, {})
        self._values: dict[str, str] = {}
        super().__init__(endpoints, health=health, clock=clock, rng=rng)

    @property
    def mode(self) -> AffinityMode:
        """The affinity mode: "balanced" or "persistent"."""
        return self._mode

    @property
    def inner(self) -> BalancerBase:
        """The balancer that places new sessions."""
        return self._inner

    def pick_sticky(self, cookie_value: str | None) -> tuple[Endpoint | None, str | None]:
        """Choose the endpoint of a request that carries `cookie_value` (None: no cookie).

        Returns:
            `(endpoint, cookie_to_set)`: the endpoint (None when none is available), and
            the cookie value to set, None when the request's cookie is still valid.
        """
        # PERF: the clock is read only while some endpoint is ejected (as in pick()).
        if self._ejected and self._clock() >= self._next_expiry:
            with self._lock:
                self._expire(self._clock())
        if not self._available:
            return None, None
        return self._sticky(cookie_value)

    def report(self, endpoint: Endpoint, *, ok: bool = True, latency: float | None = None) -> None:
        """Record the end of a request, here (health) and in the inner balancer (load)."""
        super().report(endpoint, ok=ok, latency=latency)
        self._inner.report(endpoint, ok=ok, latency=latency)

    def _choose(self, available: tuple[Endpoint, ...], key: str | bytes | None) -> Endpoint:
        value = key.decode("latin-1") if isinstance(key, bytes) else key
        endpoint = self._sticky(value)[0]
        return endpoint if endpoint is not None else available[0]

    def _sticky_persistent(self, value: str | None) -> tuple[Endpoint | None, str | None]:
        by_value, value_of = self._persistent
        if value is not None:
            endpoint = by_value.get(value)
            if endpoint is not None:
                if self._inner_counts:
                    self._count_returning(endpoint)
                return endpoint, None
        endpoint = self._inner.pick()
        if endpoint is None:
            return None, None
        return endpoint, value_of.get(endpoint.key) or self._value_of(endpoint)

    def _sticky_balanced(self, value: str | None) -> tuple[Endpoint | None, str | None]:
        ring = self._ring
        if value is not None:
            # PERF: RingHash._owner inlined (one call less on every returning session).
            digests, owners, _ = ring._ring
            if not digests:
                return None, None
            endpoint = owners[_bisect_left(digests, _position(value))]
            if self._inner_counts:
                self._count_returning(endpoint)
            return endpoint, None
        chosen = self._inner.pick()
        position = ring._random_position(chosen) if chosen is not None else None
        if position is None:
            # The inner balancer chose an endpoint with no point on the ring (weight 0
            # among weighted ones) or none: a random position, as ingress-nginx's random key.
            position = self._rng.getrandbits(64).to_bytes(8, "big")
            chosen = ring._owner(position)
            if chosen is None:
                return None, None
        return chosen, position.hex()

    def _count_returning(self, endpoint: Endpoint) -> None:
        """Count a returning session's request as active in a load-aware inner balancer.

        Its `report()` will release one active request, so the pick must count one, or
        the counts drift to zero and load-aware choices of new sessions go blind.
        """
        state = self._inner.state(endpoint)
        if state is not None:
            # The inner balancer's own lock guards its counts (a sibling class of this
            # package: the private attribute is part of BalancerBase's contract).
            with self._inner._lock:
                state.active += 1

    def _value_of(self, endpoint: Endpoint) -> str:
        value = self._values.get(endpoint.key)
        if value is None:
            value = persistent_cookie_value(endpoint, self._salt)
            self._values[endpoint.key] = value
        return value

    def _rebuild(self) -> None:
        available = self._available
        self._inner.update(available)
        if self._mode == "balanced":
            # Sized by every endpoint, as RingHash: an ejection moves only its sessions.
            self._ring._build(available, self._all)
            return
        self._values = {k: v for k, v in self._values.items() if k in self._states}
        value_of = {e.key: self._value_of(e) for e in available}
        by_value: dict[str, Endpoint] = {}
        for endpoint in available:
            by_value.setdefault(value_of[endpoint.key], endpoint)
        self._persistent = (by_value, value_of)


def _position(value: str) -> bytes:
    """A balanced cookie's ring position: its 16 hex digits, or else the value's hash."""
    if len(value) == _POSITION_DIGITS:
        try:
            position = bytes.fromhex(value)
        except ValueError:
            pass
        else:
            if len(position) == 8:
                return position
    return _digest64(value.encode())
