"""ingress-nginx's limits end to end, through `ingresslib serve`: limit-rps, limit-rpm,
limit-connections (port of test/e2e/annotations/limitconnections.go), limit-allowlist,
proxy-body-size, proxy-read-timeout, backend-protocol.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.annotation_e2e import AnnotatedSite, echo_upstream
from tests.certificates import CA

P = "nginx.ingress.kubernetes.io/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnnotatedSite]:
    directory: Path = tmp_path_factory.mktemp("limits")
    site = AnnotatedSite(directory)
    echo = echo_upstream("echo")
    slow = echo_upstream("slow", delay=1.5)
    site.service("echo", echo)
    site.service("slow", slow)
    root = [("/", "Prefix", "echo")]
    site.ingress("rps", "rps.test", root, {P + "limit-rps": "1", P + "limit-burst-multiplier": "2"})
    site.ingress("rpm", "rpm.test", root, {P + "limit-rpm": "1", P + "limit-burst-multiplier": "1"})
    site.ingress(
        "exempt",
        "exempt.test",
        root,
        {
            P + "limit-rps": "1",
            P + "limit-burst-multiplier": "1",
            P + "limit-allowlist": "127.0.0.1",
        },
    )
    site.ingress("conn", "conn.test", [("/", "Prefix", "slow")], {P + "limit-connections": "3"})
    site.ingress("body", "body.test", root, {P + "proxy-body-size": "1k"})
    slow_root = [("/", "Prefix", "slow")]
    site.ingress("fast-read", "readtimeout.test", slow_root, {P + "proxy-read-timeout": "1"})
    site.ingress("slow-read", "readslow.test", slow_root, {P + "proxy-read-timeout": "5"})
    site.ingress("invalid", "invalid.test", root, {P + "limit-rps": "many"})
    site.start()
    yield site
    site.stop()
    echo.close()
    slow.close()


def test_limit_rps_admits_rate_times_multiplier_plus_one_at_once(site: AnnotatedSite) -> None:
    # limit_req burst=2 nodelay: the first request and two in excess pass, then 503.
    statuses = [site.request("/", host="rps.test").status for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [503, 503]


def test_limit_rpm(site: AnnotatedSite) -> None:
    statuses = [site.request("/", host="rpm.test").status for _ in range(3)]
    assert statuses == [200, 200, 503]


def test_limit_allowlist_exempts_the_client(site: AnnotatedSite) -> None:
    statuses = [site.request("/", host="exempt.test").status for _ in range(5)]
    assert statuses == [200] * 5


def test_limit_connections(site: AnnotatedSite) -> None:
    requests, limit = 8, 3
    with ThreadPoolExecutor(requests) as pool:
        statuses = list(
            pool.map(lambda _: site.request("/sleep", host="conn.test").status, range(requests))
        )
    assert statuses.count(200) == limit
    assert statuses.count(503) == requests - limit
    # The slots are given back when the responses are done.
    assert site.request("/after", host="conn.test").status == 200


def test_proxy_body_size(site: AnnotatedSite) -> None:
    small = site.request("/", host="body.test", method="POST", body=b"x" * 1024)
    assert small.status == 200
    assert small.json()["body_length"] == 1024
    large = site.request("/", host="body.test", method="POST", body=b"x" * 1025)
    assert large.status == 413


def test_an_invalid_limit_refuses_the_ingress(site: AnnotatedSite) -> None:
    # ValidateInt: a validation error, so Extract refuses the Ingress (404 here).
    assert site.request("/", host="invalid.test").status == 404


def test_proxy_read_timeout(site: AnnotatedSite) -> None:
    # The upstream answers after 1.5 s: a read timeout of 1 s is a 504, one of 5 s is not.
    assert site.request("/", host="readtimeout.test").status == 504
    assert site.request("/", host="readslow.test").status == 200


def test_backend_protocol_https(tmp_path: Path) -> None:
    """`backend-protocol: HTTPS`: TLS to the endpoint (not verified, as nginx's default)."""
    chain, key = CA().leaf("upstream.internal")
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "key.pem").write_bytes(key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "chain.pem", tmp_path / "key.pem")
    secure = echo_upstream("secure", tls=context)
    site = AnnotatedSite(tmp_path)
    site.service("secure", secure)
    site.ingress("tls", "tls.test", [("/", "Prefix", "secure")], {P + "backend-protocol": "HTTPS"})
    site.ingress("grpc", "grpc.test", [("/", "Prefix", "secure")], {P + "backend-protocol": "GRPC"})
    site.start()
    try:
        response = site.request("/x", host="tls.test")
        assert response.status == 200
        assert response.json()["tls"] is True
        assert site.request("/", host="grpc.test").status == 503  # not implemented: denied
    finally:
        site.stop()
        secure.close()
