"""A private Redis for the tests: Debian's redis-server on a free loopback port, in a tmp dir.

`redis_url` (session): one server for the whole run, stopped at the end. `redis_server`
(function): a server of the test's own, which it may stop, pause and start again on the same
port. Without redis-server these tests skip, with the reason shown by `-ra`; in CI (`CI` set)
they fail instead: tests that need Redis must run there (`make test` installs it).
`nginx` (session, tests/nginx_fixture.py): a private nginx for differential tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nginx_fixture import nginx  # noqa: F401 -- the session fixture, for every module
from tests.support import free_port


def _pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One redis-server process: no persistence, loopback only, its own directory."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        executable = shutil.which("redis-server")
        assert executable is not None
        self.process = subprocess.Popen(
            [
                executable,
                "--save",
                "",
                "--appendonly",
                "no",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.directory / f"redis-{self.port}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _pings(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.directory / f"redis-{self.port}.log"
                text = log.read_text() if log.exists() else ""
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{text}")
            time.sleep(0.02)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)  # a paused server cannot handle SIGTERM
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open and nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


def _require_redis_server() -> None:
    if shutil.which("redis-server") is not None:
        return
    reason = "redis-server is not installed (make test installs Debian's redis-server)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; tests that need Redis must run in CI")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Redis server private to this test session."""
    _require_redis_server()
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A started Redis server of this test's own, to stop, pause and restart."""
    _require_redis_server()
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
