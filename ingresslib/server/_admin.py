"""The admin listener of `ingresslib serve`: `/metrics`, `/healthz` and `/readyz`."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ingresslib.server._metrics import Metrics

__all__ = ["admin_app"]


def admin_app(metrics: Metrics, ready: Callable[[], bool]) -> web.Application:
    """The admin application.

    Args:
        metrics: exposed on `/metrics` in Prometheus' text format.
        ready: whether the gateway takes new requests (`/readyz` answers 200, else 503).

    Returns:
        The app: `/metrics`; `/healthz` (200 while the process runs); `/readyz`.
    """

    async def metrics_page(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n", content_type="text/plain")

    async def readyz(_: web.Request) -> web.Response:
        # Ready once the listeners are open, until shutdown begins: a load balancer (or a
        # Kubernetes readinessProbe) stops sending new requests while in-flight ones drain.
        if ready():
            return web.Response(text="ready\n", content_type="text/plain")
        return web.Response(status=503, text="not ready\n", content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
