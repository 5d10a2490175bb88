"""ingress-nginx's CORS, redirect and access annotations end to end, through `ingresslib serve`.

The expectations are those of ingress-nginx's e2e tests (test/e2e/annotations/cors.go,
redirect.go, ipallowlist.go, ipdenylist.go, auth.go), restated: one server, one host
per scenario, the client is 127.0.0.1.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from passlib.hash import apr_md5_crypt, sha512_crypt  # type: ignore[import-untyped]  # libpass ships no stubs

from tests.annotation_e2e import AnnotatedSite, Response, echo_upstream

P = "nginx.ingress.kubernetes.io/"

CORS_SITES = {
    "cors.test": {P + "enable-cors": "true"},
    "methods.cors.test": {P + "enable-cors": "true", P + "cors-allow-methods": "POST, GET"},
    "maxage.cors.test": {P + "enable-cors": "true", P + "cors-max-age": "200"},
    "nocred.cors.test": {P + "enable-cors": "true", P + "cors-allow-credentials": "false"},
    "expose.cors.test": {
        P + "enable-cors": "true",
        P + "cors-expose-headers": "X-CustomResponseHeader, X-CustomSecondHeader",
    },
    "list.cors.test": {
        P + "enable-cors": "true",
        P
        + "cors-allow-origin": "origin.cors.com:8080, https://origin2.cors.com, https://origin.com",
    },
    "wild.cors.test": {
        P + "enable-cors": "true",
        P + "cors-allow-origin": "http://*.origin.cors.com, http://*.origin.com:8080",
    },
    "off.cors.test": {P + "cors-allow-origin": "https://origin.com"},
}


def basic(user: str, password: str) -> tuple[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return ("Authorization", f"Basic {token}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnnotatedSite]:
    directory: Path = tmp_path_factory.mktemp("access")
    site = AnnotatedSite(directory)
    echo = echo_upstream("echo")
    site.service("echo", echo)
    root = [("/", "Prefix", "echo")]
    for host, cors in CORS_SITES.items():
        site.ingress(host.replace(".", "-"), host, root, cors)
    site.ingress("perm", "perm.test", root, {P + "permanent-redirect": "https://www.google.com"})
    site.ingress(
        "perm-code",
        "code.test",
        root,
        {P + "permanent-redirect": "https://www.google.com", P + "permanent-redirect-code": "308"},
    )
    site.ingress(
        "temporal",
        "temporal.test",
        root,
        {P + "permanent-redirect": "http://a.example", P + "temporal-redirect": "http://b.example"},
    )
    site.ingress("allowed", "allowed.test", root, {P + "allowlist-source-range": "127.0.0.1, ::1"})
    site.ingress("other", "other.test", root, {P + "whitelist-source-range": "10.0.0.0/8"})
    site.ingress(
        "denied",
        "denied.test",
        root,
        {P + "denylist-source-range": "127.0.0.0/8", P + "allowlist-source-range": "127.0.0.1"},
    )
    site.ingress("badrange", "badrange.test", root, {P + "allowlist-source-range": "10.0.0/8"})
    users = "\n".join(
        [
            "# comment",
            "foo:"
            + bcrypt.hashpw(b"bar", bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$"),
            "apr:" + apr_md5_crypt.hash("secret"),
            "sha:" + sha512_crypt.hash("secret"),
            "plain:{PLAIN}clear",
        ]
    )
    site.add(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "basic-auth", "namespace": "default"},
            "stringData": {"auth": users + "\n"},
        }
    )
    auth = {
        P + "auth-type": "basic",
        P + "auth-secret": "basic-auth",
        P + "auth-realm": "test auth",
    }
    site.ingress("auth", "auth.test", root, auth)
    site.ingress(
        "nosecret", "nosecret.test", root, {P + "auth-type": "basic", P + "auth-secret": "absent"}
    )
    site.start()
    yield site
    site.stop()
    echo.close()


def _cors(response: Response) -> dict[str, str]:
    return {k: v for k, v in response.headers if k.startswith("access-control-")}


def test_cors_defaults_answer_options_with_204(site: AnnotatedSite) -> None:
    preflight = site.request("/", host="cors.test", method="OPTIONS")
    assert preflight.status == 204
    assert _cors(preflight) == {
        "access-control-allow-origin": "*",
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, PUT, POST, DELETE, PATCH, OPTIONS",
        "access-control-allow-headers": (
            "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,"
            "Content-Type,Range,Authorization"
        ),
        "access-control-max-age": "1728000",
    }
    response = site.request("/", host="cors.test")
    assert response.status == 200
    assert response.header("access-control-allow-origin") == "*"


@pytest.mark.parametrize(
    ("host", "name", "value"),
    [
        ("methods.cors.test", "access-control-allow-methods", "POST, GET"),
        ("maxage.cors.test", "access-control-max-age", "200"),
        ("nocred.cors.test", "access-control-allow-credentials", None),
        (
            "expose.cors.test",
            "access-control-expose-headers",
            "X-CustomResponseHeader, X-CustomSecondHeader",
        ),
    ],
)
def test_cors_settings(site: AnnotatedSite, host: str, name: str, value: str | None) -> None:
    response = site.request("/", host=host, method="OPTIONS")
    assert response.status == 204
    assert response.header(name) == value


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        ("list.cors.test", "origin.cors.com:8080", False),  # no scheme: skipped from the list
        ("list.cors.test", "https://origin2.cors.com", True),
        ("list.cors.test", "https://origin.com", True),
        ("list.cors.test", "http://origin.com", False),
        ("wild.cors.test", "http://foo.origin.cors.com", True),
        ("wild.cors.test", "http://bar.foo.origin.cors.com", False),
        ("wild.cors.test", "http://abc.origin.com:8080", True),
        ("wild.cors.test", "http://abc.origin.com", False),
        ("off.cors.test", "https://origin.com", False),  # without enable-cors
    ],
)
def test_cors_origin_lists(site: AnnotatedSite, host: str, origin: str, allowed: bool) -> None:
    response = site.request("/", host=host, headers=[("Origin", origin)])
    assert response.status == 200
    assert response.header("access-control-allow-origin") == (origin if allowed else None)


def test_cors_preflight_of_a_refused_origin_reaches_the_upstream(site: AnnotatedSite) -> None:
    response = site.request(
        "/", host="list.cors.test", method="OPTIONS", headers=[("Origin", "https://evil.test")]
    )
    assert response.status == 200
    assert response.json()["method"] == "OPTIONS"


@pytest.mark.parametrize(
    ("host", "status", "location"),
    [
        ("perm.test", 301, "https://www.google.com"),
        ("code.test", 308, "https://www.google.com"),
        ("temporal.test", 302, "http://b.example"),
    ],
)
def test_fixed_redirects(site: AnnotatedSite, host: str, status: int, location: str) -> None:
    response = site.request("/some/path?q=1", host=host)
    assert response.status == status
    assert response.header("location") == location


def test_source_ranges(site: AnnotatedSite) -> None:
    assert site.request("/", host="allowed.test").status == 200
    assert site.request("/", host="other.test").status == 403
    # deny wins over allow.
    assert site.request("/", host="denied.test").status == 403
    # An invalid range: the location answers 503.
    assert site.request("/", host="badrange.test").status == 503


def test_basic_auth_challenges_with_the_realm(site: AnnotatedSite) -> None:
    response = site.request("/", host="auth.test")
    assert response.status == 401
    assert response.header("www-authenticate") == 'Basic realm="test auth"'
    wrong = site.request("/", host="auth.test", headers=[basic("foo", "wrong")])
    assert wrong.status == 401
    unknown = site.request("/", host="auth.test", headers=[basic("nobody", "bar")])
    assert unknown.status == 401


@pytest.mark.parametrize(
    ("user", "password"), [("foo", "bar"), ("apr", "secret"), ("sha", "secret"), ("plain", "clear")]
)
def test_basic_auth_accepts_nginx_hash_formats(
    site: AnnotatedSite, user: str, password: str
) -> None:
    response = site.request("/", host="auth.test", headers=[basic(user, password)])
    assert response.status == 200
    assert response.upstream_header("authorization") is None  # `proxy_set_header Authorization ""`


def test_basic_auth_without_its_secret_answers_503(site: AnnotatedSite) -> None:
    assert site.request("/", host="nosecret.test").status == 503
