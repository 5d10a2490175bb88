"""Small helpers shared by the tests: free loopback ports, a hand-moved clock, endpoints,
ASGI apps under a real uvicorn or hypercorn, the proxies' manifests (built with the public
builders of `ingresslib.testing`), and what a test needs from its environment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar, cast

import pytest
import yaml

from ingresslib import testing
from ingresslib.asgi import ASGIApp
from ingresslib.endpoints import Endpoint, EndpointIndex
from ingresslib.ratelimit import Decision, RateAlgorithm

if TYPE_CHECKING:
    import hypercorn.typing
    import uvicorn

__all__ = [
    "ASGI_SERVERS",
    "CONFORMANCE",
    "ASGIServer",
    "Decides",
    "FakeClock",
    "PureRateAlgorithm",
    "asgi_in_thread",
    "conformance_dir",
    "echo_manifests",
    "endpoints",
    "free_port",
    "gateway_manifests",
    "serve_asgi",
    "serve_forwarder",
    "serve_gateway",
    "skip_or_fail_in_ci",
    "write_atomically",
]

#: The upstream conformance suites' manifests, shared beside the repository (../shared/conformance).
CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance"


def skip_or_fail_in_ci(reason: str) -> NoReturn:
    """Skip the test for `reason`, or fail it when `CI` is set: in CI every test must run.

    The project's rule for what a test needs from its environment (tests/conftest.py applies it
    to redis-server): a developer without it sees the skip and its reason (`-ra`); CI does not
    get a green run that checked less.
    """
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: this test must run)")
    pytest.skip(reason)


def conformance_dir(*parts: str) -> Path:
    """`../shared/conformance/<parts>`, the directory a test reads; a missing one skips the test
    (saying so) or, in CI, fails it."""
    path = CONFORMANCE.joinpath(*parts)
    if not path.is_dir():
        skip_or_fail_in_ci(
            f"the shared conformance directory {path} is missing"
            " (../shared/conformance beside the repository)"
        )
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


S = TypeVar("S")


class Decides(Protocol[S]):
    """A pure rate-limit algorithm's `decide`: state, time and cost in; decision, state out.

    `TokenBucket`, `LimitReq`, `FixedWindow` and `SlidingWindow` all have one, for their own S.
    """

    def decide(
        self, state: S | None, now: float, cost: int = 1, max_delay: float | None = None
    ) -> tuple[Decision, S | None]:
        """Decide one request; the decision and the key's next state."""
        ...


class PureRateAlgorithm(RateAlgorithm[S], Decides[S], Protocol[S]):
    """A rate-limit algorithm as the tests drive it: the stores' protocol and `decide`."""


class FakeClock:
    """A monotonic clock the test moves by hand (`clock.now += 5`)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def endpoints(n: int, weights: Sequence[int] | None = None, start: int = 0) -> list[Endpoint]:
    """`n` endpoints `10.0.x.y:8080` (numbered from `start`), weights 1 unless given."""
    weights = weights or [1] * n
    return [
        Endpoint(f"10.0.{i // 256}.{i % 256}", 8080, weight=weights[i - start])
        for i in range(start, start + n)
    ]


# --- ASGI servers ------------------------------------------------------------------------------

#: The ASGI servers the ASGI tests run under (the `asgi_server` parameter of their fixtures).
ASGI_SERVERS = ("uvicorn", "hypercorn")


class ASGIServer:
    """An ASGI app under uvicorn or hypercorn, in a thread of its own on a free loopback port.

    `start()` returns once the server accepts connections (after the lifespan startup);
    `shutdown()` begins the server's own graceful shutdown, as its SIGTERM handler does
    (stop listening, let requests in flight finish for up to `graceful_timeout` seconds, then
    the lifespan shutdown), without waiting; `join()` waits for the end of it.

    Both run pure-Python protocols: h11 for HTTP/1.1, and for WebSocket uvicorn's
    websockets Sans-I/O protocol (its "websockets" one runs on websockets.legacy, which warns
    that it is deprecated) and hypercorn's wsproto. uvicorn is told not to trust
    X-Forwarded-For (`proxy_headers=False`; hypercorn never does), and both log on loggers
    that propagate, so that `caplog` sees their errors.
    """

    def __init__(self, app: ASGIApp, kind: str = "uvicorn", *, graceful_timeout: float = 5.0):
        if kind not in ASGI_SERVERS:
            raise ValueError(f"unknown ASGI server {kind!r}")
        self.app = app
        self.kind = kind
        self.graceful_timeout = graceful_timeout
        self.port = free_port()
        self._thread = threading.Thread(target=self._run, name=f"{kind}-{self.port}", daemon=True)
        self._uvicorn: uvicorn.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            if self.kind == "uvicorn":
                self._run_uvicorn()
            else:
                asyncio.run(self._run_hypercorn())
        except BaseException as error:  # noqa: BLE001 (reported by start() and join())
            self.error = error

    def _run_uvicorn(self) -> None:
        import uvicorn

        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            http="h11",
            ws="websockets-sansio",
            loop="asyncio",
            lifespan="on",
            log_level="warning",
            proxy_headers=False,
            log_config=None,
            # uvicorn annotates this int, but only passes it to asyncio.wait_for(timeout=...),
            # which takes any number of seconds.
            timeout_graceful_shutdown=self.graceful_timeout,  # type: ignore[arg-type]
        )
        self._uvicorn = uvicorn.Server(config)
        self._uvicorn.run()

    async def _run_hypercorn(self) -> None:
        import hypercorn
        import hypercorn.asyncio

        config = hypercorn.Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.graceful_timeout = self.graceful_timeout
        config.errorlog = logging.getLogger("hypercorn.error")
        config.accesslog = None
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        # hypercorn types an ASGI app with its TypedDict scopes and events; ingresslib's
        # ASGIApp takes any MutableMapping, the same callable at runtime.
        app = cast("hypercorn.typing.ASGIFramework", self.app)
        await hypercorn.asyncio.serve(app, config, shutdown_trigger=self._stop.wait)

    def _accepts(self) -> bool:
        if self.kind == "uvicorn":
            return self._uvicorn is not None and self._uvicorn.started
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def start(self, timeout: float = 10.0) -> int:
        """Start the server; return its port once it accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._accepts():
            if not self._thread.is_alive():
                raise AssertionError(f"{self.kind} exited while starting") from self.error
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.kind} did not start in {timeout} s")
            time.sleep(0.01)
        return self.port

    def shutdown(self) -> None:
        """Begin the graceful shutdown (returns at once; again: nothing more)."""
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        elif self._loop is not None and self._stop is not None:
            # The loop is closed once the server has stopped.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)

    def join(self, timeout: float = 10.0) -> None:
        """Wait for the server to stop; fail when it does not, or stopped with an error."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), f"{self.kind} did not stop in {timeout} s"
        if self.error is not None:
            raise AssertionError(f"{self.kind} failed") from self.error


@contextlib.contextmanager
def serve_asgi(app: ASGIApp, kind: str = "uvicorn") -> Iterator[int]:
    """Run `app` under the ASGI server `kind` (see `ASGIServer`); yield its port; stop it."""
    server = ASGIServer(app, kind)
    port = server.start()
    try:
        yield port
    finally:
        server.shutdown()
        server.join()


# --- the two proxies, from resources ----------------------------------------------------------


@contextlib.asynccontextmanager
async def serve_gateway(resources: Any, **options: Any) -> AsyncIterator[int]:
    """`ingresslib.aiohttp.ReverseProxy` for `resources` under an AppRunner; yields its port."""
    from aiohttp import web

    import ingresslib
    from ingresslib.aiohttp import ReverseProxy

    gateway = ReverseProxy(
        ingresslib.RouteTable.build(resources), EndpointIndex.build(resources), **options
    )
    runner = web.AppRunner(gateway.app, shutdown_timeout=2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def asgi_in_thread(app: ASGIApp, kind: str = "uvicorn") -> AsyncIterator[int]:
    """`app` under an ASGI server in a thread (see `ASGIServer`), from async code."""
    server = ASGIServer(app, kind, graceful_timeout=2)
    port = await asyncio.to_thread(server.start)
    try:
        yield port
    finally:
        server.shutdown()
        await asyncio.to_thread(server.join)


@contextlib.asynccontextmanager
async def serve_forwarder(resources: Any, **options: Any) -> AsyncIterator[int]:
    """IngressMiddleware + HTTPForwarder for `resources` under uvicorn; yields its port."""
    import ingresslib
    from ingresslib.asgi import HTTPForwarder, IngressMiddleware

    forwarder = HTTPForwarder(EndpointIndex.build(resources), **options)
    app = IngressMiddleware(None, ingresslib.RouteTable.build(resources), forwarder=forwarder)
    async with asgi_in_thread(app) as port:
        yield port


# --- manifests for the proxies under test ---------------------------------------------------


def echo_manifests(
    host: str, *ports: int, empty: bool = False, namespace: str = "shop"
) -> list[dict[str, Any]]:
    """An Ingress `app` for `host`, `/` to the Service `echo`, whose one EndpointSlice per port
    in `ports` points at 127.0.0.1 (load with `allow_loopback_endpoints=True`).

    With `empty`, `/empty` goes to the Service `empty`, which has no EndpointSlice.
    """
    routes = [("/", "echo"), *([("/empty", "empty")] if empty else [])]
    paths = [testing.ingress_path(path, service, port="http") for path, service in routes]
    documents = [testing.ingress("app", [testing.ingress_rule(host, *paths)], namespace=namespace)]
    documents.extend(testing.service(service, namespace=namespace) for _, service in routes)
    documents.extend(
        testing.endpoint_slice(
            "echo", ["127.0.0.1"], name=f"echo-{position}", namespace=namespace, port=port
        )
        for position, port in enumerate(ports)
    )
    return documents


# --- manifests for `ingresslib serve` ----------------------------------------------------------


def gateway_manifests(
    rules: Mapping[str, Mapping[str, str]],
    ports: Mapping[str, int],
    *,
    path_type: str = "Prefix",
    namespace: str = "test",
) -> str:
    """The YAML of one Ingress, and of a Service and an EndpointSlice per upstream.

    `rules` maps each host to its paths and the Service of each (`{"a.test": {"/": "one"}}`,
    all of `path_type`); `ports` maps each Service to the port of its one endpoint on
    127.0.0.1 (serve with `--allow-loopback-endpoints`). The Service's port is 80.
    """
    ingress_rules = [
        testing.ingress_rule(
            host,
            *(
                testing.ingress_path(p, service, path_type=path_type)
                for p, service in paths.items()
            ),
        )
        for host, paths in rules.items()
    ]
    documents = [testing.ingress("routes", ingress_rules, namespace=namespace)]
    for service, port in ports.items():
        documents.append(testing.service(service, namespace=namespace, target_port=port))
        documents.append(
            testing.endpoint_slice(
                service, ["127.0.0.1"], name=f"{service}-local", namespace=namespace, port=port
            )
        )
    return yaml.safe_dump_all(documents, sort_keys=False)


def write_atomically(path: Path, text: str) -> None:
    """Write `path` as editors and kubectl-like tools do: a new file renamed over the old."""
    staged = path.with_name(f".{path.name}.tmp")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)
