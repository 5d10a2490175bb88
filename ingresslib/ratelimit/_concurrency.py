"""A concurrency limiter: at most `limit` requests in flight per key.

ingress-nginx's `nginx.ingress.kubernetes.io/limit-connections` ("number of concurrent
connections allowed from a single IP address") configures nginx's `limit_conn`: a counter per
key, incremented when a request starts and decremented when it ends; above the limit the
request is refused ("the server will return the error in reply to a request", 503 by default).
"""

from __future__ import annotations

import threading
from types import TracebackType

from ingresslib.ratelimit._decision import Decision, QuotaPolicy

__all__ = ["ConcurrencyLimiter", "Hold"]


class ConcurrencyLimiter:
    """At most `limit` concurrent holders per key; safe under threads and asyncio.

    A key exists only while it is held, so memory follows the requests in flight; `max_keys`
    bounds it: when that many keys are held, a new key is refused.

    Example::

        connections = ConcurrencyLimiter(10)
        with connections.hold(client_ip) as decision:  # or `async with`
            if not decision.allowed:
                return 503
            ...  # released when the block ends, whatever happens in it

    Attributes:
        limit: holders allowed per key at once.
        max_keys: keys held at once.
    """

    def __init__(self, limit: int, *, max_keys: int = 100_000) -> None:
        """Create an empty limiter.

        Args:
            limit: holders allowed per key at once (>= 1).
            max_keys: the most keys held at once (>= 1).
        """
        if limit < 1 or max_keys < 1:
            raise ValueError("limit and max_keys must be >= 1")
        self.limit = limit
        self.max_keys = max_keys
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> Decision:
        """Take a place for `key` if one is free. Call `release` once for an allowed decision.

        Returns:
            The decision: `remaining` places left; a refused request takes no place (its
            `retry_after` is 0: no one knows when a holder finishes).
        """
        with self._lock:
            count = self._counts.get(key, 0)
            if count >= self.limit:
                return Decision(False, remaining=0, reason="concurrency limit reached")
            if count == 0 and len(self._counts) >= self.max_keys:
                return Decision(False, remaining=0, reason="too many keys held (max_keys)")
            self._counts[key] = count + 1
        return Decision(True, remaining=self.limit - count - 1)

    def release(self, key: str) -> None:
        """Give back a place taken by an allowed `acquire`.

        Raises:
            ValueError: when `key` holds no place (a release without an acquire).
        """
        with self._lock:
            count = self._counts.get(key, 0)
            if count <= 0:
                raise ValueError(f"release({key!r}) without a matching acquire")
            if count == 1:
                del self._counts[key]
            else:
                self._counts[key] = count - 1

    def hold(self, key: str) -> Hold:
        """A context manager (sync and async) that acquires on entry, releases on exit."""
        return Hold(self, key)

    def in_flight(self, key: str) -> int:
        """How many places `key` holds now."""
        return self._counts.get(key, 0)

    def __len__(self) -> int:
        return len(self._counts)

    def policy(self, name: str = "default") -> QuotaPolicy:
        """This limit as a `RateLimit-Policy` item, in "concurrent-requests"."""
        return QuotaPolicy(name, self.limit, unit="concurrent-requests")


class Hold:
    """`with limiter.hold(key) as decision:`; releases on exit only if the decision allowed."""

    __slots__ = ("decision", "key", "limiter")

    def __init__(self, limiter: ConcurrencyLimiter, key: str) -> None:
        self.limiter = limiter
        self.key = key
        self.decision: Decision | None = None

    def __enter__(self) -> Decision:
        self.decision = self.limiter.acquire(self.key)
        return self.decision

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.decision is not None and self.decision.allowed:
            self.decision = None
            self.limiter.release(self.key)

    async def __aenter__(self) -> Decision:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, traceback)
