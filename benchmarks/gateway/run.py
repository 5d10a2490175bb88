"""Gateway benchmark: wrk against the aiohttp Gateway, a naive aiohttp proxy, nginx and uvicorn.

Usage::

    make bench-gateway                                   # installs wrk, nginx, the pins; runs this
    .venv/bin/python benchmarks/gateway/run.py           # 3 rounds of 10 s per row + pairs, ~5 min
    .venv/bin/python benchmarks/gateway/run.py --quick   # 2 rounds of 3 s per row, ~1.5 min
    .venv/bin/python benchmarks/gateway/run.py --duration 20 --connections 128 --rounds 5
    .venv/bin/python benchmarks/gateway/run.py --profile # cProfile of the Gateway under wrk

Method. Every server runs in its own subprocess on a free 127.0.0.1 port, started once:

- the **upstream**: a raw asyncio HTTP/1.1 server (uvloop when importable) answering every
  request with the same 20-byte body; every proxy row forwards to this one process;
- the ingresslib **Gateway** (`ingresslib.aiohttp.ReverseProxy`) built from `manifests/` (an Ingress
  with a few hosts and paths, a Service, an EndpointSlice whose port is set to the upstream's),
  served by `aiohttp.web.run_app` on uvloop, access log off;
- **`ingresslib serve`** on the same manifests, as a user runs it (`ingresslib.cli.main`): the
  same Gateway plus serve's metrics and access-log middlewares, on uvloop (its default), the
  access log (one INFO line per request) going to a file;
- a **naive aiohttp proxy**: one new `aiohttp.ClientSession` per request, the response read
  whole, then answered (no routing: every request goes to the upstream);
- **nginx** (the Debian package) with `worker_processes 1`, a generated nginx.conf in a
  temporary directory with the same Host/path routes, `proxy_pass` to an `upstream` block with
  `keepalive`, HTTP/1.1 upstream and the same X-Forwarded-* headers as the Gateway;
- **uvicorn** (uvloop, httptools when installed) serving a tiny ASGI app directly, and the same
  app wrapped by `ingresslib.asgi.IngressMiddleware` (routed by the same manifests to the app as
  an embedded service).

CPU placement (2 cores): each server under test runs alone on CPU 0; wrk (one thread) and the
upstream share CPU 1. The server under test is the bottleneck of every row but the direct
upstream row, which runs wrk against the upstream to show the ceiling of CPU 1. With one CPU
nothing is pinned; with more, only CPUs 0 and 1 are used.

Each target is first checked (status 200 and the expected body; 404 for an unknown host where
the target routes), then warmed up with a short wrk run. The timed runs are
`wrk -t1 -c<N> -d<D>s --latency` with `Host: shop.bench.test` and `GET /api/items/42`,
interleaved: each round runs every row once, the order rotated from round to round, so machine
noise hits all rows alike. Per row the median over rounds of requests/s, p50 and p99 is shown,
with non-2xx responses and socket errors summed over rounds. Ratios are computed within each
round and their median is shown.

During each run the CPU time of the server's processes (every thread; nginx's master and
worker) is read from /proc/PID/task/*/schedstat: CPU µs per request. On a shared machine
requests/s moves with whatever else runs on the server's CPU; CPU time per request mostly does
not, so it is the steadier measure of cost, and the one the middleware goal is judged by.

The middleware overhead (a few %) is smaller than the round-to-round noise of requests/s, so
it is measured three more ways: short back-to-back pairs of uvicorn runs without/with the
middleware (order alternating), as requests/s and as CPU time per request; and in-process, with
no server, as ns per call of the app alone and behind the middleware.

`--profile` runs the Gateway alone under cProfile with wrk and prints its hottest functions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import http.client
import importlib.metadata
import importlib.util
import io
import os
import platform
import pstats
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingresslib.proxy import HOP_BY_HOP  # what the naive proxy drops, as the Gateway

if TYPE_CHECKING:
    from ingresslib.asgi import Receive, Scope, Send

HERE = Path(__file__).resolve().parent
MANIFESTS = HERE / "manifests"
LOOPBACK = "127.0.0.1"
HOST = "shop.bench.test"  # routed by the /api Prefix rule of manifests/ingress.yaml
PATH = "/api/items/42"
UPSTREAM_BODY = b"hello from upstream\n"
APP_BODY = b"hello from the app\n"


# ---------------------------------------------------------------------------------------------
# The servers (each runs in a subprocess: `run.py --role NAME --port P [--upstream-port U]`)
# ---------------------------------------------------------------------------------------------


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _documents(upstream_port: int) -> list[dict[str, Any]]:
    """The benchmark manifests, with the EndpointSlice (and targetPort) on the upstream's port."""
    import yaml

    documents: list[dict[str, Any]] = []
    for file in sorted(MANIFESTS.glob("*.yaml")):
        documents.extend(doc for doc in yaml.safe_load_all(file.read_text()) if doc)
    for doc in documents:
        if doc["kind"] == "EndpointSlice":
            for port in doc["ports"]:
                port["port"] = upstream_port
        elif doc["kind"] == "Service":
            for port in doc["spec"]["ports"]:
                port["targetPort"] = upstream_port
    return documents


def _resources(upstream_port: int) -> Any:
    import ingresslib

    return ingresslib.load_manifests(_documents(upstream_port), allow_loopback_endpoints=True)


def _serve_cli(port: int, upstream_port: int) -> None:
    """`ingresslib serve` as a user runs it: its asyncio loop, the access log (INFO, one line
    per request, to stderr: the role's log file) and the metrics (counted, not scraped)."""
    import yaml

    from ingresslib.cli import main

    directory = Path(tempfile.mkdtemp(prefix="ingresslib-bench-serve-"))
    try:
        (directory / "all.yaml").write_text(yaml.safe_dump_all(_documents(upstream_port)))
        main(
            [
                "serve",
                str(directory),
                "--allow-loopback-endpoints",
                f"--listen={LOOPBACK}:{port}",
                "--tls-listen=off",
                "--admin-listen=off",
            ]
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class _UpstreamProtocol(asyncio.Protocol):
    """Answers each request (GET, no body) with the same response; keep-alive, pipelining."""

    RESPONSE = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
        + str(len(UPSTREAM_BODY)).encode()
        + b"\r\n\r\n"
        + UPSTREAM_BODY
    )

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no asyncio.Transport

    def data_received(self, data: bytes) -> None:
        # PERF: no parsing beyond counting header ends: the upstream must never be the bottleneck.
        buffer = self.buffer + data
        count = buffer.count(b"\r\n\r\n")
        if count and self.transport is not None:
            self.transport.write(self.RESPONSE * count)
            buffer = buffer[buffer.rfind(b"\r\n\r\n") + 4 :]
        self.buffer = buffer


def _serve_upstream(port: int) -> None:
    loop = _new_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(
        loop.create_server(_UpstreamProtocol, LOOPBACK, port, backlog=1024)
    )
    with contextlib.suppress(KeyboardInterrupt):
        loop.run_forever()
    server.close()


def _gateway_app(upstream_port: int) -> Any:
    import ingresslib
    from ingresslib.aiohttp import ReverseProxy
    from ingresslib.endpoints import EndpointIndex

    resources = _resources(upstream_port)
    return ReverseProxy(ingresslib.RouteTable.build(resources), EndpointIndex.build(resources)).app


def _naive_app(upstream_port: int) -> Any:
    import aiohttp
    from aiohttp import web

    base = f"http://{LOOPBACK}:{upstream_port}"

    async def proxy(request: web.Request) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read() if request.body_exists else None
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.request(
                request.method,
                base + request.raw_path,
                headers=headers,
                data=body,
                allow_redirects=False,
            ) as upstream,
        ):
            content = await upstream.read()
            drop = HOP_BY_HOP | {"content-length"}
            answer = {k: v for k, v in upstream.headers.items() if k.lower() not in drop}
            return web.Response(status=upstream.status, body=content, headers=answer)

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", proxy)
    return app


def _serve_aiohttp(app: Any, port: int) -> None:
    from aiohttp import web

    web.run_app(
        app,
        host=LOOPBACK,
        port=port,
        access_log=None,
        print=None,
        backlog=1024,
        loop=_new_loop(),
    )


async def _tiny_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI app of the uvicorn rows: 200 with a fixed body."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(APP_BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": APP_BODY})


def _middleware_app() -> Any:
    """The tiny app behind IngressMiddleware, routed by manifests/ as the Service bench/upstream."""
    import ingresslib
    from ingresslib.asgi import IngressMiddleware

    # Port 1: the app is embedded, the EndpointSlice is never used.
    table = ingresslib.RouteTable.build(_resources(1))
    return IngressMiddleware(None, table, services={"bench/upstream": _tiny_app})


def _uvicorn_options() -> tuple[str, str]:
    """uvicorn's (loop, http) settings: uvloop and httptools when installed."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return loop, parser


def _serve_uvicorn(port: int, *, middleware: bool) -> None:
    import uvicorn

    app = _middleware_app() if middleware else _tiny_app
    loop, parser = _uvicorn_options()
    uvicorn.run(
        app,
        host=LOOPBACK,
        port=port,
        loop=loop,
        http=parser,
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=1024,
    )


def serve_role(role: str, port: int, upstream_port: int, profile_out: str | None) -> None:
    """Run one server in this process until SIGINT/SIGTERM."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    profiler = cProfile.Profile() if profile_out else None
    if profiler is not None:
        profiler.enable()
    try:
        if role == "upstream":
            _serve_upstream(port)
        elif role == "gateway":
            _serve_aiohttp(_gateway_app(upstream_port), port)
        elif role == "serve":
            _serve_cli(port, upstream_port)
        elif role == "naive":
            _serve_aiohttp(_naive_app(upstream_port), port)
        elif role in ("uvicorn", "uvicorn-middleware"):
            _serve_uvicorn(port, middleware=role == "uvicorn-middleware")
        else:
            raise SystemExit(f"unknown role {role!r}")
    except KeyboardInterrupt:
        pass
    finally:
        if profiler is not None and profile_out:
            profiler.disable()
            profiler.dump_stats(profile_out)


# ---------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------


@dataclass
class Target:
    """One row: a server (or none, for the direct upstream row) and the body it must answer."""

    name: str
    port: int
    body: bytes
    routes: bool  # answers 404 for an unknown host
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    cpu_us_per_request: float = float("nan")  # the server's CPU time (all its processes)


@dataclass
class Placement:
    """Which CPU runs the server under test, and which wrk and the upstream."""

    server: set[int] | None
    client: set[int] | None

    def describe(self) -> str:
        if self.server is None or self.client is None:
            return "not pinned (fewer than 2 CPUs, or no taskset)"
        return (
            f"server under test on CPU {min(self.server)}; wrk and the upstream on "
            f"CPU {min(self.client)}"
        )


def placement() -> Placement:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or shutil.which("taskset") is None:
        return Placement(None, None)
    return Placement({cpus[0]}, {cpus[1]})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def pinned(command: Sequence[str], cpus: set[int] | None) -> list[str]:
    """The command run with `taskset -c CPUS` (children, e.g. nginx's worker, inherit it)."""
    if cpus is None:
        return list(command)
    return ["taskset", "-c", ",".join(map(str, sorted(cpus))), *command]


def start(
    command: Sequence[str], *, cpus: set[int] | None, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            pinned(command, cpus),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def start_role(
    role: str,
    *,
    port: int,
    upstream_port: int,
    cpus: set[int] | None,
    workdir: Path,
    profile_out: Path | None = None,
) -> tuple[subprocess.Popen[bytes], Path]:
    command = [sys.executable, str(Path(__file__).resolve()), "--role", role]
    command += ["--port", str(port), "--upstream-port", str(upstream_port)]
    if profile_out is not None:
        command += ["--profile-out", str(profile_out)]
    log = workdir / f"{role}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return start(command, cpus=cpus, log=log, env=env), log


def wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, name: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"{name} is not listening on {port} after 20 s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # Python: KeyboardInterrupt; nginx: fast shutdown
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    upstream bench_upstream {{
        server {host}:{upstream};
        keepalive 128;
    }}
    # What the Gateway does: HTTP/1.1 kept alive upstream, Host as received, X-Forwarded-*.
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Host $host;
    # The routes of manifests/ingress.yaml (Prefix /p is `location = /p` + `location /p/`).
    server {{
        listen {host}:{port} default_server;
        return 404;
    }}
    server {{
        listen {host}:{port};
        server_name shop.bench.test;
        location / {{ proxy_pass http://bench_upstream; }}
        location = /api {{ proxy_pass http://bench_upstream; }}
        location /api/ {{ proxy_pass http://bench_upstream; }}
        location = /api/status {{ proxy_pass http://bench_upstream; }}
    }}
    server {{
        listen {host}:{port};
        server_name blog.bench.test;
        location / {{ proxy_pass http://bench_upstream; }}
    }}
    server {{
        listen {host}:{port};
        server_name *.static.bench.test;
        location = /assets {{ proxy_pass http://bench_upstream; }}
        location /assets/ {{ proxy_pass http://bench_upstream; }}
        location / {{ return 404; }}
    }}
}}
"""


def start_nginx(
    nginx: str, *, port: int, upstream_port: int, cpus: set[int] | None, workdir: Path
) -> tuple[subprocess.Popen[bytes], Path]:
    directory = workdir / "nginx"
    directory.mkdir()
    directory.chmod(0o755)  # the worker may run as another user (nobody when started as root)
    conf = directory / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(dir=directory, host=LOOPBACK, port=port, upstream=upstream_port)
    )
    log = workdir / "nginx.log"
    command = [nginx, "-e", str(directory / "error.log"), "-p", str(directory), "-c", str(conf)]
    return start(command, cpus=cpus, log=log), log


def get(port: int, host: str, path: str = PATH) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def verify(target: Target) -> None:
    status, body = get(target.port, HOST)
    if status != 200 or body != target.body:
        raise SystemExit(f"{target.name}: expected 200 {target.body!r}, got {status} {body!r}")
    if target.routes:
        status, body = get(target.port, "unknown.bench.test")
        if status != 404:
            raise SystemExit(f"{target.name}: an unknown host got {status} {body!r}, not 404")
    for host, path in (("blog.bench.test", "/x"), ("a.static.bench.test", "/assets/a.css")):
        status, body = get(target.port, host, path)
        if status != 200 or body != target.body:
            raise SystemExit(f"{target.name}: {host}{path} got {status} {body!r}")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, p50, p99 (ms), and errors from the output of `wrk --latency`."""
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"^\s+(\d+) requests in", output, re.M)
    if rps is None or p50 is None or p99 is None or total is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_second=float(rps[1]),
        p50_ms=_milliseconds(p50[1]),
        p99_ms=_milliseconds(p99[1]),
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def _tree(pid: int) -> list[int]:
    """The process and its descendants (nginx: the master and its worker)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pending.extend(int(child) for child in children)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process tree, every thread, in seconds (ns resolution)."""
    total = 0
    for process in _tree(pid):
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{process}/task").iterdir():
                with contextlib.suppress(OSError):
                    total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def run_wrk(
    wrk: str,
    port: int,
    *,
    duration: float,
    connections: int,
    cpus: set[int] | None,
    server: int | None = None,
) -> WrkResult:
    """One wrk run; with the server's pid, also its CPU time per request."""
    command = [wrk, "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency"]
    command += ["-H", f"Host: {HOST}", f"http://{LOOPBACK}:{port}{PATH}"]
    before = cpu_seconds(server) if server is not None else 0.0
    done = subprocess.run(pinned(command, cpus), capture_output=True, text=True, check=False)
    after = cpu_seconds(server) if server is not None else 0.0
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = parse_wrk(done.stdout)
    if server is not None and result.requests:
        result.cpu_us_per_request = (after - before) / result.requests * 1e6
    return result


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _command_version(command: Sequence[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip().splitlines()[0]


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def machine_table(wrk: str, nginx: str, where: Placement) -> str:
    loop, parser = _uvicorn_options()
    rows = [
        ("CPUs", f"`nproc` = {os.cpu_count()}; {where.describe()}"),
        ("CPU", _cpu_model()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        (
            "Python packages",
            ", ".join(
                f"{name} {_version(name)}"
                for name in ("ingresslib", "aiohttp", "uvicorn", "uvloop", "httptools")
            ),
        ),
        ("uvicorn settings", f"`--loop {loop} --http {parser}`"),
        ("nginx", _command_version([nginx, "-v"])),
        ("wrk", _command_version([wrk, "-v"]).split(" Copyright")[0]),
    ]
    lines = ["| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found is None:
        for directory in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
            candidate = Path(directory) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return found


def require_binaries() -> tuple[str, str]:
    wrk, nginx = find_binary("wrk"), find_binary("nginx")
    missing = [name for name, path in (("wrk", wrk), ("nginx", nginx)) if path is None]
    if missing:
        names = " ".join(missing)
        raise SystemExit(
            f"run.py: {names} not found. This script installs nothing itself; get "
            f"{'it' if len(missing) == 1 else 'them'} with\n"
            f"    make bench-gateway          (installs Debian's wrk and nginx when missing)\n"
            f"or  sudo apt-get install -y {names}   (Debian/Ubuntu; any wrk 4.x / nginx works)"
        )
    assert wrk is not None
    assert nginx is not None
    return wrk, nginx


@dataclass
class Rounds:
    """Every row's results, one list entry per round."""

    results: dict[str, list[WrkResult]] = field(default_factory=dict)

    def add(self, name: str, result: WrkResult) -> None:
        self.results.setdefault(name, []).append(result)

    def median(self, name: str, attribute: str) -> float:
        values: list[float] = [getattr(r, attribute) for r in self.results[name]]
        return statistics.median(values)

    def ratios(self, numerator: str, denominator: str) -> list[float]:
        pairs = zip(self.results[numerator], self.results[denominator], strict=True)
        return [a.requests_per_second / b.requests_per_second for a, b in pairs]


UPSTREAM_ROW = "upstream direct (reference: no proxy)"
NGINX_ROW = "nginx, 1 worker"
GATEWAY_ROW = "ingresslib Gateway (aiohttp)"
SERVE_ROW = "ingresslib serve (access log and metrics on)"
NAIVE_ROW = "naive aiohttp proxy (session per request)"
UVICORN_ROW = "uvicorn, tiny ASGI app"
MIDDLEWARE_ROW = "uvicorn, same app behind IngressMiddleware"


@contextlib.contextmanager
def servers(wrk: str, nginx: str, where: Placement, workdir: Path) -> Iterator[list[Target]]:
    upstream_port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        process, log = start_role(
            "upstream", port=upstream_port, upstream_port=0, cpus=where.client, workdir=workdir
        )
        processes.append(process)
        wait_listening(upstream_port, process, log, "upstream")
        targets = [Target(UPSTREAM_ROW, upstream_port, UPSTREAM_BODY, False, process, log)]
        roles = [
            (NGINX_ROW, None, UPSTREAM_BODY, True),
            (GATEWAY_ROW, "gateway", UPSTREAM_BODY, True),
            (SERVE_ROW, "serve", UPSTREAM_BODY, True),
            (NAIVE_ROW, "naive", UPSTREAM_BODY, False),
            (UVICORN_ROW, "uvicorn", APP_BODY, False),
            (MIDDLEWARE_ROW, "uvicorn-middleware", APP_BODY, True),
        ]
        for name, role, body, routes in roles:
            port = free_port()
            if role is None:
                process, log = start_nginx(
                    nginx,
                    port=port,
                    upstream_port=upstream_port,
                    cpus=where.server,
                    workdir=workdir,
                )
            else:
                process, log = start_role(
                    role, port=port, upstream_port=upstream_port, cpus=where.server, workdir=workdir
                )
            processes.append(process)
            wait_listening(port, process, log, name)
            targets.append(Target(name, port, body, routes, process, log))
        yield targets
    finally:
        for process in reversed(processes):
            stop(process)


def _fmt_ms(value: float) -> str:
    return f"{value:.2f}"


def results_table(rounds: Rounds, order: Sequence[str]) -> str:
    lines = [
        "| row | req/s (median) | req/s (min-max) | p50 ms | p99 ms | server CPU µs/req "
        "| non-2xx | socket errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in order:
        results = rounds.results[name]
        rps = [r.requests_per_second for r in results]
        lines.append(
            f"| {name} | {rounds.median(name, 'requests_per_second'):,.0f} "
            f"| {min(rps):,.0f}-{max(rps):,.0f} "
            f"| {_fmt_ms(rounds.median(name, 'p50_ms'))} "
            f"| {_fmt_ms(rounds.median(name, 'p99_ms'))} "
            f"| {rounds.median(name, 'cpu_us_per_request'):.1f} "
            f"| {sum(r.non_2xx for r in results)} | {sum(r.socket_errors for r in results)} |"
        )
    return "\n".join(lines)


def rounds_table(rounds: Rounds, order: Sequence[str]) -> str:
    count = len(rounds.results[order[0]])
    header = "| row | " + " | ".join(f"round {i + 1}" for i in range(count)) + " |"
    lines = [header, "|---|" + "---:|" * count]
    for name in order:
        cells = " | ".join(
            f"{r.requests_per_second:,.0f} ({r.cpu_us_per_request:.1f} µs)"
            for r in rounds.results[name]
        )
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def _range(values: Sequence[float], fmt: str, unit: str) -> str:
    low, high = format(min(values), fmt), format(max(values), fmt)
    return f"{format(statistics.median(values), fmt)}{unit} ({low} to {high})"


@dataclass
class Pairs:
    """Back-to-back runs of uvicorn without (`plain`) and with (`wrapped`) the middleware."""

    plain: list[WrkResult] = field(default_factory=list)
    wrapped: list[WrkResult] = field(default_factory=list)

    def throughput_overhead(self) -> list[float]:
        pairs = zip(self.plain, self.wrapped, strict=True)
        return [100 * (1 - w.requests_per_second / p.requests_per_second) for p, w in pairs]

    def cpu_overhead(self) -> list[float]:
        # Throughput lost when the server's CPU is the bottleneck: 1 - cpu(plain)/cpu(wrapped).
        pairs = zip(self.plain, self.wrapped, strict=True)
        return [100 * (1 - p.cpu_us_per_request / w.cpu_us_per_request) for p, w in pairs]


def paired_overhead(
    wrk: str,
    targets: Sequence[Target],
    *,
    pairs: int,
    duration: float,
    connections: int,
    cpus: set[int] | None,
) -> Pairs:
    """Short back-to-back uvicorn runs without/with the middleware.

    The two rows alternate which goes first (AB, BA, ...), so a drift of the machine's load
    within a pair counts against each side equally often.
    """
    by_name = {t.name: t for t in targets}
    plain, wrapped = by_name[UVICORN_ROW], by_name[MIDDLEWARE_ROW]
    result = Pairs()
    for index in range(pairs):
        order = (plain, wrapped) if index % 2 == 0 else (wrapped, plain)
        runs = {
            t.name: run_wrk(
                wrk, t.port, duration=duration, connections=connections, cpus=cpus, server=t.pid
            )
            for t in order
        }
        result.plain.append(runs[UVICORN_ROW])
        result.wrapped.append(runs[MIDDLEWARE_ROW])
        print(
            f"pair {index + 1}: uvicorn {runs[UVICORN_ROW].requests_per_second:,.0f} req/s "
            f"{runs[UVICORN_ROW].cpu_us_per_request:.2f} µs; with the middleware "
            f"{runs[MIDDLEWARE_ROW].requests_per_second:,.0f} req/s "
            f"{runs[MIDDLEWARE_ROW].cpu_us_per_request:.2f} µs",
            file=sys.stderr,
            flush=True,
        )
    return result


def middleware_cost_ns(repeat: int = 5, number: int = 100_000) -> tuple[float, float]:
    """ns per request of the tiny app called directly, and of the same app behind the middleware.

    In this process, no server: each call gets a scope like uvicorn's (httptools) and a no-op
    `send`; the coroutine is driven with one `send(None)` (nothing in it waits). Best of
    `repeat` batches of `number` calls.
    """
    wrapped = _middleware_app()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": (LOOPBACK, 8000),
        "client": (LOOPBACK, 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": [(b"host", HOST.encode())],
        "state": {},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    def batch(app: Any) -> float:
        start = time.perf_counter()
        for _ in range(number):
            coroutine = app(scope, receive, send)
            # PERF: try/except, not contextlib.suppress: the harness must cost near nothing.
            try:  # noqa: SIM105
                coroutine.send(None)
            except StopIteration:
                pass
        return (time.perf_counter() - start) / number * 1e9

    for app in (_tiny_app, wrapped):  # both must answer, and warm up
        batch(app)
    plain = min(batch(_tiny_app) for _ in range(repeat))
    behind = min(batch(wrapped) for _ in range(repeat))
    return plain, behind


def ratios_and_goals(rounds: Rounds, pairs: Pairs, cost: tuple[float, float]) -> str:
    vs_naive = rounds.ratios(GATEWAY_ROW, NAIVE_ROW)
    vs_nginx = rounds.ratios(GATEWAY_ROW, NGINX_ROW)
    overhead = [100 * (1 - r) for r in rounds.ratios(MIDDLEWARE_ROW, UVICORN_ROW)]

    def cpu_ratio(a: str, b: str) -> str:
        # How many requests `a` serves per CPU second, relative to `b`.
        value = rounds.median(b, "cpu_us_per_request") / rounds.median(a, "cpu_us_per_request")
        return f"{value:.2f}x"

    def p50_ratio(a: str, b: str) -> str:
        return f"{rounds.median(a, 'p50_ms') / rounds.median(b, 'p50_ms'):.2f}x"

    pair_rps, pair_cpu = pairs.throughput_overhead(), pairs.cpu_overhead()
    lines = [
        "| ratio | req/s: median of rounds (min to max) | requests per CPU second | p50 latency |",
        "|---|---:|---:|---:|",
        f"| Gateway / naive proxy | {_range(vs_naive, '.2f', 'x')} "
        f"| {cpu_ratio(GATEWAY_ROW, NAIVE_ROW)} | {p50_ratio(GATEWAY_ROW, NAIVE_ROW)} |",
        f"| Gateway / nginx | {_range(vs_nginx, '.2f', 'x')} "
        f"| {cpu_ratio(GATEWAY_ROW, NGINX_ROW)} | {p50_ratio(GATEWAY_ROW, NGINX_ROW)} |",
        "| uvicorn + IngressMiddleware / uvicorn "
        f"| {_range([1 - o / 100 for o in overhead], '.3f', 'x')} "
        f"| {cpu_ratio(MIDDLEWARE_ROW, UVICORN_ROW)} "
        f"| {p50_ratio(MIDDLEWARE_ROW, UVICORN_ROW)} |",
        "",
        "IngressMiddleware overhead (% fewer requests/s; from CPU time: 1 - CPU(without) / "
        "CPU(with) per request):",
        "",
        "| measurement | overhead: median (min to max) |",
        "|---|---:|",
        f"| interleaved rounds, req/s | {_range(overhead, '.1f', ' %')} |",
        f"| {len(pair_rps)} back-to-back pairs, req/s | {_range(pair_rps, '.1f', ' %')} |",
        f"| {len(pair_cpu)} back-to-back pairs, server CPU time per request "
        f"| {_range(pair_cpu, '.1f', ' %')} |",
    ]
    plain_ns, behind_ns = cost
    delta_ns = behind_ns - plain_ns
    plain_cpu_ns = 1e3 * statistics.median(p.cpu_us_per_request for p in pairs.plain)
    estimate = 100 * delta_ns / (plain_cpu_ns + delta_ns)
    lines += [
        f"| in-process cost: +{delta_ns:,.0f} ns per request (app alone {plain_ns:,.0f} ns, "
        f"behind the middleware {behind_ns:,.0f} ns), against uvicorn's "
        f"{plain_cpu_ns:,.0f} ns of CPU per request | {estimate:.1f} % |",
        "",
    ]

    def verdict(met_goal: bool, met_bar: bool) -> str:
        if met_goal:
            return "met"
        return "bar met, goal not" if met_bar else "**not met**"

    naive = statistics.median(vs_naive)
    mw = statistics.median(pair_cpu)
    lines += [
        "| goal | measured (median) | verdict |",
        "|---|---:|---|",
        f"| middleware overhead ≤ 3 % (bar 5 %): back-to-back pairs, CPU time | {mw:.1f} % "
        f"| {verdict(mw <= 3, mw <= 5)} |",
        f"| Gateway ≥ 1.5x the naive proxy (bar 1.3x): req/s | {naive:.2f}x "
        f"| {verdict(naive >= 1.5, naive >= 1.3)} |",
        f"| Gateway vs nginx (reported): req/s; per CPU second | "
        f"{statistics.median(vs_nginx):.2f}x; {cpu_ratio(GATEWAY_ROW, NGINX_ROW)} | (no goal) |",
    ]
    return "\n".join(lines)


def benchmark(args: argparse.Namespace) -> None:
    wrk, nginx = require_binaries()
    where = placement()
    duration = args.duration if args.duration is not None else (3.0 if args.quick else 10.0)
    rounds_count = args.rounds if args.rounds is not None else (2 if args.quick else 3)
    warmup = 1.0 if args.quick else 3.0
    pair_count = args.pairs if args.pairs is not None else (4 if args.quick else 10)
    pair_duration = 2.0 if args.quick else 3.0
    load_before = loadavg()
    print("# ingresslib gateway benchmark\n")
    print(machine_table(wrk, nginx, where))
    print(
        f"\nwrk -t1 -c{args.connections} -d{duration:g}s --latency, Host: {HOST}, GET {PATH}; "
        f"{rounds_count} interleaved rounds after a {warmup:g} s warm-up per row; then "
        f"{pair_count} back-to-back pairs of {pair_duration:g} s runs of uvicorn without/with "
        "the middleware.\n",
        flush=True,
    )
    rounds = Rounds()
    with tempfile.TemporaryDirectory(prefix="ingresslib-bench-gw-") as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o755)
        with servers(wrk, nginx, where, workdir) as targets:
            for target in targets:
                verify(target)
            for target in targets:
                run_wrk(
                    wrk,
                    target.port,
                    duration=warmup,
                    connections=args.connections,
                    cpus=where.client,
                )
            order = [t.name for t in targets]
            for index in range(rounds_count):
                shift = index % len(targets)
                for target in targets[shift:] + targets[:shift]:
                    result = run_wrk(
                        wrk,
                        target.port,
                        duration=duration,
                        connections=args.connections,
                        cpus=where.client,
                        server=target.pid,
                    )
                    rounds.add(target.name, result)
                    print(
                        f"round {index + 1}: {target.name}: "
                        f"{result.requests_per_second:,.0f} req/s, "
                        f"{result.cpu_us_per_request:.1f} µs CPU/request",
                        file=sys.stderr,
                        flush=True,
                    )
            pairs = paired_overhead(
                wrk,
                targets,
                pairs=pair_count,
                duration=pair_duration,
                connections=args.connections,
                cpus=where.client,
            )
            for target in targets:  # still answering correctly after the load
                verify(target)
    cost = middleware_cost_ns()
    print("## Results\n")
    print(results_table(rounds, order))
    print("\n## Requests/s per round\n")
    print(rounds_table(rounds, order))
    print("\n## Ratios and goals\n")
    print(ratios_and_goals(rounds, pairs, cost))
    print(f"\nLoad average (1, 5, 15 min) before: {load_before}; after: {loadavg()}")


def profile(args: argparse.Namespace) -> None:
    """Run the Gateway alone under cProfile with wrk, then print where its time goes."""
    wrk, _ = require_binaries()
    where = placement()
    duration = args.duration if args.duration is not None else 10.0
    with tempfile.TemporaryDirectory(prefix="ingresslib-bench-gw-") as tmp:
        workdir = Path(tmp)
        stats_file = workdir / "gateway.prof"
        upstream_port, port = free_port(), free_port()
        upstream, log = start_role(
            "upstream", port=upstream_port, upstream_port=0, cpus=where.client, workdir=workdir
        )
        try:
            wait_listening(upstream_port, upstream, log, "upstream")
            gateway, log = start_role(
                "gateway",
                port=port,
                upstream_port=upstream_port,
                cpus=where.server,
                workdir=workdir,
                profile_out=stats_file,
            )
            try:
                wait_listening(port, gateway, log, "gateway")
                verify(Target(GATEWAY_ROW, port, UPSTREAM_BODY, routes=True))
                result = run_wrk(
                    wrk,
                    port,
                    duration=duration,
                    connections=args.connections,
                    cpus=where.client,
                    server=gateway.pid,
                )
            finally:
                stop(gateway)
        finally:
            stop(upstream)
        print(
            f"Gateway under cProfile: {result.requests_per_second:,.0f} req/s, "
            f"{result.cpu_us_per_request:.1f} µs CPU per request\n"
        )
        out = io.StringIO()
        stats = pstats.Stats(str(stats_file), stream=out)
        stats.strip_dirs().sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        print(out.getvalue())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 3 s per row")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (10; --quick 3)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (3; --quick 2)")
    parser.add_argument(
        "--pairs", type=int, help="uvicorn without/with middleware pairs (10; --quick 4)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the Gateway under wrk instead"
    )
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream-port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role:
        serve_role(args.role, args.port, args.upstream_port, args.profile_out)
    elif args.profile:
        profile(args)
    else:
        benchmark(args)


if __name__ == "__main__":
    main()
