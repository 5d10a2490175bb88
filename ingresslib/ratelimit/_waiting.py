"""Async waiting: `await limiter.acquire(key)` sleeps the delay a limiter grants.

The only module of the memory side that touches asyncio; the algorithms never do.
"""

from __future__ import annotations

import asyncio

from ingresslib.ratelimit._decision import Decision

__all__ = ["AsyncAcquire", "sleep_for"]


async def sleep_for(decision: Decision) -> Decision:
    """Sleep the decision's delay (without blocking the event loop), then return it.

    nginx delays an admitted request by the same token: the request is counted when it is
    admitted, so a caller cancelled during the sleep has still used its place (as a client that
    disconnects while nginx delays it).
    """
    if decision.allowed and decision.delay > 0:
        await asyncio.sleep(decision.delay)
    return decision


class AsyncAcquire:
    """Mixin for synchronous limiters: adds `acquire`, the waiting form of `hit`."""

    def hit(self, key: str, cost: int = 1, *, max_delay: float | None = None) -> Decision:
        """Decide one request (the limiter implements it)."""
        raise NotImplementedError

    async def acquire(self, key: str, cost: int = 1, *, max_wait: float | None = None) -> Decision:
        """Decide one request and, when it is admitted with a delay, sleep that delay.

        A request whose delay would exceed `max_wait` is refused at once, without being counted
        (it never sleeps and then fails).

        Args:
            key: the limited key (client address, route, ...).
            cost: what the request counts for.
            max_wait: the longest sleep accepted, in seconds. None: the algorithm's default
                (nginx limit_req: no bound; token bucket and windows: no waiting);
                `math.inf`: any (a token bucket then behaves as Go's `WaitN`).

        Returns:
            The decision, after its delay has passed.
        """
        return await sleep_for(self.hit(key, cost, max_delay=max_wait))
