"""The forwarding plan of a Decision: which share, which header edits, which mirrors.

Sans-IO and shared by every executor: a `Decision` says what to do; these functions turn it
into the bytes and choices an executor needs, given the random draws the executor makes
(so the choice itself stays a pure, testable function of its inputs).
"""

from __future__ import annotations

from collections.abc import Sequence

from ingresslib.rules._filters import HeaderChanges, Mirror, RequestHeaders, ResponseHeaders
from ingresslib.rules._model import WeightedBackend
from ingresslib.rules._policies import UpstreamProtocol
from ingresslib.rules._steps import Policy

__all__ = [
    "choose_backend",
    "edit_headers",
    "mirror_selected",
    "request_changes",
    "response_changes",
    "upstream_scheme",
]


def choose_backend(backends: Sequence[WeightedBackend], draw: float) -> WeightedBackend | None:
    """The share a request goes to, for a uniform `draw` in [0, 1).

    Gateway API (`BackendRef.weight`): "Weight specifies the proportion of requests
    forwarded to the referenced backend. This is computed as weight/(sum of all weights in
    this BackendRefs list) ... If weight is set to 0, no traffic should be forwarded for
    this entry." A share with an `invalid` reason is chosen like any other: its requests
    are then answered 500 ("the proportion of requests that would otherwise have been
    routed to an invalid backend MUST receive a 500 status code").

    Returns:
        The share, or None when every weight is 0 (nothing may be forwarded: 500).
    """
    total = sum(b.weight for b in backends if b.weight > 0)
    if total <= 0:
        return None
    if len(backends) == 1:
        return backends[0]
    point = draw * total
    for share in backends:
        if share.weight <= 0:
            continue
        point -= share.weight
        if point < 0:
            return share
    # `draw` was 1.0 or rounding left a remainder: the last share with weight.
    return next(b for b in reversed(backends) if b.weight > 0)


def mirror_selected(mirror: Mirror, draw: float) -> bool:
    """Whether a request is mirrored, for a uniform `draw` in [0, 1).

    `HTTPRequestMirrorFilter`: "Percent represents the percentage of requests that should
    be mirrored to BackendRef"; "Fraction represents the fraction of requests that should
    be mirrored"; an invalid mirror sends nothing.
    """
    if mirror.invalid is not None:
        return False
    numerator, denominator = mirror.fraction
    if denominator <= 0 or numerator <= 0:
        return False
    return draw * denominator < numerator


def _of_share(
    share: WeightedBackend | None, kind: type[RequestHeaders] | type[ResponseHeaders]
) -> list[HeaderChanges]:
    if share is None:
        return []
    return [step.changes for step in share.filters if isinstance(step, kind)]


def _combined(rule: HeaderChanges | None, extra: list[HeaderChanges]) -> HeaderChanges | None:
    combined = rule
    for changes in extra:
        combined = changes if combined is None else combined.then(changes)
    return combined


def request_changes(
    rule: HeaderChanges | None, share: WeightedBackend | None
) -> HeaderChanges | None:
    """The request header edits for one share: the rule's, then the share's own."""
    return _combined(rule, _of_share(share, RequestHeaders))


def response_changes(
    rule: HeaderChanges | None, share: WeightedBackend | None
) -> HeaderChanges | None:
    """The response header edits for one share: the rule's, then the share's own."""
    return _combined(rule, _of_share(share, ResponseHeaders))


def edit_headers(
    headers: Sequence[tuple[bytes, bytes]], changes: HeaderChanges | None
) -> list[tuple[bytes, bytes]]:
    """Header fields in bytes after `changes` (`HeaderChanges.apply`, latin-1 both ways)."""
    if changes is None:
        return list(headers)
    text = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in headers]
    return [(n.encode("latin-1"), v.encode("latin-1")) for n, v in changes.apply(text)]


def upstream_scheme(policies: Sequence[Policy], secure: bool) -> str:
    """The scheme to the endpoints: `backend-protocol` HTTPS or AUTO_HTTP, else "http".

    Args:
        policies: the decision's policies (an `UpstreamProtocol` among them, or not).
        secure: whether the request came over TLS (AUTO_HTTP follows it: `$scheme://`).
    """
    for policy in policies:
        if type(policy) is UpstreamProtocol:
            if policy.scheme == "auto":
                return "https" if secure else "http"
            return "https"
    return "http"
