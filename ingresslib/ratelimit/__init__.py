"""Rate limits with exact semantics: token bucket (GCRA), nginx limit_req, windows, concurrency.

The algorithms are pure (`TokenBucket`, `LimitReq`, `FixedWindow`, `SlidingWindow`: state,
time and cost in, decision and state out); the stores keep a state per key: `MemoryLimiter`
in this process, `RedisLimiter` / `AsyncRedisLimiter` shared by every replica through Redis
(redis-py is the `redis` extra, imported only when a Redis store is created)::

    from ingresslib.ratelimit import LimitReq, MemoryLimiter, retry_after_header

    limiter = MemoryLimiter(LimitReq(10, burst=20, nodelay=True))
    decision = limiter.hit(client_ip)
    if not decision.allowed:
        headers = {"Retry-After": retry_after_header(decision)}

docs/ratelimit.md gives every formula and the source it reproduces.
"""

from ingresslib.ratelimit._algorithms import (
    FixedWindow,
    LimitReq,
    RateAlgorithm,
    SlidingWindow,
    TokenBucket,
)
from ingresslib.ratelimit._concurrency import ConcurrencyLimiter, Hold
from ingresslib.ratelimit._decision import (
    Decision,
    QuotaPolicy,
    RefusalHeaders,
    ratelimit_header,
    ratelimit_policy_header,
    retry_after_header,
)
from ingresslib.ratelimit._memory import MemoryLimiter
from ingresslib.ratelimit._redis import AsyncRedisLimiter, FailurePolicy, RedisLimiter

__all__ = [
    "AsyncRedisLimiter",
    "ConcurrencyLimiter",
    "Decision",
    "FailurePolicy",
    "FixedWindow",
    "Hold",
    "LimitReq",
    "MemoryLimiter",
    "QuotaPolicy",
    "RateAlgorithm",
    "RedisLimiter",
    "RefusalHeaders",
    "SlidingWindow",
    "TokenBucket",
    "ratelimit_header",
    "ratelimit_policy_header",
    "retry_after_header",
]
