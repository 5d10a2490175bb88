"""Graceful shutdown with requests in flight, on real servers and clients on 127.0.0.1.

`ingresslib serve` (a subprocess, sent SIGTERM), and IngressMiddleware + HTTPForwarder under
uvicorn and hypercorn: once the signal is received, a new connection is refused, the requests
in flight are proxied to their end (status and whole body), then the server exits; requests
still running when the drain timeout expires are cut and the exit is not delayed further.

The upstream holds its answers until the test releases them, so that the requests are known
to be in flight when the shutdown begins: no sleep decides the order of events.
"""

from __future__ import annotations

import contextlib
import http.client
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import ingresslib
from ingresslib.asgi import HTTPForwarder, IngressMiddleware
from ingresslib.endpoints import EndpointIndex
from tests.serve_process import start_serve
from tests.support import ASGI_SERVERS, ASGIServer, gateway_manifests

HOST = "slow.example.test"
#: The body of every answer: 256 KiB, sent in two halves by `/stream`.
BODY = bytes(range(256)) * 1024


class HeldUpstream:
    """An HTTP/1.0 upstream whose answers wait for `release`.

    `/late`: nothing is sent before the release, then the whole answer. `/stream`: the status,
    the headers and the first half of the body at once, the second half after the release.
    Each request is counted in `arrived` when it is read.
    """

    def __init__(self) -> None:
        self.release = threading.Event()
        self._arrived = 0
        self._condition = threading.Condition()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with upstream._condition:
                    upstream._arrived += 1
                    upstream._condition.notify_all()
                if self.path.startswith("/late"):
                    upstream.release.wait(30)
                half = len(BODY) // 2
                # The proxy may have cut the request (drain timeout): no answer is wanted then.
                with contextlib.suppress(ConnectionError):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(BODY)))
                    self.end_headers()
                    self.wfile.write(BODY[:half])
                    self.wfile.flush()
                    upstream.release.wait(30)
                    self.wfile.write(BODY[half:])

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_arrived(self, count: int, timeout: float = 10.0) -> None:
        with self._condition:
            assert self._condition.wait_for(lambda: self._arrived >= count, timeout), (
                f"{self._arrived} of {count} requests reached the upstream in {timeout} s"
            )

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def held() -> Iterator[HeldUpstream]:
    upstream = HeldUpstream()
    yield upstream
    upstream.close()


Result = tuple[int, bytes]


def fetch(port: int, path: str) -> Result:
    """GET `path` from the proxy on `port` (Host: HOST); the status and the whole body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("GET", path, headers={"Host": HOST})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def start_requests(pool: ThreadPoolExecutor, port: int, held: HeldUpstream) -> list[Future[Result]]:
    """Two requests in flight: one waiting for its response headers, one in mid-body."""
    futures = [pool.submit(fetch, port, "/late"), pool.submit(fetch, port, "/stream")]
    held.wait_arrived(2)
    return futures


# --- ingresslib serve ----------------------------------------------------------------------------


@pytest.fixture
def serve_manifests(tmp_path: Path, held: HeldUpstream) -> Path:
    directory = tmp_path / "manifests"
    directory.mkdir()
    (directory / "routes.yaml").write_text(
        gateway_manifests({HOST: {"/": "slow"}}, {"slow": held.port})
    )
    return directory


def test_serve_drains_requests_in_flight_on_sigterm(
    serve_manifests: Path, tmp_path: Path, held: HeldUpstream
) -> None:
    gateway = start_serve(serve_manifests, tmp_path / "gateway.log", "--drain-timeout=10")
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = start_requests(pool, gateway.http, held)
            signalled = time.monotonic()
            gateway.process.send_signal(signal.SIGTERM)
            gateway.wait_for(lambda: "draining" in gateway.output(), "the drain")
            # The listeners are closed at once, while the requests are still held upstream.
            assert not any(future.done() for future in futures)
            assert refuses_connections(gateway.http)
            assert refuses_connections(gateway.https)
            held.release.set()
            assert [future.result(10) for future in futures] == [(200, BODY), (200, BODY)]
        status = gateway.process.wait(10)
        assert status == 0
        assert time.monotonic() - signalled < 10
    finally:
        assert gateway.stop() == 0
    output = gateway.output()
    assert output.rstrip().endswith("ingresslib.serve: stopped"), output
    assert "Traceback" not in output, output
    assert output.count('"GET slow.example.test /') == 2, output  # both logged as 200
    assert output.count(" 200 backend=test/slow:80 ") == 2, output


def test_serve_cuts_requests_still_running_at_the_drain_timeout(
    serve_manifests: Path, tmp_path: Path, held: HeldUpstream
) -> None:
    gateway = start_serve(serve_manifests, tmp_path / "gateway.log", "--drain-timeout=0.5")
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = start_requests(pool, gateway.http, held)
            signalled = time.monotonic()
            gateway.process.send_signal(signal.SIGTERM)
            status = gateway.process.wait(10)
            elapsed = time.monotonic() - signalled
            # Cut: the connection closes before the whole response (never a short 200 that
            # looks complete).
            for future in futures:
                with pytest.raises((http.client.HTTPException, ConnectionError)):
                    future.result(10)
        assert status == 0
        assert elapsed < 3.0
    finally:
        held.release.set()
        assert gateway.stop() == 0
    output = gateway.output()
    assert output.rstrip().endswith("ingresslib.serve: stopped"), output
    assert "Traceback" not in output, output


# --- IngressMiddleware + HTTPForwarder under an ASGI server --------------------------------------


def _forwarding_app(upstream_port: int) -> IngressMiddleware:
    resources = ingresslib.load_manifests(
        gateway_manifests({HOST: {"/": "slow"}}, {"slow": upstream_port}),
        allow_loopback_endpoints=True,
    )
    forwarder = HTTPForwarder(EndpointIndex.build(resources))
    return IngressMiddleware(None, ingresslib.RouteTable.build(resources), forwarder=forwarder)


@pytest.mark.parametrize("kind", ASGI_SERVERS)
def test_asgi_server_drains_forwarded_requests(kind: str, held: HeldUpstream) -> None:
    server = ASGIServer(_forwarding_app(held.port), kind, graceful_timeout=10)
    port = server.start()
    try:
        with ThreadPoolExecutor(2) as pool:
            futures = start_requests(pool, port, held)
            server.shutdown()
            wait_until(lambda: refuses_connections(port), f"{kind} to close its listener")
            assert not any(future.done() for future in futures)
            held.release.set()
            assert [future.result(10) for future in futures] == [(200, BODY), (200, BODY)]
    finally:
        held.release.set()
        server.shutdown()
        server.join(15)


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_a_bad_drain_timeout_exits_2(value: str, serve_manifests: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingresslib",
            "serve",
            str(serve_manifests),
            "--drain-timeout",
            value,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("ingresslib serve: expected --drain-timeout SECONDS >= 0")
