"""PolicyRunner: the one runner of `Decision.policies`, and the executors that use it.

The rate limits are nginx's `limit_req` (LimitReq, tested against nginx elsewhere); here:
zones shared by rules, several zones accounted only when all admit (ngx_http_limit_req
looks every zone up "without accounting" but the last), allowlists, connection holds,
policies no handler knows — then the ASGI middleware under a real server, and aiohttp's
ingress middleware, refusing with the policy's status.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from typing import ClassVar

import attrs
import httpx
import pytest
from aiohttp import web

import ingresslib
from ingresslib.aiohttp import ingress_middleware
from ingresslib.asgi import IngressMiddleware, Receive, Scope, Send
from ingresslib.proxy import PolicyRunner
from ingresslib.ratelimit import LimitReq
from ingresslib.rules import ConnectionLimit, Policy, RequestRateLimit
from ingresslib.testing import ingress, ingress_rule
from tests.support import serve_asgi

P = "nginx.ingress.kubernetes.io/"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _rps(zone: str, rate: int, burst: int, **kwargs: object) -> RequestRateLimit:
    return RequestRateLimit(zone, LimitReq(rate, burst=burst, nodelay=True), **kwargs)  # type: ignore[arg-type]


def test_a_zone_admits_burst_plus_one_then_refuses_with_its_status() -> None:
    clock = Clock()
    runner = PolicyRunner(clock=clock)
    policy = RequestRateLimit("z", LimitReq(1, burst=2, nodelay=True), status=429)
    results = [runner.admit((policy,), "10.0.0.1").refusal for _ in range(4)]
    assert results[:3] == [None, None, None]
    refusal = results[3]
    assert refusal is not None
    assert refusal.status == 429
    # Another client has a key of its own; one second later one more request passes.
    assert runner.admit((policy,), "10.0.0.2").refusal is None
    clock.now += 1.0
    assert runner.admit((policy,), "10.0.0.1").refusal is None
    assert runner.admit((policy,), "10.0.0.1").refusal is not None


def test_rules_naming_one_zone_share_its_counter() -> None:
    runner = PolicyRunner(clock=Clock())
    first, second = _rps("shared", 1, 0), _rps("shared", 1, 0)
    assert runner.admit((first,), "c").refusal is None
    assert runner.admit((second,), "c").refusal is not None


def test_a_refusal_by_one_zone_accounts_nothing_in_the_others() -> None:
    runner = PolicyRunner(clock=Clock())
    wide, narrow = _rps("wide", 1, 1), _rps("narrow", 1, 0)
    assert runner.admit((wide, narrow), "c").refusal is None  # wide: 1 of 2, narrow: 1 of 1
    assert runner.admit((wide, narrow), "c").refusal is not None  # narrow refuses
    # wide was not accounted by the refused request: it still admits one more.
    assert runner.admit((wide,), "c").refusal is None
    assert runner.admit((wide,), "c").refusal is not None


def test_an_allowlisted_client_is_not_counted() -> None:
    runner = PolicyRunner(clock=Clock())
    allowlist = (ipaddress.ip_network("127.0.0.0/8"),)
    policy = _rps("z", 1, 0, allowlist=allowlist)
    assert all(runner.admit((policy,), "127.0.0.5").refusal is None for _ in range(5))
    assert runner.admit((policy,), "::ffff:127.0.0.5").refusal is None  # IPv4-mapped
    assert runner.admit((policy,), "10.0.0.1").refusal is None
    assert runner.admit((policy,), "10.0.0.1").refusal is not None


def test_connections_are_held_until_released() -> None:
    runner = PolicyRunner()
    policy = ConnectionLimit("conn", 2)
    first = runner.admit((policy,), "c")
    second = runner.admit((policy,), "c")
    assert first.refusal is None
    assert second.refusal is None
    third = runner.admit((policy,), "c")
    assert third.refusal is not None
    assert third.refusal.status == 503
    first.release()
    first.release()  # twice: nothing more is given back
    fourth = runner.admit((policy,), "c")
    assert fourth.refusal is None
    assert runner.admit((policy,), "c").refusal is not None
    second.release()
    fourth.release()


def test_a_refused_request_gives_back_what_earlier_policies_held() -> None:
    runner = PolicyRunner()
    conn = ConnectionLimit("conn", 1)
    refuses = ConnectionLimit("other", 1)
    held = runner.admit((refuses,), "c")
    assert runner.admit((conn, refuses), "c").refusal is not None
    # conn's slot was released when `refuses` refused.
    assert runner.admit((conn,), "c").refusal is None
    held.release()


@attrs.frozen
class Unknown(Policy):
    restricts_access: ClassVar[bool] = False


@attrs.frozen
class UnknownRestriction(Policy):
    restricts_access: ClassVar[bool] = True


def test_policies_without_a_handler() -> None:
    runner = PolicyRunner()
    admission = runner.admit((Unknown(),), "c")
    assert admission.refusal is None
    assert admission.skipped == (Unknown(),)
    refused = runner.admit((Unknown(), UnknownRestriction()), "c")
    assert refused.refusal is not None
    assert refused.refusal.status == 503


def test_a_registered_handler_runs_its_policies() -> None:
    runner = PolicyRunner()
    seen: list[str | None] = []

    class Handler:
        def enter(self, policy: object, client: str | None) -> tuple[None, Callable[[], None]]:
            seen.append(client)
            return None, lambda: seen.append("released")

    runner.register(UnknownRestriction, Handler())
    admission = runner.admit((UnknownRestriction(),), "c")
    assert admission.refusal is None
    admission.release()
    assert seen == ["c", "released"]


def _limited_table() -> ingresslib.RouteTable:
    manifest = ingress(
        "limited",
        [ingress_rule("limited.test", ("/", "Prefix", "web"))],
        annotations={P + "limit-rps": "1", P + "limit-burst-multiplier": "1"},
    )
    return ingresslib.RouteTable.build(ingresslib.load_manifests([manifest]))


async def _web(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"web"})


@pytest.mark.parametrize("kind", ["uvicorn", "hypercorn"])
def test_the_asgi_middleware_runs_the_policies(kind: str) -> None:
    app = IngressMiddleware(None, _limited_table(), services={"web": _web})
    with serve_asgi(app, kind=kind) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        statuses = [c.get("/", headers={"Host": "limited.test"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 503]


def test_the_aiohttp_middleware_runs_the_policies() -> None:
    async def web_handler(request: web.Request) -> web.Response:
        return web.Response(text="web")

    async def main() -> list[int]:
        app = web.Application(
            middlewares=[ingress_middleware(_limited_table(), services={"web": web_handler})]
        )
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port: int = runner.addresses[0][1]
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                return [
                    (await client.get("/", headers={"Host": "limited.test"})).status_code
                    for _ in range(3)
                ]
        finally:
            await runner.cleanup()

    assert asyncio.run(asyncio.wait_for(main(), 30)) == [200, 200, 503]


def test_the_asgi_middleware_fails_closed_on_external_auth() -> None:
    manifest = ingress(
        "guarded",
        [ingress_rule("guarded.test", ("/", "Prefix", "web"))],
        annotations={P + "auth-url": "http://127.0.0.1:9/auth"},
    )
    table = ingresslib.RouteTable.build(ingresslib.load_manifests([manifest]))
    app = IngressMiddleware(None, table, services={"web": _web})
    with serve_asgi(app) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        # The middleware sends no subrequest: the restriction answers 503, never skipped.
        assert c.get("/", headers={"Host": "guarded.test"}).status_code == 503
