"""`ingresslib serve` as a real subprocess for the tests, and plain HTTP upstreams for it."""

from __future__ import annotations

import http.client
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support import free_port

__all__ = ["ROOT", "ServeProcess", "http_upstream", "start_serve"]

ROOT = Path(__file__).resolve().parents[1]


def http_upstream(name: str, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """An HTTP server on `host` (a free port) answering every GET with `<name> <path>\\n`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"{name} {self.path}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class ServeProcess:
    """One `python -W error -m ingresslib serve` subprocess on free loopback ports.

    Args:
        log: where its output goes (read back with `output()`).
        arguments: the source (manifest paths, or `--kubeconfig=...`) and other options;
            the listeners are added here.
        cadata: the PEM the TLS client trusts in `get_tls`.
        ready_timeout: how long to wait for "ready" in its log.
    """

    def __init__(
        self, log: Path, *arguments: str, cadata: str | None = None, ready_timeout: float = 10.0
    ) -> None:
        self.log = log
        self.cadata = cadata
        self.http, self.https, self.admin = free_port(), free_port(), free_port()
        command = [
            sys.executable,
            "-W",
            "error",
            "-m",
            "ingresslib",
            "serve",
            f"--listen=127.0.0.1:{self.http}",
            f"--tls-listen=127.0.0.1:{self.https}",
            f"--admin-listen=127.0.0.1:{self.admin}",
            *arguments,  # last: they may override the listeners
        ]
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=self._log_file, stderr=subprocess.STDOUT
        )
        try:
            self.wait_for(
                lambda: "ingresslib.serve: ready" in self.output(), "ready", ready_timeout
            )
        except BaseException:
            self.stop()
            raise

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        """Poll `condition` (an OSError counts as false) until true, or fail with the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except OSError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"gave up waiting for {what}; gateway output:\n{self.output()}")

    def get(
        self, host: str, path: str = "/", port: int | None = None
    ) -> tuple[int, dict[str, str], str]:
        """GET over plain HTTP with this Host header: status, headers, body."""
        connection = http.client.HTTPConnection("127.0.0.1", port or self.http, timeout=5)
        try:
            connection.request("GET", path, headers={"Host": host})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def get_tls(self, server_name: str, path: str = "/") -> tuple[int, str, bytes]:
        """GET over TLS with this SNI name: status, body, the server certificate (DER)."""
        context = ssl.create_default_context(cadata=self.cadata)
        context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
        with (
            socket.create_connection(("127.0.0.1", self.https), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            der = tls.getpeercert(binary_form=True) or b""
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {server_name}:{self.https}\r\n"
                "Connection: close\r\n\r\n"
            )
            tls.sendall(request.encode())
            response = http.client.HTTPResponse(tls)
            response.begin()
            try:
                return response.status, response.read().decode(), der
            finally:
                response.close()

    def metrics(self) -> str:
        status, _, body = self.get("-", "/metrics", self.admin)
        assert status == 200
        return body

    def stop(self) -> int:
        """SIGTERM, then wait for the exit status (killed after 20 s)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._log_file.close()


def start_serve(manifests: Path, log: Path, *extra: str, cadata: str | None = None) -> ServeProcess:
    """`ingresslib serve MANIFESTS` with loopback endpoints allowed and a quick file poll."""
    return ServeProcess(
        log,
        str(manifests),
        "--allow-loopback-endpoints",
        "--poll-interval=0.2",
        *extra,
        cadata=cadata,
    )
