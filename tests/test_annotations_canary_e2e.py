"""ingress-nginx's canary end to end, through `ingresslib serve` (test/e2e/annotations/canary.go,
restated): which upstream answers, by header, header value, header pattern, cookie and
weight, in that order of precedence; distributions within a tolerance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.annotation_e2e import AnnotatedSite, echo_upstream

P = "nginx.ingress.kubernetes.io/"

CANARIES = {
    "header.test": {P + "canary-by-header": "CanaryByHeader"},
    "value.test": {
        P + "canary-by-header": "CanaryByHeader",
        P + "canary-by-header-value": "DoCanary",
    },
    "pattern.test": {
        P + "canary-by-header": "CanaryByHeader",
        P + "canary-by-header-pattern": "^Do[A-Z][a-z]+y$",
    },
    "cookie.test": {P + "canary-by-cookie": "CanaryByCookie"},
    "both.test": {
        P + "canary-by-header": "CanaryByHeader",
        P + "canary-by-cookie": "CanaryByCookie",
        P + "canary-weight": "100",
    },
    "all.test": {P + "canary-weight": "100"},
    "none.test": {P + "canary-weight": "0"},
    "half.test": {P + "canary-weight": "50"},
    "total.test": {P + "canary-weight": "1000", P + "canary-weight-total": "1000"},
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnnotatedSite]:
    directory: Path = tmp_path_factory.mktemp("canary")
    site = AnnotatedSite(directory)
    main, canary = echo_upstream("main"), echo_upstream("canary")
    site.service("main", main)
    site.service("canary", canary)
    for host, shaping in CANARIES.items():
        name = host.split(".")[0]
        site.ingress(name, host, [("/info", "Prefix", "main")], created="2024-01-01T00:00:00Z")
        site.ingress(
            f"{name}-canary",
            host,
            [("/info", "Prefix", "canary"), ("/elsewhere", "Prefix", "canary")],
            {P + "canary": "true", **shaping},
            created="2024-01-02T00:00:00Z",
        )
    site.start()
    yield site
    site.stop()
    main.close()
    canary.close()


def _upstream(site: AnnotatedSite, host: str, *headers: tuple[str, str]) -> str:
    response = site.request("/info", host=host, headers=headers)
    assert response.status == 200
    name: str = response.json()["upstream"]
    return name


@pytest.mark.parametrize(
    ("host", "headers", "expected"),
    [
        ("header.test", [("CanaryByHeader", "always")], "canary"),
        ("header.test", [("CanaryByHeader", "never")], "main"),
        ("header.test", [("CanaryByHeader", "badvalue")], "main"),
        ("header.test", [], "main"),
        ("value.test", [("CanaryByHeader", "DoCanary")], "canary"),
        ("value.test", [("CanaryByHeader", "always")], "main"),  # the value replaces "always"
        ("value.test", [("CanaryByHeader", "never")], "main"),
        ("pattern.test", [("CanaryByHeader", "DoCanary")], "canary"),
        ("pattern.test", [("CanaryByHeader", "DoNotCanary")], "main"),
        ("cookie.test", [("Cookie", "CanaryByCookie=always")], "canary"),
        ("cookie.test", [("Cookie", "a=b; CanaryByCookie=never")], "main"),
        ("cookie.test", [("Cookie", "CanaryByCookie=badvalue")], "main"),
        # The header decides before the cookie, the cookie before the weight.
        ("both.test", [("CanaryByHeader", "never"), ("Cookie", "CanaryByCookie=always")], "main"),
        ("both.test", [("CanaryByHeader", "x"), ("Cookie", "CanaryByCookie=never")], "main"),
        ("both.test", [("CanaryByHeader", "x"), ("Cookie", "CanaryByCookie=x")], "canary"),
        ("all.test", [], "canary"),
        ("none.test", [], "main"),
        ("total.test", [], "canary"),
    ],
)
def test_canary_routing(
    site: AnnotatedSite, host: str, headers: list[tuple[str, str]], expected: str
) -> None:
    assert _upstream(site, host, *headers) == expected


def test_canary_weight_splits_the_traffic(site: AnnotatedSite) -> None:
    counts = Counter(_upstream(site, "half.test") for _ in range(200))
    # Binomial(200, 0.5): 100 +- 35 is more than five standard deviations (7.07).
    assert 65 <= counts["canary"] <= 135, counts
    assert counts["canary"] + counts["main"] == 200


def test_a_canary_path_without_a_main_path_is_not_routed(site: AnnotatedSite) -> None:
    assert site.request("/elsewhere", host="header.test").status == 404
