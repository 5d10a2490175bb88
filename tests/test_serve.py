"""`ingresslib serve`, run as a user runs it: a subprocess on free loopback ports, real upstreams.

The manifests are a temporary copy of examples/demo with the EndpointSlice ports rewritten to the
upstreams started here (the fallback backend is left on a closed port: its requests are 502).
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import os
import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web

from tests.serve_process import ROOT, ServeProcess, http_upstream, start_serve
from tests.support import free_port, gateway_manifests

DEMO = ROOT / "examples" / "demo"
DEMO_PORTS = {"storefront": 18081, "api": 18082, "status": 18083, "blog": 18084, "fallback": 18085}
STARTED = ("storefront", "api", "status", "blog")  # fallback: nothing listens
SHOP = "shop.example.test"
BLOG = "blog.example.test"


def replace_text(path: Path, old: str, new: str) -> None:
    """Edit a manifest as editors and kubectl-like tools do: a new file renamed over the old."""
    text = path.read_text()
    assert old in text
    staged = path.with_suffix(".tmp")
    staged.write_text(text.replace(old, new))
    os.replace(staged, path)


def demo_certificate_pem() -> str:
    secret = yaml.safe_load((DEMO / "tls-secret.yaml").read_text())
    return base64.b64decode(secret["data"]["tls.crt"]).decode()


@pytest.fixture
def upstream_ports() -> Iterator[dict[str, int]]:
    servers = {name: http_upstream(name) for name in STARTED}
    ports = {name: server.server_address[1] for name, server in servers.items()}
    ports["fallback"] = free_port()  # closed: connections are refused
    yield ports
    for server in servers.values():
        server.shutdown()
        server.server_close()


@pytest.fixture
def manifests(tmp_path: Path, upstream_ports: dict[str, int]) -> Path:
    directory = tmp_path / "manifests"
    directory.mkdir()
    for source in DEMO.glob("*.yaml"):
        shutil.copy(source, directory / source.name)
    endpoints = directory / "endpoints.yaml"
    text = endpoints.read_text()
    for name, port in DEMO_PORTS.items():
        text = re.sub(rf"\bport: {port}\b", f"port: {upstream_ports[name]}", text)
    endpoints.write_text(text)
    return directory


@pytest.fixture
def start(manifests: Path, tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def start(*extra: str) -> ServeProcess:
        log = tmp_path / f"gateway-{len(started)}.log"
        gateway = start_serve(manifests, log, *extra, cadata=demo_certificate_pem())
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        status = gateway.stop()
        output = gateway.output()
        assert status == 0, output
        assert "Traceback" not in output, output
        assert "Warning" not in output, output


@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_routes_by_host_and_path(start: Callable[..., ServeProcess], loop: str) -> None:
    gateway = start(f"--loop={loop}")
    # auto: uvloop, which the dev dependencies (and the `serve` extra) install.
    assert f"event loop: {'uvloop' if loop == 'auto' else 'asyncio'}" in gateway.output()
    status, _, body = gateway.get(BLOG, "/hello?x=1")
    assert (status, body) == (200, "blog /hello?x=1\n")
    # A host no rule claims: the blog Ingress's defaultBackend, whose endpoint refuses: 502.
    status, _, _ = gateway.get("unknown.example.test")
    assert status == 502
    # Plain HTTP to the TLS host: a redirect to the TLS port.
    status, headers, _ = gateway.get(SHOP, "/api")
    assert status == 308
    assert headers["Location"] == f"https://{SHOP}:{gateway.https}/api"
    log = gateway.output()
    assert re.search(
        r'ingresslib\.access: 127\.0\.0\.1 "GET blog\.example\.test /hello\?x=1" 200 '
        r"backend=demo/blog:80 upstream=127\.0\.0\.1:\d+ [0-9.]+ms",
        log,
    ), log


def test_tls_with_sni_and_prefix_vs_exact(start: Callable[..., ServeProcess]) -> None:
    gateway = start()
    status, body, der = gateway.get_tls(SHOP, "/")
    assert (status, body) == (200, "storefront /\n")
    assert der == ssl.PEM_cert_to_DER_cert(demo_certificate_pem())
    assert gateway.get_tls(SHOP, "/api/status")[:2] == (200, "status /api/status\n")
    assert gateway.get_tls(SHOP, "/api/status/x")[:2] == (200, "api /api/status/x\n")
    assert gateway.get_tls(SHOP, "/api/orders")[:2] == (200, "api /api/orders\n")
    assert gateway.get_tls(SHOP, "/apiary")[:2] == (200, "storefront /apiary\n")
    # A name without a certificate: the handshake is refused.
    with pytest.raises(ssl.SSLError):
        gateway.get_tls(BLOG, "/")


def test_metrics_count_requests_errors_and_health(start: Callable[..., ServeProcess]) -> None:
    gateway = start()
    for _ in range(3):
        assert gateway.get(BLOG, "/")[0] == 200
    assert gateway.get("unknown.example.test")[0] == 502
    metrics = gateway.metrics()
    assert (
        'ingresslib_requests_total{backend="demo/blog:80",route="blog.example.test/",'
        'status="200"} 3.0'
    ) in metrics
    assert (
        'ingresslib_requests_total{backend="demo/fallback:80",route="* (default)",status="502"} 1.0'
    ) in metrics
    assert (
        'ingresslib_request_duration_seconds_count{backend="demo/blog:80",'
        'route="blog.example.test/"} 3.0'
    ) in metrics
    # One endpoint only: one failed attempt (the retry needs another endpoint).
    assert 'ingresslib_upstream_errors_total{backend="demo/fallback:80",status="502"} 1.0' in (
        metrics
    )
    assert "ingresslib_routes 4.0" in metrics
    connection = http.client.HTTPConnection("127.0.0.1", gateway.admin, timeout=5)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"ok\n")
    finally:
        connection.close()


def test_rate_limit_answers_429(start: Callable[..., ServeProcess]) -> None:
    gateway = start("--rate-limit=1/m:2")
    statuses = [gateway.get(BLOG, "/")[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    status, headers, body = gateway.get(BLOG, "/")
    assert (status, body) == (429, "429 Too Many Requests\n")
    assert int(headers["Retry-After"]) > 0
    assert headers["RateLimit-Policy"].startswith('"default";q=')
    assert headers["RateLimit"].startswith('"default";r=0;t=')
    metrics = gateway.metrics()
    assert 'ingresslib_ratelimit_refusals_total{route="blog.example.test/"} 1.0' in metrics


def test_invalid_edit_keeps_the_last_good_configuration(
    start: Callable[..., ServeProcess], manifests: Path
) -> None:
    gateway = start()
    ingresses = manifests / "ingresses.yaml"
    replace_text(ingresses, "host: blog.example.test", "host: 1.2.3.4")
    gateway.wait_for(lambda: "1.2.3.4" in gateway.output(), "the failed reload")
    output = gateway.output()
    assert "the last good configuration (generation 1) keeps serving" in output
    assert 'Invalid value: "1.2.3.4": must be a DNS name, not an IP address' in output
    assert str(ingresses) in output
    status, _, body = gateway.get(BLOG, "/still")
    assert (status, body) == (200, "blog /still\n")
    metrics = gateway.metrics()
    assert 'ingresslib_config_reloads_total{result="error"} 1.0' in metrics
    assert "ingresslib_config_last_reload_successful 0.0" in metrics


def test_valid_edit_changes_routing(start: Callable[..., ServeProcess], manifests: Path) -> None:
    gateway = start()
    assert gateway.get(BLOG, "/")[2] == "blog /\n"
    ingresses = manifests / "ingresses.yaml"
    replace_text(
        ingresses,
        "service: {name: blog, port: {number: 80}}",
        "service: {name: api, port: {number: 80}}",
    )
    gateway.wait_for(lambda: gateway.get(BLOG, "/")[2] == "api /\n", "the new route", 5.0)
    assert "reloaded (generation 2)" in gateway.output()
    assert 'ingresslib_config_reloads_total{result="ok"} 1.0' in gateway.metrics()


def test_sigterm_exits_cleanly(start: Callable[..., ServeProcess]) -> None:
    gateway = start()
    assert gateway.get(BLOG, "/")[0] == 200
    assert gateway.stop() == 0
    output = gateway.output()
    assert "shutting down" in output
    assert output.rstrip().endswith("ingresslib.serve: stopped")


def test_startup_with_invalid_manifests_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\n"
        "spec:\n  rules:\n  - host: 1.2.3.4\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "ingresslib", "serve", str(bad), "--admin-listen=off"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 1
    assert "the manifests do not load" in result.stderr
    assert 'Invalid value: "1.2.3.4"' in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "option", ["--rate-limit=fast", "--listen=localhost", "--tls-listen=127.0.0.1:99999"]
)
def test_bad_options_exit_2(option: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ingresslib", "serve", str(DEMO), option],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("ingresslib serve: expected ")


def test_a_websocket_session_through_serve_is_logged_and_counted(tmp_path: Path) -> None:
    async def echo(request: web.BaseRequest) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(f"echo:{message.data}")
        return ws

    async def main() -> None:
        runner = web.ServerRunner(web.Server(echo))
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        (tmp_path / "routes.yaml").write_text(
            gateway_manifests({"ws.test": {"/": "one"}}, {"one": port})
        )
        # Through serve's metrics, access-log and rate-limit middlewares.
        gateway = await asyncio.to_thread(
            start_serve, tmp_path, tmp_path / "serve.log", "--rate-limit=100/s:100"
        )
        try:
            async with (
                aiohttp.ClientSession() as client,
                client.ws_connect(
                    f"http://127.0.0.1:{gateway.http}/chat", headers={"Host": "ws.test"}
                ) as ws,
            ):
                await ws.send_str("hi")
                assert await ws.receive_str() == "echo:hi"
            await asyncio.to_thread(
                gateway.wait_for, lambda: '"GET ws.test /chat" 101' in gateway.output(), "log"
            )
            metrics = await asyncio.to_thread(gateway.metrics)
            assert (
                'ingresslib_requests_total{backend="test/one:80",route="ws.test/",status="101"} 1.0'
                in metrics
            )
        finally:
            assert await asyncio.to_thread(gateway.stop) == 0, gateway.output()
            await runner.cleanup()

    asyncio.run(main())
