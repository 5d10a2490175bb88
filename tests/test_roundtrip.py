"""Loading then dumping a valid manifest gives it back; dumping then loading gives the object."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import ingresslib
from ingresslib.resources._converter import structure_resource
from tests import strategies


@settings(max_examples=400, deadline=None)
@given(strategies.manifests)
def test_valid_manifest_round_trips(manifest: dict[str, Any]) -> None:
    original = copy.deepcopy(manifest)
    (resource,) = ingresslib.load_manifests(manifest)
    assert manifest == original, "loading must not modify its input"
    assert resource.to_dict() == manifest
    assert structure_resource(resource.to_dict(), type(resource)) == resource


@settings(max_examples=100, deadline=None)
@given(st.lists(strategies.manifests, min_size=1, max_size=5, unique_by=str))
def test_yaml_text_of_many_documents_round_trips(manifests: list[dict[str, Any]]) -> None:
    keys = {(m["kind"], m["metadata"].get("namespace"), m["metadata"]["name"]) for m in manifests}
    if len(keys) != len(manifests):
        return  # the same object twice is a Duplicate error, tested elsewhere
    text = yaml.safe_dump_all(manifests, sort_keys=False)
    resources = ingresslib.load_manifests(text)
    assert [r.to_dict() for r in resources] == manifests


@settings(max_examples=200, deadline=None)
@given(strategies.manifests)
def test_resources_are_hashable_and_equal_by_value(manifest: dict[str, Any]) -> None:
    (first,) = ingresslib.load_manifests(manifest)
    (second,) = ingresslib.load_manifests(copy.deepcopy(manifest))
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1
