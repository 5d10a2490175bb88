"""Trusted proxies for X-Forwarded-For: `TrustedProxies` against a plain reference, and the
aiohttp Gateway, the ASGI forwarder and the rate-limit keys with real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import io
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

import ingresslib
from ingresslib.aiohttp import ReverseProxy
from ingresslib.asgi import (
    IngressMiddleware,
    Receive,
    Scope,
    Send,
    client_address,
)
from ingresslib.cli import main as cli_main
from ingresslib.endpoints import EndpointIndex
from ingresslib.proxy import TrustedProxies
from ingresslib.ratelimit import LimitReq, MemoryLimiter
from ingresslib.server import Address, ServeConfig, Server, parse_rate_limit
from tests.support import asgi_in_thread, echo_manifests, free_port, serve_forwarder, serve_gateway

HOST = "app.example.com"

# --- TrustedProxies --------------------------------------------------------------------------


def test_nobody_is_trusted_by_default() -> None:
    proxies = TrustedProxies()
    assert not proxies
    assert proxies.client_address("10.0.0.1", ["203.0.113.9"]) == "10.0.0.1"
    assert proxies.client_address(None, ["203.0.113.9"]) is None
    assert not proxies.trusts("127.0.0.1")


def test_cidrs_addresses_and_host_bits() -> None:
    proxies = TrustedProxies.parse(["10.0.0.0/8", "192.168.1.7/24", "127.0.0.1", " fd00::/8 "])
    assert [str(n) for n in proxies.networks] == [
        "10.0.0.0/8",
        "192.168.1.0/24",  # host bits ignored, as nginx's set_real_ip_from does
        "127.0.0.1/32",
        "fd00::/8",
    ]
    assert proxies.trusts("10.200.0.1")
    assert proxies.trusts("192.168.1.200")
    assert not proxies.trusts("192.168.2.1")
    assert proxies.trusts("fd12::1")
    assert proxies.trusts("::ffff:127.0.0.1")  # an IPv4 peer on a dual-stack socket
    assert not proxies.trusts("not-an-address")
    assert not proxies.trusts("")
    assert TrustedProxies.parse(proxies) is proxies


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "example.com", "", "10.0.0.0/8/1"])
def test_a_bad_cidr_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="not a trusted proxy address or CIDR"):
        TrustedProxies.parse([bad])


def test_one_string_is_not_a_list_of_cidrs() -> None:
    with pytest.raises(TypeError):
        TrustedProxies.parse("10.0.0.0/8")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # An untrusted peer: X-Forwarded-For is ignored.
        ("198.51.100.1", ["203.0.113.9"], "198.51.100.1"),
        # A trusted peer: the right-most untrusted address.
        ("10.0.0.1", ["203.0.113.9"], "203.0.113.9"),
        ("10.0.0.1", ["198.51.100.7, 203.0.113.9, 10.0.0.2"], "203.0.113.9"),
        # Several fields are one list.
        ("10.0.0.1", ["198.51.100.7", "203.0.113.9", "10.0.0.2, 10.0.0.3"], "203.0.113.9"),
        # Every address trusted: the left-most.
        ("10.0.0.1", ["10.0.0.5, 10.0.0.2"], "10.0.0.5"),
        # No X-Forwarded-For: the peer.
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", [" , ,"], "10.0.0.1"),
        # An entry that is not an address stops the walk at the last trusted address.
        ("10.0.0.1", ["203.0.113.9, unknown"], "10.0.0.1"),
        ("10.0.0.1", ["203.0.113.9, garbage, 10.0.0.2"], "10.0.0.2"),
        # Ports (RFC 3986 form) are allowed and dropped; addresses are normalised.
        ("10.0.0.1", ["203.0.113.9:4711"], "203.0.113.9"),
        ("10.0.0.1", ["[2001:DB8::1]:443"], "2001:db8::1"),
        ("10.0.0.1", ["2001:db8::1"], "2001:db8::1"),
        ("10.0.0.1", ["[2001:db8::1"], "10.0.0.1"),
        # IPv6 peers and trusted IPv6 entries.
        ("fd00::1", ["203.0.113.9, fd00::2"], "203.0.113.9"),
    ],
)
def test_client_address(peer: str, forwarded_for: list[str], expected: str) -> None:
    proxies = TrustedProxies.parse(["10.0.0.0/8", "fd00::/8"])
    assert proxies.client_address(peer, forwarded_for) == expected


# --- the property: against a plain reference ----------------------------------------------------

# A small universe, so that trusted and untrusted addresses mix often.
_ADDRESSES = [f"10.0.0.{i}" for i in range(8)] + [f"2001:db8::{i}" for i in range(1, 5)]
_NETWORKS = ["10.0.0.0/30", "10.0.0.4/31", "10.0.0.6", "2001:db8::/126", "2001:db8::4"]


def _reference(cidrs: list[str], peer: str, fields: list[str]) -> str:
    """nginx's realip with `real_ip_recursive on`, written out plainly.

    Read X-Forwarded-For from the right, up to its first entry that is not an address. From
    an untrusted peer: the peer. Else the first untrusted address read; if there is none,
    the last one read; if nothing was read, the peer.
    """
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]

    def trusted(address: str) -> bool:
        return any(ipaddress.ip_address(address) in network for network in networks)

    if not trusted(peer):
        return peer
    entries = [e.strip() for field in fields for e in field.split(",") if e.strip()]
    readable: list[str] = []
    for entry in reversed(entries):
        address = _address(entry)
        if address is None:
            break
        readable.append(address)
    untrusted = [address for address in readable if not trusted(address)]
    if untrusted:
        return untrusted[0]
    return readable[-1] if readable else peer


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


_entries = st.one_of(st.sampled_from(_ADDRESSES), st.sampled_from(["unknown", "", " ", "x:y"]))
_fields = st.lists(st.lists(_entries, max_size=5).map(", ".join), max_size=3)


@given(
    cidrs=st.lists(st.sampled_from(_NETWORKS), unique=True, max_size=4),
    peer=st.sampled_from(_ADDRESSES),
    fields=_fields,
)
def test_client_address_matches_the_reference(
    cidrs: list[str], peer: str, fields: list[str]
) -> None:
    proxies = TrustedProxies.parse(cidrs)
    assert proxies.client_address(peer, fields) == _reference(cidrs, peer, fields)


# --- client_address for ASGI scopes --------------------------------------------------------------


def _scope(peer: str | None, *forwarded_for: str) -> Scope:
    headers = [(b"host", HOST.encode())]
    headers += [(b"x-forwarded-for", value.encode()) for value in forwarded_for]
    return {
        "type": "http",
        "client": None if peer is None else (peer, 50000),
        "headers": headers,
    }


def test_asgi_client_address_follows_the_same_rule() -> None:
    scope = _scope("127.0.0.1", "203.0.113.9, 10.0.0.2")
    assert client_address(scope) == "127.0.0.1"
    assert client_address(scope, ["127.0.0.1/32"]) == "10.0.0.2"
    proxies = TrustedProxies.parse(["127.0.0.1/32", "10.0.0.0/8"])
    assert client_address(scope, proxies) == "203.0.113.9"
    assert client_address(_scope(None, "203.0.113.9"), proxies) is None
    middleware = IngressMiddleware(
        None, ingresslib.RouteTable.build([]), trusted_proxies=["127.0.0.1/32"]
    )
    assert middleware.limit_key(scope) == "10.0.0.2"
    with pytest.raises(ValueError, match="not a trusted proxy"):
        IngressMiddleware(None, ingresslib.RouteTable.build([]), trusted_proxies=["nope"])


# --- real servers ---------------------------------------------------------------------------------


async def _echo(request: web.BaseRequest) -> web.StreamResponse:
    return web.json_response(
        {"headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers]}
    )


@contextlib.asynccontextmanager
async def _upstream() -> AsyncIterator[int]:
    runner = web.ServerRunner(web.Server(_echo), shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


def _documents(port: int) -> list[dict[str, Any]]:
    return echo_manifests(HOST, port)


def _resources(port: int) -> Any:
    return ingresslib.load_manifests(_documents(port), allow_loopback_endpoints=True)


def _serve_gateway(upstream: int, **options: Any) -> contextlib.AbstractAsyncContextManager[int]:
    return serve_gateway(_resources(upstream), **options)


def _serve_asgi(upstream: int, **options: Any) -> contextlib.AbstractAsyncContextManager[int]:
    return serve_forwarder(_resources(upstream), **options)


PROXIES = {"gateway": _serve_gateway, "asgi": _serve_asgi}

SPOOFED = {
    "Host": HOST,
    "X-Forwarded-For": "203.0.113.9, 198.51.100.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
}


def run(main: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 30))


async def _upstream_headers(port: int, headers: dict[str, str]) -> dict[str, list[str]]:
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}/h", headers=headers) as response,
    ):
        assert response.status == 200
        echoed = await response.json()
    found: dict[str, list[str]] = {}
    for name, value in echoed["headers"]:
        found.setdefault(name.lower(), []).append(value)
    return found


@pytest.mark.parametrize("proxy", PROXIES)
def test_a_spoofed_x_forwarded_for_from_an_untrusted_client_is_ignored(proxy: str) -> None:
    async def main() -> None:
        async with _upstream() as upstream, PROXIES[proxy](upstream) as port:
            headers = await _upstream_headers(port, SPOOFED)
        # ingress-nginx's default (use-forwarded-headers: "false"): ignored and overwritten.
        assert headers["x-forwarded-for"] == ["127.0.0.1"]
        assert headers["x-forwarded-proto"] == ["http"]
        assert headers["x-forwarded-host"] == [HOST]

    run(main)


@pytest.mark.parametrize("proxy", PROXIES)
def test_the_chain_of_a_trusted_proxy_is_kept_and_the_peer_appended(proxy: str) -> None:
    async def main() -> None:
        async with (
            _upstream() as upstream,
            PROXIES[proxy](upstream, trusted_proxies=["127.0.0.1/32"]) as port,
        ):
            headers = await _upstream_headers(port, SPOOFED)
            # Without X-Forwarded-Proto/-Host from the trusted peer, ours are set.
            plain = await _upstream_headers(port, {"Host": HOST})
        assert headers["x-forwarded-for"] == ["203.0.113.9, 198.51.100.7, 127.0.0.1"]
        assert headers["x-forwarded-proto"] == ["https"]
        assert headers["x-forwarded-host"] == ["evil.example"]
        assert plain["x-forwarded-for"] == ["127.0.0.1"]
        assert plain["x-forwarded-proto"] == ["http"]
        assert plain["x-forwarded-host"] == [HOST]

    run(main)


def test_gateway_client_address() -> None:
    async def main() -> None:
        seen: list[str | None] = []

        async with _upstream() as upstream:
            resources = _resources(upstream)
            gateway = ReverseProxy(
                ingresslib.RouteTable.build(resources),
                EndpointIndex.build(resources),
                trusted_proxies=["127.0.0.0/8"],
            )

            @web.middleware
            async def record(request: web.Request, handler: Any) -> web.StreamResponse:
                seen.append(gateway.client_address(request))
                response: web.StreamResponse = await handler(request)
                return response

            gateway.app.middlewares.append(record)
            runner = web.AppRunner(gateway.app, shutdown_timeout=1)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            try:
                port = runner.addresses[0][1]
                await _upstream_headers(port, {"Host": HOST, "X-Forwarded-For": "203.0.113.9"})
                await _upstream_headers(port, {"Host": HOST})
            finally:
                await runner.cleanup()
        assert seen == ["203.0.113.9", "127.0.0.1"]

    run(main)


# --- the rate-limit key ---------------------------------------------------------------------------


async def _ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _statuses(port: int, forwarded_for: list[str]) -> list[int]:
    statuses = []
    async with aiohttp.ClientSession() as client:
        for value in forwarded_for:
            async with client.get(
                f"http://127.0.0.1:{port}/", headers={"Host": HOST, "X-Forwarded-For": value}
            ) as response:
                statuses.append(response.status)
    return statuses


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        # Keyed by the peer: the second client shares the first one's budget.
        ((), [200, 429, 429]),
        # Keyed by the address the trusted proxy names: two clients, two budgets.
        (("127.0.0.1/32",), [200, 200, 429]),
    ],
)
def test_the_asgi_rate_limit_key_follows_trusted_proxies(
    trusted: tuple[str, ...], expected: list[int]
) -> None:
    async def main() -> None:
        resources = _resources(free_port())
        app = IngressMiddleware(
            None,
            ingresslib.RouteTable.build(resources),
            services={"echo": _ok_app},
            limiter=MemoryLimiter(LimitReq(1, per="m")),
            trusted_proxies=trusted,
        )
        async with asgi_in_thread(app) as port:
            statuses = await _statuses(port, ["203.0.113.1", "203.0.113.2", "203.0.113.1"])
        assert statuses == expected

    run(main)


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [((), [200, 429, 429]), (("127.0.0.1/32",), [200, 200, 429])],
)
def test_the_serve_rate_limit_key_follows_trusted_proxies(
    tmp_path: Path, trusted: tuple[str, ...], expected: list[int]
) -> None:
    async def main() -> None:
        async with _upstream() as upstream:
            (tmp_path / "app.yaml").write_text(yaml.safe_dump_all(_documents(upstream)))
            config = ServeConfig(
                paths=(str(tmp_path),),
                listen=Address("127.0.0.1", 0),
                tls_listen=None,
                admin_listen=None,
                rate_limit=parse_rate_limit("1/m"),
                trusted_proxies=trusted,
                allow_loopback_endpoints=True,
            )
            server = Server(config)
            await server.start()
            try:
                port = int(server.addresses["http"][0].rsplit(":", 1)[1])
                statuses = await _statuses(port, ["203.0.113.1", "203.0.113.2", "203.0.113.1"])
            finally:
                await server.stop()
        assert statuses == expected

    run(main)


def test_serve_rejects_a_bad_trusted_proxy() -> None:
    with pytest.raises(ValueError, match="not a trusted proxy address or CIDR"):
        ServeConfig(paths=("x",), trusted_proxies=("10.0.0.0/99",))
    err = io.StringIO()
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo"
    status = cli_main(["serve", str(demo), "--trusted-proxy=bad"], io.StringIO(), err)
    assert status == 2
    assert err.getvalue() == "ingresslib serve: not a trusted proxy address or CIDR: 'bad'\n"
