"""The `ingresslib` command line, run as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingresslib", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )


def test_check_summarises_the_examples() -> None:
    result = run("check", "examples/basic/")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "ok: 10 resources (2 EndpointSlice, 2 Ingress, 1 IngressClass, 1 Secret, 4 Service)"
    )
    assert "  Ingress demo/catch-all: class=-; 0 path(s); defaultBackend=fallback:80" in lines
    assert "  IngressClass ingresslib: controller=ingresslib.dev/gateway (default)" in lines


def test_check_reports_problems_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\n"
        "spec:\n  rules:\n  - host: 1.2.3.4\n"
    )
    result = run("check", bad)
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        f"{bad}:6: Ingress default/x: spec.rules[0].host: "
        'Invalid value: "1.2.3.4": must be a DNS name, not an IP address'
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_check_warns_about_skipped_kinds(tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n")
    result = run("check", tmp_path)
    assert result.returncode == 0
    assert "warning:" in result.stdout
    assert "apps/v1 Deployment d: skipped (kind not modelled)" in result.stdout


def test_usage_errors_exit_2() -> None:
    assert run().returncode == 2
    assert run("check").returncode == 2


def test_check_reports_certificate_problems_per_ingress_field(tmp_path: Path) -> None:
    (tmp_path / "tls.yaml").write_text(
        """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: web}
spec:
  tls:
  - hosts: [shop.test]
    secretName: missing-tls
  - hosts: [blog.test]
    secretName: opaque
  rules:
  - host: shop.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: shop, port: {number: 80}}}}
---
apiVersion: v1
kind: Secret
metadata: {name: opaque, namespace: web}
type: Opaque
data: {token: c2VjcmV0}
"""
    )
    result = run("check", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (
        "warning: certificate: Ingress web/shop: spec.tls[0].secretName: "
        "Secret web/missing-tls does not exist"
    ) in result.stdout
    assert (
        "warning: certificate: Ingress web/shop: spec.tls[1].secretName: "
        "Secret web/opaque has type 'Opaque', not 'kubernetes.io/tls'"
    ) in result.stdout
