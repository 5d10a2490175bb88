"""Decisions and the HTTP fields that advertise them (Retry-After, RateLimit-Policy, RateLimit).

A decision is built on every request, so it is a `NamedTuple` rather than an attrs class (see
the PERF note on `Decision`). The header helpers follow draft-ietf-httpapi-ratelimit-headers-11,
whose two fields are Structured Field Lists (RFC 9651) of Items with parameters::

    RateLimit-Policy: "default";q=100;w=10
    RateLimit: "default";r=50;t=30
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from typing import NamedTuple

import attrs

__all__ = [
    "Decision",
    "QuotaPolicy",
    "RefusalHeaders",
    "ratelimit_header",
    "ratelimit_policy_header",
    "retry_after_header",
]

# Reason codes shared by the Python algorithms and the Lua scripts (the scripts return the code,
# the algorithm renders the words), so both stores give the very same Decision.
OK = 0
LIMITED = 1
NEVER = 2  # the cost exceeds what the limit can ever admit at once
TOO_LONG = 3  # admitting it would mean waiting longer than max_delay
#: A retry_after of "never", in microseconds, as the stores pass it around.
NEVER_US = -1


# PERF: a frozen attrs instance with seven fields costs ~450 ns to build (one object.__setattr__
# per field), a NamedTuple ~80 ns through tuple.__new__; a limiter builds one per request.
class Decision(NamedTuple):
    """What a limiter decided for one request.

    Immutable, like every value object of ingresslib (a tuple underneath: compare it by its
    fields, not with plain tuples).

    Attributes:
        allowed: whether the request may proceed (after `delay`, if any).
        delay: seconds the request must wait before it proceeds; only the delay-mode algorithms
            (nginx `limit_req` without `nodelay`, a token bucket asked to wait) set it.
        retry_after: for a refused request, seconds until the same request could be admitted;
            `math.inf` when it never can (its cost exceeds the limit). 0.0 when allowed.
        remaining: how many more requests of cost 1 would be admitted right now, without delay.
        reset: seconds until the key is back to its full quota if no more requests arrive.
        reason: why the request was refused ("" when it was allowed).
        degraded: True when the store could not be asked and the failure policy decided.
    """

    allowed: bool
    delay: float = 0.0
    retry_after: float = 0.0
    remaining: int = 0
    reset: float = 0.0
    reason: str = ""
    degraded: bool = False


def retry_after_header(decision: Decision) -> str | None:
    """The `Retry-After` value for a refused request, or None when there is none to send.

    RFC 9110 section 10.2.3: "Retry-After = HTTP-date / delay-seconds", and "delay-seconds =
    1*DIGIT": a whole number of seconds, rounded up so that a client that waits it is admitted.
    None when the request was allowed, or when it can never be admitted (no wait helps).

    Args:
        decision: the limiter's decision.

    Returns:
        The field value, e.g. "3", or None.
    """
    if decision.allowed or decision.retry_after == math.inf:
        return None
    return str(math.ceil(decision.retry_after))


@attrs.frozen
class QuotaPolicy:
    """One Quota Policy Item of the `RateLimit-Policy` field (draft section 3.1).

    Attributes:
        name: the policy identifier, sent as a String: printable ASCII.
        quota: "q": "the quota allocated by this policy measured in quota units".
        window: "w": the time window in seconds, "a non-negative, non-zero, Integer"; None to
            leave it out (a concurrency limit has none).
        unit: "qu": "requests" (the default, left out), "content-bytes" or
            "concurrent-requests".
        partition_key: "pk": "The value MUST be a Byte Sequence"; None to leave it out.
    """

    name: str
    quota: int
    window: int | None = None
    unit: str = "requests"
    partition_key: bytes | None = None

    def serialize(self) -> str:
        """This policy as one List member, e.g. `"default";q=100;w=10`."""
        parts = [_sf_string(self.name), f"q={_sf_integer(self.quota)}"]
        if self.unit != "requests":
            parts.append(f"qu={_sf_string(self.unit)}")
        if self.window is not None:
            if self.window <= 0:
                raise ValueError(f"w must be a positive whole number of seconds, not {self.window}")
            parts.append(f"w={_sf_integer(self.window)}")
        if self.partition_key is not None:
            parts.append(f"pk={_sf_bytes(self.partition_key)}")
        return ";".join(parts)


def ratelimit_policy_header(policies: QuotaPolicy | Iterable[QuotaPolicy]) -> str:
    """The `RateLimit-Policy` field value: "a non-empty List of Quota Policy Items".

    Args:
        policies: one policy or several (e.g. a per-second and a per-hour limit).

    Returns:
        e.g. `"permin";q=50;w=60,"perhr";q=1000;w=3600`.

    Raises:
        ValueError: for an empty list, or a value the field syntax cannot carry.
    """
    items = [policies] if isinstance(policies, QuotaPolicy) else list(policies)
    if not items:
        raise ValueError("RateLimit-Policy is a non-empty List")
    return ", ".join(item.serialize() for item in items)


def ratelimit_header(name: str, decision: Decision, *, partition_key: bytes | None = None) -> str:
    """The `RateLimit` field value for one policy: its Service Limit Item (draft section 4.1).

    "r": "the available quota under the identified policy", a non-negative Integer: the
    decision's `remaining`. "t": "the number of seconds within which the client can use no more
    than the available quota", a non-negative Integer: the decision's `reset`, rounded up.

    Args:
        name: the policy identifier, as in `RateLimit-Policy`.
        decision: the limiter's decision for this request.
        partition_key: "pk", a Byte Sequence; None to leave it out.

    Returns:
        e.g. `"default";r=50;t=30`.
    """
    parts = [
        _sf_string(name),
        f"r={_sf_integer(max(0, decision.remaining))}",
        f"t={_sf_integer(math.ceil(decision.reset))}",
    ]
    if partition_key is not None:
        parts.append(f"pk={_sf_bytes(partition_key)}")
    return ";".join(parts)


def _sf_string(value: str) -> str:
    # RFC 9651 section 4.1.6: only printable ASCII (%x20-7E); '"' and '\' are escaped.
    if any(not (0x20 <= ord(char) <= 0x7E) for char in value):
        raise ValueError(f"a Structured Field String holds printable ASCII only: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sf_integer(value: int) -> str:
    # RFC 9651 section 4.1.4: "If input_integer is not an integer in the range of
    # -999,999,999,999,999 to 999,999,999,999,999 inclusive, fail serialization."
    if not -999_999_999_999_999 <= value <= 999_999_999_999_999:
        raise ValueError(f"a Structured Field Integer has at most 15 digits: {value}")
    return str(value)


def _sf_bytes(value: bytes) -> str:
    # RFC 9651 section 4.1.8: ":" base64 (with padding) ":".
    return ":" + base64.b64encode(value).decode("ascii") + ":"


class RefusalHeaders:
    """The fields of a 429 for a refused decision, for one advertised policy (bytes).

    `Retry-After` (RFC 9110 §10.2.3), and the IETF `RateLimit` / `RateLimit-Policy` fields
    (draft-ietf-httpapi-ratelimit-headers), as every executor sends them.
    """

    def __init__(self, policy: QuotaPolicy | None = None) -> None:
        """Fix the policy name and header once (they do not change per request)."""
        self._name = "default" if policy is None else policy.name
        self._policy = None if policy is None else ratelimit_policy_header(policy).encode()

    def __call__(self, decision: Decision) -> tuple[tuple[bytes, bytes], ...]:
        """The fields for one refused decision, names lower case."""
        fields = [(b"ratelimit", ratelimit_header(self._name, decision).encode())]
        if self._policy is not None:
            fields.append((b"ratelimit-policy", self._policy))
        retry_after = retry_after_header(decision)
        if retry_after is not None:
            fields.append((b"retry-after", retry_after.encode()))
        return tuple(fields)
