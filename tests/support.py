"""Small helpers shared by the tests: free loopback ports, a hand-moved clock, endpoints."""

from __future__ import annotations

import socket
from collections.abc import Sequence

from ingresslib.endpoints import Endpoint

__all__ = ["FakeClock", "endpoints", "free_port"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FakeClock:
    """A monotonic clock the test moves by hand (`clock.now += 5`)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def endpoints(n: int, weights: Sequence[int] | None = None, start: int = 0) -> list[Endpoint]:
    """`n` endpoints `10.0.x.y:8080` (numbered from `start`), weights 1 unless given."""
    weights = weights or [1] * n
    return [
        Endpoint(f"10.0.{i // 256}.{i % 256}", 8080, weight=weights[i - start])
        for i in range(start, start + n)
    ]
