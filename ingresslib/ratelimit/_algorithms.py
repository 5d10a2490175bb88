"""Rate-limit algorithms: pure functions of (state, now, cost), no IO, no clock of their own.

Every algorithm works in whole microseconds and whole requests (integers only), so that the
memory store (Python) and the Redis store (the Lua scripts in `_lua.py`, run on doubles that
are exact below 2**53) compute bit-for-bit the same decisions. Public methods take seconds.

An algorithm exposes two faces:

- `decide(state, now, cost, max_delay)`: the pure function, in seconds, returning a
  `Decision` and the key's next state (the same state when the request is refused: a refused
  request consumes nothing);
- the store interface, in microseconds: `step()` (the full outcome), `admit()` (the fast
  yes/no used by `allow()`), `expires_at()` (when a state becomes the same as no state, so a
  store may forget it without changing any decision).

docs/ratelimit.md gives each formula and the source it reproduces.
"""

from __future__ import annotations

import enum
import math
from typing import ClassVar, Literal, Protocol, TypeVar

import attrs

from ingresslib.ratelimit._decision import (
    LIMITED,
    NEVER,
    NEVER_US,
    OK,
    TOO_LONG,
    Decision,
    QuotaPolicy,
)

__all__ = [
    "REFUSED",
    "FixedWindow",
    "LimitReq",
    "Outcome",
    "RateAlgorithm",
    "Refused",
    "SlidingWindow",
    "TokenBucket",
    "to_decision",
    "to_us",
]

S = TypeVar("S")

#: allowed, delay_us, retry_after_us (NEVER_US: never), remaining, reset_us, reason code. The
#: Lua scripts return the same six integers.
Outcome = tuple[bool, int, int, int, int, int]

US_PER_S = 1_000_000
#: Every integer the Lua scripts compute stays below this, so doubles hold them exactly.
_EXACT_LIMIT = 2**52
#: max_delay_us meaning "no bound" (nginx limit_req waits whatever its delay is).
UNBOUNDED = -1


class Refused(enum.Enum):
    """The type of `REFUSED`: what `admit()` and `step()` return for a request they refuse."""

    REFUSED = "refused"


REFUSED = Refused.REFUSED


def to_us(seconds: float) -> int:
    """Seconds as whole microseconds, the unit every algorithm counts in."""
    return round(seconds * US_PER_S)


def to_decision(outcome: Outcome, reason: str) -> Decision:
    """The public `Decision` for an outcome in microseconds."""
    allowed, delay_us, retry_us, remaining, reset_us, _ = outcome
    # PERF: tuple.__new__ skips the NamedTuple's Python-level __new__ (~80 ns instead of ~170).
    return tuple.__new__(
        Decision,
        (
            allowed,
            delay_us / US_PER_S,
            math.inf if retry_us == NEVER_US else retry_us / US_PER_S,
            remaining,
            reset_us / US_PER_S,
            reason,
            False,
        ),
    )


class RateAlgorithm(Protocol[S]):
    """What the stores need from an algorithm whose per-key state has type S.

    Times are whole microseconds on the store's clock; `max_delay_us` is UNBOUNDED (-1) or the
    longest delay a caller accepts.
    """

    #: Names the Lua script and the Redis key space of the algorithm.
    tag: ClassVar[str]
    #: The max_delay_us used when the caller gives none.
    default_max_delay_us: ClassVar[int]

    def step(
        self, state: S | None, now_us: int, cost: int, max_delay_us: int
    ) -> tuple[Outcome, S | Refused]:
        """The full outcome and the next state (REFUSED: keep the current one)."""
        ...

    def admit(self, state: S | None, now_us: int, cost: int) -> S | Refused:
        """The next state if the request is admitted with the default max delay, else REFUSED."""
        ...

    def expires_at(self, state: S) -> int:
        """When (µs) `state` becomes equivalent to having no state at all."""
        ...

    def reason(self, code: int, cost: int) -> str:
        """The words for a reason code."""
        ...

    def lua_args(self) -> tuple[int, ...]:
        """The configuration, as the algorithm's Lua script reads it after the common ARGV."""
        ...

    def policy(self, name: str = "default") -> QuotaPolicy:
        """This limit as a `RateLimit-Policy` item."""
        ...


def _check_cost(cost: int) -> None:
    if cost < 1:
        raise ValueError(f"a request costs at least 1, not {cost}")


def _max_delay_us(max_delay: float | None, default: int) -> int:
    if max_delay is None:
        return default
    if max_delay == math.inf:
        return UNBOUNDED
    if max_delay < 0:
        raise ValueError(f"max_delay must be >= 0 or None, not {max_delay}")
    return to_us(max_delay)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be >= 1, not {value}")


def _non_negative(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, not {value}")


def _period(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (value > 0 and math.isfinite(value)) or to_us(value) < 1:
        raise ValueError(f"{attribute.name} must be at least one microsecond, not {value!r}")


# --- token bucket (GCRA) ---------------------------------------------------------------------


@attrs.frozen
class TokenBucket:
    """A token bucket, computed as GCRA (the generic cell rate algorithm).

    Go's golang.org/x/time/rate: "A Limiter controls how frequently events are allowed to
    happen. It implements a 'token bucket' of size b, initially full and refilled at rate r
    tokens per second." Here the bucket holds `burst` tokens and gains `rate` tokens every
    `period` seconds; a request of cost n takes n tokens, and like Go's `AllowN`, a request
    whose cost exceeds the burst is never admitted.

    GCRA keeps one number per key, the theoretical arrival time (TAT) at which the bucket would
    be full again. With T = period / rate (the emission interval) and tau = burst * T:
    admit a request of cost n at `now` iff max(TAT, now) + n*T - tau <= now; then
    TAT = max(TAT, now) + n*T. T is rounded up to a whole microsecond, so the limiter never
    admits more than `rate` per `period` (at most 1 µs per request slower).

    Given a `max_delay`, a request that would need to wait up to that long is admitted with
    that `delay` (Go's `ReserveN` / `WaitN`): the tokens are taken now, the caller waits.

    Attributes:
        rate: tokens added per period.
        period: seconds.
        burst: the bucket's capacity: the largest cost admitted at once.
    """

    tag: ClassVar[str] = "gcra"
    default_max_delay_us: ClassVar[int] = 0

    rate: int = attrs.field(validator=_positive)
    period: float = attrs.field(default=1.0, validator=_period, kw_only=True)
    burst: int = attrs.field(default=1, validator=_positive, kw_only=True)
    #: The emission interval T in microseconds.
    interval_us: int = attrs.field(init=False, repr=False)
    #: tau = burst * T, the bucket's capacity in microseconds.
    tau_us: int = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        interval = _ceil_div(to_us(self.period), self.rate)
        object.__setattr__(self, "interval_us", interval)
        object.__setattr__(self, "tau_us", self.burst * interval)
        if self.tau_us > _EXACT_LIMIT // 2:
            raise ValueError("burst * period / rate must stay below 71 years")

    def decide(
        self, state: int | None, now: float, cost: int = 1, max_delay: float | None = None
    ) -> tuple[Decision, int | None]:
        """Decide one request; return the decision and the key's next state (its TAT in µs).

        Args:
            state: the key's TAT from the previous call, or None for a new key.
            now: a monotonic time in seconds.
            cost: tokens the request takes (>= 1).
            max_delay: the longest wait accepted (seconds); None or 0: admit only requests
                that need no wait (Go's `AllowN`); `math.inf`: any (Go's `ReserveN`).
        """
        _check_cost(cost)
        outcome, new = self.step(
            state, to_us(now), cost, _max_delay_us(max_delay, self.default_max_delay_us)
        )
        return to_decision(outcome, self.reason(outcome[5], cost)), (
            state if new is REFUSED else new
        )

    def step(
        self, state: int | None, now_us: int, cost: int, max_delay_us: int
    ) -> tuple[Outcome, int | Refused]:
        """The store interface of `decide` (see RateAlgorithm)."""
        interval, tau = self.interval_us, self.tau_us
        tat = now_us if state is None or state < now_us else state
        if cost > self.burst:
            # x/time/rate: "ok := n <= lim.burst && waitDuration <= maxFutureReserve".
            tokens = max(0, (now_us + tau - tat) // interval)
            return (False, 0, NEVER_US, tokens, tat - now_us, NEVER), REFUSED
        new_tat = tat + cost * interval
        wait = new_tat - tau - now_us
        if wait > 0 and not (max_delay_us == UNBOUNDED or wait <= max_delay_us):
            tokens = max(0, (now_us + tau - tat) // interval)
            code = LIMITED if max_delay_us == 0 else TOO_LONG
            return (False, 0, wait - max_delay_us, tokens, tat - now_us, code), REFUSED
        # PERF: comparisons rather than calls to max() on the path of every admitted request.
        remaining = (now_us + tau - new_tat) // interval
        if remaining < 0:  # noqa: PLR1730  # PERF: see above
            remaining = 0
        if wait < 0:  # noqa: PLR1730  # PERF: see above
            wait = 0
        return (True, wait, 0, remaining, new_tat - now_us, OK), new_tat

    def admit(self, state: int | None, now_us: int, cost: int) -> int | Refused:
        """The store interface of `decide` without delay (see RateAlgorithm)."""
        if cost > self.burst:
            return REFUSED
        new_tat = (now_us if state is None or state < now_us else state) + cost * self.interval_us
        if new_tat - self.tau_us > now_us:
            return REFUSED
        return new_tat

    def expires_at(self, state: int) -> int:
        """A TAT in the past is a full bucket, the same as no state."""
        return state

    def reason(self, code: int, cost: int) -> str:
        """The words for a reason code."""
        if code == OK:
            return ""
        if code == NEVER:
            return f"cost {cost} exceeds the burst of {self.burst}: never admitted"
        if code == TOO_LONG:
            return "rate limited: the wait would exceed max_delay"
        return "rate limited"

    def lua_args(self) -> tuple[int, ...]:
        """T, tau and burst for the Lua script."""
        return (self.interval_us, self.tau_us, self.burst)

    def policy(self, name: str = "default") -> QuotaPolicy:
        """`rate` requests per `period` (rounded up to whole seconds)."""
        return QuotaPolicy(name, self.rate, max(1, math.ceil(self.period)))


# --- nginx limit_req -------------------------------------------------------------------------

#: nginx: "nodelay" sets `delay = NGX_MAX_INT_T_VALUE / 1000`: no admitted request is delayed.
_NODELAY = _EXACT_LIMIT


@attrs.frozen
class LimitReq:
    """nginx's `limit_req`: the leaky bucket of ngx_http_limit_req_module.c, to the millisecond.

    The state per key is `excess` (in thousandths of a request) and `last` (milliseconds).
    nginx's lookup, for a known key::

        ms = now - last                      (clamped: < -60000 -> 1, < 0 -> 0)
        excess = excess - rate * ms / 1000 + 1000   (integer division; < 0 -> 0)
        if excess > burst: reject            (nothing is stored)
        store excess; if ms: last = now

    and for a new key `excess = 0`, so `burst=B` admits B+1 requests at once. The delay of an
    admitted request is `(excess - delay) * 1000 / rate` ms when excess exceeds `delay`
    (`nodelay`: never). `rate` is in thousandths of a request per second, truncated as nginx
    does (`rate=1r/m` is 16).

    Beyond nginx: a request may cost more than 1 (it adds 1000 per unit; a new key starts at
    `1000 * (cost - 1)`), and a caller may bound the delay it accepts (`max_delay`): a request
    that would wait longer is refused without being counted.

    Attributes:
        rate: requests per second (`per="s"`, nginx `r/s`) or per minute (`per="m"`, `r/m`).
        per: "s" or "m".
        burst: nginx `burst=`: excess requests admitted (delayed, or not with nodelay).
        delay: nginx `delay=`: excess requests admitted without delay (0: every excess request
            is delayed, nginx's default).
        nodelay: nginx `nodelay`: no admitted request is delayed.
    """

    tag: ClassVar[str] = "req"
    default_max_delay_us: ClassVar[int] = UNBOUNDED

    rate: int = attrs.field(validator=_positive)
    per: Literal["s", "m"] = attrs.field(default="s", kw_only=True)
    burst: int = attrs.field(default=0, validator=_non_negative, kw_only=True)
    delay: int = attrs.field(default=0, validator=_non_negative, kw_only=True)
    nodelay: bool = attrs.field(default=False, kw_only=True)
    #: nginx `ctx->rate`: "integer value, 1 corresponds to 0.001 r/s".
    rate_milli: int = attrs.field(init=False, repr=False)
    burst_milli: int = attrs.field(init=False, repr=False)
    delay_milli: int = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.per not in ("s", "m"):
            raise ValueError(f'per must be "s" or "m", not {self.per!r}')
        if self.nodelay and self.delay:
            raise ValueError("nodelay and delay= exclude each other")
        # nginx: "ctx->rate = rate * 1000 / scale;"
        rate_milli = self.rate * 1000 // (1 if self.per == "s" else 60)
        if rate_milli < 1 or self.burst > 10**9 or self.rate > 10**9:
            raise ValueError("rate must be at least 1r/m; rate and burst at most 10**9")
        object.__setattr__(self, "rate_milli", rate_milli)
        # nginx: "limit->burst = burst * 1000; limit->delay = delay * 1000;"
        object.__setattr__(self, "burst_milli", self.burst * 1000)
        object.__setattr__(self, "delay_milli", _NODELAY if self.nodelay else self.delay * 1000)

    @classmethod
    def from_directives(cls, zone: str, limit_req: str) -> LimitReq:
        """Build from nginx's parameters, e.g. `("rate=10r/s", "burst=20 nodelay")`.

        Args:
            zone: the `rate=` parameter of `limit_req_zone` ("rate=10r/s", "rate=30r/m").
            limit_req: the `burst=`, `delay=` and `nodelay` parameters of `limit_req`.

        Raises:
            ValueError: for a parameter nginx would reject.
        """
        kwargs: dict[str, int | bool] = {}
        for word in limit_req.split():
            name, _, value = word.partition("=")
            if name in ("burst", "delay") and value.isdigit() and int(value) > 0:
                kwargs[name] = int(value)
            elif word == "nodelay":
                kwargs["nodelay"] = True
            else:
                raise ValueError(f'invalid parameter "{word}"')
        text = zone.removeprefix("rate=")
        per: Literal["s", "m"] = "m" if text.endswith("r/m") else "s"
        number = text.removesuffix("r/s").removesuffix("r/m")
        if not number.isdigit() or int(number) <= 0:
            raise ValueError(f'invalid rate "{zone}"')
        return cls(int(number), per=per, **kwargs)  # type: ignore[arg-type]  # keys checked above

    def decide(
        self,
        state: tuple[int, int] | None,
        now: float,
        cost: int = 1,
        max_delay: float | None = None,
    ) -> tuple[Decision, tuple[int, int] | None]:
        """Decide one request; return the decision and the key's next (excess, last_ms).

        Args:
            state: the key's state from the previous call, or None for a new key.
            now: a monotonic time in seconds (nginx counts whole milliseconds of it).
            cost: requests this one counts for (nginx: always 1).
            max_delay: the longest delay accepted; None: any (nginx).
        """
        _check_cost(cost)
        outcome, new = self.step(
            state, to_us(now), cost, _max_delay_us(max_delay, self.default_max_delay_us)
        )
        return to_decision(outcome, self.reason(outcome[5], cost)), (
            state if new is REFUSED else new
        )

    def _drained(self, state: tuple[int, int] | None, now_ms: int) -> tuple[int, int, int]:
        # Returns (drained, ms, last): the excess left before this request, floored at -1000
        # (what a new node means: its first request gets excess 0).
        if state is None:
            return -1000, 0, now_ms
        excess, last = state
        ms = now_ms - last
        # nginx: "if (ms < -60000) { ms = 1; } else if (ms < 0) { ms = 0; }"
        if ms < -60000:
            ms = 1
        elif ms < 0:
            ms = 0
        # nginx: "excess = lr->excess - ctx->rate * ms / 1000 + 1000; if (excess < 0) excess = 0"
        # for cost 1 is max(drained, -1000) + 1000 below. The test on ms keeps the product
        # small (exact in the Lua script's doubles) after a long idle time.
        if ms >= _ceil_div(1000 * (excess + 1000), self.rate_milli):
            return -1000, ms, last
        return excess - self.rate_milli * ms // 1000, ms, last

    def step(
        self, state: tuple[int, int] | None, now_us: int, cost: int, max_delay_us: int
    ) -> tuple[Outcome, tuple[int, int] | Refused]:
        """The store interface of `decide` (see RateAlgorithm)."""
        now_ms = now_us // 1000
        drained, ms, last = self._drained(state, now_ms)
        excess = drained + 1000 * cost
        burst = self.burst_milli
        if excess > burst:
            # nginx: "if ((ngx_uint_t) excess > limit->burst) { return NGX_BUSY; }"
            remaining = (burst - drained) // 1000
            if 1000 * (cost - 1) > burst:
                return (False, 0, NEVER_US, remaining, 0, NEVER), REFUSED
            assert state is not None  # a new key admits any cost up to burst + 1
            # The first ms' (after last) at which excess - rate * ms' / 1000 <= burst - cost:
            need = state[0] - (burst - 1000 * cost)
            at_ms = last + _ceil_div(1000 * need, self.rate_milli)
            reset = self._reset_us(state[0], last, now_us)
            return (False, 0, at_ms * 1000 - now_us, remaining, reset, LIMITED), REFUSED
        # nginx: "max_delay = (excess - (*limit)->delay) * 1000 / ctx->rate;" (ms)
        delay_ms = (
            0
            if excess <= self.delay_milli
            else (excess - self.delay_milli) * 1000 // self.rate_milli
        )
        if max_delay_us != UNBOUNDED and delay_ms * 1000 > max_delay_us:
            reset = 0 if state is None else self._reset_us(state[0], last, now_us)
            retry = delay_ms * 1000 - max_delay_us
            return (False, 0, retry, 0, reset, TOO_LONG), REFUSED
        # nginx: "lr->excess = excess; if (ms) { lr->last = now; }"
        new_last = now_ms if ms or state is None else last
        remaining = (burst - excess) // 1000
        return (
            True,
            delay_ms * 1000,
            0,
            remaining,
            self._reset_us(excess, new_last, now_us),
            OK,
        ), (excess, new_last)

    def _reset_us(self, excess: int, last_ms: int, now_us: int) -> int:
        reset = (last_ms - (-1000 * (excess + 1000) // self.rate_milli)) * 1000 - now_us
        return reset if reset > 0 else 0  # PERF: cheaper than max()

    def _expires_ms(self, excess: int, last_ms: int) -> int:
        # Once `rate * ms / 1000 >= excess + 1000`, the next request sees excess 0 (cost 1),
        # exactly as a new node would: the state can be forgotten.
        return last_ms + _ceil_div(1000 * (excess + 1000), self.rate_milli)

    def admit(
        self, state: tuple[int, int] | None, now_us: int, cost: int
    ) -> tuple[int, int] | Refused:
        """The store interface of `decide` with nginx's unbounded delay (see RateAlgorithm)."""
        # PERF: `step` without its helpers (one call per decision instead of three).
        now_ms = now_us // 1000
        if state is None:
            excess = 1000 * (cost - 1)
            return (excess, now_ms) if excess <= self.burst_milli else REFUSED
        excess, last = state
        ms = now_ms - last
        if ms < 0:
            ms = 1 if ms < -60000 else 0
        rate = self.rate_milli
        if ms >= -(-1000 * (excess + 1000) // rate):
            excess = 1000 * (cost - 1)
        else:
            excess += 1000 * cost - rate * ms // 1000
        if excess > self.burst_milli:
            return REFUSED
        return (excess, now_ms if ms else last)

    def expires_at(self, state: tuple[int, int]) -> int:
        """When the leaked excess makes the state the same as a new node's."""
        return self._expires_ms(state[0], state[1]) * 1000

    def reason(self, code: int, cost: int) -> str:
        """The words for a reason code (nginx logs "limiting requests, excess: ...")."""
        if code == OK:
            return ""
        if code == NEVER:
            return f"cost {cost} exceeds burst + 1 = {self.burst + 1}: never admitted"
        if code == TOO_LONG:
            return "rate limited: the delay would exceed max_delay"
        return "rate limited: excess over burst"

    def lua_args(self) -> tuple[int, ...]:
        """rate, burst and delay in thousandths, as nginx keeps them."""
        return (self.rate_milli, self.burst_milli, self.delay_milli)

    def policy(self, name: str = "default") -> QuotaPolicy:
        """`rate` requests per second or per minute."""
        return QuotaPolicy(name, self.rate, 1 if self.per == "s" else 60)


# --- windows (the `limits` library's definitions) ----------------------------------------------


def _window_bounds(limit: int, period: float) -> int:
    period_us = to_us(period)
    if limit * period_us > _EXACT_LIMIT:
        raise ValueError("limit * period (µs) must stay below 2**52")
    return period_us


@attrs.frozen
class FixedWindow:
    """A fixed window counter, as the `limits` library's `FixedWindowRateLimiter` defines it.

    limits: "This is the most memory efficient strategy to use as it maintains one counter per
    resource and rate limit. It does however have its drawbacks as it allows bursts within each
    window." The window of a key starts at its first request and lasts `period` (limits sets
    the counter's expiry when it is created); a request of cost n is admitted iff
    `count + n <= limit`. Unlike limits, a refused request does not add to the counter (limits
    increments first and compares after), which changes nothing for cost 1.

    Attributes:
        limit: requests admitted per window.
        period: the window's length in seconds.
    """

    tag: ClassVar[str] = "fw"
    default_max_delay_us: ClassVar[int] = 0

    limit: int = attrs.field(validator=_positive)
    period: float = attrs.field(validator=_period)
    period_us: int = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "period_us", _window_bounds(self.limit, self.period))

    def decide(
        self,
        state: tuple[int, int] | None,
        now: float,
        cost: int = 1,
        max_delay: float | None = None,
    ) -> tuple[Decision, tuple[int, int] | None]:
        """Decide one request; return the decision and the next (window_end_us, count).

        `max_delay` is accepted for a uniform interface and ignored: a window never delays.
        """
        _check_cost(cost)
        outcome, new = self.step(state, to_us(now), cost, 0)
        return to_decision(outcome, self.reason(outcome[5], cost)), (
            state if new is REFUSED else new
        )

    def step(
        self, state: tuple[int, int] | None, now_us: int, cost: int, max_delay_us: int
    ) -> tuple[Outcome, tuple[int, int] | Refused]:
        """The store interface of `decide` (see RateAlgorithm)."""
        if state is None or now_us >= state[0]:
            end, count, reset = now_us + self.period_us, 0, 0
        else:
            end, count = state
            reset = end - now_us
        if cost > self.limit:
            return (False, 0, NEVER_US, self.limit - count, reset, NEVER), REFUSED
        if count + cost > self.limit:
            return (False, 0, end - now_us, self.limit - count, reset, LIMITED), REFUSED
        count += cost
        return (True, 0, 0, self.limit - count, end - now_us, OK), (end, count)

    def admit(
        self, state: tuple[int, int] | None, now_us: int, cost: int
    ) -> tuple[int, int] | Refused:
        """The store interface of `decide` (see RateAlgorithm)."""
        if state is None or now_us >= state[0]:
            return (now_us + self.period_us, cost) if cost <= self.limit else REFUSED
        count = state[1] + cost
        return (state[0], count) if count <= self.limit else REFUSED

    def expires_at(self, state: tuple[int, int]) -> int:
        """The window's end."""
        return state[0]

    def reason(self, code: int, cost: int) -> str:
        """The words for a reason code."""
        if code == OK:
            return ""
        if code == NEVER:
            return f"cost {cost} exceeds the limit of {self.limit}: never admitted"
        return "rate limited: window full"

    def lua_args(self) -> tuple[int, ...]:
        """The limit and period for the Lua script."""
        return (self.limit, self.period_us)

    def policy(self, name: str = "default") -> QuotaPolicy:
        """`limit` requests per `period` (rounded up to whole seconds)."""
        return QuotaPolicy(name, self.limit, max(1, math.ceil(self.period)))


@attrs.frozen
class SlidingWindow:
    """A sliding window counter, as the `limits` library's `SlidingWindowCounterRateLimiter`.

    limits: "approximated by weighting the previous window count and adding the current window
    count". Windows are aligned on multiples of `period` (the window of `now` is
    `floor(now / period)`), and with `elapsed` the time since the current window began::

        weighted = previous * (period - elapsed) / period + current
        admit iff floor(weighted) + cost <= limit

    computed here in integers: `previous * (period - elapsed) // period + current`.

    Attributes:
        limit: requests admitted per sliding period.
        period: the window's length in seconds.
    """

    tag: ClassVar[str] = "sw"
    default_max_delay_us: ClassVar[int] = 0

    limit: int = attrs.field(validator=_positive)
    period: float = attrs.field(validator=_period)
    period_us: int = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "period_us", _window_bounds(self.limit, self.period))

    def decide(
        self,
        state: tuple[int, int, int] | None,
        now: float,
        cost: int = 1,
        max_delay: float | None = None,
    ) -> tuple[Decision, tuple[int, int, int] | None]:
        """Decide one request; return the decision and the next (window, current, previous).

        `max_delay` is accepted for a uniform interface and ignored: a window never delays.
        """
        _check_cost(cost)
        outcome, new = self.step(state, to_us(now), cost, 0)
        return to_decision(outcome, self.reason(outcome[5], cost)), (
            state if new is REFUSED else new
        )

    def _counts(self, state: tuple[int, int, int] | None, now_us: int) -> tuple[int, int, int]:
        window = now_us // self.period_us
        if state is None:
            return window, 0, 0
        index, current, previous = state
        if window <= index:  # the same window (or a clock that stepped back: keep the counts)
            return index, current, previous
        if window == index + 1:
            return window, 0, current
        return window, 0, 0

    def step(
        self, state: tuple[int, int, int] | None, now_us: int, cost: int, max_delay_us: int
    ) -> tuple[Outcome, tuple[int, int, int] | Refused]:
        """The store interface of `decide` (see RateAlgorithm)."""
        period = self.period_us
        window, current, previous = self._counts(state, now_us)
        elapsed = now_us - window * period
        elapsed = max(elapsed, 0)
        weighted = previous * (period - elapsed) // period + current
        if cost > self.limit or weighted + cost > self.limit:
            never = cost > self.limit
            retry = (
                NEVER_US
                if never
                else _sliding_wait(previous, current, elapsed, period, self.limit - cost + 1)
            )
            return (
                False,
                0,
                retry,
                max(0, self.limit - weighted),
                _sliding_wait(previous, current, elapsed, period, 1),
                NEVER if never else LIMITED,
            ), REFUSED
        current += cost
        return (
            True,
            0,
            0,
            self.limit - weighted - cost,
            _sliding_wait(previous, current, elapsed, period, 1),
            OK,
        ), (window, current, previous)

    def admit(
        self, state: tuple[int, int, int] | None, now_us: int, cost: int
    ) -> tuple[int, int, int] | Refused:
        """The store interface of `decide` (see RateAlgorithm)."""
        # PERF: `step` without its helpers (one call per decision instead of two).
        period = self.period_us
        window = now_us // period
        if state is None:
            current = previous = 0
        else:
            index, current, previous = state
            if window <= index:
                window = index
            elif window == index + 1:
                current, previous = 0, current
            else:
                current = previous = 0
        elapsed = now_us - window * period
        if elapsed < 0:  # noqa: PLR1730  # PERF: a comparison costs less than a call to max()
            elapsed = 0
        current += cost
        if previous * (period - elapsed) // period + current > self.limit:
            return REFUSED
        return (window, current, previous)

    def expires_at(self, state: tuple[int, int, int]) -> int:
        """Two windows later, both counters have slid out."""
        return (state[0] + 2) * self.period_us

    def reason(self, code: int, cost: int) -> str:
        """The words for a reason code."""
        if code == OK:
            return ""
        if code == NEVER:
            return f"cost {cost} exceeds the limit of {self.limit}: never admitted"
        return "rate limited: sliding window full"

    def lua_args(self) -> tuple[int, ...]:
        """The limit and period for the Lua script."""
        return (self.limit, self.period_us)

    def policy(self, name: str = "default") -> QuotaPolicy:
        """`limit` requests per `period` (rounded up to whole seconds)."""
        return QuotaPolicy(name, self.limit, max(1, math.ceil(self.period)))


def _sliding_wait(previous: int, current: int, elapsed: int, period: int, bound: int) -> int:
    """Microseconds until `previous * (period - e) / period + current < bound` (bound >= 1).

    The weighted count only decreases with time and is continuous across the window boundary
    (at the boundary `current` becomes `previous` with full weight), so this is the first
    moment a request that needs `floor(weighted) <= bound - 1` is admitted.
    """
    # PERF: conditional expressions rather than max(): this runs for every decision.
    if current < bound:
        if previous == 0:
            return 0
        # previous * (period - e) < (bound - current) * period
        at = period - ((bound - current) * period - 1) // previous
        return at - elapsed if at > elapsed else 0
    # Wait for the next window, then: current * (period - e) < bound * period.
    at = period - (bound * period - 1) // current
    return period - elapsed + (at if at > 0 else 0)
