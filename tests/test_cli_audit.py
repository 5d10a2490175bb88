"""`ingresslib audit` and the annotation lines of `ingresslib check`, run as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ingresslib import testing
from tests.test_cli import run

NGINX = "nginx.ingress.kubernetes.io/"


def _write(tmp_path: Path, annotations: dict[str, str], name: str = "shop") -> Path:
    manifest = testing.ingress(
        name,
        [testing.ingress_rule("shop.example.com", ("/", "Prefix", "web"))],
        namespace="default",
        annotations=annotations,
    )
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(manifest))
    return path


def test_audit_lists_each_annotation_with_its_status(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            NGINX + "ssl-redirect": "false",
            NGINX + "enable-access-log": "false",
            NGINX + "server-snippet": "return 200;",
            NGINX + "made-up": "1",
            "example.com/other": "not ingress-nginx's: not listed",
        },
    )
    result = run("audit", path, "--format=json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["ingresses"]
    assert row["ingress"] == "default/shop"
    assert row["routed"] is False, "a snippet refuses the Ingress"
    statuses = {a["name"][len(NGINX) :]: a["status"] for a in row["annotations"]}
    assert statuses == {
        "enable-access-log": "not implemented",
        "made-up": "unknown",
        "server-snippet": "refused",
        "ssl-redirect": "implemented",
    }
    snippet = next(a for a in row["annotations"] if a["name"].endswith("server-snippet"))
    assert snippet["errors"][0].startswith("refused")
    assert "server block" in snippet["doc"]


def test_audit_text_and_strict(tmp_path: Path) -> None:
    path = _write(tmp_path, {NGINX + "ssl-redirect": "false"})
    result = run("audit", path)
    assert result.returncode == 0, result.stderr
    assert "Ingress default/shop\n" in result.stdout
    assert f"  {NGINX}ssl-redirect='false': implemented\n" in result.stdout
    assert result.stdout.endswith(
        "1 Ingress(es) with ingress-nginx annotations; 1 annotation(s): 1 implemented\n"
    )
    assert run("audit", path, "--strict").returncode == 0
    other = _write(tmp_path, {NGINX + "enable-access-log": "false"}, name="logs")
    assert run("audit", other, "--strict").returncode == 1
    assert run("audit").returncode == 1, "nothing to audit"


def test_check_reports_annotation_errors_and_exits_1(tmp_path: Path) -> None:
    path = _write(tmp_path, {NGINX + "auth-tls-secret": "default/ca"})
    result = run("check", path)
    assert result.returncode == 1, result.stdout
    assert (
        f"error: Ingress default/shop: metadata.annotations[{NGINX}auth-tls-secret]: "
        "not implemented, and it restricts access: every path of the Ingress answers 503 "
        "(fails closed)\n"
    ) in result.stdout


def test_check_warnings_alone_exit_0(tmp_path: Path) -> None:
    path = _write(tmp_path, {NGINX + "enable-access-log": "false"})
    result = run("check", path)
    assert result.returncode == 0, result.stdout
    assert (
        f"warning: Ingress default/shop: metadata.annotations[{NGINX}enable-access-log]: "
        "not implemented: ignored\n"
    ) in result.stdout


def test_migrate_writes_routes_that_load_and_reports_differences(tmp_path: Path) -> None:
    path = _write(tmp_path, {NGINX + "enable-access-log": "false"})
    output = tmp_path / "routes.yaml"
    result = run("migrate", path, "-o", output)
    assert result.returncode == 0, result.stderr
    documents = list(yaml.safe_load_all(output.read_text()))
    assert [d["kind"] for d in documents] == ["Gateway", "HTTPRoute"]
    assert (
        "differs: Ingress default/shop: "
        f"metadata.annotations[{NGINX}enable-access-log]: no Gateway API equivalent"
    ) in result.stderr
    assert result.stderr.endswith("not exact: 1 difference(s) listed above\n")
    assert run("migrate", path, "--strict", "-o", output).returncode == 1
    loaded = run("check", output)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    exact = _write(tmp_path, {}, name="plain")
    result = run("migrate", exact, "--strict")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "exact: the routes decide every request as the Ingresses do\n"
