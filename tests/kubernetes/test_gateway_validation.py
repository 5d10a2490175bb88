"""Differential: ingresslib's Gateway API validation against a real kube-apiserver's.

The apiserver has the Gateway API standard CRDs of the Go module installed
(`gateway_api_crds`); each example object of tests/test_gateway_resources.py (the valid and
invalid one of every CEL rule, the schema keywords) and every upstream conformance manifest is
created with `dryRun=All`. The verdicts must agree, and for a refused object the field paths and
messages (`details.causes`, the apiserver's `field.Error`s) must be the ones ingresslib reports,
in any order (the apiserver walks objects in Go map order).

Examples that change `status` are left out: the apiserver drops the status of a created object
(the status subresource validates it, on update).
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingresslib.resources._crd import CRD_FILES, crd_document
from tests import test_gateway_resources as examples
from tests.kubernetes.conftest import (
    GatewayAPICRDs,
    KubeAPIServer,
    gateway_api_crd_dir,
    gateway_api_version,
)
from tests.support import conformance_dir, skip_or_fail_in_ci

Manifest = dict[str, Any]


def _path(kind: str, namespace: str) -> str:
    plural = crd_document(kind)["spec"]["names"]["plural"]
    if kind == "GatewayClass":
        return f"/apis/gateway.networking.k8s.io/v1/{plural}"
    return f"/apis/gateway.networking.k8s.io/v1/namespaces/{namespace}/{plural}"


def apiserver_verdict(
    server: KubeAPIServer, manifest: Manifest, namespace: str
) -> list[tuple[str, str]]:
    """The apiserver's causes for a dry-run create ([] when it accepts the object)."""
    body = copy.deepcopy(manifest)
    body["apiVersion"] = "gateway.networking.k8s.io/v1"
    if body["kind"] != "GatewayClass":
        body.setdefault("metadata", {})["namespace"] = namespace
    response = server.request("POST", _path(body["kind"], namespace), body, query={"dryRun": "All"})
    if response.status == 201:
        return []
    assert response.status == 422, response
    causes = response.body.get("details", {}).get("causes", [])
    return sorted((c.get("field", ""), c["message"]) for c in causes)


def ours(manifest: Manifest, namespace: str) -> list[tuple[str, str]]:
    body = copy.deepcopy(manifest)
    if body["kind"] != "GatewayClass":
        body.setdefault("metadata", {})["namespace"] = namespace
    return sorted(examples.problems_of(body))


def _cases() -> list[Any]:
    cases = []
    for id_, kind, changes, _ in [*examples.INVALID, *examples.SCHEMA_INVALID]:
        if not any(path.startswith("status") for path in changes):
            cases.append(pytest.param(kind, changes, id=f"invalid-{id_}"))
    for id_, kind, changes in examples.VALID:
        if not any(path.startswith("status") for path in changes):
            cases.append(pytest.param(kind, changes, id=f"valid-{id_}"))
    cases += [pytest.param(kind, {}, id=f"base-{kind}") for kind in CRD_FILES]
    return cases


@pytest.mark.parametrize(("kind", "changes"), _cases())
def test_our_verdict_and_field_paths_are_the_apiservers(
    kube_apiserver: KubeAPIServer,
    gateway_api: GatewayAPICRDs,
    namespace: str,
    kind: str,
    changes: dict[str, Any],
) -> None:
    manifest = examples._mutated(kind, changes)
    assert ours(manifest, namespace) == apiserver_verdict(kube_apiserver, manifest, namespace)


def test_the_upstream_conformance_manifests_are_accepted_by_both(
    kube_apiserver: KubeAPIServer, gateway_api: GatewayAPICRDs, namespace: str
) -> None:
    root = conformance_dir("gateway-api")
    count = 0
    for path in sorted(root.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not document or document.get("kind") not in CRD_FILES:
                continue
            count += 1
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert ours(document, namespace) == [], path
            assert apiserver_verdict(kube_apiserver, document, namespace) == [], path
    assert count > 20


def _leaves(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path into `value`'s spec (mappings and lists included, so they can be replaced)."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _leaves(item, (*path, index))
    return found


#: What a mutation puts somewhere: wrong types, empty values, bad strings, bounds.
REPLACEMENTS = st.one_of(
    st.sampled_from(
        ["", "A", "-a", "a b", "/a//b", "*", "GET", "%2F", "x" * 300, 0, -1, 65536, 1.5, True,
         [], {}, [""], {"": ""}, None, "Exact", "RegularExpression", "PathPrefix", "10s", "1x"]
    ),
    st.integers(min_value=-2, max_value=2_000_000),
    st.text(max_size=6),
)  # fmt: skip


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(manifest=examples.gateway_api_manifests, data=st.data())
def test_generated_and_mutated_objects_get_the_apiservers_verdict(
    kube_apiserver: KubeAPIServer,
    gateway_api: GatewayAPICRDs,
    namespace: str,
    manifest: Manifest,
    data: st.DataObject,
) -> None:
    mutated = copy.deepcopy(manifest)
    paths = _leaves(mutated["spec"])
    mutate: bool = data.draw(st.booleans(), label="mutate")
    if paths and mutate:
        path = data.draw(st.sampled_from(paths), label="path")
        node: Any = mutated["spec"]
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = data.draw(REPLACEMENTS, label="value")
    assert ours(mutated, namespace) == apiserver_verdict(kube_apiserver, mutated, namespace)


def test_the_vendored_crds_are_the_modules() -> None:
    # One version: the CRDs vendored for validation are those of the release the test
    # apiserver installs (tools/gateway-api/go.mod), byte for byte.
    directory = gateway_api_crd_dir()
    if not any(directory.glob("*.yaml")):
        skip_or_fail_in_ci(f"the Gateway API CRDs are not in {directory}: run make k8s-fixtures")
    vendored = Path(examples.__file__).parents[1] / "ingresslib" / "resources" / "crds"
    for name in CRD_FILES.values():
        text = (vendored / name).read_text()
        assert f"bundle-version: {gateway_api_version()}" in text, name
        assert (vendored / name).read_bytes() == (directory / name).read_bytes(), name
