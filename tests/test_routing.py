"""RouteTable: classes, default backends, plugins, snapshots, lint and the CLI commands."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest

import ingresslib
from ingresslib import IngressBackend, RouteTable, RouteTableError
from ingresslib.plugins import (
    CompiledPath,
    PathMatcherError,
    available_path_matchers,
    get_path_matcher,
    register_path_matcher,
)
from ingresslib.routing import lint
from ingresslib.testing import ingress, ingress_class
from ingresslib.testing import ingress_rule as rule

ROOT = Path(__file__).resolve().parents[1]


def build(*docs: dict[str, Any], **options: Any) -> RouteTable:
    return RouteTable.build(ingresslib.load_manifests(list(docs)), **options)


def service_of(table: RouteTable, host: str | None, path: str) -> str | None:
    match = table.match(host, path)
    return None if match is None else match.backend.describe()


class TestClassSelection:
    DOCS = (
        ingress_class("ours", "example.com/ours"),
        ingress_class("theirs", "example.com/theirs"),
        ingress("a", [rule("a.com", ("/", "Prefix", "a"))], ingress_class="ours"),
        ingress("b", [rule("b.com", ("/", "Prefix", "b"))], ingress_class="theirs"),
        ingress("c", [rule("c.com", ("/", "Prefix", "c"))]),
        ingress("d", [rule("d.com", ("/", "Prefix", "d"))],
                annotations={"kubernetes.io/ingress.class": "ours"}),
    )  # fmt: skip

    def test_library_use_takes_every_ingress(self) -> None:
        table = build(*self.DOCS)
        assert [service_of(table, h, "/") for h in ("a.com", "b.com", "c.com", "d.com")] == [
            "a:80", "b:80", "c:80", "d:80",
        ]  # fmt: skip

    def test_controller_takes_its_classes_and_the_legacy_annotation(self) -> None:
        table = build(*self.DOCS, controller="example.com/ours")
        assert [service_of(table, h, "/") for h in ("a.com", "b.com", "c.com", "d.com")] == [
            "a:80", None, None, "d:80",
        ]  # fmt: skip
        assert {i.name for i in table.ignored_ingresses} == {"b", "c"}

    def test_ingress_class_name_alone(self) -> None:
        table = build(*self.DOCS, ingress_class="theirs")
        assert service_of(table, "b.com", "/") == "b:80"
        assert service_of(table, "a.com", "/") is None

    def test_default_class_takes_ingresses_without_class(self) -> None:
        docs = (ingress_class("ours", "example.com/ours", default=True), *self.DOCS[1:])
        table = build(*docs, controller="example.com/ours")
        assert service_of(table, "c.com", "/") == "c:80"

    def test_watch_without_class(self) -> None:
        table = build(*self.DOCS, controller="example.com/ours", watch_without_class=True)
        assert service_of(table, "c.com", "/") == "c:80"
        assert service_of(table, "b.com", "/") is None


class TestDefaultBackends:
    def test_host_default_then_catch_all_then_controller(self) -> None:
        table = build(
            ingress("old", [rule("a.com", ("/x", "Exact", "x"))], default_backend="old-default",
                    created="2020-01-01T00:00:00Z"),
            ingress("new", [rule("a.com", ("/y", "Exact", "y"))], default_backend="new-default",
                    created="2021-01-01T00:00:00Z"),
            ingress("other", [rule("b.com", ("/z", "Exact", "z"))]),
            default_backend=IngressBackend(),
        )  # fmt: skip
        match = table.match("a.com", "/nope")
        assert match is not None
        assert (match.backend.describe(), match.matched_by, match.host) == (
            "old-default:80", "host-default", "a.com",
        )  # fmt: skip
        # b.com has no Ingress default: the controller's default backend.
        match = table.match("b.com", "/nope")
        assert match is not None
        assert match.matched_by == "controller-default"
        assert match.ingress is None
        # An unclaimed host: the oldest Ingress default backend is the catch-all.
        match = table.match("c.com", "/")
        assert match is not None
        assert (match.backend.describe(), match.matched_by, match.host) == (
            "old-default:80", "default", None,
        )  # fmt: skip

    def test_no_default_anywhere_is_none(self) -> None:
        table = build(ingress("a", [rule("a.com", ("/x", "Exact", "x"))]))
        assert table.match("a.com", "/y") is None
        assert table.match("b.com", "/x") is None


class TestPathMatchers:
    def test_builtins_are_available(self) -> None:
        assert {"prefix", "exact", "string-prefix", "regex"} <= set(available_path_matchers())

    def test_implementation_specific_defaults_to_prefix(self) -> None:
        table = build(ingress("a", [rule(None, ("/foo", "ImplementationSpecific", "f"))]))
        assert service_of(table, None, "/foo/bar") == "f:80"
        assert service_of(table, None, "/foobar") is None

    def test_string_prefix_is_nginx_plain_prefix(self) -> None:
        doc = ingress("a", [rule(None, ("/foo", "ImplementationSpecific", "f"),
                                 ("/", "Prefix", "root"))])  # fmt: skip
        table = build(doc, implementation_specific="string-prefix")
        assert service_of(table, None, "/foobar") == "f:80"
        assert service_of(table, None, "/fo") == "root:80"

    def test_regex_by_annotation_ranks_after_literal_paths(self) -> None:
        doc = ingress(
            "a",
            [rule("a.com", ("/api/v[0-9]+/users", "ImplementationSpecific", "users"),
                  ("/api/v1", "Prefix", "v1"))],
            annotations={"ingresslib.dev/path-matcher": "regex"},
        )  # fmt: skip
        table = build(doc)
        assert service_of(table, "a.com", "/API/V2/users/7") == "users:80"  # case-insensitive
        assert service_of(table, "a.com", "/api/v1/users") == "v1:80"  # literal first
        assert service_of(table, "a.com", "/x/api/v2/users") is None  # anchored at the start

    def test_bad_regex_fails_at_build_time(self) -> None:
        doc = ingress("a", [rule(None, ("/(unclosed", "ImplementationSpecific", "x"))])
        with pytest.raises(RouteTableError, match=r"Ingress default/a: spec.rules\[0\]"):
            build(doc, implementation_specific="regex")

    def test_unknown_matcher_fails_at_build_time(self) -> None:
        doc = ingress("a", [rule(None, ("/", "ImplementationSpecific", "x"))])
        with pytest.raises(RouteTableError, match="no path matcher named 'glob'"):
            build(doc, implementation_specific="glob")

    def test_third_party_matcher(self) -> None:
        @attrs.frozen
        class Suffix:
            name: str = "test-suffix"

            def compile(self, path: str) -> CompiledPath:
                return CompiledPath(
                    kind="pattern", key=path, length=len(path), matches=lambda p: p.endswith(path)
                )

        register_path_matcher(Suffix(), replace=True)
        with pytest.raises(PathMatcherError, match="built-in"):
            register_path_matcher(Suffix(name="prefix"), replace=True)
        assert get_path_matcher("test-suffix").name == "test-suffix"
        with pytest.raises(PathMatcherError, match="is registered"):
            register_path_matcher(Suffix())
        table = build(
            ingress("a", [rule(None, ("/logo.png", "ImplementationSpecific", "images"))]),
            implementation_specific="test-suffix",
        )
        assert service_of(table, None, "/static/logo.png") == "images:80"
        assert service_of(table, None, "/static/logo.jpg") is None


class TestSnapshots:
    def test_identical_claims_oldest_wins_then_namespace_name(self) -> None:
        docs = [
            ingress("b", [rule("a.com", ("/x", "Prefix", "b"))]),
            ingress("a", [rule("a.com", ("/x/", "Prefix", "a"))]),
            ingress("z", [rule("a.com", ("/x", "Prefix", "z"))], created="2020-01-01T00:00:00Z"),
        ]
        table = build(*docs)
        assert service_of(table, "a.com", "/x") == "z:80"
        assert sorted(c.loser.ingress.name for c in table.conflicts()) == ["a", "b"]
        table = build(*docs[:2])
        assert service_of(table, "a.com", "/x") == "a:80"

    def test_with_changes_shares_untouched_hosts_and_leaves_the_old_table_alone(self) -> None:
        resources = ingresslib.load_manifests(
            [ingress("a", [rule("a.com", ("/", "Prefix", "a"))]),
             ingress("b", [rule("b.com", ("/", "Prefix", "b"))])]
        )  # fmt: skip
        table = RouteTable.build(resources)
        (changed,) = ingresslib.load_manifests(ingress("a", [rule("a.com", ("/", "Prefix", "a2"))]))
        newer = table.with_changes(upserted=[changed])
        assert service_of(newer, "a.com", "/") == "a2:80"
        assert service_of(table, "a.com", "/") == "a:80"
        assert newer._vhost("b.com") is table._vhost("b.com")
        gone = newer.with_changes(deleted=[("default", "b")])
        assert service_of(gone, "b.com", "/") is None

    def test_readers_never_fail_while_tables_are_swapped(self) -> None:
        tables = [build(ingress("a", [rule("a.com", ("/", "Prefix", f"s{i}"))])) for i in range(2)]
        current = tables[0]
        errors: list[BaseException] = []
        stop = threading.Event()

        def reader() -> None:
            try:
                while not stop.is_set():
                    assert service_of(current, "a.com", "/x") in {"s0:80", "s1:80"}
            except BaseException as error:  # noqa: BLE001 -- collected and asserted below
                errors.append(error)

        threads = [threading.Thread(target=reader) for _ in range(4)]
        for thread in threads:
            thread.start()
        for i in range(2000):
            current = tables[i % 2]
        stop.set()
        for thread in threads:
            thread.join()
        assert errors == []


def test_lint_findings() -> None:
    docs = [
        ingress("old", [rule("a.com", ("/x", "Prefix", "web"))], created="2020-01-01T00:00:00Z"),
        ingress("new", [rule("a.com", ("/x", "Prefix", "web"))],
                tls=[{"hosts": ["nothing.com"], "secretName": "s"}]),
        ingress("re", [rule("b.com", ("/", "Prefix", "web"),
                            ("/v[0-9]", "ImplementationSpecific", "web"))],
                annotations={"ingresslib.dev/path-matcher": "regex"}),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "other"},
         "spec": {"ports": [{"port": 80}]}},
    ]  # fmt: skip
    resources = ingresslib.load_manifests(docs)
    findings = [str(f) for f in lint(RouteTable.build(resources), resources)]
    assert any(
        "Ingress default/new: spec.rules[0].http.paths[0]: never used" in f for f in findings
    )
    assert any("TLS host 'nothing.com' has no rule" in f for f in findings)
    assert any("shadowed: the regex path '/v[0-9]'" in f for f in findings)
    assert any("Service default/web does not exist" in f for f in findings)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ingresslib", *args], capture_output=True,
                          text=True, check=False, cwd=ROOT, timeout=60)  # fmt: skip


def test_cli_routes_and_explain_on_the_examples() -> None:
    routes = run_cli("routes", "examples/basic/")
    assert routes.returncode == 0, routes.stderr
    assert "shop.example.com    /api/health  Exact   exact    health:8081      demo/shop" in (
        routes.stdout
    )
    explained = run_cli(
        "explain", "examples/basic/", "https://me:pw@SHOP.example.com:443/api/x?q=1"
    )
    assert explained.returncode == 0, explained.stderr
    assert "result: api:8080 by path '/api' (Prefix) from Ingress demo/shop" in explained.stdout
    assert "/api/health Exact (exact) -> health:8081" in explained.stdout
    nothing = run_cli("explain", "examples/basic/ingress-class.yaml", "http://x/")
    assert nothing.returncode == 3
    assert "result: no route (404)" in nothing.stdout


def test_path_matcher_from_an_installed_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real (tiny) installed distribution that declares the entry point, found on sys.path.
    package = tmp_path / "acme_matchers.py"
    package.write_text(
        "import attrs\n"
        "from ingresslib.plugins import CompiledPath\n"
        "@attrs.frozen\n"
        "class Glob:\n"
        "    name: str = 'acme-glob'\n"
        "    def compile(self, path):\n"
        "        import fnmatch\n"
        "        return CompiledPath(kind='pattern', key=path, length=len(path),\n"
        "                            matches=lambda p: fnmatch.fnmatchcase(p, path))\n"
    )
    dist = tmp_path / "acme_matchers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-matchers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[ingresslib.path_matchers]\nacme-glob = acme_matchers:Glob\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    from ingresslib.plugins import _path_matchers

    monkeypatch.setattr(_path_matchers, "_entry_points_loaded", False)
    monkeypatch.setattr(_path_matchers, "_registry", dict(_path_matchers._registry))
    assert "acme-glob" in available_path_matchers()
    table = build(
        ingress("a", [rule(None, ("/img/*.png", "ImplementationSpecific", "images"))]),
        implementation_specific="acme-glob",
    )
    assert service_of(table, None, "/img/logo.png") == "images:80"
    assert service_of(table, None, "/img/logo.gif") is None


def test_hosts_fold_ascii_case_only() -> None:
    table = build(ingress("k", [rule("kube.example.com", ("/", "Prefix", "kube"))]))
    assert service_of(table, "KUBE.Example.COM", "/") == "kube:80"
    # KELVIN SIGN lower-cases to "k" in Unicode, but it is not the rule host's "k".
    assert service_of(table, "\u212aube.example.com", "/") is None


def test_string_prefix_and_regex_paths_together() -> None:
    doc = ingress(
        "a",
        [rule(None, ("/static", "ImplementationSpecific", "static"))],
        annotations={"ingresslib.dev/path-matcher": "string-prefix"},
    )
    regex = ingress(
        "b",
        [rule(None, ("/api/v[0-9]+", "ImplementationSpecific", "api"))],
        annotations={"ingresslib.dev/path-matcher": "regex"},
    )
    table = build(doc, regex)
    assert service_of(table, None, "/staticfiles/x") == "static:80"
    # No literal path matches: the regex path is consulted.
    assert service_of(table, None, "/api/v2/x") == "api:80"
    assert service_of(table, None, "/other") is None


def test_huge_host_values_are_not_remembered() -> None:
    table = build(ingress("a", [rule("a.com", ("/", "Prefix", "a"))]))
    for i in range(50):
        assert table.match(f"{i}" + "x" * 10_000, "/") is None
    assert table._host_cache == {}
    assert service_of(table, "A.com:80", "/") == "a:80"
    assert "A.com:80" in table._host_cache
