"""ingress-nginx's endpoint choice end to end, through `ingresslib serve`: cookie affinity
(test/e2e/annotations/affinity.go, restated), upstream-hash-by, load-balance; a Service
with two endpoints that say which one answered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.annotation_e2e import AnnotatedSite, Response, echo_upstream

P = "nginx.ingress.kubernetes.io/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnnotatedSite]:
    directory: Path = tmp_path_factory.mktemp("balancing")
    site = AnnotatedSite(directory)
    first, second = echo_upstream("a"), echo_upstream("b")
    site.service("pair", first, second)
    root = [("/", "Prefix", "pair")]
    site.ingress(
        "sticky",
        "sticky.test",
        root,
        {P + "affinity": "cookie", P + "session-cookie-name": "SERVERID"},
    )
    site.ingress(
        "sticky-path",
        "path.test",
        [("/foo", "Prefix", "pair")],
        {
            P + "affinity": "cookie",
            P + "session-cookie-path": "/foo/bar",
            P + "session-cookie-max-age": "172800",
            P + "session-cookie-samesite": "Lax",
        },
    )
    site.ingress(
        "persistent",
        "persistent.test",
        root,
        {P + "affinity": "cookie", P + "affinity-mode": "persistent"},
    )
    site.ingress("hash", "hash.test", root, {P + "upstream-hash-by": "$request_uri"})
    site.ingress("ewma", "ewma.test", root, {P + "load-balance": "ewma"})
    site.ingress("plain", "plain.test", root)
    site.start()
    yield site
    site.stop()
    first.close()
    second.close()


def _upstream(response: Response) -> str:
    assert response.status == 200
    name: str = response.json()["upstream"]
    return name


def _cookie_pair(response: Response) -> str:
    cookie = response.header("set-cookie")
    assert cookie is not None
    return cookie.split(";", 1)[0]


@pytest.mark.parametrize("host", ["sticky.test", "persistent.test"])
def test_a_session_stays_on_its_endpoint(site: AnnotatedSite, host: str) -> None:
    first = site.request("/", host=host)
    pair = _cookie_pair(first)
    upstream = _upstream(first)
    for _ in range(10):
        again = site.request("/", host=host, headers=[("Cookie", pair)])
        assert _upstream(again) == upstream
        assert again.header("set-cookie") is None  # the session's cookie is still valid


def test_the_sticky_cookie_is_named_and_scoped(site: AnnotatedSite) -> None:
    cookie = site.request("/", host="sticky.test").header("set-cookie")
    assert cookie is not None
    assert cookie.startswith("SERVERID=")
    assert "; Path=/;" in cookie
    assert cookie.endswith("; HttpOnly")
    scoped = site.request("/foo", host="path.test").header("set-cookie")
    assert scoped is not None
    assert scoped.startswith("INGRESSCOOKIE=")
    assert "; Max-Age=172800;" in scoped
    assert "; Path=/foo/bar;" in scoped
    assert scoped.endswith("; HttpOnly; SameSite=Lax")


def test_new_sessions_are_spread(site: AnnotatedSite) -> None:
    counts = Counter(_upstream(site.request("/", host="sticky.test")) for _ in range(20))
    assert set(counts) == {"a", "b"}


def test_upstream_hash_by_keeps_a_uri_on_one_endpoint(site: AnnotatedSite) -> None:
    for uri in ("/x", "/y?q=1", "/z/w"):
        seen = {_upstream(site.request(uri, host="hash.test")) for _ in range(8)}
        assert len(seen) == 1, (uri, seen)
    spread = {_upstream(site.request(f"/item/{i}", host="hash.test")) for i in range(30)}
    assert spread == {"a", "b"}


@pytest.mark.parametrize("host", ["ewma.test", "plain.test"])
def test_load_balance_uses_every_endpoint(site: AnnotatedSite, host: str) -> None:
    counts = Counter(_upstream(site.request("/", host=host)) for _ in range(30))
    assert set(counts) == {"a", "b"}
