"""The forwarding plan: weighted choice, mirrors, header edits (ingresslib.proxy._plan)."""

from __future__ import annotations

import bisect
import itertools

from hypothesis import given
from hypothesis import strategies as st

from ingresslib.proxy import (
    choose_backend,
    edit_headers,
    mirror_selected,
    request_changes,
    response_changes,
)
from ingresslib.rules import (
    Backend,
    HeaderChanges,
    Mirror,
    RequestHeaders,
    ResponseHeaders,
    WeightedBackend,
)


def _shares(weights: list[int]) -> list[WeightedBackend]:
    return [WeightedBackend(Backend(f"b{i}", "ns", 80), w) for i, w in enumerate(weights)]


def _reference_choice(backends: list[WeightedBackend], draw: float) -> WeightedBackend | None:
    """Plain: lay the positive weights end to end and find the draw's interval."""
    positive = [b for b in backends if b.weight > 0]
    if not positive:
        return None
    edges = list(itertools.accumulate(b.weight for b in positive))
    index = bisect.bisect_right(edges, draw * edges[-1])
    return positive[min(index, len(positive) - 1)]


@given(
    st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=1, max_size=16),
    st.floats(min_value=0.0, max_value=1.0, exclude_max=True),
)
def test_choice_equals_the_reference(weights: list[int], draw: float) -> None:
    backends = _shares(weights)
    assert choose_backend(backends, draw) is _reference_choice(backends, draw)


def test_choice_follows_the_weights() -> None:
    # BackendRef.weight: "computed as weight/(sum of all weights in this BackendRefs list)";
    # weight 0: "no traffic should be forwarded for this entry".
    backends = _shares([70, 30, 0])
    steps = 10_000
    counts = {b.backend.name: 0 for b in backends}
    for i in range(steps):
        chosen = choose_backend(backends, i / steps)
        assert chosen is not None
        counts[chosen.backend.name] += 1
    assert counts == {"b0": 7_000, "b1": 3_000, "b2": 0}


def test_no_choice_when_every_weight_is_zero() -> None:
    assert choose_backend(_shares([0, 0]), 0.5) is None
    assert choose_backend([], 0.5) is None


def test_mirror_fraction() -> None:
    mirror = Mirror(Backend("m", "ns", 80), (25, 100))
    assert sum(mirror_selected(mirror, i / 1000) for i in range(1000)) == 250
    assert not mirror_selected(Mirror(Backend("m", "ns", 80), (0, 100)), 0.0)
    assert mirror_selected(Mirror(Backend("m", "ns", 80)), 0.999)
    # An invalid mirror (an unresolved backendRef) sends nothing.
    assert not mirror_selected(Mirror(Backend("m", "ns", 80), invalid="not found"), 0.0)


def test_header_changes_as_the_spec_examples() -> None:
    # HTTPHeaderFilter: set overwrites, add appends to the existing value, remove drops,
    # names compare case-insensitively.
    received = [("my-header", "foo"), ("My-Header1", "a"), ("keep", "k")]
    changes = HeaderChanges(
        set=(("MY-HEADER", "bar"),), add=(("my-header", "baz"),), remove=("my-header1",)
    )
    assert changes.apply(received) == [("keep", "k"), ("MY-HEADER", "bar,baz")]
    assert HeaderChanges(add=(("x-new", "1"),)).apply([]) == [("x-new", "1")]


def test_rule_then_share_edits_in_bytes() -> None:
    share = WeightedBackend(
        Backend("b", "ns", 80),
        filters=(
            RequestHeaders(HeaderChanges(set=(("x-share", "1"),))),
            ResponseHeaders(HeaderChanges(remove=("server",))),
        ),
    )
    rule = HeaderChanges(set=(("x-rule", "r"),))
    edits = request_changes(rule, share)
    assert edit_headers([(b"Host", b"h"), (b"X-Rule", b"old")], edits) == [
        (b"Host", b"h"),
        (b"x-rule", b"r"),
        (b"x-share", b"1"),
    ]
    assert edit_headers([(b"Server", b"x"), (b"A", b"\xe9")], response_changes(None, share)) == [
        (b"A", b"\xe9")
    ]
    assert edit_headers([(b"A", b"b")], None) == [(b"A", b"b")]
