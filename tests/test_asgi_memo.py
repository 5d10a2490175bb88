"""IngressMiddleware's dispatch memo against the plain decision, by Hypothesis.

The middleware remembers, per table, the decision for each (Host, path) pair it saw. The
reference here is what the memo replaces, computed for every request from scratch:
`table.match(host, path)`, then the in-process app of the backend ("namespace/name", then
"name"), else the wrapped app (no match) or a 503 (no app for the backend). Tables and the
service apps are swapped at random points of the request sequence.
"""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ingresslib
from ingresslib.asgi import (
    MATCH_SCOPE_KEY,
    ASGIApp,
    IngressMiddleware,
    Message,
    Receive,
    Scope,
    Send,
)
from ingresslib.routing import DecisionPolicy, Request, RouteMatch, RouteTable
from tests.test_routing_reference import Manifest, derived_requests, ingress_sets, requests

Step = tuple[str, Any]


class Recorder:
    """An ASGI app that records which of the apps under test answered, and with what match."""

    def __init__(self, name: str, log: list[tuple[str, RouteMatch | None]]) -> None:
        self.name = name
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.log.append((self.name, scope[MATCH_SCOPE_KEY]))


def reference(
    table: RouteTable, services: dict[str, ASGIApp], host: str | None, path: str
) -> tuple[str, RouteMatch | None]:
    # The plain decision: what `RouteTable.decide` says for this request, unmemoised.
    decision = table.decide(
        Request(host=host, path=path or "/"), DecisionPolicy(https_redirect=False)
    )
    match = decision.match
    if decision.action != "forward" or match is None:
        if match is None and decision.status == 404:
            return "wrapped", None
        return str(decision.status), None
    service = match.backend.service
    if service is not None:
        for key in (
            f"{match.ingress.metadata.namespace}/{service.name}" if match.ingress else None,
            service.name,
        ):
            app = services.get(key) if key else None
            if isinstance(app, Recorder):
                return app.name, match
    return "503", match


def run_request(middleware: IngressMiddleware, host: str | None, path: str) -> list[Any]:
    sent: list[Any] = []
    headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    scope = {
        "type": "http",
        "scheme": "http",
        "method": "GET",
        "path": path or "/",
        "raw_path": path.encode("latin-1"),
        "query_string": b"",
        "headers": headers,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    manifest_sets=st.lists(ingress_sets(), min_size=1, max_size=3),
    data=st.data(),
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("request"), st.integers(0, 5)),
            st.tuples(st.just("table"), st.integers(0, 2)),
            st.tuples(st.just("services"), st.integers(0, 3)),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_memoised_dispatch_agrees_with_the_plain_decision(
    manifest_sets: list[list[Manifest]], data: st.DataObject, steps: list[Step]
) -> None:
    log: list[tuple[str, RouteMatch | None]] = []
    loaded = [ingresslib.load_manifests(m) for m in manifest_sets]
    tables = [RouteTable.build(resources) for resources in loaded]
    # A few requests, repeated across the swaps (repeats are what the memo answers), drawn
    # from the tables' own rules and at random.
    aimed = [r for resources in loaded for r in derived_requests(list(resources.ingresses))]
    pool = data.draw(
        st.lists((st.sampled_from(aimed) if aimed else requests) | requests, min_size=1, max_size=6)
    )
    names = sorted(
        {
            route.http_path.backend.service.name
            for table in tables
            for route in table.routes()
            if route.http_path.backend.service is not None
        }
    )
    # Service app sets: none, every other Service by name, all by name, and by namespace/name.
    service_sets: list[dict[str, ASGIApp]] = [
        {},
        {name: Recorder(f"app:{name}", log) for name in names[::2]},
        {name: Recorder(f"app:{name}", log) for name in names},
        {
            f"{route.ingress.metadata.namespace}/{route.http_path.backend.service.name}": Recorder(
                f"ns-app:{route.http_path.backend.service.name}", log
            )
            for table in tables
            for route in table.routes()
            if route.http_path.backend.service is not None
        },
    ]
    table, services = tables[0], service_sets[0]
    middleware = IngressMiddleware(
        Recorder("wrapped", log), table, services=services, https_redirect=False
    )
    for kind, value in steps:
        if kind == "table":
            table = tables[value % len(tables)]
            middleware.table = table
        elif kind == "services":
            services = service_sets[value]
            middleware.services = services
        else:
            host, path = pool[value % len(pool)]
            log.clear()
            sent = run_request(middleware, host, path)
            expected = reference(table, services, host, path)
            if expected[0].isdigit():
                assert log == [], (host, path)
                assert sent[0]["status"] == int(expected[0]), (host, path)
            else:
                assert log == [expected], (host, path)


def test_the_memo_is_bounded_and_long_targets_are_not_kept() -> None:
    manifests = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "rules": [
                    {
                        "host": "shop.test",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "web", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        }
    ]
    log: list[tuple[str, RouteMatch | None]] = []
    table = RouteTable.build(ingresslib.load_manifests(manifests))
    middleware = IngressMiddleware(None, table, services={"web": Recorder("web", log)})
    long_path = "/" + "x" * 300
    run_request(middleware, "shop.test", long_path)
    assert log == [("web", table.match("shop.test", long_path))]  # the same match object
    assert len(middleware._memo) == 0  # routed, not remembered
    for number in range(5000):
        run_request(middleware, "shop.test", f"/item/{number}")
    assert len(log) == 5001
    assert 0 < len(middleware._memo) <= 4096
