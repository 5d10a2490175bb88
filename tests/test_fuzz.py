"""Whatever goes in, load_manifests either loads it or raises ManifestError; nothing else.

`make test` runs each property with 10,000 examples; `make fuzz` runs the `fuzz`-marked
copies with INGRESSLIB_FUZZ_EXAMPLES (default 100,000) examples.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ingresslib
from ingresslib import ManifestError
from tests import strategies

CI_EXAMPLES = 10_000
LONG_EXAMPLES = int(os.environ.get("INGRESSLIB_FUZZ_EXAMPLES", "100000"))

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["", "/", "*", "*.a.com", "Exact", "Prefix", "v1", "80", "..", "%2F"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12) | st.sampled_from(_KEYS := [
        "apiVersion", "kind", "metadata", "name", "namespace", "spec", "rules", "host",
        "http", "paths", "path", "pathType", "backend", "service", "port", "number",
        "resource", "tls", "hosts", "secretName", "defaultBackend", "ingressClassName",
        "status", "loadBalancer", "ingress", "ports", "targetPort", "endpoints",
        "addresses", "conditions", "ready", "data", "stringData", "type", "items",
        "labels", "annotations", "creationTimestamp", "controller", "parameters",
    ]), children, max_size=5),
    max_leaves=30,
)  # fmt: skip


@st.composite
def mutated_manifests(draw: st.DrawFn) -> Any:
    """A valid manifest with one subtree replaced by a random value: reaches deep code."""
    manifest: Any = draw(strategies.manifests)
    node = manifest
    for _ in range(draw(st.integers(0, 6))):
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(sorted(node)))
            if not isinstance(node[key], dict | list) or draw(st.booleans()):
                node[key] = draw(json_values)
                return manifest
            node = node[key]
        elif isinstance(node, list) and node:
            index = draw(st.integers(0, len(node) - 1))
            if not isinstance(node[index], dict | list) or draw(st.booleans()):
                node[index] = draw(json_values)
                return manifest
            node = node[index]
        else:
            break
    return manifest


@st.composite
def mutated_yaml(draw: st.DrawFn) -> str:
    """The YAML text of a valid manifest with a few characters changed."""
    text = list(yaml.safe_dump(draw(strategies.manifests)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, max(len(text) - 1, 0)))
        text[position : position + 1] = draw(st.text(max_size=3))
    return "".join(text)


def _names_a_path(value: Any) -> bool:
    # A string (or a list item) naming an existing path is read as one: "/" would walk the disk.
    items = value if isinstance(value, list) else [value]
    return any(
        isinstance(item, str) and "\n" not in item and os.path.exists(item) for item in items
    )


def loads_or_raises_manifest_error(source: Any) -> None:
    assume(not _names_a_path(source))
    try:
        resources = ingresslib.load_manifests(source, unknown_kinds="ignore")
    except ManifestError as error:
        problems = error.errors
    else:
        # What loads must dump and load again to the same thing.
        for resource in resources:
            assert ingresslib.load_manifests(resource.to_dict()).resources == (resource,)
        return
    assert problems, "a ManifestError lists at least one problem"
    assert all(problem.reason and str(problem) for problem in problems)


def _fuzz(examples: int) -> Callable[[Any], Any]:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _run(name: str, examples: int) -> None:
    def check(source: Any) -> None:
        loads_or_raises_manifest_error(source)

    given(SOURCES[name])(_fuzz(examples)(check))()


SOURCES = {
    "json_values": json_values,
    "mutated_manifests": mutated_manifests(),
    "yaml_text": st.text(max_size=200),
    "mutated_yaml": mutated_yaml(),
}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_only_manifest_error_escapes(name: str) -> None:
    # 10,000 examples in all, shared among the four sources (each over 2,000).
    _run(name, CI_EXAMPLES // 4 + 1)


@pytest.mark.fuzz
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_only_manifest_error_escapes_long(name: str) -> None:
    _run(name, LONG_EXAMPLES)
