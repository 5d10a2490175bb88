"""Properties of the rate-limit algorithms, by Hypothesis.

- no window of length t ever admits more than the bucket holds plus what leaks in t:
  burst + rate * t for the token bucket, (burst + 1) + rate * t for nginx limit_req (whose
  first request is free), limit per window for the fixed window;
- a refused request consumes nothing: the state is unchanged, and replaying only the
  admitted requests admits every one of them;
- the fast path (`admit`) and the full path (`step`) agree;
- a state past its `expires_at` decides exactly as no state (so forgetting it is safe).

Times are drawn on a microsecond grid, the unit the algorithms count in, and the bounds are
computed with exact fractions.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from ingresslib.ratelimit import FixedWindow, LimitReq, SlidingWindow, TokenBucket
from ingresslib.ratelimit._algorithms import REFUSED, UNBOUNDED, to_us
from tests.support import Decides, PureRateAlgorithm

SETTINGS = settings(max_examples=1_000, deadline=None)

token_buckets = st.builds(
    TokenBucket,
    st.integers(1, 50),
    period=st.sampled_from([0.01, 0.1, 0.3, 1.0, 7.0]),
    burst=st.integers(1, 20),
)
limit_reqs = st.builds(
    LimitReq,
    st.integers(1, 100),
    per=st.sampled_from(["s", "m"]),
    burst=st.integers(0, 10),
    delay=st.integers(0, 5),
)
nodelay_limit_reqs = st.builds(
    LimitReq, st.integers(1, 100), per=st.just("s"), burst=st.integers(0, 10), nodelay=st.just(True)
)
fixed_windows = st.builds(FixedWindow, st.integers(1, 20), st.sampled_from([0.05, 0.25, 1.0]))
sliding_windows = st.builds(SlidingWindow, st.integers(1, 20), st.sampled_from([0.05, 0.25, 1.0]))
algorithms = st.one_of(
    token_buckets, limit_reqs, nodelay_limit_reqs, fixed_windows, sliding_windows
)

# (microseconds since the previous request, cost); bursts of simultaneous requests are common.
steps = st.lists(
    st.tuples(
        st.one_of(st.just(0), st.integers(0, 2_000), st.integers(0, 400_000)),
        st.integers(1, 4),
    ),
    min_size=1,
    max_size=60,
)


def times(gaps: list[tuple[int, int]]) -> list[tuple[int, int]]:
    now, result = 1_000_000, []
    for gap, cost in gaps:
        now += gap
        result.append((now, cost))
    return result


def replay(
    algorithm: Decides[Any], events: list[tuple[int, int]], max_delay: float | None = None
) -> list[tuple[int, int, bool]]:
    """Decide (µs, cost) events; return [(now_us, cost, allowed)] and the states seen."""
    state: Any = None
    seen: list[tuple[int, int, bool]] = []
    for now_us, cost in events:
        decision, new = algorithm.decide(state, now_us / 1e6, cost, max_delay)
        if not decision.allowed:
            assert new == state, "a refused request changed the state"
        state = new
        seen.append((now_us, cost, decision.allowed))
    return seen


def assert_windows_bounded(
    admitted: list[tuple[int, int]], capacity: int, per_us: Fraction
) -> None:
    """Every window [t_i, t_j] admits at most capacity + (t_j - t_i) * per_us, in cost."""
    for i, (start, _) in enumerate(admitted):
        total = 0
        for end, cost in admitted[i:]:
            total += cost
            assert total <= capacity + Fraction(end - start) * per_us, (start, end, total)


@SETTINGS
@given(token_buckets, steps)
def test_token_bucket_never_admits_more_than_burst_plus_rate_times_t(
    bucket: TokenBucket, gaps: list[tuple[int, int]]
) -> None:
    seen = replay(bucket, times(gaps))
    admitted = [(now, cost) for now, cost, allowed in seen if allowed]
    assert_windows_bounded(admitted, bucket.burst, Fraction(bucket.rate, to_us(bucket.period)))


@SETTINGS
@given(st.one_of(limit_reqs, nodelay_limit_reqs), steps)
def test_limit_req_never_admits_more_than_burst_plus_one_plus_rate_times_t(
    limit: LimitReq, gaps: list[tuple[int, int]]
) -> None:
    events = [(now, 1) for now, _ in times(gaps)]  # nginx requests cost 1
    seen = replay(limit, events)
    # Whole milliseconds, as nginx counts them: a window of t ms leaks rate_milli * t / 1e6.
    admitted = [(now // 1000 * 1000, cost) for now, cost, allowed in seen if allowed]
    assert_windows_bounded(admitted, limit.burst + 1, Fraction(limit.rate_milli, 10**9))


@SETTINGS
@given(fixed_windows, steps)
def test_fixed_window_never_admits_more_than_limit_per_window(
    window: FixedWindow, gaps: list[tuple[int, int]]
) -> None:
    seen = replay(window, times(gaps))
    state: tuple[int, int] | None = None
    counts: dict[int, int] = {}
    for now, cost, allowed in seen:
        _, state_after = window.decide(state, now / 1e6, cost)
        if allowed:
            end = cast("tuple[int, int]", state_after)[0]  # admitted: a state, never None
            counts[end] = counts.get(end, 0) + cost
        state = state_after
    assert all(count <= window.limit for count in counts.values())


@SETTINGS
@given(algorithms, steps)
def test_refused_requests_consume_nothing(
    algorithm: PureRateAlgorithm[Any], gaps: list[tuple[int, int]]
) -> None:
    events = times(gaps)
    seen = replay(algorithm, events)
    kept = [(now, cost) for now, cost, allowed in seen if allowed]
    assert all(allowed for _, _, allowed in replay(algorithm, kept))


@SETTINGS
@given(algorithms, steps, st.sampled_from([None, 0.0, 0.05, 1.0]))
def test_fast_path_agrees_with_full_path(
    algorithm: PureRateAlgorithm[Any], gaps: list[tuple[int, int]], max_delay: float | None
) -> None:
    state = None
    for now_us, cost in times(gaps):
        outcome, new = algorithm.step(state, now_us, cost, algorithm.default_max_delay_us)
        fast = algorithm.admit(state, now_us, cost)
        assert fast == new
        assert outcome[0] is (new is not REFUSED)
        if max_delay is not None:
            decision, _ = algorithm.decide(state, now_us / 1e6, cost, max_delay)
            assert not decision.allowed or decision.delay <= max_delay
        if new is not REFUSED:
            state = new


@SETTINGS
@given(algorithms, steps, st.integers(0, 3_000_000), st.integers(1, 4))
def test_expired_state_decides_like_no_state(
    algorithm: PureRateAlgorithm[Any], gaps: list[tuple[int, int]], after: int, cost: int
) -> None:
    state = None
    for now_us, step_cost in times(gaps):
        _, new = algorithm.step(state, now_us, step_cost, UNBOUNDED)
        if new is not REFUSED:
            state = new
    if state is None:
        return
    later = algorithm.expires_at(state) + after
    assert algorithm.step(state, later, cost, UNBOUNDED) == algorithm.step(
        None, later, cost, UNBOUNDED
    )
