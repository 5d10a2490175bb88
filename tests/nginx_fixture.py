"""A private nginx for differential tests: Debian's nginx on a free loopback port, in a tmp dir.

`nginx` (session): one nginx (`master_process off`, no daemon) whose only server answers
every request with its `$host` and `$uri`, in three locations that show how it routed:

    location = /public/admin { return 200 "$host\\nexact"; }
    location /public/        { return 200 "$host\\nprefix $uri"; }
    location /               { return 200 "$host\\n$uri"; }

and logs the `X-Probe` request header with `log_format ... escape=default`. Requests are
raw bytes over a socket to 127.0.0.1, so that nothing between the test and nginx
normalises them. Without nginx the tests that use it skip, with the reason shown by `-ra`;
in CI (`CI` set) they fail instead: tests that need real parts must run there (`make test`
installs Debian's nginx).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import free_port

__all__ = ["NginxResponse", "NginxServer", "find_nginx", "nginx"]

_CONFIG = """\
master_process off;
worker_processes 1;
error_log {dir}/error.log info;
pid {dir}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    log_format probe escape=default '$http_x_probe';
    access_log {dir}/access.log probe;
    default_type text/plain;
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        location = /public/admin {{ return 200 "$host\\nexact"; }}
        location /public/ {{ return 200 "$host\\nprefix $uri"; }}
        location / {{ return 200 "$host\\n$uri"; }}
    }}
}}
"""


def find_nginx() -> str | None:
    """The nginx executable: on PATH, or Debian's /usr/sbin/nginx (not on a user's PATH)."""
    found = shutil.which("nginx")
    if found is not None:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


class NginxResponse:
    """What nginx answered: the status, and for a 200 the `$host`, location and `$uri`."""

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body
        self.host: bytes | None = None
        self.location: str | None = None
        self.uri: bytes | None = None
        if status == 200:
            self.host, _, answer = body.partition(b"\n")
            if answer == b"exact":
                self.location, self.uri = "= /public/admin", b"/public/admin"
            elif answer.startswith(b"prefix "):
                self.location, self.uri = "/public/", answer[len(b"prefix ") :]
            else:
                self.location, self.uri = "/", answer

    def __repr__(self) -> str:
        return f"NginxResponse({self.status}, host={self.host!r}, uri={self.uri!r})"


class NginxServer:
    """One nginx process: loopback only, its own directory, stopped by `stop()`."""

    def __init__(self, executable: str, directory: Path) -> None:
        self.executable = executable
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.config = directory / "nginx.conf"
        self.access_log = directory / "access.log"

    def start(self) -> None:
        self.config.write_text(_CONFIG.format(dir=self.directory, port=self.port))
        stderr_path = self.directory / "stderr.log"
        with stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [
                    self.executable,
                    "-p",
                    str(self.directory),
                    "-e",  # nginx >= 1.19.5: the error log before the configuration is read
                    str(self.directory / "error.log"),
                    "-c",
                    str(self.config),
                    "-g",
                    "daemon off;",
                ],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                logs = [stderr_path, self.directory / "error.log"]
                text = "".join(log.read_text() for log in logs if log.exists())
                raise RuntimeError(f"nginx did not start on port {self.port}:\n{text}")
            time.sleep(0.02)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def exchange(self, request: bytes) -> bytes:
        """Send raw request bytes on a new connection; everything nginx sends until it closes."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(request)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)

    def get(self, target: bytes, host: bytes | None = b"x", headers: bytes = b"") -> NginxResponse:
        """`GET <target> HTTP/1.1` with this Host (None: no Host header) and extra header lines."""
        host_line = b"" if host is None else b"Host: " + host + b"\r\n"
        response = self.exchange(
            b"GET " + target + b" HTTP/1.1\r\n" + host_line + headers + b"Connection: close\r\n\r\n"
        )
        head, _, body = response.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0]
        return NginxResponse(int(status_line.split()[1]), body)

    def logged(self, header_value: bytes) -> bytes:
        """The access-log line nginx writes for a request with `X-Probe: <header_value>`."""
        before = self.access_log.stat().st_size if self.access_log.exists() else 0
        response = self.get(b"/", headers=b"X-Probe: " + header_value + b"\r\n")
        assert response.status == 200, response
        # The log phase runs before nginx closes the connection (ngx_http_free_request,
        # then ngx_http_close_connection), and exchange() read until that close.
        with self.access_log.open("rb") as log:
            log.seek(before)
            return log.read().rstrip(b"\n")


def _require_nginx() -> str:
    executable = find_nginx()
    if executable is not None:
        return executable
    reason = "nginx is not installed (make test installs Debian's nginx)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; tests that need nginx must run in CI")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxServer]:
    """A started nginx private to this test session (see the module docstring)."""
    server = NginxServer(_require_nginx(), tmp_path_factory.mktemp("nginx"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
