"""The command line on Gateway API manifests: `check` prints the computed status,
`routes --gateway` and `explain --gateway` route one Gateway listener by listener.

The manifests are small and inline: one Gateway of ours with a listener that conflicts, an
HTTPS listener whose certificate is missing, a route no listener allows, a refused
cross-namespace backend, a parentRef to a Gateway that does not exist, and a Gateway of
another controller's class.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from ingresslib.cli import main
from tests.support import CONFORMANCE, conformance_dir

ROOT = Path(__file__).resolve().parents[1]

MANIFESTS = """
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: ours}
spec: {controllerName: example.com/gateway}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: theirs}
spec: {controllerName: example.com/other}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: ours
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes: {namespaces: {from: All}}
  - name: shop
    port: 8080
    protocol: HTTP
    hostname: "*.shop.test"
  - {name: dup-a, port: 9090, protocol: HTTP, hostname: dup.test}
  - name: dup-b
    port: 9090
    protocol: HTTPS
    hostname: dup.test
    tls: {certificateRefs: [{name: missing-tls}]}
  - name: secure
    port: 443
    protocol: HTTPS
    hostname: www.example.com
    tls: {certificateRefs: [{name: missing-tls}]}
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: other, namespace: infra}
spec:
  gatewayClassName: theirs
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: apps}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: apps, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: http}]
  hostnames: [www.example.com]
  rules:
  - backendRefs: [{name: web, port: 80, weight: 90}, {name: api, port: 8080, weight: 10}]
  - matches:
    - path: {type: Exact, value: /api}
      method: POST
      headers: [{name: x-env, value: canary}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-canary, value: "yes"}]}
    backendRefs: [{name: api, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /api}}]
    backendRefs: [{name: api, port: 8080}, {name: vault, namespace: secrets, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}, statusCode: 301}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cross, namespace: apps}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: shop}, {name: gone, namespace: infra}]
  rules:
  - backendRefs: [{name: web, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: from-elsewhere, namespace: secrets}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: elsewhere}]
  to: [{group: "", kind: Service}]
"""


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    (tmp_path / "gateway.yaml").write_text(MANIFESTS)
    return tmp_path


def cli(*args: str | Path) -> tuple[int, str, str]:
    """Run the command line in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in args], out, err)
    return status, out.getvalue(), err.getvalue()


def test_check_summarises_gateway_api_resources(manifests: Path) -> None:
    status, out, err = cli("check", manifests)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == (
        "ok: 9 resources (2 Gateway, 2 GatewayClass, 2 HTTPRoute, 1 ReferenceGrant, 2 Service)"
    )
    for line in (
        "  GatewayClass ours: controller=example.com/gateway",
        "  Gateway infra/gw: class=ours; listeners=http (HTTP :80), shop (HTTP :8080 "
        "*.shop.test), dup-a (HTTP :9090 dup.test), dup-b (HTTPS :9090 dup.test), "
        "secure (HTTPS :443 www.example.com)",
        "  HTTPRoute apps/web: 4 rule(s); hostnames=www.example.com; "
        "parentRefs=infra/gw section=http",
        "  HTTPRoute apps/cross: 1 rule(s); parentRefs=infra/gw section=shop,infra/gone",
        "  ReferenceGrant secrets/from-elsewhere: from=HTTPRoute in elsewhere; to=Service",
    ):
        assert line in lines


def test_check_prints_the_computed_status(manifests: Path) -> None:
    _, out, _ = cli("check", manifests)
    lines = out.splitlines()
    start = lines.index("status (every GatewayClass):")
    status = [line for line in lines[start + 1 :] if line.startswith("  ")]
    assert status == [
        "  GatewayClass ours: Accepted=True SupportedVersion=True",
        "  GatewayClass theirs: Accepted=True SupportedVersion=True",
        "  Gateway infra/gw: Accepted=True (ListenersNotValid: listeners not valid: dup-a, "
        "dup-b) Programmed=True",
        "    listener http (port 80, HTTP, hostname *): Accepted=True Programmed=True "
        "ResolvedRefs=True Conflicted=False attachedRoutes=1",
        "    listener shop (port 8080, HTTP, hostname *.shop.test): Accepted=True "
        "Programmed=True ResolvedRefs=True Conflicted=False attachedRoutes=0",
        "    listener dup-a (port 9090, HTTP, hostname dup.test): Accepted=False "
        "(ProtocolConflict) Programmed=False (Invalid) ResolvedRefs=True Conflicted=True "
        "(ProtocolConflict) attachedRoutes=0",
        "    listener dup-b (port 9090, HTTPS, hostname dup.test): Accepted=False "
        "(ProtocolConflict) Programmed=False (Invalid) ResolvedRefs=False "
        "(InvalidCertificateRef: Secret infra/missing-tls not found) Conflicted=True "
        "(ProtocolConflict) attachedRoutes=0",
        "    listener secure (port 443, HTTPS, hostname www.example.com): Accepted=True "
        "Programmed=False (Invalid) ResolvedRefs=False (InvalidCertificateRef: Secret "
        "infra/missing-tls not found) Conflicted=False attachedRoutes=0",
        "  Gateway infra/other: Accepted=True Programmed=True",
        "    listener http (port 80, HTTP, hostname *): Accepted=True Programmed=True "
        "ResolvedRefs=True Conflicted=False attachedRoutes=0",
        "  HTTPRoute apps/web -> infra/gw section=http: Accepted=True ResolvedRefs=False "
        "(RefNotPermitted: no ReferenceGrant allows a reference to Service secrets/vault)",
        "  HTTPRoute apps/cross -> infra/gw section=shop: Accepted=False "
        "(NotAllowedByListeners: no listener allows this route (kind or namespace)) "
        "ResolvedRefs=True",
    ]


def test_every_abnormal_condition_is_a_warning(manifests: Path) -> None:
    # A conflicting listener, an unresolved certificate, a refused cross-namespace
    # reference, a route no listener allows, a parent that does not exist: each is a
    # finding, and the exit status stays 0 (the manifests load).
    status, out, _ = cli("check", manifests)
    assert status == 0
    warnings = [line for line in out.splitlines() if line.startswith("warning:")]
    assert warnings == [
        "warning: Gateway infra/gw: spec.listeners[2] (listener dup-a): Accepted=False "
        "(ProtocolConflict)",
        "warning: Gateway infra/gw: spec.listeners[2] (listener dup-a): Programmed=False (Invalid)",
        "warning: Gateway infra/gw: spec.listeners[2] (listener dup-a): Conflicted=True "
        "(ProtocolConflict)",
        "warning: Gateway infra/gw: spec.listeners[3] (listener dup-b): Accepted=False "
        "(ProtocolConflict)",
        "warning: Gateway infra/gw: spec.listeners[3] (listener dup-b): Programmed=False (Invalid)",
        "warning: Gateway infra/gw: spec.listeners[3] (listener dup-b): ResolvedRefs=False "
        "(InvalidCertificateRef: Secret infra/missing-tls not found)",
        "warning: Gateway infra/gw: spec.listeners[3] (listener dup-b): Conflicted=True "
        "(ProtocolConflict)",
        "warning: Gateway infra/gw: spec.listeners[4] (listener secure): Programmed=False "
        "(Invalid)",
        "warning: Gateway infra/gw: spec.listeners[4] (listener secure): ResolvedRefs=False "
        "(InvalidCertificateRef: Secret infra/missing-tls not found)",
        "warning: HTTPRoute apps/web: spec.parentRefs[0] -> infra/gw section=http: "
        "ResolvedRefs=False (RefNotPermitted: no ReferenceGrant allows a reference to "
        "Service secrets/vault)",
        "warning: HTTPRoute apps/cross: spec.parentRefs[0] -> infra/gw section=shop: "
        "Accepted=False (NotAllowedByListeners: no listener allows this route (kind or "
        "namespace))",
        "warning: HTTPRoute apps/cross: spec.parentRefs[1]: Gateway infra/gone does not "
        "exist (the route is not attached there)",
    ]


def test_check_with_a_controller_reports_only_its_classes(manifests: Path) -> None:
    _, out, _ = cli("check", "--controller", "example.com/gateway", manifests)
    assert "status (controller example.com/gateway):" in out
    assert "  Gateway infra/gw: " in out
    assert "GatewayClass theirs: Accepted" not in out
    assert "  Gateway infra/other: Accepted" not in out
    _, theirs, _ = cli("check", "--controller", "example.com/nobody", manifests)
    assert "status (controller example.com/nobody): no Gateway of these classes" in theirs


def test_check_with_a_gateway_reports_that_gateway(manifests: Path) -> None:
    status, out, _ = cli("check", "-n", "infra", "--gateway", "other", manifests)
    assert status == 0
    assert "  Gateway infra/other: Accepted=True Programmed=True" in out
    assert "Gateway infra/gw: Accepted" not in out
    assert "warning:" not in out


def test_a_gateway_without_its_class_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
        "metadata: {name: lonely, namespace: infra}\n"
        "spec: {gatewayClassName: nowhere, listeners: [{name: h, port: 80, protocol: HTTP}]}\n"
    )
    status, out, _ = cli("check", tmp_path)
    assert status == 0
    assert "status (every GatewayClass): no Gateway of these classes" in out
    assert (
        "warning: Gateway infra/lonely: spec.gatewayClassName: GatewayClass 'nowhere' does "
        "not exist (the Gateway is not served and gets no status)"
    ) in out


def test_check_without_gateway_api_resources_prints_no_status() -> None:
    status, out, _ = cli("check", ROOT / "examples" / "basic")
    assert status == 0
    assert "status" not in out


def test_routes_lists_each_listener_with_its_rules(manifests: Path) -> None:
    status, out, err = cli("routes", "--gateway", "infra/gw", manifests)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Gateway infra/gw (class ours)"
    assert lines[1] == "listener http (port 80, HTTP, hostname *): 4 rule(s)"
    header, *rows = lines[2:7]
    assert header.split() == ["HOST", "PATH", "TYPE", "MATCH", "BACKENDS", "FILTERS", "SOURCE"]
    cells = [row.split("  ") for row in rows]
    assert [[c.strip() for c in row if c.strip()] for row in cells] == [
        [
            "www.example.com",
            "/api",
            "Exact",
            "method=POST header x-env=canary",
            "api:8080",
            "RequestHeaderModifier(set x-canary=yes)",
            "HTTPRoute apps/web spec.rules[1].matches[0]",
        ],
        [
            "www.example.com",
            "/api",
            "PathPrefix",
            "-",
            "api:8080 weight=1, secrets/vault:80 weight=1 (invalid)",
            "-",
            "HTTPRoute apps/web spec.rules[2].matches[0]",
        ],
        [
            "www.example.com",
            "/old",
            "PathPrefix",
            "-",
            "-",
            "RequestRedirect(301 ReplacePrefixMatch=/new)",
            "HTTPRoute apps/web spec.rules[3].matches[0]",
        ],
        [
            "www.example.com",
            "/",
            "PathPrefix",
            "-",
            "web:80 weight=90, api:8080 weight=10",
            "-",
            "HTTPRoute apps/web spec.rules[0].matches[0]",
        ],
    ]
    assert lines[7:] == [
        "  invalid: HTTPRoute apps/web spec.rules[2]: secrets/vault:80: no ReferenceGrant "
        "allows a reference to Service secrets/vault",
        "listener shop (port 8080, HTTP, hostname *.shop.test): 0 rule(s)",
        "listener dup-a (port 9090, HTTP, hostname dup.test): serves nothing: Accepted=False "
        "(ProtocolConflict) Programmed=False (Invalid) ResolvedRefs=True Conflicted=True "
        "(ProtocolConflict)",
        "listener dup-b (port 9090, HTTPS, hostname dup.test): serves nothing: Accepted=False "
        "(ProtocolConflict) Programmed=False (Invalid) ResolvedRefs=False "
        "(InvalidCertificateRef: Secret infra/missing-tls not found) Conflicted=True "
        "(ProtocolConflict)",
        "listener secure (port 443, HTTPS, hostname www.example.com): 0 rule(s); "
        "Programmed=False (Invalid) ResolvedRefs=False (InvalidCertificateRef: Secret "
        "infra/missing-tls not found)",
        "not attached: HTTPRoute apps/cross spec.parentRefs[0] -> infra/gw section=shop: "
        "NotAllowedByListeners: no listener allows this route (kind or namespace)",
    ]


def test_explain_takes_the_listener_of_the_url_port(manifests: Path) -> None:
    status, out, _ = cli(
        "explain",
        "--gateway",
        "infra/gw",
        "-X",
        "POST",
        "-H",
        "X-Env: canary",
        manifests,
        "http://www.example.com/api?debug=1",
    )
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == (
        "request: host='www.example.com' path='/api' method=POST X-Env: canary query='debug=1'"
    )
    assert lines[1].startswith("host: listener 'http' (port 80, no hostname) takes ")
    assert (
        "  /api Exact method=POST header x-env=canary (exact) -> api:8080 "
        "[HTTPRoute apps/web spec.rules[1].matches[0]]: chosen"
    ) in lines
    assert (
        "  / PathPrefix (prefix) -> web:80 weight=90, api:8080 weight=10 "
        "[HTTPRoute apps/web spec.rules[0].matches[0]]: matches, but loses by precedence: "
        "an Exact path match ranks before a PathPrefix one"
    ) in lines
    assert (
        "  HTTPRoute apps/web: www.example.com x * = www.example.com: takes "
        "'www.example.com' (the most specific route hostname that covers it)"
    ) in lines
    assert lines[-1] == "decision: forward /api to api:8080; request headers set x-canary=yes"


def test_explain_without_the_conditions_says_which_failed(manifests: Path) -> None:
    status, out, _ = cli(
        "explain", "--gateway", "infra/gw", manifests, "http://www.example.com/api"
    )
    assert status == 0
    assert (
        "[HTTPRoute apps/web spec.rules[1].matches[0]]: the path matches, but the method "
        "must be POST (not GET); header x-env=canary does not hold (absent)"
    ) in out
    assert "decision: forward /api to api:8080 weight=1, secrets/vault:80 weight=1 (invalid)" in out
    assert (
        "the share of secrets/vault:80 is answered 500: no ReferenceGrant allows a reference "
        "to Service secrets/vault"
    ) in out


def test_explain_a_redirect_and_a_miss(manifests: Path) -> None:
    _, out, _ = cli(
        "explain", "--gateway", "infra/gw", manifests, "http://www.example.com/old/page?x=1"
    )
    assert "decision: redirect 301 to http://www.example.com/new/page?x=1" in out
    # Port 8080 is the listener `shop`, whose only route was not allowed: 404, exit 3.
    status, out, _ = cli("explain", "--gateway", "infra/gw", manifests, "http://a.shop.test:8080/")
    assert status == 3
    assert "host: listener 'shop' (port 8080, hostname '*.shop.test') takes 'a.shop.test'" in out
    assert (
        "  HTTPRoute apps/cross (-> infra/gw section=shop): not attached: "
        "NotAllowedByListeners: no listener allows this route (kind or namespace)"
    ) in out
    assert out.endswith("decision: respond 404\n")
    # https:// is port 443: the listener `secure`, which has no route; port 7 has no listener.
    status, out, _ = cli("explain", "--gateway", "infra/gw", manifests, "https://www.example.com/")
    assert status == 3
    assert "listener 'secure' (port 443, hostname 'www.example.com')" in out
    status, out, _ = cli("explain", "--gateway", "infra/gw", manifests, "http://x.test:7/")
    assert status == 3
    assert "no listener of port 7 takes 'x.test' (listeners: none): 404" in out


def test_an_unknown_gateway_is_a_one_line_error(manifests: Path) -> None:
    for command in ("check", "routes"):
        result = subprocess.run(
            [sys.executable, "-m", "ingresslib", command, "--gateway", "infra/nope", manifests],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            timeout=60,
        )
        assert result.returncode == 1
        assert result.stdout == ""
        assert result.stderr == (
            f"ingresslib {command}: no Gateway infra/nope among the resources "
            "(Gateways: infra/gw, infra/other)\n"
        )
    status, out, err = cli("explain", "--gateway", "nope", manifests, "http://x/")
    assert (status, out) == (1, "")
    assert err == (
        "ingresslib explain: no Gateway default/nope among the resources "
        "(Gateways: infra/gw, infra/other)\n"
    )


def test_a_gateway_the_controller_does_not_serve_is_an_error(manifests: Path) -> None:
    status, out, err = cli(
        "routes", "--gateway", "infra/other", "--controller", "example.com/gateway", manifests
    )
    assert (status, out) == (1, "")
    assert err == (
        "ingresslib routes: Gateway infra/other is not served by --controller "
        "example.com/gateway: its GatewayClass 'theirs' has controllerName "
        "'example.com/other'\n"
    )
    # Without a controller, the Gateway is served whatever its class.
    status, out, _ = cli("routes", "--gateway", "infra/other", manifests)
    assert status == 0
    assert "listener http (port 80, HTTP, hostname *): 0 rule(s)" in out


def test_ingress_options_with_a_gateway_are_a_usage_error(
    manifests: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("routes", "--gateway", "infra/gw", "--ingress-class", "nginx", manifests)
    assert exited.value.code == 2
    assert "--ingress-class: Ingress options, not for --gateway" in capsys.readouterr().err


def test_a_rule_that_cannot_be_compiled_is_a_finding(manifests: Path) -> None:
    # The CRD does not check RE2 patterns: the rule is dropped (the others keep serving)
    # and the route's status says why; `check` still exits 0 (the manifests load).
    (manifests / "bad.yaml").write_text(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
        "metadata: {name: bad, namespace: apps}\n"
        "spec:\n  parentRefs: [{name: gw, namespace: infra, sectionName: http}]\n"
        "  rules:\n  - matches: [{headers: [{name: x, type: RegularExpression, value: '('}]}]\n"
        "    backendRefs: [{name: web, port: 80}]\n"
    )
    status, out, err = cli("check", manifests)
    assert (status, err) == (0, "")
    [finding] = [
        line for line in out.splitlines() if "HTTPRoute apps/bad" in line and "warning" in line
    ]
    assert (
        "Accepted=False (UnsupportedValue: spec.rules[0].matches[0]: x: invalid regular" in finding
    )


def _conformance_cases() -> list[str]:
    directory = CONFORMANCE / "gateway-api"
    return sorted(p.name for p in directory.glob("*.yaml")) if directory.is_dir() else []


@pytest.mark.parametrize("manifest", _conformance_cases() or ["(none)"])
def test_check_on_the_upstream_conformance_manifests(tmp_path: Path, manifest: str) -> None:
    # The upstream suite applies base/manifests.yaml and then each test's manifests, with
    # its GatewayClass named in {GATEWAY_CLASS_NAME}; we write what it would apply, with a
    # GatewayClass of ours. Every route attaches, except the one
    # HTTPRouteHostnameIntersection expects refused: `no-intersecting-hosts` names hostnames
    # that no listener of its Gateway intersects. (The suite creates the TLS Secret of the
    # HTTPS listeners at run time: without it, those listeners are findings here.)
    directory = conformance_dir("gateway-api")
    for name, source in (
        ("base.yaml", directory / "base" / "manifests.yaml"),
        ("case.yaml", directory / manifest),
    ):
        text = source.read_text().replace("{GATEWAY_CLASS_NAME}", "conformance")
        (tmp_path / name).write_text(text)
    (tmp_path / "class.yaml").write_text(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
        "metadata: {name: conformance}\nspec: {controllerName: example.com/gateway}\n"
    )
    status, out, err = cli("check", "--controller", "example.com/gateway", tmp_path)
    assert (status, err) == (0, "")
    route_lines = [line for line in out.splitlines() if line.startswith("  HTTPRoute ")]
    attached = [line for line in route_lines if " -> " in line]
    assert attached, "the manifest's routes name a Gateway of the base manifests"
    refused = [line for line in attached if "Accepted=False" in line]
    route_warnings = [line for line in out.splitlines() if line.startswith("warning: HTTPRoute ")]
    if manifest == "httproute-hostname-intersection.yaml":
        assert refused == [
            "  HTTPRoute gateway-conformance-infra/no-intersecting-hosts -> "
            "gateway-conformance-infra/httproute-hostname-intersection: Accepted=False "
            "(NoMatchingListenerHostname: no listener hostname intersects the route's "
            "hostnames) ResolvedRefs=True"
        ]
        assert route_warnings == [
            "warning: HTTPRoute gateway-conformance-infra/no-intersecting-hosts: "
            "spec.parentRefs[0] -> gateway-conformance-infra/httproute-hostname-intersection: "
            "Accepted=False (NoMatchingListenerHostname: no listener hostname intersects the "
            "route's hostnames)"
        ]
    else:
        assert (refused, route_warnings) == ([], [])
