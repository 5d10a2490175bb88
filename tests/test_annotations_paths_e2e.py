"""ingress-nginx's path and redirect annotations end to end, through `ingresslib serve`.

The behaviour is that of ingress-nginx's own e2e tests (test/e2e/annotations/rewrite.go,
approot.go, xforwardedprefix.go, forcesslredirect.go, preservetrailingslash.go,
sslredirect behaviour of lua_ingress.lua), restated here: each scenario has a host of
its own on one server, and the echo upstream reports the target, Host and headers it
received.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.annotation_e2e import AnnotatedSite, echo_upstream

P = "nginx.ingress.kubernetes.io/"
OLD, NEW = "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnnotatedSite]:
    directory: Path = tmp_path_factory.mktemp("paths")
    site = AnnotatedSite(directory)
    echo = echo_upstream("echo")
    site.service("echo", echo)
    prefix, specific = "Prefix", "ImplementationSpecific"
    # rewrite.go "should allow for custom rewrite parameters" and the docs' example.
    site.ingress(
        "capture",
        "rewrite.test",
        [("/something(/|$)(.*)", specific, "echo")],
        {P + "rewrite-target": "/$2", P + "use-regex": "true"},
    )
    # "should use correct longest path match": a rewrite of "/" leaves a longer path.
    site.ingress("kube-lego", "longest.test", [("/.well-known/acme/challenge", prefix, "echo")])
    site.ingress(
        "rewrite-index",
        "longest.test",
        [("/", prefix, "echo")],
        {P + "rewrite-target": "/new/backend"},
    )
    # "should use ~* location modifier if regex annotation is present".
    site.ingress("foo", "regex.test", [("/foo", prefix, "echo")], created=OLD)
    site.ingress(
        "regex",
        "regex.test",
        [("/foo.+", specific, "echo")],
        {P + "use-regex": "true", P + "rewrite-target": "/new/backend"},
        created=NEW,
    )
    # "should fail to use longest match for documented warning".
    site.ingress("foobar", "warning.test", [("/foo/bar/bar", prefix, "echo")], created=OLD)
    site.ingress(
        "regex3",
        "warning.test",
        [("/foo/bar/[a-z]{3}", specific, "echo")],
        {P + "use-regex": "true", P + "rewrite-target": "/new/backend"},
        created=NEW,
    )
    site.ingress(
        "custom",
        "custom.test",
        [("/foo/bar/(.+)", specific, "echo")],
        {P + "use-regex": "true", P + "rewrite-target": "/new/backend/$1"},
    )
    site.ingress("approot", "approot.test", [("/", prefix, "echo")], {P + "app-root": "/foo"})
    site.ingress(
        "xfp",
        "xfp.test",
        [("/", prefix, "echo")],
        {P + "x-forwarded-prefix": "/test/value", P + "rewrite-target": "/foo"},
    )
    site.ingress(
        "noxfp",
        "noxfp.test",
        [("/", prefix, "echo")],
        {P + "x-forwarded-prefix": "", P + "rewrite-target": "/foo"},
    )
    site.ingress(
        "vhost", "vhost.test", [("/", prefix, "echo")], {P + "upstream-vhost": "internal.example"}
    )
    site.ingress("force", "force.test", [("/", prefix, "echo")], {P + "force-ssl-redirect": "true"})
    tls = [{"hosts": ["keep.test"], "secretName": "keep-tls"}]
    site.ingress(
        "keep",
        "keep.test",
        [("/", prefix, "echo")],
        {P + "ssl-redirect": "true", P + "preserve-trailing-slash": "true"},
        tls=tls,
    )
    site.ingress(
        "trim",
        "trim.test",
        [("/", prefix, "echo")],
        tls=[{"hosts": ["trim.test"], "secretName": "t"}],
    )
    # alias.go: "should return status code 200 for host 'foo' and 'bar'".
    site.ingress(
        "aliased",
        "main.test",
        [("/a", prefix, "echo")],
        {P + "server-alias": "alias.test, main.test, other.test"},
        created=OLD,
    )
    site.ingress("second", "main.test", [("/b", prefix, "echo")], created=NEW)
    site.ingress("other", "other.test", [("/o", prefix, "echo")], created=NEW)
    site.start()
    yield site
    site.stop()
    echo.close()


@pytest.mark.parametrize(
    ("target", "upstream"),
    [
        ("/something", "/"),
        ("/something/", "/"),
        ("/something/new", "/new"),
        ("/something/new?x=1&y=2", "/new?x=1&y=2"),
        ("/SomeThing/Case", "/Case"),
    ],
)
def test_rewrite_target_substitutes_captures_and_keeps_the_query(
    site: AnnotatedSite, target: str, upstream: str
) -> None:
    response = site.request(target, host="rewrite.test")
    assert response.status == 200
    assert response.json()["target"] == upstream


def test_a_rewrite_of_root_leaves_the_longer_path_of_another_ingress(site: AnnotatedSite) -> None:
    challenge = site.request("/.well-known/acme/challenge", host="longest.test")
    assert challenge.json()["target"] == "/.well-known/acme/challenge"
    assert site.request("/anything", host="longest.test").json()["target"] == "/new/backend"


def test_use_regex_makes_the_hosts_other_paths_regexes(site: AnnotatedSite) -> None:
    # '/foo' matches '~* ^/foo' (the exact location added for the Prefix path).
    assert site.request("/foo", host="regex.test").json()["target"] == "/foo"
    # '/foo/bar' matches '~* ^/foo.+', the longest location, and is rewritten.
    assert site.request("/foo/bar", host="regex.test").json()["target"] == "/new/backend"


def test_regex_locations_are_tried_longest_first_not_by_kind(site: AnnotatedSite) -> None:
    # "/foo/bar/[a-z]{3}" is longer than "/foo/bar/bar": the regex wins (the documented
    # warning of ingress-nginx).
    assert site.request("/foo/bar/bar", host="warning.test").json()["target"] == "/new/backend"


def test_custom_rewrite_parameters(site: AnnotatedSite) -> None:
    response = site.request("/foo/bar/bar", host="custom.test")
    assert response.json()["target"] == "/new/backend/bar"


def test_app_root_redirects_the_root_only(site: AnnotatedSite) -> None:
    response = site.request("/", host="approot.test")
    assert response.status == 302
    assert response.header("location") == "http://approot.test/foo"
    assert site.request("/foo", host="approot.test").json()["target"] == "/foo"


def test_x_forwarded_prefix_is_sent_with_the_rewrite(site: AnnotatedSite) -> None:
    response = site.request("/", host="xfp.test")
    assert response.json()["target"] == "/foo"
    assert response.upstream_header("x-forwarded-prefix") == "/test/value"
    plain = site.request("/", host="noxfp.test")
    assert plain.json()["target"] == "/foo"
    assert plain.upstream_header("x-forwarded-prefix") is None


def test_upstream_vhost_is_the_host_sent_upstream(site: AnnotatedSite) -> None:
    response = site.request("/x", host="vhost.test")
    assert response.upstream_header("host") == "internal.example"


def _https(site: AnnotatedSite, host: str) -> str:
    assert site.process is not None
    port = site.process.https
    return f"https://{host}" if port == 443 else f"https://{host}:{port}"


def test_force_ssl_redirect_without_tls_drops_the_trailing_slash(site: AnnotatedSite) -> None:
    response = site.request("/", host="force.test")
    assert response.status == 308
    assert response.header("location") == _https(site, "force.test")
    deeper = site.request("/a/b/?q=1", host="force.test")
    assert deeper.header("location") == _https(site, "force.test") + "/a/b/?q=1"
    assert site.request("/a/", host="force.test").header("location") == (
        _https(site, "force.test") + "/a"
    )


def test_preserve_trailing_slash_keeps_it(site: AnnotatedSite) -> None:
    response = site.request("/", host="keep.test")
    assert response.status == 308
    assert response.header("location") == _https(site, "keep.test") + "/"
    trimmed = site.request("/", host="trim.test")
    assert trimmed.status == 308
    assert trimmed.header("location") == _https(site, "trim.test")


def test_server_alias_serves_every_path_of_the_host(site: AnnotatedSite) -> None:
    assert site.request("/a", host="alias.test").json()["target"] == "/a"
    # Another Ingress's path on the host: the alias names the whole server.
    assert site.request("/b", host="alias.test").json()["target"] == "/b"
    # An alias that is another server's name is dropped: other.test stays itself.
    assert site.request("/a", host="other.test").status == 404
    assert site.request("/o", host="other.test").status == 200
