"""A weighted backend of a rule: one share of its traffic."""

from __future__ import annotations

import attrs

from ingresslib.rules._backend import Backend
from ingresslib.rules._filters import RequestHeaders, ResponseHeaders

__all__ = ["WeightedBackend"]


@attrs.frozen
class WeightedBackend:
    """One share of a rule's traffic.

    Attributes:
        backend: where this share goes.
        weight: its weight relative to the rule's other backends (Ingress: 1).
        invalid: None, or why this share cannot be served (its requests are then
            answered 500: a refused cross-namespace reference, an unknown kind...).
        filters: filters of this share only (Gateway API `HTTPBackendRef.filters`),
            applied after the rule's when the executor sends a request to it.
    """

    backend: Backend
    weight: int = 1
    invalid: str | None = None
    filters: tuple[RequestHeaders | ResponseHeaders, ...] = ()
