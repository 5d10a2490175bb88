"""The `ingresslib serve` demo: five tiny backends on loopback, the gateway in front of them.

Run it from the repository root (`make run`, or `.venv/bin/python examples/demo/run.py`); it
starts the backends named in examples/demo/endpoints.yaml on 127.0.0.1:18081-18085, then
`ingresslib serve examples/demo --allow-loopback-endpoints --rate-limit 5/s:10` (HTTP on 8080,
TLS on 8443, metrics on 9100), prints curl commands to try, and runs until Ctrl-C.

Edit the manifests while it runs: a valid change is picked up within a second, an invalid one
is logged and the last good configuration keeps serving.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
from aiohttp import web

HERE = Path(__file__).resolve().parent
BACKENDS = {"storefront": 18081, "api": 18082, "status": 18083, "blog": 18084, "fallback": 18085}
RATE_LIMIT = "5/s:10"
HTTP, HTTPS, ADMIN = 8080, 8443, 9100

CURLS = f"""
Try (each backend answers with its name and the request it saw):

  # host routing: blog.example.test and shop.example.test go to different Ingresses
  curl -H 'Host: blog.example.test' http://127.0.0.1:{HTTP}/hello
  # TLS with SNI (self-signed example certificate, hence -k)
  curl --resolve shop.example.test:{HTTPS}:127.0.0.1 -k https://shop.example.test:{HTTPS}/
  # plain HTTP to a TLS host is redirected (308) to https
  curl -i -H 'Host: shop.example.test' http://127.0.0.1:{HTTP}/
  # Prefix vs Exact: /api/status is Exact (status), /api/status/x falls back to Prefix /api (api)
  curl --resolve shop.example.test:{HTTPS}:127.0.0.1 -k https://shop.example.test:{HTTPS}/api/status
  curl --resolve shop.example.test:{HTTPS}:127.0.0.1 -k https://shop.example.test:{HTTPS}/api/status/x
  # Prefix is element-wise: /apiary is not under /api (storefront)
  curl --resolve shop.example.test:{HTTPS}:127.0.0.1 -k https://shop.example.test:{HTTPS}/apiary
  # default backend: a host no rule claims
  curl -H 'Host: unknown.example.test' http://127.0.0.1:{HTTP}/
  # rate limit {RATE_LIMIT} per client: a burst of 20 requests gets 429s after the first 11
  for i in $(seq 20); do curl -s -o /dev/null -w '%{{http_code}} ' \\
    -H 'Host: blog.example.test' http://127.0.0.1:{HTTP}/; done; echo
  # metrics and health
  curl http://127.0.0.1:{ADMIN}/metrics
  curl http://127.0.0.1:{ADMIN}/healthz

Ctrl-C stops everything.
"""


def backend_app(name: str) -> web.Application:
    """A backend that says which one it is and what it received."""

    async def handle(request: web.Request) -> web.Response:
        host = request.headers.get("Host", "-")
        proto = request.headers.get("X-Forwarded-Proto", "-")
        return web.Response(text=f"{name}: {request.method} {host} {request.raw_path} ({proto})\n")

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", handle)
    return app


async def wait_ready(process: asyncio.subprocess.Process) -> bool:
    """Wait for the gateway's /healthz (False when it exited first)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            if process.returncode is not None:
                return False
            try:
                async with session.get(f"http://127.0.0.1:{ADMIN}/healthz") as response:
                    if response.status == 200:
                        return True
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    return False


async def main() -> int:
    """Start the backends and the gateway; stop both at Ctrl-C (or SIGTERM)."""
    runners = []
    for name, port in BACKENDS.items():
        runner = web.AppRunner(backend_app(name), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    print(f"backends: {', '.join(f'{n} on 127.0.0.1:{p}' for n, p in BACKENDS.items())}")
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    command = [
        sys.executable,
        "-m",
        "ingresslib",
        "serve",
        str(HERE),
        "--allow-loopback-endpoints",
        f"--rate-limit={RATE_LIMIT}",
        f"--listen=127.0.0.1:{HTTP}",
        f"--tls-listen=127.0.0.1:{HTTPS}",
        f"--admin-listen=127.0.0.1:{ADMIN}",
    ]
    print("$ ingresslib", " ".join(command[3:]), flush=True)  # command[:3]: python -m ingresslib
    process = await asyncio.create_subprocess_exec(*command)
    try:
        if await wait_ready(process):
            print(CURLS, flush=True)
            waiter = asyncio.create_task(process.wait())
            stopper = asyncio.create_task(stopping.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
        status = await process.wait()
        for runner in runners:
            await runner.cleanup()
    return status


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
