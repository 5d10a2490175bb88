"""The status merges of ingresslib.kubernetes.GatewayStatusWriter, without an apiserver.

(tests/kubernetes/test_gateway_watcher.py writes them to a real one.)
"""

from __future__ import annotations

from typing import Any

from ingresslib.kubernetes._gateway_status import (
    _MAX_PARENTS,
    _comparable,
    _conditions,
    _merge_route,
    _RouteParent,
)
from ingresslib.resources import Condition

OURS = "ingresslib.dev/gateway"
THEIRS = "example.net/other"
GROUP = "gateway.networking.k8s.io"


def condition(type_: str, status: str = "True", generation: int = 2) -> Condition:
    return Condition(
        type=type_, status=status, reason=type_, message=type_, observed_generation=generation
    )


def entry(name: str, controller: str, *, section: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"group": GROUP, "kind": "Gateway", "name": name}
    if section is not None:
        ref["sectionName"] = section
    return {
        "parentRef": ref,
        "controllerName": controller,
        "conditions": [
            {
                "type": "Accepted",
                "status": "True",
                "reason": "Accepted",
                "message": "old",
                "observedGeneration": 1,
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ],
    }


def parent(name: str, *conditions: Condition) -> _RouteParent:
    return _RouteParent(
        ("ns", name, None),
        {"group": GROUP, "kind": "Gateway", "name": name},
        conditions or (condition("Accepted"),),
    )


def test_a_condition_keeps_its_transition_time_while_its_status_stays() -> None:
    current = [
        {"type": "Accepted", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
        {"type": "Programmed", "status": "False", "lastTransitionTime": "2026-01-01T00:00:00Z"},
    ]
    merged = _conditions(
        [condition("Accepted"), condition("Programmed"), condition("ResolvedRefs")],
        current,
        "2026-06-01T12:00:00Z",
    )
    assert [c["lastTransitionTime"] for c in merged] == [
        "2026-01-01T00:00:00Z",  # True -> True: kept
        "2026-06-01T12:00:00Z",  # False -> True: now
        "2026-06-01T12:00:00Z",  # new: now
    ]
    assert merged[0] == {
        "type": "Accepted",
        "status": "True",
        "observedGeneration": 2,
        "reason": "Accepted",
        "message": "Accepted",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    # Garbage where the conditions should be is replaced, not a crash.
    assert len(_conditions([condition("Accepted")], "nonsense", "t")) == 1


def test_comparisons_ignore_transition_times_only() -> None:
    a = {"conditions": [{"type": "A", "status": "True", "lastTransitionTime": "1"}]}
    b = {"conditions": [{"type": "A", "status": "True", "lastTransitionTime": "2"}]}
    c = {"conditions": [{"type": "A", "status": "False", "lastTransitionTime": "1"}]}
    assert _comparable(a) == _comparable(b)
    assert _comparable(a) != _comparable(c)


def test_route_parents_others_kept_in_place_ours_replaced_removed_added() -> None:
    current = {
        "parents": [
            entry("theirs-1", THEIRS),
            entry("stale", OURS),  # no longer a parent of ours: goes
            entry("edge", OURS),  # still ours: updated where it is
            entry("theirs-2", THEIRS),
        ]
    }
    merge = _merge_route("HTTPRoute ns/r", "ns", OURS, [parent("edge"), parent("new")])
    merged = merge(current, "2026-06-01T12:00:00Z")["parents"]
    assert [(p["parentRef"]["name"], p["controllerName"]) for p in merged] == [
        ("theirs-1", THEIRS),
        ("edge", OURS),
        ("theirs-2", THEIRS),
        ("new", OURS),
    ]
    assert merged[0] == entry("theirs-1", THEIRS)
    assert merged[2] == entry("theirs-2", THEIRS)
    edge = merged[1]["conditions"][0]
    assert (edge["message"], edge["observedGeneration"]) == ("Accepted", 2)
    assert edge["lastTransitionTime"] == "2026-01-01T00:00:00Z"  # still True
    # Merging the result again changes nothing: a second write is never due.
    again = merge({"parents": merged}, "2027-01-01T00:00:00Z")
    assert again == {"parents": merged}


def test_an_entry_of_ours_for_a_section_is_told_from_the_whole_gateway() -> None:
    current = {"parents": [entry("edge", OURS, section="http")]}
    merged = _merge_route("r", "ns", OURS, [parent("edge")])(current, "now")["parents"]
    # ("ns", "edge", "http") is not ("ns", "edge", None): replaced by the wanted one.
    assert [p["parentRef"] for p in merged] == [{"group": GROUP, "kind": "Gateway", "name": "edge"}]
    assert merged[0]["conditions"][0]["lastTransitionTime"] == "now"


def test_no_parent_of_ours_left_removes_only_our_entries() -> None:
    current = {"parents": [entry("edge", OURS), entry("theirs", THEIRS)], "other": 1}
    assert _merge_route("r", "ns", OURS, [])(current, "now") == {
        "parents": [entry("theirs", THEIRS)],
        "other": 1,
    }


def test_more_parents_than_the_crd_allows_keeps_the_others_first() -> None:
    theirs = [entry(f"t{i}", THEIRS) for i in range(30)]
    ours = [parent(f"o{i}") for i in range(5)]
    merged = _merge_route("r", "ns", OURS, ours)({"parents": theirs}, "now")["parents"]
    assert len(merged) == _MAX_PARENTS
    assert merged[:30] == theirs
    assert [p["parentRef"]["name"] for p in merged[30:]] == ["o0", "o1"]
