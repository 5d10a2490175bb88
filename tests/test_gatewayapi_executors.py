"""Gateway API decisions executed end to end: both executors, real servers, real clients.

Each test serves HTTPRoutes of one Gateway through the aiohttp `ReverseProxy` and through
the ASGI `IngressMiddleware` + `HTTPForwarder` under uvicorn, with aiohttp echo servers as
the Services' endpoints (on loopback), and checks what the backends received and what the
client got: weights, an invalid share's 500, header edits both ways, URL rewrites,
mirrors, CORS preflights and timeouts.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDict

import ingresslib
from ingresslib import RouteTable
from ingresslib.aiohttp import ReverseProxy
from ingresslib.asgi import HTTPForwarder, IngressMiddleware
from ingresslib.endpoints import EndpointIndex
from ingresslib.testing import endpoint_slice, service
from tests.support import serve_asgi

NS = "infra"
HOST = "gw.test"


class Backend:
    """An echo server: answers with what it received; remembers every request."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[dict[str, Any]] = []
        self.port = 0

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        body = await request.read()
        record = {
            "backend": self.name,
            "method": request.method,
            "path": request.raw_path,
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers],
            "body": body.decode("latin-1"),
        }
        self.seen.append(record)
        if request.raw_path.startswith("/slow"):
            await asyncio.sleep(2)
        return web.json_response(record, headers={"X-Backend": self.name, "X-Drop-Me": "1"})


@contextlib.asynccontextmanager
async def _backends(*names: str) -> AsyncIterator[dict[str, Backend]]:
    runners = []
    found = {}
    try:
        for name in names:
            backend = Backend(name)
            runner = web.ServerRunner(web.Server(backend.handle), shutdown_timeout=0.5)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            backend.port = runner.addresses[0][1]
            runners.append(runner)
            found[name] = backend
        yield found
    finally:
        for runner in runners:
            await runner.cleanup()


def _resources(backends: dict[str, Backend], rules: list[dict[str, Any]]) -> Any:
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": {"name": "gw", "namespace": NS},
            "spec": {
                "gatewayClassName": "any",
                "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}],
            },
        },
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "route", "namespace": NS},
            "spec": {"parentRefs": [{"name": "gw"}], "hostnames": [HOST], "rules": rules},
        },
    ]
    for name, backend in backends.items():
        docs.append(service(name, namespace=NS, target_port=backend.port))
        docs.append(
            endpoint_slice(name, ["127.0.0.1"], name=f"{name}-1", namespace=NS, port=backend.port)
        )
    return ingresslib.load_manifests(docs, allow_loopback_endpoints=True)


def _rule(path: str, *refs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "matches": [{"path": {"type": "PathPrefix", "value": path}}],
        "backendRefs": list(refs),
        **extra,
    }


def _ref(name: str, weight: int | None = None, **extra: Any) -> dict[str, Any]:
    ref: dict[str, Any] = {"name": name, "port": 80, **extra}
    if weight is not None:
        ref["weight"] = weight
    return ref


@contextlib.asynccontextmanager
async def _aiohttp_gateway(resources: Any) -> AsyncIterator[int]:
    proxy = ReverseProxy(
        RouteTable.build(resources, gateway=f"{NS}/gw"), EndpointIndex.build(resources)
    )
    runner = web.AppRunner(proxy.app, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def _asgi_gateway(resources: Any) -> AsyncIterator[int]:
    app = IngressMiddleware(
        None,
        table=RouteTable.build(resources, gateway=f"{NS}/gw"),
        forwarder=HTTPForwarder(EndpointIndex.build(resources)),
    )
    # uvicorn in a thread of its own: the echo backends run on this test's loop.
    started: list[int] = []
    ready = threading.Event()
    stop = threading.Event()

    def run() -> None:
        with serve_asgi(app) as port:
            started.append(port)
            ready.set()
            stop.wait()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    await asyncio.to_thread(ready.wait, 10)
    try:
        yield started[0]
    finally:
        stop.set()
        await asyncio.to_thread(thread.join, 10)


GATEWAYS: dict[str, Callable[[Any], contextlib.AbstractAsyncContextManager[int]]] = {
    "aiohttp": _aiohttp_gateway,
    "asgi": _asgi_gateway,
}


@pytest.fixture(params=sorted(GATEWAYS))
def gateway(request: pytest.FixtureRequest) -> Callable[[Any], Any]:
    return GATEWAYS[request.param]


def run(main: Callable[[], Any]) -> None:
    asyncio.run(asyncio.wait_for(main(), 60))


async def _get(
    session: aiohttp.ClientSession, port: int, path: str, **options: Any
) -> tuple[int, CIMultiDict[str], Any]:
    headers = {"Host": HOST, **options.pop("headers", {})}
    method = options.pop("method", "GET")
    async with session.request(
        method, f"http://127.0.0.1:{port}{path}", headers=headers, **options
    ) as response:
        text = await response.text()
        body = json.loads(text) if response.content_type == "application/json" else text
        return response.status, CIMultiDict(response.headers), body


def _header(record: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in record["headers"] if k.lower() == name]


def test_weights_split_the_requests(gateway: Callable[[Any], Any]) -> None:
    # BackendRef.weight: "computed as weight/(sum of all weights in this BackendRefs list)".
    async def main() -> None:
        async with _backends("a", "b") as backends:
            resources = _resources(backends, [_rule("/", _ref("a", 3), _ref("b", 1))])
            async with gateway(resources) as port, aiohttp.ClientSession() as session:
                counts: collections.Counter[str] = collections.Counter()
                for _ in range(400):
                    status, _, body = await _get(session, port, "/")
                    assert status == 200
                    counts[body["backend"]] += 1
        # 300 expected for a; a binomial's standard deviation here is ~8.7: 5 sigma.
        assert 256 <= counts["a"] <= 344, counts
        assert counts["a"] + counts["b"] == 400

    run(main)


def test_an_invalid_share_answers_500_for_its_share(gateway: Callable[[Any], Any]) -> None:
    # HTTPRouteRule.backendRefs: "if two backends are specified with equal weights, and one
    # is invalid, 50 percent of traffic must receive a 500".
    async def main() -> None:
        async with _backends("a") as backends:
            resources = _resources(backends, [_rule("/", _ref("a"), _ref("missing"))])
            async with gateway(resources) as port, aiohttp.ClientSession() as session:
                statuses = collections.Counter(
                    [(await _get(session, port, "/"))[0] for _ in range(200)]
                )
        assert set(statuses) == {200, 500}
        assert 60 <= statuses[500] <= 140, statuses

    run(main)


def test_header_edits_both_ways(gateway: Callable[[Any], Any]) -> None:
    async def main() -> None:
        modifier = {
            "type": "RequestHeaderModifier",
            "requestHeaderModifier": {
                "set": [{"name": "X-Set", "value": "set"}],
                "add": [{"name": "X-Add", "value": "added"}],
                "remove": ["X-Remove"],
            },
        }
        response_modifier = {
            "type": "ResponseHeaderModifier",
            "responseHeaderModifier": {
                "add": [{"name": "X-From-Gateway", "value": "yes"}],
                "remove": ["X-Drop-Me"],
            },
        }
        share_modifier = {
            "type": "RequestHeaderModifier",
            "requestHeaderModifier": {"set": [{"name": "X-Share", "value": "a"}]},
        }
        async with _backends("a") as backends:
            rule = _rule(
                "/", _ref("a", filters=[share_modifier]), filters=[modifier, response_modifier]
            )
            resources = _resources(backends, [rule])
            async with gateway(resources) as port, aiohttp.ClientSession() as session:
                status, headers, seen = await _get(
                    session,
                    port,
                    "/x",
                    headers={"X-Set": "old", "X-Add": "first", "X-Remove": "gone"},
                )
        assert status == 200
        assert _header(seen, "x-set") == ["set"]
        assert _header(seen, "x-add") == ["first,added"]
        assert _header(seen, "x-remove") == []
        assert _header(seen, "x-share") == ["a"]
        assert headers.get("X-From-Gateway") == "yes"
        assert "X-Drop-Me" not in headers
        assert headers.get("X-Backend") == "a"

    run(main)


def test_url_rewrite_reaches_the_upstream(gateway: Callable[[Any], Any]) -> None:
    async def main() -> None:
        rewrite = {
            "type": "URLRewrite",
            "urlRewrite": {
                "hostname": "internal.test",
                "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/v2"},
            },
        }
        async with _backends("a") as backends:
            resources = _resources(backends, [_rule("/api", _ref("a"), filters=[rewrite])])
            async with gateway(resources) as port, aiohttp.ClientSession() as session:
                status, _, seen = await _get(session, port, "/api/items?q=1")
        assert status == 200
        assert seen["path"] == "/v2/items?q=1"
        assert _header(seen, "host") == ["internal.test"]

    run(main)


def test_mirror_receives_a_copy_the_client_sees_the_primary(
    gateway: Callable[[Any], Any],
) -> None:
    async def main() -> None:
        mirror = {"type": "RequestMirror", "requestMirror": {"backendRef": _ref("m")}}
        async with _backends("a", "m") as backends:
            resources = _resources(backends, [_rule("/", _ref("a"), filters=[mirror])])
            async with gateway(resources) as port, aiohttp.ClientSession() as session:
                status, _, seen = await _get(session, port, "/copy", method="POST", data=b"payload")
                for _ in range(100):
                    if backends["m"].seen:
                        break
                    await asyncio.sleep(0.02)
        assert status == 200
        assert seen["backend"] == "a"
        assert seen["body"] == "payload"
        [copy] = backends["m"].seen
        assert (copy["method"], copy["path"], copy["body"]) == ("POST", "/copy", "payload")

    run(main)


def test_cors_preflight_is_answered_by_the_gateway(gateway: Callable[[Any], Any]) -> None:
    async def main() -> None:
        cors = {
            "type": "CORS",
            "cors": {
                "allowOrigins": ["https://app.test"],
                "allowMethods": ["GET", "PUT"],
                "maxAge": 600,
            },
        }
        async with _backends("a") as backends:
            resources = _resources(backends, [_rule("/", _ref("a"), filters=[cors])])
            async with gateway(resources) as port, aiohttp.ClientSession() as session:
                status, headers, _ = await _get(
                    session,
                    port,
                    "/",
                    method="OPTIONS",
                    headers={"Origin": "https://app.test", "Access-Control-Request-Method": "PUT"},
                )
                simple = await _get(session, port, "/", headers={"Origin": "https://app.test"})
        assert status == 200
        assert backends["a"].seen[-1]["method"] == "GET"  # the preflight never reached it
        assert headers["Access-Control-Allow-Origin"] == "https://app.test"
        assert headers["Access-Control-Allow-Methods"] == "GET, PUT"
        assert headers["Access-Control-Max-Age"] == "600"
        assert simple[1]["Access-Control-Allow-Origin"] == "https://app.test"

    run(main)


@pytest.mark.parametrize("which", ["request", "backendRequest"])
def test_timeouts_answer_504(gateway: Callable[[Any], Any], which: str) -> None:
    async def main() -> None:
        async with _backends("a") as backends:
            rule = _rule("/", _ref("a"), timeouts={which: "300ms"})
            resources = _resources(backends, [rule])
            async with gateway(resources) as port, aiohttp.ClientSession() as session:
                fast = await _get(session, port, "/fast")
                slow = await _get(session, port, "/slow")
        assert fast[0] == 200
        assert slow[0] == 504

    run(main)


def test_a_zero_timeout_disables_it(gateway: Callable[[Any], Any]) -> None:
    # HTTPRouteTimeouts: "Setting a timeout to the zero duration (e.g. "0s") SHOULD disable
    # the timeout completely" — even the executor's own read timeout does not cut it short.
    async def main() -> None:
        async with _backends("a") as backends:
            rule = _rule("/", _ref("a"), timeouts={"request": "0s", "backendRequest": "0s"})
            resources = _resources(backends, [rule])
            async with gateway(resources) as port, aiohttp.ClientSession() as session:
                slow = await _get(session, port, "/slow")
        assert slow[0] == 200

    run(main)
