"""load_manifests: every kind of source, Lists, skipped kinds, and how problems are reported."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

import ingresslib
from ingresslib import Ingress, IngressClass, ManifestError, Secret, Service
from ingresslib.resources import EndpointSlice, UnsupportedKindWarning
from tests.support import conformance_dir

INGRESS_YAML = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  rules:
    - host: example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: web, port: {number: 80}}
"""
SERVICE_YAML = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  ports: [{port: 80}]
"""


def problems_of(source: object, **kwargs: object) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        # Deliberately ill-typed sources and options: the errors are what is tested.
        ingresslib.load_manifests(source, **kwargs)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    return [str(problem) for problem in caught.value.errors]


def test_text_with_several_documents() -> None:
    resources = ingresslib.load_manifests(INGRESS_YAML + "---\n" + SERVICE_YAML + "---\n")
    assert [type(r) for r in resources] == [Ingress, Service]
    assert resources.ingresses[0].metadata.namespace == "default"
    assert resources.services[0].metadata.namespace == "shop"


def test_a_file_a_directory_and_sorted_recursive_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "svc.yml").write_text(SERVICE_YAML)
    (tmp_path / "a.yaml").write_text(INGRESS_YAML)
    (tmp_path / "c.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
                    "spec": {"ports": [{"port": 8080}]}})
    )  # fmt: skip
    (tmp_path / "notes.txt").write_text("not a manifest")
    resources = ingresslib.load_manifests(tmp_path)
    assert [r.name for r in resources] == ["web", "web", "api"]
    assert [r.name for r in ingresslib.load_manifests(str(tmp_path / "a.yaml"))] == ["web"]
    assert len(ingresslib.load_manifests([tmp_path / "a.yaml", tmp_path / "b"])) == 2


def test_mapping_and_iterable_of_mappings() -> None:
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "x"},
        "spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 1}}}},
    }
    assert len(ingresslib.load_manifests(ingress)) == 1
    other = {**ingress, "metadata": {"name": "y"}}
    assert [r.name for r in ingresslib.load_manifests(iter([ingress, other]))] == ["x", "y"]


def test_namespace_default_can_be_chosen() -> None:
    (ingress,) = ingresslib.load_manifests(INGRESS_YAML, namespace="team-a")
    assert ingress.namespace == "team-a"


@pytest.mark.parametrize("kind", ["List", "ServiceList"])
def test_list_kinds_are_expanded(kind: str) -> None:
    text = f"apiVersion: v1\nkind: {kind}\nitems:\n" + "".join(
        "  - " + line + "\n" if i == 0 else "    " + line + "\n"
        for i, line in enumerate(SERVICE_YAML.splitlines())
    )
    (service,) = ingresslib.load_manifests(text)
    assert service.name == "web"


def test_problem_in_a_list_item_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text(
        "apiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: v1\n    kind: Service\n    metadata: {name: ok}\n"
        "    spec: {ports: [{port: 80}]}\n"
        "  - apiVersion: v1\n    kind: Service\n    metadata: {name: bad}\n"
        "    spec:\n      ports:\n        - port: 70000\n"
    )
    # The absent targetPort defaults to the port, so the apiserver reports it too.
    assert problems_of(path) == [
        f"{path}:13: Service default/bad: spec.ports[0].{field}: "
        "Invalid value: 70000: must be between 1 and 65535, inclusive"
        for field in ("port", "targetPort")
    ]


def test_every_problem_of_every_document_is_reported_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        INGRESS_YAML.replace("example.com", "Example.com")
        + "---\n"
        + SERVICE_YAML.replace("port: 80", "port: '80'")
    )
    lines = problems_of(path)
    assert len(lines) == 2
    assert lines[0].startswith(f"{path}:7: Ingress default/web: spec.rules[0].host: Invalid value:")
    assert lines[1] == (
        f"{path}:19: Service shop/web: spec.ports[0].port: expected integer, got string"
    )
    with pytest.raises(ManifestError) as caught:
        ingresslib.load_manifests(path)
    problem = caught.value.errors[0]
    assert (problem.kind, problem.namespace, problem.name) == ("Ingress", "default", "web")
    assert (problem.field, problem.line, problem.source) == ("spec.rules[0].host", 7, str(path))
    assert str(caught.value).startswith("2 problems in the manifests:\n  ")


def test_inputs_without_file_are_numbered() -> None:
    lines = problems_of(SERVICE_YAML + "---\n" + SERVICE_YAML.replace("web", "1web"))
    assert lines[0].startswith("input #2: Service shop/1web: metadata.name: Invalid value:")


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n")
    (line,) = problems_of(path)
    assert line.startswith(f"{path}:5: malformed YAML:")


def test_duplicate_yaml_keys_are_refused() -> None:
    (line,) = problems_of("apiVersion: v1\nkind: Service\nkind: Secret\n")
    assert "malformed YAML" in line
    assert 'mapping key "kind" already defined at line 2' in line


def test_malformed_json_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "apiVersion": "v1",\n  "kind": \n}')
    (line,) = problems_of(path)
    assert line.startswith(f"{path}:4: invalid JSON:")


def test_timestamps_are_strings_in_yaml_and_parsed_to_utc() -> None:
    text = INGRESS_YAML.replace(
        "  name: web\n", "  name: web\n  creationTimestamp: 2024-05-06T07:08:09.5+02:00\n"
    )
    (ingress,) = ingresslib.load_manifests(text)
    assert ingress.metadata.creation_timestamp == datetime.datetime(
        2024, 5, 6, 5, 8, 9, tzinfo=datetime.timezone.utc
    )
    assert ingress.to_dict()["metadata"]["creationTimestamp"] == "2024-05-06T05:08:09Z"
    (line,) = problems_of(text.replace("2024-05-06T07:08:09.5+02:00", "yesterday"))
    assert "metadata.creationTimestamp: not an RFC 3339 time: 'yesterday'" in line


def test_unmodelled_kinds_warn_and_are_listed() -> None:
    text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\n"
    with pytest.warns(UnsupportedKindWarning, match="apps/v1 Deployment"):
        resources = ingresslib.load_manifests(text + "---\n" + SERVICE_YAML)
    assert len(resources) == 1
    (skipped,) = resources.skipped
    assert (skipped.kind, skipped.namespace, skipped.name) == ("Deployment", "x", "d")
    assert str(skipped) == "input #1: apps/v1 Deployment x/d: skipped (kind not modelled)"
    assert ingresslib.load_manifests(text, unknown_kinds="ignore").skipped == (skipped,)
    (line,) = problems_of(text, unknown_kinds="error")
    assert "kind: Unsupported value" in line


def test_removed_api_versions_are_errors_not_skips() -> None:
    (line,) = problems_of(INGRESS_YAML.replace("networking.k8s.io/v1", "extensions/v1beta1"))
    assert "no longer served since Kubernetes 1.22; use networking.k8s.io/v1" in line


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("- a\n- b\n", "input #1: a manifest must be a mapping (a YAML object)"),
        ("kind: Service\n", "input #1: Service: apiVersion: Required value"),
        ("apiVersion: v1\n", "input #1: kind: Required value"),
        ("missing-file.yaml", "missing-file.yaml: no such file or directory"),
    ],
)
def test_documents_that_are_not_objects(source: str, expected: str) -> None:
    assert problems_of(source) == [expected]


def test_same_object_twice_is_a_duplicate() -> None:
    (line,) = problems_of(SERVICE_YAML + "---\n" + SERVICE_YAML)
    assert line.startswith('input #2: Service shop/web: metadata.name: Duplicate value: "web"')


def test_cluster_scoped_namespace_is_cleared() -> None:
    (ingress_class,) = ingresslib.load_manifests(
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
         "metadata": {"name": "c", "namespace": "ignored"}, "spec": {"controller": "a.io/b"}}
    )  # fmt: skip
    assert isinstance(ingress_class, IngressClass)
    assert ingress_class.namespace == ""
    assert ingress_class.ref == "IngressClass c"


def test_secret_data_is_decoded_and_string_data_merged() -> None:
    (secret,) = ingresslib.load_manifests(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "tls"},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": "Q0VSVA==", "tls.key": "b2xk"},
            "stringData": {"tls.key": "KEY"},
        }
    )
    assert isinstance(secret, Secret)
    assert secret.is_tls
    assert (secret.certificate_pem, secret.private_key_pem) == (b"CERT", b"KEY")
    assert secret.to_dict()["data"] == {"tls.crt": "Q0VSVA==", "tls.key": "S0VZ"}


def test_null_is_absent_as_in_go() -> None:
    (ingress,) = ingresslib.load_manifests(
        INGRESS_YAML.replace("  name: web\n", "  name: web\n  labels: null\n  annotations: ~\n")
    )
    assert dict(ingress.metadata.labels) == {}


def test_endpoint_conditions_keep_absent_apart_from_false() -> None:
    (slice_,) = ingresslib.load_manifests(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": "s", "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.0.0.1"]},
                {"addresses": ["10.0.0.2"], "conditions": {"ready": False, "serving": True}},
                {"addresses": ["10.0.0.3"], "conditions": {"terminating": True}},
            ],
        }
    )
    assert isinstance(slice_, EndpointSlice)
    assert slice_.service_name == "web"
    first, second, third = (e.conditions for e in slice_.endpoints)
    assert (first.ready, first.is_ready, first.is_serving, first.is_terminating) == (
        None, True, True, False,
    )  # fmt: skip
    assert (second.is_ready, second.is_serving) == (False, True)
    assert (third.is_terminating, third.is_ready) == (True, True)
    assert "conditions" not in slice_.to_dict()["endpoints"][0]
    assert slice_.to_dict()["endpoints"][1]["conditions"] == {"ready": False, "serving": True}


def test_upstream_conformance_manifests_load() -> None:
    features = conformance_dir("ingress-controller-conformance", "manifests")
    resources = ingresslib.load_manifests(
        [features / name for name in ("path_rules.yaml", "host_rules.yaml", "ingress_class.yaml")]
    )
    assert len(resources.ingresses) == 3
    docs = ingresslib.load_manifests(conformance_dir("k8s-docs"))
    assert {i.name for i in docs.ingresses} == {
        "ingress-wildcard-host",
        "name-virtual-host-ingress-no-third-host",
    }
    # The Gateway API ones (each file alone: they reuse names) in tests/test_gateway_resources.py.
    base = ingresslib.load_manifests(conformance_dir("gateway-api", "base"), unknown_kinds="ignore")
    assert base.services
    assert base.gateways
    assert base.namespaces


def test_one_line_json_text_longer_than_a_file_name_is_text() -> None:
    doc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "annotations":
           {"note": "x" * 5000}}, "spec": {"ports": [{"port": 1}]}}  # fmt: skip
    assert len(ingresslib.load_manifests(json.dumps(doc))) == 1


def test_a_missing_path_without_suffix_is_reported_as_missing() -> None:
    assert problems_of("k8s") == ["k8s: no such file or directory"]


def test_yaml_merge_keys_are_read_like_kubectl() -> None:
    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: a, labels: &l {app: web}}\n"
        "spec:\n  selector: {<<: *l, tier: x}\n  ports: [{port: 1}]\n"
    )
    (service,) = ingresslib.load_manifests(text)
    assert isinstance(service, Service)
    assert dict(service.spec.selector) == {"app": "web", "tier": "x"}


def test_wrapped_base64_is_decoded_as_go_decodes_it() -> None:
    text = (
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n"
        "  greeting: |\n    aGVs\n    bG8=\n"
    )
    (secret,) = ingresslib.load_manifests(text)
    assert isinstance(secret, Secret)
    assert secret.data["greeting"] == b"hello"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("127.0.0.1", "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
        ("0.0.0.0", "may not be unspecified (0.0.0.0)"),
        ("169.254.169.254", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
        ("224.0.0.5", "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"),
    ],
)
def test_endpoint_addresses_may_not_be_special(address: str, message: str) -> None:
    doc = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": {"name": "s"}, "addressType": "IPv4",
           "endpoints": [{"addresses": [address]}]}  # fmt: skip
    assert problems_of(doc) == [
        f"input #1: EndpointSlice default/s: endpoints[0].addresses[0]: "
        f'Invalid value: "{address}": {message}'
    ]
    if address == "127.0.0.1":
        # Local development and tests may opt in to loopback backends.
        assert len(ingresslib.load_manifests(doc, allow_loopback_endpoints=True)) == 1
